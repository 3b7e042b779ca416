// stream-chain and stream-json, loaded when the first JSON stream is made
// rather than with the package: together they were about a third of
// `import 'async-task-pipeline'` (12-15 ms of 38 measured in the bench's
// import + construct case), paid by every user of stages who never reads JSON.
// jsonLines() and jsonArray() return their Duplex synchronously, so the
// modules are required, not imported: both are ES modules without top-level
// await, which require() loads on Node >= 20.19 (the package's engines floor).

import { createRequire } from 'node:module';

type Libs = {
  asStream: typeof import('stream-chain').asStream;
  gen: typeof import('stream-chain/gen.js').default;
  none: typeof import('stream-chain/defs.js').none;
  flushable: typeof import('stream-chain/defs.js').flushable;
  fixUtf8Stream: typeof import('stream-chain/utils/fixUtf8Stream.js').fixUtf8Stream;
  lines: typeof import('stream-chain/utils/lines.js').lines;
  jsonlParser: typeof import('stream-chain/jsonl/parser.js').jsonlParser;
  jsonParser: typeof import('stream-json/parser.js').jsonParser;
  streamArray: typeof import('stream-json/streamers/stream-array.js').streamArray;
};

let libs: Libs | undefined;

/** The stream-chain and stream-json pieces the JSON streams are built from. */
export function streamLibs(): Libs {
  if (libs !== undefined) return libs;
  const require = createRequire(import.meta.url);
  const defs = require('stream-chain/defs.js') as typeof import('stream-chain/defs.js');
  libs = {
    asStream: (require('stream-chain') as typeof import('stream-chain')).asStream,
    gen: (require('stream-chain/gen.js') as { default: Libs['gen'] }).default,
    none: defs.none,
    flushable: defs.flushable,
    fixUtf8Stream: (require('stream-chain/utils/fixUtf8Stream.js') as typeof import('stream-chain/utils/fixUtf8Stream.js')).fixUtf8Stream,
    lines: (require('stream-chain/utils/lines.js') as typeof import('stream-chain/utils/lines.js')).lines,
    jsonlParser: (require('stream-chain/jsonl/parser.js') as typeof import('stream-chain/jsonl/parser.js')).jsonlParser,
    jsonParser: (require('stream-json/parser.js') as typeof import('stream-json/parser.js')).jsonParser,
    streamArray: (require('stream-json/streamers/stream-array.js') as typeof import('stream-json/streamers/stream-array.js')).streamArray,
  };
  return libs;
}
