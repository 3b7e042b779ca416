import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { latencyHistogram } from '../lib/cli/histogram.js';
import type { RunReport } from '../lib/cli/report.js';
import { fixturePath, makeTempDir, range, runCliBinary } from './helpers.js';

const STAGES = fixturePath('cli-stages.js');
const cli = runCliBinary;

function stageArg(exportName: string, suffix = ''): string[] {
  return ['--stage', `${STAGES}#${exportName}${suffix}`];
}

function jsonl(values: unknown[]): string {
  return values.map((v) => JSON.stringify(v) + '\n').join('');
}

function parseLines(text: string): unknown[] {
  return text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as unknown);
}

/** What double then label make of { n }. */
function doubledAndLabelled(n: number): { n: number; label: string } {
  return { n: n * 2, label: 'even' };
}

describe('the async-task-pipeline command', function () {
  this.timeout(40_000);
  let temp: { dir: string; remove: () => void };

  beforeEach(() => { temp = makeTempDir('cli'); });
  afterEach(() => temp.remove());

  describe('input formats', () => {
    it('reads JSON Lines from standard input and writes JSON Lines to standard output, in order', async () => {
      const input = range(200).map((n) => ({ n }));
      const run = await cli([...stageArg('double'), ...stageArg('label', ':concurrency=2')], jsonl(input));
      expect(run.code, run.stderr).to.equal(0);
      expect(parseLines(run.stdout)).to.deep.equal(range(200).map(doubledAndLabelled));
    });

    it('reads one top-level JSON array with --format json', async () => {
      const file = join(temp.dir, 'in.json');
      writeFileSync(file, JSON.stringify(range(50).map((n) => ({ n }))));
      const run = await cli([...stageArg('double'), '--format', 'json', '--input', file]);
      expect(run.code, run.stderr).to.equal(0);
      expect(parseLines(run.stdout)).to.deep.equal(range(50).map((n) => ({ n: n * 2 })));
    });

    it('reads one string per line of text with --format lines', async () => {
      const run = await cli([...stageArg('shout'), '--format', 'lines'], 'hello\r\nwide world\n\nend');
      expect(run.code, run.stderr).to.equal(0);
      expect(parseLines(run.stdout)).to.deep.equal([
        { text: 'HELLO', length: 5 },
        { text: 'WIDE WORLD', length: 10 },
        { text: '', length: 0 },
        { text: 'END', length: 3 },
      ]);
    });

    it('reads --input FILE and writes --output FILE', async () => {
      const input = join(temp.dir, 'in.jsonl');
      const output = join(temp.dir, 'out.jsonl');
      writeFileSync(input, jsonl(range(30).map((n) => ({ n }))));
      const run = await cli([...stageArg('double'), '--input', input, '--output', output]);
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout).to.equal('');
      expect(parseLines(readFileSync(output, 'utf8'))).to.deep.equal(range(30).map((n) => ({ n: n * 2 })));
    });
  });

  describe('reports', () => {
    it('--report prints a table with every stage, its percentiles and a histogram to standard error', async () => {
      const run = await cli([...stageArg('double'), ...stageArg('evensOnly'), ...stageArg('double'), '--report'], jsonl(range(40).map((n) => ({ n }))));
      expect(run.code, run.stderr).to.equal(0);
      expect(parseLines(run.stdout)).to.have.length(40);
      const lines = run.stderr.split('\n');
      const header = lines.find((l) => l.startsWith('stage'));
      expect(header).to.match(/in\s+out\s+filtered\s+failed\s+skipped\s+p50 ms\s+p95 ms\s+p99 ms/);
      // A repeated export gets a unique name.
      for (const name of ['double', 'evensOnly', 'double-2']) {
        expect(lines.some((l) => l.startsWith(`${name} `)), `row for ${name}`).to.equal(true);
        expect(run.stderr).to.include(`${name}: latency per item`);
      }
      expect(lines.find((l) => l.startsWith('evensOnly'))).to.match(/^evensOnly\s+40\s+40\s+0\s+0\s+0\s/);
      expect(run.stderr).to.match(/ ms │█*[▏▎▍▌▋▊▉]?\s+\d+%/);
      expect(run.stderr).to.include('40 items in, 40 out');
    });

    it('--report-json writes the per-stage counts, latencies and histogram as JSON', async () => {
      const file = join(temp.dir, 'report.json');
      const run = await cli([...stageArg('double'), ...stageArg('evensOnly'), '--report-json', file], jsonl(range(20).map((n) => ({ n: n + 0.5 }))));
      expect(run.code, run.stderr).to.equal(0);
      // double makes 2n+1 odd for every n + 0.5: evensOnly drops them all.
      expect(run.stdout).to.equal('');
      const report = JSON.parse(readFileSync(file, 'utf8')) as RunReport;
      expect(report.itemsIn).to.equal(20);
      expect(report.itemsOut).to.equal(0);
      expect(report.stages.map((s) => s.name)).to.deep.equal(['double', 'evensOnly']);
      const [double, evens] = report.stages;
      expect(double).to.include({ received: 20, emitted: 20, filtered: 0, failed: 0 });
      expect(evens).to.include({ received: 20, emitted: 0, filtered: 20 });
      expect(double!.latencyMs.p50).to.be.above(0);
      expect(double!.latencyMs.p95).to.be.at.least(double!.latencyMs.p50);
      expect(double!.latencyMs.p99).to.be.at.least(double!.latencyMs.p95);
      const shares = double!.histogram.reduce((sum, b) => sum + b.share, 0);
      expect(shares).to.be.closeTo(1, 1e-9);
    });

    it('writes nothing but results when standard error is not a terminal', async () => {
      const run = await cli(stageArg('double'), jsonl([{ n: 1 }]));
      expect(run.code).to.equal(0);
      expect(run.stderr).to.equal('');
    });
  });

  describe('failures', () => {
    /** A usage error is one line saying what is wrong and one pointing at --help, nothing more. */
    function expectUsageError(run: { code: number | null; stderr: string }, message: string): void {
      expect(run.code, run.stderr).to.equal(2);
      expect(run.stderr).to.equal(`async-task-pipeline: ${message}\nTry 'async-task-pipeline --help' for more information.\n`);
    }

    it('exits with 2 and one line pointing at --help when no --stage is given', async () => {
      expectUsageError(await cli([]), 'at least one --stage is required');
    });

    it('exits with 2 naming an unknown option', async () => {
      expectUsageError(await cli([...stageArg('double'), '--fast']), "Unknown option '--fast'");
    });

    it('exits with 2 on a bad concurrency suffix or format', async () => {
      expectUsageError(await cli(stageArg('double', ':concurrency=0')), `--stage ${STAGES}#double:concurrency=0: concurrency must be an integer >= 1, got "0"`);
      expectUsageError(await cli([...stageArg('double'), '--format', 'csv']), '--format must be jsonl, json, lines; got "csv"');
    });

    it('exits with 1 when --input names a file that does not exist', async () => {
      const run = await cli([...stageArg('double'), '--input', join(temp.dir, 'missing.jsonl')]);
      expect(run.code).to.equal(1);
      expect(run.stderr).to.equal(`async-task-pipeline: --input ${join(temp.dir, 'missing.jsonl')}: cannot read it (ENOENT)\n`);
    });

    it('exits with 1 when --output names a file in a directory that does not exist', async () => {
      const output = join(temp.dir, 'no-dir', 'out.jsonl');
      const run = await cli([...stageArg('double'), '--output', output], jsonl([{ n: 1 }]));
      expect(run.code).to.equal(1);
      expect(run.stderr).to.equal(`async-task-pipeline: --output ${output}: cannot write it (ENOENT)\n`);
    });

    it('--report-html writes one HTML page that names the stages and the bottleneck', async () => {
      const file = join(temp.dir, 'report.html');
      const run = await cli([...stageArg('light'), ...stageArg('heavy'), ...stageArg('light'), '--report-html', file], jsonl(range(200).map((n) => ({ n }))));
      expect(run.code, run.stderr).to.equal(0);
      const html = readFileSync(file, 'utf8');
      expect(html).to.match(/^<!DOCTYPE html>/);
      expect(html).to.include('Bottleneck: heavy');
      for (const name of ['light', 'heavy', 'light-2']) expect(html).to.include(`>${name}<`);
      expect(html).to.not.match(/<script|https?:\/\//);
    });

    it('--report prints the bottleneck and its advice under the table', async () => {
      const run = await cli([...stageArg('light'), ...stageArg('heavy'), ...stageArg('light'), '--report'], jsonl(range(200).map((n) => ({ n }))));
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stderr).to.match(/\nbottleneck: heavy \(busy \d+% of \d+ threads?\)\. "heavy" limits the run/);
    });

    it('exits with 1 when --report-json cannot be written, after writing the results', async () => {
      const file = join(temp.dir, 'no-dir', 'report.json');
      const run = await cli([...stageArg('double'), '--report-json', file], jsonl([{ n: 1 }]));
      expect(run.code).to.equal(1);
      expect(parseLines(run.stdout)).to.deep.equal([{ n: 2 }]);
      expect(run.stderr).to.equal(`async-task-pipeline: --report-json ${file}: cannot write it (ENOENT)\n`);
    });

    it('prints the usage on --help and exits with 0', async () => {
      const run = await cli(['--help']);
      expect(run.code).to.equal(0);
      expect(run.stdout).to.include('Usage: async-task-pipeline').and.to.include('--report-json FILE');
    });

    it('exits with 1 and a LOAD_FAILED message naming a module that does not exist', async () => {
      const run = await cli(['--stage', './no/such/module.js#fn'], jsonl([{ n: 1 }]));
      expect(run.code).to.equal(1);
      expect(run.stderr).to.include('LOAD_FAILED').and.to.include('no/such/module.js').and.to.include('could not load');
    });

    it('exits with 1 naming the stage, the item and the cause when a stage throws', async () => {
      const run = await cli([...stageArg('double'), ...stageArg('failOnThree')], jsonl(range(10).map((n) => ({ n: n / 2 }))));
      expect(run.code).to.equal(1);
      // Input record 3 is { n: 1.5 }: doubled, it is the 3 failOnThree refuses.
      expect(run.stderr).to.include('FUNCTION_FAILED').and.to.include('Stage "failOnThree" failed on item 3');
      expect(run.stderr).to.include('RangeError: three is not allowed');
    });

    it('exits with 1 naming the line of input that is not JSON', async () => {
      const run = await cli(stageArg('double'), '{"n":1}\n{"n":2}\n{n: 3}\n{"n":4}\n');
      expect(run.code).to.equal(1);
      expect(run.stderr).to.include('standard input (--format jsonl)').and.to.include('line 3 is not valid JSON');
    });

    it('counts blank lines in the number of the line that is not JSON, though the stages parse it', async () => {
      const run = await cli(stageArg('double'), '{"n":1}\n\n   \n{"n":2}\n\n{n: 3}\n{"n":4}\n');
      expect(run.code).to.equal(1);
      expect(run.stderr).to.include('standard input (--format jsonl)').and.to.include('line 6 is not valid JSON');
    });

    it('skips blank lines and writes each result as one line of JSON', async () => {
      const run = await cli(stageArg('double'), '\n{"n":1}\r\n\n{"n":2.5}\n');
      expect(run.code).to.equal(0);
      expect(run.stdout).to.equal('{"n":2}\n{"n":5}\n');
    });

    it('exits with 1 when a --format json input is not a JSON array', async () => {
      const run = await cli([...stageArg('double'), '--format', 'json'], '{"n": 1}');
      expect(run.code).to.equal(1);
      expect(run.stderr).to.include('(--format json)');
    });
  });
});

describe('the command line parts', () => {
  it('builds a histogram whose buckets rise and whose shares add up to one', () => {
    // Latencies spread evenly from 1 ms to 100 ms.
    const source = { count: 1000, percentile: (p: number) => (1 + (99 * p) / 100) / 1000 };
    const buckets = latencyHistogram(source, 6);
    expect(buckets).to.have.length(6);
    for (let i = 1; i < buckets.length; i++) expect(buckets[i]!.fromMs).to.be.closeTo(buckets[i - 1]!.toMs, 1e-9);
    expect(buckets.reduce((sum, b) => sum + b.share, 0)).to.be.closeTo(1, 1e-9);
    // Log-spaced buckets over an even spread: the last bucket holds the most.
    expect(buckets[5]!.share).to.be.above(buckets[0]!.share);
  });

  it('builds one full bucket when every latency is the same', () => {
    expect(latencyHistogram({ count: 3, percentile: () => 0.002 })).to.deep.equal([{ fromMs: 2, toMs: 2, share: 1 }]);
  });
});
