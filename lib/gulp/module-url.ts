// Where a gulpStage's worker finds its function: our worker entry, with the
// user's module and export in its query string (see file-worker.ts).

import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { checkObject, checkString } from '../checks.js';
import type { ModuleRef } from '../stage-target.js';
import { EXPORT_PARAM, MODULE_PARAM } from './file-data.js';

const WORKER_ENTRY = new URL('./file-worker.js', import.meta.url);

/** The module reference the underlying Stage loads: our entry, naming the user's module. */
export function workerEntryRef(ref: ModuleRef): ModuleRef {
  const given = checkObject('gulpStage() module reference', ref);
  const url = new URL(WORKER_ENTRY);
  url.searchParams.set(MODULE_PARAM, toFileUrl(given.module));
  if (given.export !== undefined) url.searchParams.set(EXPORT_PARAM, checkString('target.export', given.export));
  return { module: url, export: 'processFile' };
}

// As for stage(): a path relative to the working directory, an absolute path, or a file URL.
function toFileUrl(module: unknown): string {
  if (module instanceof URL) {
    if (module.protocol !== 'file:') throw new TypeError(`target.module must be a file URL, got ${module.href}`);
    return module.href;
  }
  const path = checkString('target.module', module);
  if (path.startsWith('file:')) return new URL(path).href;
  return pathToFileURL(isAbsolute(path) ? path : resolve(path)).href;
}

/** For messages: `export "minify" of file:///…/minify.js`. */
export function describeTarget(ref: ModuleRef): string {
  const which = ref.export === undefined ? 'the default export' : `export "${ref.export}"`;
  return `${which} of ${toFileUrl(ref.module)}`;
}
