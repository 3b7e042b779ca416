import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type { RunReport } from '../lib/cli/report.js';
import { fixturePath, makeTempDir, range, runCliBinary as cli } from './helpers.js';

const STAGES = fixturePath('cli-stages.js');
const PACKAGE = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function jsonl(values: unknown[]): string {
  return values.map((v) => JSON.stringify(v) + '\n').join('');
}

function parseLines(text: string): unknown[] {
  return text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as unknown);
}

/** Records n = 0..count-1. */
function records(count: number): string {
  return jsonl(range(count).map((n) => ({ n })));
}

describe('the async-task-pipeline command line', function () {
  this.timeout(40_000);
  let temp: { dir: string; remove: () => void };

  beforeEach(() => { temp = makeTempDir('cli-options'); });
  afterEach(() => temp.remove());

  describe('manners', () => {
    for (const flag of ['--version', '-V']) {
      it(`${flag} prints the name and the version of the package.json, and exits with 0`, async () => {
        const run = await cli([flag]);
        expect(run.code).to.equal(0);
        expect(run.stdout).to.equal(`async-task-pipeline ${PACKAGE.version}\n`);
        expect(run.stderr).to.equal('');
      });
    }

    it('-h prints the usage, which lists every option', async () => {
      const run = await cli(['-h']);
      expect(run.code).to.equal(0);
      for (const option of ['-s, --stage', '-i, --input', '-f, --format', '-o, --output', '--on-error', '--dead-letter',
        '--timeout', '--retries', '--unordered', '--report', '--report-json', '--report-html', '--trace', '-q, --quiet', '-h, --help', '-V, --version']) {
        expect(run.stdout).to.include(option);
      }
    });

    it('takes -s, -i, -f and -o for --stage, --input, --format and --output', async () => {
      const input = join(temp.dir, 'in.txt');
      const output = join(temp.dir, 'out.jsonl');
      writeFileSync(input, 'ab\nc\n');
      const run = await cli(['-s', `${STAGES}#shout`, '-i', input, '-f', 'lines', '-o', output, '-q']);
      expect(run.code, run.stderr).to.equal(0);
      expect(parseLines(readFileSync(output, 'utf8'))).to.deep.equal([{ text: 'AB', length: 2 }, { text: 'C', length: 1 }]);
    });

    const badValues: Array<[string[], string]> = [
      [['--on-error', 'ignore'], '--on-error must be fail, skip, emit; got "ignore"'],
      [['--timeout', '0'], '--timeout must be a number of milliseconds > 0; got "0"'],
      [['--timeout', '1e3'], '--timeout must be a number of milliseconds > 0; got "1e3"'],
      [['--timeout', 'soon'], '--timeout must be a number of milliseconds > 0; got "soon"'],
      [['--retries=-1'], '--retries must be an integer >= 0; got "-1"'],
      [['--retries', '1.5'], '--retries must be an integer >= 0; got "1.5"'],
      [['--dead-letter', ''], '--dead-letter needs a file name'],
      [['--dead-letter', 'x.jsonl', '--on-error', 'skip'], '--dead-letter and --on-error both say what a failed item does: give one of them'],
      [['--unordered=yes'], "Option '--unordered' does not take an argument"],
      [['extra'], "Unexpected argument 'extra'. This command does not take positional arguments"],
    ];
    for (const [args, message] of badValues) {
      it(`refuses ${args.join(' ')} with exit code 2 and one line: ${message}`, async () => {
        const run = await cli(['-s', `${STAGES}#double`, ...args]);
        expect(run.code).to.equal(2);
        expect(run.stderr).to.equal(`async-task-pipeline: ${message}\nTry 'async-task-pipeline --help' for more information.\n`);
        expect(run.stdout).to.equal('');
      });
    }

    it('creates no --dead-letter file when the command line is refused', async () => {
      const file = join(temp.dir, 'dead.jsonl');
      const run = await cli(['-s', `${STAGES}#double`, '--dead-letter', file, '--retries', 'x']);
      expect(run.code).to.equal(2);
      expect(existsSync(file)).to.equal(false);
    });
  });

  describe('failed items', () => {
    it('--on-error skip drops the failed item, goes on and exits with 0', async () => {
      const report = join(temp.dir, 'report.json');
      const run = await cli(['-s', `${STAGES}#failOnThree`, '--on-error', 'skip', '--report-json', report], records(6));
      expect(run.code, run.stderr).to.equal(0);
      expect(parseLines(run.stdout)).to.deep.equal([0, 1, 2, 4, 5].map((n) => ({ n })));
      const [stage] = (JSON.parse(readFileSync(report, 'utf8')) as RunReport).stages;
      expect(stage).to.include({ received: 6, emitted: 5, skipped: 1, failed: 0 });
    });

    it('--on-error emit writes the error as JSON in the failed item\'s place', async () => {
      const run = await cli(['-s', `${STAGES}#failOnThree`, '-s', `${STAGES}#label`, '--on-error', 'emit'], records(5));
      expect(run.code, run.stderr).to.equal(0);
      const lines = parseLines(run.stdout) as Array<Record<string, unknown>>;
      expect(lines).to.have.length(5);
      expect(lines[2]).to.deep.equal({ n: 2, label: 'even' });
      expect(lines[3]).to.deep.equal({
        error: {
          code: 'FUNCTION_FAILED',
          stage: 'failOnThree',
          seq: 3,
          message: 'Stage "failOnThree" failed on item 3: RangeError: three is not allowed (got {"n":3})',
          cause: { name: 'RangeError', message: 'three is not allowed (got {"n":3})' },
        },
      });
    });

    it('--dead-letter FILE writes each failed item with its error as a JSON line, and goes on', async () => {
      const file = join(temp.dir, 'dead.jsonl');
      const run = await cli(['-s', `${STAGES}#double`, '-s', `${STAGES}#failOnThree`, '--dead-letter', file], jsonl(range(8).map((n) => ({ n: n / 2 }))));
      expect(run.code, run.stderr).to.equal(0);
      expect(parseLines(run.stdout)).to.have.length(7);
      // Input record 3 is { n: 1.5 }: doubled, it is the 3 failOnThree refuses.
      const letters = parseLines(readFileSync(file, 'utf8')) as Array<{ error: Record<string, unknown>; item: unknown }>;
      expect(letters).to.have.length(1);
      expect(letters[0]!.item).to.deep.equal({ n: 3 });
      expect(letters[0]!.error).to.include({ code: 'FUNCTION_FAILED', stage: 'failOnThree', seq: 3 });
    });

    it('exits with 1 naming --dead-letter when its file cannot be created, before reading any input', async () => {
      const file = join(temp.dir, 'no-dir', 'dead.jsonl');
      const run = await cli(['-s', `${STAGES}#double`, '--dead-letter', file], records(3));
      expect(run.code).to.equal(1);
      expect(run.stdout).to.equal('');
      expect(run.stderr).to.equal(`async-task-pipeline: --dead-letter ${file}: cannot write it (ENOENT)\n`);
    });

    it('--timeout MS fails an item that runs longer with TIMEOUT', async () => {
      const run = await cli(['-s', `${STAGES}#hangOnThree`, '--timeout', '300'], records(5));
      expect(run.code).to.equal(1);
      expect(parseLines(run.stdout)).to.deep.equal([0, 1, 2].map((n) => ({ n })));
      expect(run.stderr).to.include('TIMEOUT: Stage "hangOnThree": item 3 ran longer than options.timeout (300 ms)');
    });

    for (const retries of [0, 2]) {
      it(`--retries ${retries} runs an item that killed its worker ${retries} more times alone before it fails with WORKER_DIED`, async () => {
        const report = join(temp.dir, 'report.json');
        const dead = join(temp.dir, 'dead.jsonl');
        // One item, so that the batch that dies first holds it alone.
        const run = await cli(['-s', `${STAGES}#exitOnThree`, '--retries', String(retries), '--dead-letter', dead, '--report-json', report], records(4).split('\n')[3]);
        expect(run.code, run.stderr).to.equal(0);
        expect(run.stdout).to.equal('');
        const [stage] = (JSON.parse(readFileSync(report, 'utf8')) as RunReport).stages;
        // Once alone to find the culprit, then `retries` more times.
        expect(stage).to.include({ received: 1, failed: 1, retried: 1 + retries });
        const [letter] = parseLines(readFileSync(dead, 'utf8')) as Array<{ error: { code: string }; item: unknown }>;
        expect(letter).to.deep.include({ item: { n: 3 } });
        expect(letter!.error.code).to.equal('WORKER_DIED');
      });
    }
  });

  describe('traces', () => {
    it('--trace FILE writes a Chrome trace with each stage\'s computations, even when the run fails', async () => {
      const file = join(temp.dir, 'trace.json');
      const run = await cli(['-s', `${STAGES}#double`, '-s', `${STAGES}#failOnThree`, '--trace', file], jsonl(range(3).map((n) => ({ n }))).concat(jsonl([{ n: 1.5 }])));
      expect(run.code).to.equal(1);
      const trace = JSON.parse(readFileSync(file, 'utf8')) as { traceEvents: Array<{ ph: string; name: string; cat?: string; tid: number }> };
      const computations = trace.traceEvents.filter((e) => e.ph === 'X' && e.cat === 'computation');
      // Items 0, 1 and 2 came out; item 3 failed in failOnThree and never did.
      expect(computations.filter((e) => e.name === 'double')).to.have.length(3);
      expect(computations.filter((e) => e.name === 'failOnThree')).to.have.length(3);
      expect(trace.traceEvents.some((e) => e.ph === 'M' && e.name === 'process_name')).to.equal(true);
    });
  });

  describe('order', () => {
    /** Record 0 finishes only after record 1 has, on another worker. */
    function overtaking(): string {
      const marker = join(temp.dir, 'one-done');
      return jsonl([{ n: 0, waitFor: marker }, { n: 1, mark: marker }]);
    }

    it('writes results in input order by default, even when a later one finishes first', async () => {
      const run = await cli(['-s', `${STAGES}#rendezvous:concurrency=2`], overtaking());
      expect(run.code, run.stderr).to.equal(0);
      expect(parseLines(run.stdout)).to.deep.equal([{ n: 0 }, { n: 1 }]);
    });

    it('--unordered writes each result as it completes', async () => {
      // Record 0 finishes only once record 1's result is in the output file:
      // only an unordered run can write it first (an ordered one would wait 10 s).
      const output = join(temp.dir, 'out.jsonl');
      const input = jsonl([{ n: 0, waitFor: output, containing: '{"n":1}' }, { n: 1 }]);
      const run = await cli(['-s', `${STAGES}#rendezvous:concurrency=2`, '--unordered', '-o', output], input);
      expect(run.code, run.stderr).to.equal(0);
      expect(parseLines(readFileSync(output, 'utf8'))).to.deep.equal([{ n: 1 }, { n: 0 }]);
    });
  });
});
