// jsonArray, jsonLines and toJsonLines on their own, then together with two
// worker stages on a generated ~200 MB JSON array (issue 5).

import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { expect } from 'chai';
import { JsonLineError, jsonArray, jsonLines, toJsonLines } from 'async-task-pipeline';
import { fnv1a } from './fixtures/ecosystem-records.js';
import type { Fingerprint, SourceRecord } from './fixtures/ecosystem-records.js';
import { fixture, makeTempDir, range, rejectionOf, runNodeWith, runThrough, writeScript } from './helpers.js';

/** Buffers of `text`'s UTF-8 bytes, `size` bytes each, so multi-byte characters split. */
function bytesOf(text: string, size: number): Buffer[] {
  const bytes = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return chunks;
}

/** Everything a byte stream gave, as one string. */
async function textOf(stream: Readable): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += String(chunk);
  return text;
}

/** A macrotask: every pending stream callback and microtask has run. */
function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe('jsonArray', function () {
  it('gives each element of a top-level array as one item, whatever the chunk boundaries', async function () {
    const elements = [1, 'two ✓', { three: [3, 'é'] }, [4], true, 5.5, '😀 six'];
    for (const size of [1, 2, 3, 7, 1000]) {
      const items = await runThrough(jsonArray(), bytesOf(JSON.stringify(elements, null, 1), size));
      expect(items, `chunks of ${size} bytes`).to.deep.equal(elements);
    }
  });

  it('drops null elements, which an object-mode stream cannot carry', async function () {
    expect(await runThrough(jsonArray(), ['[1, null, 2, null]'])).to.deep.equal([1, 2]);
  });

  it('gives nothing for an empty array', async function () {
    expect(await runThrough(jsonArray(), ['[ ]'])).to.deep.equal([]);
  });

  it('fails on a document whose top level is not an array', async function () {
    const error = await rejectionOf(runThrough(jsonArray(), ['{"a": 1}']));
    expect(error).to.be.instanceOf(Error).with.property('message').that.matches(/should be an array/);
  });

  it('fails on text that is not JSON', async function () {
    const error = await rejectionOf(runThrough(jsonArray(), ['[1, 2', ' 3]']));
    expect(error).to.be.instanceOf(Error).with.property('message').that.matches(/cannot parse/);
  });

  it('fails on an array cut short', async function () {
    const error = await rejectionOf(runThrough(jsonArray(), ['[1, 2,']));
    expect(error).to.be.instanceOf(Error);
  });

  it('stops parsing while its reader does not read, holding about highWaterMark items', async function () {
    const array = jsonArray({ highWaterMark: 4 });
    let written = false;
    array.write(JSON.stringify(range(1000)), () => { written = true; });
    await turn();
    // The one chunk holds 1000 elements: parsing pauses at the full queue
    // and the chunk's write stays unacknowledged until the reader reads.
    expect(array.readableLength).to.be.at.most(5);
    expect(written).to.equal(false);
    array.end();
    const items: unknown[] = [];
    for await (const item of array) items.push(item);
    expect(items).to.deep.equal(range(1000));
  });

  it('throws a TypeError naming options.highWaterMark when it is not a positive integer', function () {
    expect(() => jsonArray({ highWaterMark: 0 })).to.throw(TypeError, /options\.highWaterMark/);
  });

  it('throws a TypeError naming an option it does not know', function () {
    expect(() => jsonArray({ highwatermark: 2 } as never)).to.throw(TypeError, /options\.highwatermark is not an option/);
  });
});

describe('jsonLines', function () {
  it('gives the value of each line as one item, whatever the chunk boundaries', async function () {
    const values = [{ a: 1 }, 'é ✓', [2, 3], 4, false, { emoji: '😀' }];
    const text = values.map((v) => JSON.stringify(v)).join('\n') + '\n';
    for (const size of [1, 2, 5, 1000]) {
      expect(await runThrough(jsonLines(), bytesOf(text, size)), `chunks of ${size} bytes`).to.deep.equal(values);
    }
  });

  it('ignores blank lines, reads \\r\\n endings and a last line without a newline', async function () {
    const items = await runThrough(jsonLines(), ['1\r\n\r\n  \n', '\t\n{"b":', '2}\r\n3']);
    expect(items).to.deep.equal([1, { b: 2 }, 3]);
  });

  it('fails with a JsonLineError naming the line of bad JSON, counting blank lines', async function () {
    const error = await rejectionOf(runThrough(jsonLines(), ['{"a":1}\n\n{"a":', '2,}\n{"a":3}\n']));
    expect(error).to.be.instanceOf(JsonLineError).and.to.be.instanceOf(SyntaxError);
    const lineError = error as JsonLineError;
    expect(lineError.message).to.match(/^jsonLines: line 3 is not valid JSON: /);
    expect(lineError.lineNumber).to.equal(3);
    expect(lineError.code).to.equal('ERR_INVALID_JSON_LINE');
    expect(lineError.cause).to.be.instanceOf(SyntaxError);
  });

  it('names the right line when the bad one comes late in a chunk of many lines', async function () {
    const text = range(500).map((i) => (i === 417 ? '{oops' : JSON.stringify({ i }))).join('\n');
    const error = await rejectionOf(runThrough(jsonLines(), [text]));
    expect((error as JsonLineError).lineNumber).to.equal(418);
  });

  it('drops a line holding null, which an object-mode stream cannot carry', async function () {
    expect(await runThrough(jsonLines(), ['1\nnull\n2\n'])).to.deep.equal([1, 2]);
  });

  it('stops parsing while its reader does not read, holding about highWaterMark items', async function () {
    const lines = jsonLines({ highWaterMark: 4 });
    let written = false;
    lines.write(range(1000).join('\n'), () => { written = true; });
    await turn();
    expect(lines.readableLength).to.be.at.most(5);
    expect(written).to.equal(false);
    lines.end();
    const items: unknown[] = [];
    for await (const item of lines) items.push(item);
    expect(items).to.deep.equal(range(1000));
  });

  it("drops and counts bad lines with onInvalid: 'skip'", async function () {
    const lines = jsonLines({ onInvalid: 'skip' });
    const items = await runThrough(lines, ['1\nnope\n2\n{"half":\n3\n']);
    expect(items).to.deep.equal([1, 2, 3]);
    expect(lines.invalidLines).to.equal(2);
  });

  it('throws a TypeError naming options.onInvalid when it is not a known policy', function () {
    expect(() => jsonLines({ onInvalid: 'ignore' as never })).to.throw(TypeError, /options\.onInvalid must be 'fail' or 'skip', got "ignore"/);
  });

  it('throws a TypeError naming options.highWaterMark when it is not a positive integer', function () {
    expect(() => jsonLines({ highWaterMark: 1.5 })).to.throw(TypeError, /options\.highWaterMark/);
  });
});

describe('toJsonLines', function () {
  it('writes each item as one line of JSON ending in a newline', async function () {
    const items = [{ a: 1 }, 'two', [3], 4.5, true];
    const text = await textOf(Readable.from(items).pipe(toJsonLines()));
    expect(text).to.equal(items.map((i) => JSON.stringify(i) + '\n').join(''));
  });

  it('gives back what jsonLines reads, item for item', async function () {
    const items = range(300).map((i) => ({ i, text: `line ${i} ✓\n"quoted"`, nested: { list: [i, i * 2] } }));
    const lines = Readable.from(items).pipe(toJsonLines());
    expect(await runThrough(jsonLines(), lines)).to.deep.equal(items);
  });

  it('finishes each line as the item is written, before the next one arrives', async function () {
    const writer = toJsonLines();
    writer.write({ first: true });
    await turn();
    expect(String(writer.read())).to.equal('{"first":true}\n');
    writer.destroy();
  });

  it('fails with a TypeError naming the index of an item with no JSON form', async function () {
    const error = await rejectionOf(runThrough(toJsonLines(), [1, 2, { big: 3n }]));
    expect(error).to.be.instanceOf(TypeError).with.property('message').that.matches(/^toJsonLines: item 2 cannot be written as JSON/);
  });

  it('fails with a TypeError for an item that JSON.stringify turns into nothing', async function () {
    const error = await rejectionOf(runThrough(toJsonLines(), [() => 1]));
    expect(error).to.be.instanceOf(TypeError).with.property('message', 'toJsonLines: item 0 has no JSON form, got a function');
  });

  it('throws a TypeError naming options.highWaterMark when it is not a positive integer', function () {
    expect(() => toJsonLines({ highWaterMark: -1 })).to.throw(TypeError, /options\.highWaterMark/);
  });
});

// --- The big one: ~200 MB through two worker stages -----------------------

const RECORDS = 330_000;
const VALUES_PER_RECORD = 20;
const FILLER = ' lorem ipsum dolor sit amet, café € 😀'.repeat(12);

function recordOf(id: number): SourceRecord {
  const values: number[] = [];
  for (let k = 0; k < VALUES_PER_RECORD; k++) values.push((id * 31 + k * 7) % 1000);
  return { id, name: `record-${id}${FILLER}`, values };
}

/** The JSON text of the whole array, made a few hundred records at a time. */
function* arrayText(count: number): Generator<string> {
  yield '[\n';
  let batch: string[] = [];
  for (let id = 0; id < count; id++) {
    batch.push((id === 0 ? '' : ',') + JSON.stringify(recordOf(id)));
    if (batch.length === 250) {
      yield batch.join('\n');
      batch = [];
    }
  }
  yield batch.join('\n') + '\n]\n';
}

function expectFingerprint(line: Fingerprint, id: number): void {
  const record = recordOf(id);
  let sum = 0;
  for (const v of record.values) sum += v;
  if (line.id !== id || line.count !== VALUES_PER_RECORD || line.sum !== sum || line.nameHash !== fnv1a(record.name)) {
    expect.fail(`output line ${id} is ${JSON.stringify(line)}, expected id ${id}, count ${VALUES_PER_RECORD}, sum ${sum}`);
  }
}

/**
 * The measured run, in a fresh node process: RSS is the process's, and in the
 * spec runner it would also hold whatever garbage earlier specs left for V8 to
 * collect at leisure (seen: 459 MB there against 19 MB alone). Prints its
 * figures as JSON: start, peak, warmStart, warmPeak (bytes) and seconds.
 */
function measuredRun(input: string, output: string, inputBytes: number): string {
  return `
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createPipeline, jsonArray, stage, toJsonLines } from 'async-task-pipeline';
const records = new URL(${JSON.stringify(fixture('ecosystem-records.js').href)});
const workers = createPipeline([
  stage({ module: records, export: 'summarize' }),
  stage({ module: records, export: 'fingerprint' }),
], { timing: false });
// The workers' own start-up is not the data's memory: measure from here.
await workers.start();
const source = createReadStream(${JSON.stringify(input)});
const figures = { start: process.memoryUsage().rss, peak: 0, warmStart: 0, warmPeak: 0, seconds: 0 };
figures.peak = figures.start;
const sample = () => {
  const rss = process.memoryUsage().rss;
  if (rss > figures.peak) figures.peak = rss;
  if (figures.warmStart === 0 && source.bytesRead > ${inputBytes} / 10) figures.warmStart = figures.warmPeak = rss;
  if (figures.warmStart !== 0 && rss > figures.warmPeak) figures.warmPeak = rss;
};
const timer = setInterval(sample, 20);
const started = performance.now();
await pipeline(source, jsonArray(), workers, toJsonLines(), createWriteStream(${JSON.stringify(output)}));
clearInterval(timer);
sample();
figures.seconds = (performance.now() - started) / 1000;
console.log(JSON.stringify(figures));
`;
}

describe('a ~200 MB JSON array through two worker stages', function () {
  this.timeout(180_000);
  const MB = 1024 * 1024;
  let temp: ReturnType<typeof makeTempDir>;

  before(function () {
    temp = makeTempDir('json-200mb');
  });

  after(function () {
    temp.remove();
  });

  it('becomes a JSON Lines file with every record, in memory far below the file size', async function () {
    const input = join(temp.dir, 'records.json');
    const output = join(temp.dir, 'fingerprints.jsonl');
    await pipeline(Readable.from(arrayText(RECORDS)), createWriteStream(input));
    const inputBytes = statSync(input).size;
    expect(inputBytes).to.be.above(180 * MB);

    // V8's heap sizing is pinned, the same on every line: the young
    // generation at Node 20's 16 MB semi-spaces (Node 24's V8 grew the main
    // thread's new space to 128 MB of garbage room here, 32 MB on 20, while
    // the live heap after a full GC stayed at 9-10 MB on every line), and
    // the old generation of each thread at 64 MB, a third of the file, so a
    // thread that held the records would die of it rather than merely grow.
    // Pinned, peak RSS growth measured 47-57 MB on 20 to 26, 46-58 MB with
    // both cores busy elsewhere.
    const script = writeScript('json-200mb', measuredRun(input, output, inputBytes));
    const result = await runNodeWith(['--max-semi-space-size=16', '--max-old-space-size=64', script], { timeoutMs: 150_000 });
    expect(result.code, result.stderr).to.equal(0);
    const rss = JSON.parse(result.stdout) as { start: number; peak: number; warmStart: number; warmPeak: number; seconds: number };
    const seconds = rss.seconds;

    let id = 0;
    for await (const line of createReadStream(output).pipe(jsonLines())) expectFingerprint(line as Fingerprint, id++);
    expect(id).to.equal(RECORDS);

    const growth = rss.peak - rss.start;
    const growthAfterWarmUp = rss.warmPeak - rss.warmStart;
    console.log(
      `      ${(inputBytes / MB).toFixed(0)} MB, ${RECORDS} records in ${seconds.toFixed(1)} s; ` +
        `peak RSS growth ${(growth / MB).toFixed(0)} MB, after the first 10% ${(growthAfterWarmUp / MB).toFixed(0)} MB`,
    );
    // Held data would grow with the input: the parsed objects alone are
    // larger than their text. What we allow is the fixed cost of three
    // warmed-up V8 heaps (main thread and two workers), then next to nothing.
    expect(growth).to.be.below(inputBytes * 0.75);
    expect(rss.warmStart).to.be.above(0);
    expect(growthAfterWarmUp).to.be.below(inputBytes / 4);
  });
});
