// Where a gulpStage's worker finds its function: our worker entry, with the
// user's module and export in its query string (see file-worker.ts).

import { checkObject, checkString } from '../checks.js';
import { toFileUrl } from '../stage/stage-target.js';
import type { ModuleRef } from '../stage/stage-target.js';
import { FILE_WORKER_ENTRY } from '../entry-files.js';
import { EXPORT_PARAM, MODULE_PARAM } from './file-data.js';

/** The module reference the underlying Stage loads: our entry, naming the user's module. */
export function workerEntryRef(ref: ModuleRef): ModuleRef {
  const given = checkObject('gulpStage() module reference', ref);
  const url = new URL(FILE_WORKER_ENTRY);
  url.searchParams.set(MODULE_PARAM, toFileUrl(given.module));
  if (given.export !== undefined) url.searchParams.set(EXPORT_PARAM, checkString('target.export', given.export));
  return { module: url, export: 'processFile' };
}

/** For messages: `export "minify" of file:///…/minify.js`. */
export function describeTarget(ref: ModuleRef): string {
  const which = ref.export === undefined ? 'the default export' : `export "${ref.export}"`;
  return `${which} of ${toFileUrl(ref.module)}`;
}
