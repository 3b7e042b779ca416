// Worker-side entry of gulpStage: the module each worker loads. The user's
// module and export travel in this module's URL (`?module=…&export=…`), so
// each gulpStage gets its own instance of this module and the user's module
// is imported while the worker starts: a missing module or export fails the
// stage's start() with LOAD_FAILED, before any file flows, as for stage().

import { isAbsolute, resolve } from 'node:path';
import { EXPORT_PARAM, MODULE_PARAM } from './file-data.js';
import type { GulpFileData, GulpFileFunction, GulpFileResult, WireFile, WireResult } from './file-data.js';

const userFunction = await loadUserFunction(new URL(import.meta.url).searchParams);

async function loadUserFunction(params: URLSearchParams): Promise<GulpFileFunction> {
  const moduleUrl = params.get(MODULE_PARAM);
  if (moduleUrl === null) throw new TypeError(`gulpStage worker: its URL names no module (${import.meta.url})`);
  const exportName = params.get(EXPORT_PARAM) ?? 'default';
  const namespace = (await import(moduleUrl)) as Record<string, unknown>;
  const found = namespace[exportName];
  if (typeof found !== 'function') {
    const have = Object.keys(namespace).join(', ') || 'none';
    throw new TypeError(`${moduleUrl} has no export "${exportName}" that is a function (its exports: ${have})`);
  }
  return found as GulpFileFunction;
}

/** Runs the user's function on one file and returns what changed. */
export async function processFile(file: WireFile, context: unknown): Promise<WireResult> {
  if (file.contents === null) return { id: file.id };
  const data: GulpFileData = { path: file.path, base: file.base, cwd: file.cwd, contents: asBuffer(file.contents) };
  const result = await userFunction(data, context);
  return toWireResult(file, result);
}

function toWireResult(file: WireFile, result: GulpFileResult): WireResult {
  if (typeof result === 'string' || result instanceof Uint8Array) return { id: file.id, contents: result };
  if (result !== null && typeof result === 'object' && isContents((result as { contents?: unknown }).contents)) {
    const { contents, path } = result;
    if (path === undefined) return { id: file.id, contents };
    if (typeof path !== 'string' || path.length === 0) throw new TypeError(`the returned path must be a non-empty string, got ${typeof path}`);
    return { id: file.id, contents, path: isAbsolute(path) ? path : resolve(file.base, path) };
  }
  throw new TypeError(
    'a gulpStage function must return the new contents (a Buffer, Uint8Array or string) or ' +
      `{ contents, path? }, got ${result === null ? 'null' : typeof result}`,
  );
}

function isContents(value: unknown): value is Uint8Array | string {
  return typeof value === 'string' || value instanceof Uint8Array;
}

// Structured clone delivers a Buffer as a plain Uint8Array (a stage with
// `transfer: true` restores it already); the user's function expects a Buffer.
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
