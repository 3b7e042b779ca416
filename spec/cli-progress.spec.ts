/* eslint-disable no-control-regex -- these specs match the escape bytes a terminal receives */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { Progress } from '../lib/cli/progress.js';
import { CLI_BIN, fixturePath, makeTempDir, range } from './helpers.js';

/** Carriage return, then erase to the end of the line: what takes the progress line off the screen. */
const CLEAR = '\r\x1b[K';

/** A stand-in for a terminal: keeps every byte written, says it is a TTY. */
class FakeTerminal extends Writable {
  isTTY = true;
  columns = 100;
  text = '';

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}

async function countThrough(progress: Progress, count: number): Promise<void> {
  await pipeline(Readable.from(range(count)), progress, new Writable({ objectMode: true, write: (_c, _e, cb) => cb() }));
}

describe('the progress line', () => {
  it('draws items done, items per second and elapsed time in place on a terminal, and ends its line when stopped', async () => {
    const terminal = new FakeTerminal();
    const progress = new Progress(terminal, true);
    await countThrough(progress, 25);
    progress.stop();
    expect(progress.done).to.equal(25);
    expect(terminal.text).to.match(/^\ritems 0 \| \d+ items\/s \| elapsed 0s\x1b\[K/);
    expect(terminal.text).to.match(/\ritems 25 \| \d+ items\/s \| elapsed \d+s\x1b\[K\n$/);
  });

  it('draws nothing when disabled (--quiet, or not a terminal)', async () => {
    const terminal = new FakeTerminal();
    const progress = new Progress(terminal, false);
    await countThrough(progress, 5);
    progress.draw();
    progress.stop();
    expect(terminal.text).to.equal('');
  });

  it('clears its line for a message, and the next draw puts it back below the message', () => {
    const terminal = new FakeTerminal();
    const progress = new Progress(terminal, true);
    progress.clear();
    terminal.write('a message\n');
    progress.draw();
    progress.stop();
    const [first, rest] = terminal.text.split(`${CLEAR}a message\n`);
    expect(first).to.match(/^\ritems 0 [^\n]*\x1b\[K$/);
    expect(rest).to.match(/^\ritems 0 [^\n]*\x1b\[K\ritems 0 [^\n]*\x1b\[K\n$/);
  });

  it('once abandoned, clears its line and never draws again', () => {
    const terminal = new FakeTerminal();
    const progress = new Progress(terminal, true);
    const drawn = terminal.text;
    progress.abandon();
    expect(terminal.text).to.equal(drawn + CLEAR);
    progress.draw();
    progress.stop();
    progress.clear();
    expect(terminal.text).to.equal(drawn + CLEAR);
  });

  it('once stopped, never draws or clears again', () => {
    const terminal = new FakeTerminal();
    const progress = new Progress(terminal, true);
    progress.stop();
    const final = terminal.text;
    progress.draw();
    progress.abandon();
    expect(terminal.text).to.equal(final);
  });

  it('shows what its status callback says limits the run, between items/s and elapsed time', () => {
    const terminal = new FakeTerminal();
    new Progress(terminal, true, () => 'bottleneck score (busy 71%)').stop();
    expect(terminal.text).to.match(/^\ritems 0 \| \d+ items\/s \| bottleneck score \(busy 71%\) \| elapsed 0s\x1b\[K/);
  });

  it('cuts its line one column short of the terminal width, so that it never wraps', () => {
    const terminal = new FakeTerminal();
    terminal.columns = 12;
    new Progress(terminal, true).stop();
    for (const line of terminal.text.split(/\r|\n/)) expect(line.replace('\x1b[K', '').length).to.be.at.most(11);
  });
});

describe('the progress line of the command on a real terminal', function () {
  this.timeout(40_000);
  const ROOT = fileURLToPath(new URL('../../', import.meta.url));
  const STAGES = fixturePath('cli-stages.js');
  let temp: { dir: string; remove: () => void };

  beforeEach(() => { temp = makeTempDir('cli-progress'); });
  afterEach(() => temp.remove());

  /**
   * Runs the command with its standard output and error on a pseudo-terminal
   * (util-linux `script`), and returns every byte the terminal received.
   */
  function onTerminal(args: string[]): Promise<{ code: number | null; bytes: string }> {
    const command = [process.execPath, CLI_BIN, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
    return new Promise((resolve, reject) => {
      const child = spawn('script', ['-qec', command, '/dev/null'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
      let bytes = '';
      child.stdout.setEncoding('utf8').on('data', (text: string) => { bytes += text; });
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, bytes });
      });
    });
  }

  function input(count: number): string {
    const file = join(temp.dir, 'in.jsonl');
    writeFileSync(file, range(count).map((n) => `{"n":${n}}\n`).join(''));
    return file;
  }

  it('clears the line before a stage failure message and draws nothing after it', async () => {
    const run = await onTerminal(['-s', `${STAGES}#failOnThree`, '-i', input(10), '-o', join(temp.dir, 'out.jsonl')]);
    expect(run.code).to.equal(1);
    const at = run.bytes.indexOf('async-task-pipeline: FUNCTION_FAILED');
    expect(at, run.bytes).to.be.above(0);
    // The line was drawn, then erased; the message starts at column 0 of that line.
    expect(run.bytes.slice(0, at)).to.match(/^\ritems 0 .*\x1b\[K\r\x1b\[K$/s);
    expect(run.bytes.slice(at)).to.not.include('items');
    expect(run.bytes.slice(at)).to.not.include('\x1b');
  });

  it('leaves the final figures on their own line when the run succeeds', async () => {
    const run = await onTerminal(['-s', `${STAGES}#double`, '-i', input(10), '-o', join(temp.dir, 'out.jsonl')]);
    expect(run.code).to.equal(0);
    expect(run.bytes).to.match(/\ritems 10 \| \d+ items\/s \| (?:[^|\r\n]+ \| )?elapsed \d+s\x1b\[K\r\n$/);
  });

  it('names the stage that limits the run while it runs', async () => {
    const run = await onTerminal(['-s', `${STAGES}#light`, '-s', `${STAGES}#heavy`, '-s', `${STAGES}#light`, '-i', input(400), '-o', join(temp.dir, 'out.jsonl')]);
    expect(run.code).to.equal(0);
    expect(run.bytes).to.match(/\ritems \d+ \| \d+ items\/s \| bottleneck heavy \(busy \d+%\) \| elapsed \d+s\x1b\[K/);
  });

  it('draws no progress line when the results go to the same terminal', async () => {
    const run = await onTerminal(['-s', `${STAGES}#double`, '-i', input(3)]);
    expect(run.code).to.equal(0);
    expect(run.bytes).to.equal('{"n":0}\r\n{"n":2}\r\n{"n":4}\r\n');
  });
});
