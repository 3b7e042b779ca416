// The files a worker thread starts from. This module sits at the root of
// lib/ so that its import.meta.url points there both in the file tree tsc
// writes and in the bundle the package ships (dist/lib/index.js and the
// chunks it shares with the other entries, all at that root; see
// `npm run bundle`): `new URL('./worker.js', import.meta.url)` written in
// run/ would point into run/ in one and beside index.js in the other.

/** The pool threads' entry (run/worker.ts). */
export const WORKER_ENTRY = new URL('./run/worker.js', import.meta.url);

/** A gulpStage's module inside the worker (gulp/file-worker.ts): it loads the user's function. */
export const FILE_WORKER_ENTRY = new URL('./gulp/file-worker.js', import.meta.url);
