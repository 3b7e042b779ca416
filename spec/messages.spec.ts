// Messages that say what went wrong, where, and whose fault it is (issue 8, item 12).

import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { jsonArray, stage } from 'async-task-pipeline';
import type { StageError } from 'async-task-pipeline';
import { Collector, fixture, fixturePath, makeTempDir, range, rejectionOf } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin/async-task-pipeline.js');
const STAGES = fixturePath('cli-stages.js');

/** Runs the real binary; resolves with its exit code and standard error. */
function cli(args: string[], stdin: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr += text; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
  });
}

const records = (count: number): string => range(count).map((n) => JSON.stringify({ n }) + '\n').join('');

describe('messages', function () {
  this.timeout(40_000);

  describe('a missing export', () => {
    it('is named in plain words when a named export is missing', async () => {
      const s = stage({ module: fixture('double.js'), export: 'nope' });
      const error = (await rejectionOf(s.start())) as StageError;
      s.destroy();
      expect((error.cause as Error).message).to.match(/ has no export "nope" that is a function /);
    });

    it('is named in plain words when the default export is missing', async () => {
      const s = stage({ module: fixture('not-a-function.js') });
      const error = (await rejectionOf(s.start())) as StageError;
      s.destroy();
      expect((error.cause as Error).message).to.match(/ has no default export that is a function /);
    });
  });

  describe('the command line', () => {
    let temp: { dir: string; remove: () => void };

    beforeEach(() => { temp = makeTempDir('messages'); });
    afterEach(() => temp.remove());

    it('blames the result, naming its stage and item, when a result cannot be written as JSON', async () => {
      const run = await cli(['--stage', `${STAGES}#label`, '--stage', `${STAGES}#bigOnFive`], records(10));
      expect(run.code).to.equal(1);
      expect(run.stderr).to.include('the result of item 5').and.to.include('stage "bigOnFive"').and.to.include('cannot be written as JSON');
      expect(run.stderr).to.not.include('standard input');
    });

    it('gives the line and column of a syntax error in a --format json file', async () => {
      const file = join(temp.dir, 'bad.json');
      writeFileSync(file, '[\n  {"n": 1},\n  {"n": 2,, "x": 3}\n]\n');
      const run = await cli(['--stage', `${STAGES}#double`, '--format', 'json', '--input', file], '');
      expect(run.code).to.equal(1);
      expect(run.stderr).to.include(`${file} (--format json)`).and.to.include('line 3, column 11');
    });
  });

  it('jsonArray() says in which bytes of its input a syntax error is', async () => {
    const chunks = ['[1, 2, 3,', ' 4, 5, oops, 6]'];
    const error = (await rejectionOf(pipeline(Readable.from(chunks), jsonArray(), new Collector()))) as Error;
    expect(error.message).to.match(/^jsonArray: .*bytes 9 to 23/);
  });
});
