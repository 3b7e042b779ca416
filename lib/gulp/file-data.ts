// The shapes a gulp file takes on its way to a worker and back. Both the main
// side (gulp-stage.ts) and the worker entry (file-worker.ts) import this file
// and nothing else of each other.

/** What a gulpStage worker function receives: the file as plain data. */
export interface GulpFileData {
  /** Absolute path of the file. */
  path: string;
  /** The glob base: `path` relative to it is where `gulp.dest()` writes. */
  base: string;
  /** The working directory the file was read in. */
  cwd: string;
  /** The file's bytes. */
  contents: Buffer;
}

/**
 * What a gulpStage worker function returns (or resolves to):
 * - new contents, as a Buffer, Uint8Array or string (strings are written as UTF-8);
 * - or `{ contents, path? }` to rename the file as well: `path` absolute, or
 *   relative to the file's `base` (so `'a.min.js'` keeps the folder layout).
 *
 * The function may not return null or undefined (a file is never dropped
 * silently: that would look like a lost file in the output folder).
 */
export type GulpFileResult =
  | Buffer
  | Uint8Array
  | string
  | {
    /** The new contents. */
    contents: Buffer | Uint8Array | string;
    /** A new path for the file: absolute, or relative to the file's base. */
    path?: string;
  };

/** The function a gulpStage module exports: runs in a worker thread on each file. */
export type GulpFileFunction = (file: GulpFileData, context: any) => GulpFileResult | Promise<GulpFileResult>;

/**
 * A file on the way in. `id` finds the Vinyl it came from on the way back;
 * `contents` is null for directories and other files without contents, which
 * come back untouched without calling the function (a trip through the
 * worker keeps them in order with the others).
 */
export interface WireFile {
  id: number;
  path: string;
  base: string;
  cwd: string;
  contents: Uint8Array | null;
}

/** A file on the way back; no `contents` means "unchanged". */
export interface WireResult {
  id: number;
  contents?: Uint8Array | string;
  path?: string;
}

/** Query parameters of the worker entry's URL that name the user's module. */
export const MODULE_PARAM = 'module';
export const EXPORT_PARAM = 'export';

export function isWireResult(value: unknown): value is WireResult {
  return value !== null && typeof value === 'object' && typeof (value as { id?: unknown }).id === 'number' &&
    !(value instanceof Error);
}
