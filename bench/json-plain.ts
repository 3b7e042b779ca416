// The plain single-threaded Node script scenario 8 measures the command line
// against: readline, JSON.parse, the function, JSON.stringify, written with
// backpressure. `node dist/bench/json-plain.js IN OUT`.

import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { normalizeRecord } from './work.js';
import type { Person } from './work.js';

const [input, output] = process.argv.slice(2);
if (input === undefined || output === undefined) throw new TypeError('usage: json-plain.js IN OUT');
const out = createWriteStream(output);
for await (const line of createInterface({ input: createReadStream(input), crlfDelay: Infinity })) {
  if (line.trim() === '') continue;
  if (!out.write(JSON.stringify(normalizeRecord(JSON.parse(line) as Person)) + '\n')) await once(out, 'drain');
}
out.end();
await once(out, 'finish');
