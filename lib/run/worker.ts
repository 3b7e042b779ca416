// Entry file of every worker thread. The only worker-side module that touches
// threads.js; the main side never imports this file.

import { parentPort } from 'node:worker_threads';
import { expose } from 'threads/worker';
import { FATAL_MESSAGE } from './protocol.js';
import type { FatalMessage } from './protocol.js';
import { serializeError } from './serialized-error.js';
import { createWorkerApi } from './worker-runtime.js';

// threads.js catches uncaught errors in a worker and reports them to a channel
// nobody reads, leaving every call in flight pending for ever. Dying instead
// makes the main side see 'exit' and fail those calls with the real cause,
// which it gets from this message, posted first.
function die(error: unknown): void {
  try {
    const message: FatalMessage = { [FATAL_MESSAGE]: serializeError(error) };
    parentPort?.postMessage(message);
  } finally {
    process.exit(1);
  }
}

process.on('uncaughtException', die);
process.on('unhandledRejection', die);

expose(createWorkerApi());
