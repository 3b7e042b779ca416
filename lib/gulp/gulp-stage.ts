// lib/gulp/: a Stage for gulp-style build scripts. Vinyl files cross to the
// worker as plain data (file-data.ts) and run in their own worker entry
// (file-worker.ts). It may import stage/ and the top-level files.

import { createRequire } from 'node:module';
import type { TransformCallback } from 'node:stream';
import type Vinyl from 'vinyl';
import { StageError } from '../errors.js';
import { isWireResult } from './file-data.js';
import type { WireFile, WireResult } from './file-data.js';
import { describeTarget, workerEntryRef } from './module-url.js';
import { GulpPluginError } from './plugin-error.js';
import { Stage } from '../stage/stage.js';
import type { StageOptions } from '../stage/stage-options.js';
import type { ModuleRef } from '../stage/stage-target.js';

/**
 * Options of {@link gulpStage}: those of `stage()`, except that errors follow
 * gulp's conventions and binary contents are always moved, not copied.
 */
export interface GulpStageOptions extends Omit<StageOptions, 'onError' | 'transfer'> {
  /**
   * What to do with a file whose function failed.
   * - `'fail'`: destroy the stream with a {@link GulpPluginError} naming the file (gulp stops the task).
   * - `'skip'`: leave the file out of the output.
   * - a function: called with the error and the Vinyl file; the file is left out.
   *   Its contents are as they were sent, though they were moved to the worker.
   * @default 'fail'
   */
  onError?: 'fail' | 'skip' | ((error: GulpPluginError, file: Vinyl) => void);
}

// vinyl (with streamx under it) takes ~35 ms to load, and every importer of
// the package loaded it through index.ts: only a gulp stage's first file now
// pays it. vinyl is CommonJS, so a synchronous require keeps _write as it is.
const require = createRequire(import.meta.url);
let vinyl: typeof Vinyl | undefined;

function isVinyl(chunk: unknown): chunk is Vinyl {
  vinyl ??= require('vinyl') as typeof Vinyl;
  return vinyl.isVinyl(chunk);
}

/**
 * A {@link Stage} for gulp pipelines: takes Vinyl files and gives them back,
 * each with the contents (and optionally the path) the worker function
 * returned. The same Vinyl object comes out, so its `stat`, `history` and
 * custom properties survive, as with any gulp plugin that edits files in place.
 *
 * Files without contents (directories) pass through untouched, in order;
 * files whose contents are a stream are refused (the worker needs the bytes).
 * Errors are {@link GulpPluginError}s: StageErrors with gulp's `plugin`,
 * `fileName` and `showStack`, and a message that starts with the file's
 * relative path.
 *
 * Not for {@link createPipeline}: that one wraps items in PipelineItems.
 */
export class GulpStage extends Stage<Vinyl, Vinyl> {
  /** Files inside the stage, by the id that travels with their data; ids equal the Stage's item seq. */
  private readonly files = new Map<number, Vinyl>();
  private nextId = 0;
  /** For messages: "export "minify" of file:///…/minify.js". */
  private readonly userTarget: string;

  /** @internal Use {@link gulpStage}. */
  constructor(ref: ModuleRef, options: GulpStageOptions = {}) {
    const { onError, ...rest } = options;
    // The error policy needs the stage, which does not exist before super().
    const owner: { stage?: GulpStage } = {};
    super(workerEntryRef(ref), {
      name: ref.export ?? 'default',
      ...rest,
      // Contents move to the worker and back instead of being copied.
      transfer: true,
      onError: onError === undefined || onError === 'fail' ? 'fail' : (error, data) => owner.stage!.onFileError(onError, error, data),
    });
    owner.stage = this;
    this.userTarget = describeTarget(ref);
  }

  /** @internal Node's stream hook. */
  override _write(chunk: unknown, encoding: BufferEncoding, callback: TransformCallback): void {
    const id = this.nextId++;
    if (!isVinyl(chunk)) {
      callback(GulpPluginError.notAFile(this.name, id, chunk));
      return;
    }
    if (chunk.isStream()) {
      callback(GulpPluginError.streamContents(this.name, id, chunk.path, chunk.relative));
      return;
    }
    this.files.set(id, chunk);
    const wire: WireFile = { id, path: chunk.path, base: chunk.base, cwd: chunk.cwd, contents: chunk.isBuffer() ? chunk.contents : null };
    super._write(wire, encoding, callback);
  }

  // Stage pushes the worker's answers; they become the Vinyl files again here.
  /** @internal Node's stream hook. */
  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (!isWireResult(chunk)) return super.push(chunk, encoding);
    const file = this.restore(chunk);
    return file === undefined ? true : super.push(file);
  }

  // Every error of the stream passes here (Stage's own and Writable's), so
  // each one leaves in gulp's shape, naming the file when one was at fault.
  override destroy(error?: Error): this {
    const wrapped = error instanceof StageError && !(error instanceof GulpPluginError) ? this.pluginErrorOf(error) : error;
    this.files.clear();
    return super.destroy(wrapped);
  }

  private restore(result: WireResult): Vinyl | undefined {
    const file = this.files.get(result.id);
    if (file === undefined) {
      this.destroy(StageError.invalidState(this.name, `gulpStage "${this.name}": a result came back for unknown file ${result.id}`));
      return undefined;
    }
    this.files.delete(result.id);
    const { contents, path } = result;
    if (contents !== undefined) file.contents = typeof contents === 'string' ? Buffer.from(contents) : asBuffer(contents);
    if (path !== undefined) file.path = path;
    return file;
  }

  private pluginErrorOf(error: StageError): GulpPluginError {
    if (error.code === 'LOAD_FAILED') return GulpPluginError.ofLoadFailure(error, this.userTarget);
    const file = error.seq === undefined ? undefined : this.files.get(error.seq);
    return GulpPluginError.of(error, file?.path, file?.relative);
  }

  // Returns the handler's result: a promise holds the stage's output until it settles (error-policy.ts).
  private onFileError(policy: 'skip' | ((error: GulpPluginError, file: Vinyl) => void), error: StageError, data: unknown): unknown {
    const wire = data as WireFile;
    const file = this.files.get(wire.id);
    this.files.delete(wire.id);
    // The file's contents were moved to the worker; the stage put a copy back into wire.
    if (file !== undefined && wire.contents !== null) file.contents = asBuffer(wire.contents);
    if (policy === 'skip') {
      // Stage counts a handled error as failed; this one was asked to be skipped.
      this.stats.failed--;
      this.stats.skipped++;
      return undefined;
    }
    return policy(GulpPluginError.of(error, file?.path, file?.relative), file!);
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Makes a {@link GulpStage}: runs an export of a module on every Vinyl file in
 * worker threads. The export is a {@link GulpFileFunction}: it gets
 * `{ path, base, cwd, contents }` (contents a Buffer) and the stage's
 * `options.context`, and returns the new contents (Buffer, Uint8Array or
 * string) or `{ contents, path? }` to rename the file too (a relative path is
 * taken from the file's base). It may be async.
 *
 * @example
 * ```js
 * // minify.js
 * import { minify as terser } from 'terser';
 * export async function minify(file) { return (await terser(file.contents.toString())).code; }
 *
 * // gulpfile.js
 * import gulp from 'gulp';
 * import { gulpStage } from 'async-task-pipeline';
 * export default () => gulp.src('src/*.js')
 *   .pipe(gulpStage({ module: new URL('./minify.js', import.meta.url), export: 'minify' }, { concurrency: 4 }))
 *   .pipe(gulp.dest('out'));
 * ```
 *
 * @param ref - the module and its export (a {@link GulpFileFunction})
 * @param options - see {@link GulpStageOptions}
 * @returns the stage: Vinyl files in, the same Vinyl files out
 * @throws TypeError for a function instead of a module reference, or a bad
 *   option; the stream fails with a {@link GulpPluginError}
 */
export function gulpStage(ref: ModuleRef, options?: GulpStageOptions): GulpStage {
  return new GulpStage(ref, options);
}
