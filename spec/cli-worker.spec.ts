// The `worker` command's command line: parsed and checked before anything
// connects, so none of this needs a Redis server.

import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { parseWorkerArgs } from '../lib/cli/worker.js';
import { UsageError } from '../lib/cli/usage.js';
import { runCliBinary as cli } from './helpers.js';

const ENV = {};

describe('the worker command line', () => {
  it('names each stage after its export, or after the --name that follows its --stage', () => {
    const options = parseWorkerArgs(['--redis', 'redis://h', '--stage', './a.js#fp', '--name', 'docs', '--stage', './b.js#score:concurrency=3'], ENV);
    expect(options.stages.map((s) => [s.name, s.exportName, s.threads])).to.deep.equal([['docs', 'fp', availableParallelism()], ['score', 'score', 3]]);
    expect(options.stages[0]!.url).to.equal(pathToFileURL('./a.js').href);
  });

  it('defaults to 30 s before reclaiming and to reconnect, a host-pid consumer name and no prefix of its own', () => {
    const options = parseWorkerArgs(['--redis', 'redis://h', '--stage', './a.js#fp'], ENV);
    expect(options.reclaimAfterMs).to.equal(30_000);
    expect(options.reconnectDeadlineMs).to.equal(30_000);
    expect(options.consumer).to.match(new RegExp(`-${process.pid}$`));
    expect(options.prefix).to.equal(undefined);
  });

  it('takes the URL from ATP_REDIS_URL when --redis is absent', () => {
    expect(parseWorkerArgs(['--stage', './a.js#fp'], { ATP_REDIS_URL: 'redis://env' }).url).to.equal('redis://env');
  });

  it('refuses a missing --redis, a --name before any --stage, two stages of one name and a bad number, naming each', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--stage', './a.js#fp'], /--redis/],
      [['--redis', 'redis://h', '--name', 'x', '--stage', './a.js#fp'], /--name must follow/],
      [['--redis', 'redis://h', '--stage', './a.js#fp', '--stage', './b.js#fp'], /two --stage options serve the stage "fp"/],
      [['--redis', 'redis://h', '--stage', './a.js#fp', '--reclaim-after', '0'], /--reclaim-after must be an integer >= 1/],
      [['--redis', 'redis://h'], /at least one --stage/],
    ];
    for (const [argv, message] of cases) expect(() => parseWorkerArgs(argv, ENV), argv.join(' ')).to.throw(UsageError, message);
  });

  it('takes the sentinels as HOST:PORT,HOST:PORT with --sentinel-name, and then needs no --redis', () => {
    const options = parseWorkerArgs(['--sentinel', '10.0.0.1:26379, h2:26380', '--sentinel-name', 'mymaster', '--stage', './a.js#fp'], ENV);
    expect(options.sentinel).to.deep.equal({ name: 'mymaster', sentinels: [{ host: '10.0.0.1', port: 26379 }, { host: 'h2', port: 26380 }] });
    expect(options.url).to.equal('redis://127.0.0.1');
  });

  it('refuses --sentinel without --sentinel-name, the name alone and a sentinel without a port, naming each', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--sentinel', 'h:26379', '--stage', './a.js#fp'], /--sentinel needs --sentinel-name/],
      [['--sentinel-name', 'm', '--redis', 'redis://h', '--stage', './a.js#fp'], /--sentinel-name needs --sentinel/],
      [['--sentinel', 'h', '--sentinel-name', 'm', '--stage', './a.js#fp'], /--sentinel must be HOST:PORT/],
    ];
    for (const [argv, message] of cases) expect(() => parseWorkerArgs(argv, ENV), argv.join(' ')).to.throw(UsageError, message);
  });

  it('prints its usage for --help and exits 0', async () => {
    const run = await cli(['worker', '--help']);
    expect(run.code).to.equal(0);
    expect(run.stdout).to.match(/^Usage: async-task-pipeline worker --redis URL/);
  });

  it('says what is wrong in one line and exits 2 for a URL that is not redis:// or rediss://', async () => {
    const run = await cli(['worker', '--redis', 'http://h', '--stage', './a.js#fp']);
    expect(run.code).to.equal(2);
    expect(run.stderr).to.match(/^async-task-pipeline worker: --redis must be a redis:\/\/ or rediss:\/\/ URL/);
    expect(run.stderr.trim().split('\n')).to.have.lengthOf(2);
  });
});
