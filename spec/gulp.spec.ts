import { execFile } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import Vinyl from 'vinyl';
import { GulpPluginError, StageError, gulpStage } from 'async-task-pipeline';
import type { GulpStageOptions } from 'async-task-pipeline';
import { generateSamples } from '../examples/gulp/generate.js';
import { sampleName } from '../examples/gulp/sample-source.js';
import { fixture, makeTempDir, rejectionOf, runThrough } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const GULP = join(ROOT, 'node_modules/gulp/bin/gulp.js');
const GULPFILE = join(ROOT, 'dist/examples/gulp/gulpfile.js');

function filesStage(exportName: string, options?: GulpStageOptions) {
  return gulpStage({ module: fixture('gulp-files.js'), export: exportName }, options);
}

function file(name: string, contents: Buffer | null): Vinyl {
  return new Vinyl({ cwd: '/project', base: '/project/src', path: `/project/src/${name}`, contents });
}

interface GulpRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real gulp 5 CLI on the example's gulpfile in `cwd`. */
function runGulp(cwd: string, task: string): Promise<GulpRun> {
  return new Promise((resolve) => {
    const args = [GULP, '--gulpfile', GULPFILE, '--cwd', cwd, '--no-color', task];
    const env = { ...process.env, GULP_MINIFY_THREADS: '2' };
    execFile(process.execPath, args, { env, timeout: 50_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr });
    });
  });
}

/** A buffered file's text. */
function text(f: Vinyl): string {
  return (f.contents as Buffer).toString('utf8');
}

/** Calls the sample function a file declares, on a few inputs. */
function outputsOf(code: string, name: string): number[] {
  // Running the minified output is the check that it still works.
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const fn = new Function(`${code}\nreturn ${name};`)() as (n: number) => number;
  return [0, 1, 17, 1234].map((n) => fn(n));
}

describe('gulpStage', function () {
  this.timeout(30_000);

  it('gives back the same Vinyl objects, path and base kept, with the contents the worker returned', async () => {
    const inputs = [file('a.js', Buffer.from('alpha')), file('b.js', Buffer.from('beta'))];
    const out = (await runThrough(filesStage('upper'), inputs)) as Vinyl[];
    expect(out).to.have.length(2);
    out.forEach((f, i) => {
      expect(f).to.be.instanceOf(Vinyl);
      expect(f).to.equal(inputs[i]);
      expect(f.base).to.equal('/project/src');
    });
    expect(out.map((f) => f.path)).to.deep.equal(['/project/src/a.js', '/project/src/b.js']);
    expect(out.map(text)).to.deep.equal(['ALPHA', 'BETA']);
  });

  it('hands the worker function its contents as a Buffer and renames a file to a path it returns', async () => {
    const input = file('deep/page.md', Buffer.from('text'));
    const [out] = (await runThrough(filesStage('renameToTxt'), [input])) as Vinyl[];
    expect(text(out!)).to.equal('buffer:text');
    expect(out!.path).to.equal('/project/src/deep/page.txt');
    expect(out!.relative).to.equal(join('deep', 'page.txt'));
    expect(out!.history).to.deep.equal(['/project/src/deep/page.md', '/project/src/deep/page.txt']);
  });

  it('moves a Buffer that owns its memory to the worker instead of copying it', async () => {
    const contents = Buffer.alloc(64 * 1024, 'x');
    const [out] = (await runThrough(filesStage('upper'), [file('big.txt', contents)])) as Vinyl[];
    // A moved ArrayBuffer is detached on the sending side.
    expect(contents.buffer.byteLength).to.equal(0);
    expect(text(out!)).to.equal('X'.repeat(64 * 1024));
  });

  it('passes files without contents (directories) through untouched and in order', async () => {
    const folder = file('folder', null);
    const inputs = [file('a.js', Buffer.from('a')), folder, file('b.js', Buffer.from('b'))];
    const out = (await runThrough(filesStage('failOnBad'), inputs)) as Vinyl[];
    expect(out).to.deep.equal(inputs);
    expect(out[1]).to.equal(folder);
    expect(folder.isNull()).to.equal(true);
  });

  it('refuses a file whose contents are a stream, with a message that says why and what to do', async () => {
    const streamed = file('stream.js', null);
    streamed.contents = new PassThrough();
    const error = await rejectionOf(runThrough(filesStage('upper'), [streamed]));
    expect(error).to.be.instanceOf(GulpPluginError);
    const pluginError = error as GulpPluginError;
    expect(pluginError.code).to.equal('INVALID_STATE');
    expect(pluginError.fileName).to.equal('/project/src/stream.js');
    expect(pluginError.message).to.include('stream.js').and.to.include('contents are a stream').and.to.include('buffer: false');
  });

  it('fails with a gulp plugin error that names the plugin and the file', async () => {
    const inputs = [file('good.js', Buffer.from('fine')), file('bad.js', Buffer.from('bad'))];
    const error = await rejectionOf(runThrough(filesStage('failOnBad'), inputs));
    expect(error).to.be.instanceOf(GulpPluginError).and.to.be.instanceOf(StageError);
    const pluginError = error as GulpPluginError;
    expect(pluginError.plugin).to.equal('async-task-pipeline');
    expect(pluginError.fileName).to.equal('/project/src/bad.js');
    expect(pluginError.showStack).to.equal(false);
    expect(pluginError.code).to.equal('FUNCTION_FAILED');
    expect(pluginError.seq).to.equal(1);
    expect(pluginError.message).to.match(/^bad\.js: /).and.to.include('cannot process bad.js');
    expect(String(pluginError)).to.include('in plugin "async-task-pipeline"').and.to.include('fileName: /project/src/bad.js');
  });

  it('reports a function that returns no contents as an error naming the file', async () => {
    const error = (await rejectionOf(runThrough(filesStage('returnsNothing'), [file('a.js', Buffer.from('a'))]))) as GulpPluginError;
    expect(error.fileName).to.equal('/project/src/a.js');
    expect(error.message).to.include('must return the new contents').and.to.include('got undefined');
  });

  it('fails to start with LOAD_FAILED naming the user module when its export is missing', async () => {
    const s = filesStage('noSuchExport');
    const error = (await rejectionOf(runThrough(s, [file('a.js', Buffer.from('a'))]))) as GulpPluginError;
    expect(error.code).to.equal('LOAD_FAILED');
    expect(error.plugin).to.equal('async-task-pipeline');
    expect(error.message).to.include('export "noSuchExport" of').and.to.include('gulp-files.js');
    expect(error.message).to.not.include('file-worker');
  });

  it("with onError: 'skip' leaves a failing file out and counts it as skipped", async () => {
    const s = filesStage('failOnBad', { onError: 'skip' });
    const out = (await runThrough(s, [file('a.js', Buffer.from('a')), file('bad.js', Buffer.from('bad')), file('c.js', Buffer.from('c'))])) as Vinyl[];
    expect(out.map((f) => f.relative)).to.deep.equal(['a.js', 'c.js']);
    expect(s.stats.skipped).to.equal(1);
    expect(s.stats.failed).to.equal(0);
  });

  it('with an onError function hands it the plugin error and the Vinyl file', async () => {
    const seen: Array<[GulpPluginError, Vinyl]> = [];
    const bad = file('bad.js', Buffer.from('bad'));
    const s = filesStage('failOnBad', { onError: (error, f) => seen.push([error, f]) });
    const out = (await runThrough(s, [bad, file('c.js', Buffer.from('c'))])) as Vinyl[];
    expect(out.map((f) => f.relative)).to.deep.equal(['c.js']);
    expect(seen).to.have.length(1);
    expect(seen[0]![1]).to.equal(bad);
    expect(seen[0]![0].fileName).to.equal('/project/src/bad.js');
  });

  it('refuses a chunk that is not a Vinyl file', async () => {
    const error = (await rejectionOf(runThrough(filesStage('upper'), [{ path: '/x.js' }]))) as GulpPluginError;
    expect(error).to.be.instanceOf(GulpPluginError);
    expect(error.message).to.include('takes Vinyl files').and.to.include('[object Object]');
  });
});

describe('the gulp example (real gulp 5)', function () {
  this.timeout(60_000);
  let temp: { dir: string; remove: () => void };
  let sources: string[];

  beforeEach(() => {
    temp = makeTempDir('gulp-example');
    sources = generateSamples(temp.dir, 8);
  });

  afterEach(() => temp.remove());

  it('minifies every file in worker threads into valid JavaScript that computes the same results', async () => {
    const run = await runGulp(temp.dir, 'minify');
    expect(run.code, run.stderr + run.stdout).to.equal(0);
    expect(run.stdout).to.include("Finished 'minify'");
    const outDir = join(temp.dir, 'minified');
    expect(readdirSync(outDir).sort()).to.deep.equal(sources.map((p) => p.split('/').pop()).sort());
    sources.forEach((path, index) => {
      const original = readFileSync(path, 'utf8');
      const minified = readFileSync(join(outDir, path.split('/').pop()!), 'utf8');
      expect(minified.length).to.be.below(original.length * 0.6);
      expect(minified).to.not.include('generated for the gulp example');
      expect(outputsOf(minified, sampleName(index))).to.deep.equal(outputsOf(original, sampleName(index)));
    });
  });

  it('main-thread task writes the same files as the worker task', async () => {
    expect((await runGulp(temp.dir, 'minify')).code).to.equal(0);
    const outDir = join(temp.dir, 'minified');
    const fromWorkers = sources.map((p) => readFileSync(join(outDir, p.split('/').pop()!), 'utf8'));
    rmSync(outDir, { recursive: true });
    const run = await runGulp(temp.dir, 'main-thread');
    expect(run.code, run.stderr + run.stdout).to.equal(0);
    const fromMain = sources.map((p) => readFileSync(join(outDir, p.split('/').pop()!), 'utf8'));
    expect(fromMain).to.deep.equal(fromWorkers);
  });

  it('stops the task on a syntax error with gulp printing our plugin error and the file', async () => {
    writeFileSync(join(temp.dir, 'src', 'zz-broken.js'), 'function broken( {\n');
    const run = await runGulp(temp.dir, 'minify');
    expect(run.code).to.not.equal(0);
    expect(run.stderr).to.include('in plugin "async-task-pipeline"');
    expect(run.stderr).to.include('zz-broken.js');
    expect(run.stderr).to.include('FUNCTION_FAILED');
  });
});
