// Type-level checks of typed streams: what a stage, a pipeline and an
// AsyncTaskPipeline give and take carries the items' types, and neighbouring
// stages whose types do not meet are refused. Compiled like stages.ts (see
// there); nothing here runs.

/* eslint-disable @typescript-eslint/no-unused-vars -- the values here exist for their types */

import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AsyncTaskPipeline, createPipeline, stage } from 'async-task-pipeline';
import type { Pipeline, Stage } from 'async-task-pipeline';
import { assertType } from './assert-type.js';
import type { Equal } from './assert-type.js';

/** Iteration, toArray(), read() and write() of stages and pipelines. */
export async function streamTypeChecks(): Promise<void> {
  const lengths = stage((s: string) => s.length);
  for await (const n of lengths) assertType<Equal<typeof n, number>>();
  assertType<Equal<Awaited<ReturnType<typeof lengths.toArray>>, number[]>>();
  const one = lengths.read();
  assertType<Equal<typeof one, number | null>>();
  lengths.write('text');
  lengths.end('last');
  // @ts-expect-error a stage of strings takes no numbers
  lengths.write(1);
  // @ts-expect-error nor as its last item
  lengths.end(1);

  // Piped into from a Readable, the stage's own output type comes out.
  for await (const n of Readable.from(['a', 'bc']).pipe(lengths)) assertType<Equal<typeof n, number>>();

  const pipe = createPipeline([stage((s: string) => s.length), stage((n: number) => (n > 2 ? [n] : null))]);
  for await (const list of pipe) assertType<Equal<typeof list, number[]>>();
  assertType<Equal<Awaited<ReturnType<typeof pipe.toArray>>, number[][]>>();
  pipe.write('text');
  // @ts-expect-error a pipeline of strings takes no numbers
  pipe.write(1);

  // stream.pipeline() takes typed stages and pipelines between streams and
  // functions; a function after one gets its items typed.
  await pipeline(Readable.from(['a']), lengths, new Writable({ objectMode: true }));
  await pipeline(Readable.from(['a']), pipe, async (source) => {
    for await (const list of source) assertType<Equal<typeof list, number[]>>();
  });
  await pipeline(Readable.from(['a']), lengths, async function* (source) {
    for await (const n of source) yield assertType<Equal<typeof n, number>>();
  }, new Writable({ objectMode: true }));
}

/** createPipeline refuses neighbours whose types do not meet. */
export function chainTypeChecks(): void {
  // @ts-expect-error the second stage takes numbers, the first gives strings
  createPipeline([stage((x: number) => String(x)), stage((x: number) => x * 2)]);
  // @ts-expect-error also further down the list
  createPipeline([stage((x: number) => x + 1), stage((x: number) => String(x)), stage((x: number) => x * 2)]);

  // A stage that takes a wider type than it is given is fine.
  const widened = createPipeline([stage((x: number) => x * 2), stage((x: number | string) => String(x))]);
  assertType<Equal<typeof widened, Pipeline<number, string>>>();

  // An untyped module stage gives unknown: the next stage is taken at its word.
  const fromModule = createPipeline([stage({ module: './parse.js' }), stage((x: number) => x * 2)]);
  assertType<Equal<typeof fromModule, Pipeline<unknown, number>>>();

  // A list built at run time: its stages' union of types.
  const list: Array<Stage<number, number>> = [stage((x: number) => x + 1), stage((x: number) => x * 2)];
  const fromList = createPipeline(list);
  assertType<Equal<typeof fromList, Pipeline<number, number>>>();

  // The item types given: neighbours are not checked.
  const given = createPipeline<string, number>([stage({ module: './parse.js' })]);
  assertType<Equal<typeof given, Pipeline<string, number>>>();
}

/** AsyncTaskPipeline carries the types its stages give, through chained addStage() calls. */
export async function asyncTaskPipelineTypeChecks(): Promise<void> {
  const typed = new AsyncTaskPipeline()
    .addStage('parse', (line: string) => line.length)
    .addStage('double', (n) => n * 2)
    .addStage('label', (n: number) => ({ n }));
  assertType<Equal<typeof typed, AsyncTaskPipeline<string, { n: number }>>>();
  for await (const out of typed.generateOutputStream()) assertType<Equal<typeof out, { n: number }>>();
  await typed.processInputData('text');
  await typed.processInputStream(['a', 'b']);
  // @ts-expect-error its input is strings
  await typed.processInputData(1);
  assertType<Equal<ReturnType<typeof typed.stream>, Pipeline<string, { n: number }>>>();

  // @ts-expect-error the second stage takes strings, the first gives numbers
  new AsyncTaskPipeline().addStage('a', (x: number) => x + 1).addStage('b', (s: string) => s.length);

  // Untyped, as the Python original is used: unknown out, anything in.
  const untyped = new AsyncTaskPipeline();
  untyped.addStage('process', (x: number) => x * 2);
  await untyped.processInputData(1);
  for await (const out of untyped.generateOutputStream()) assertType<Equal<typeof out, unknown>>();
}
