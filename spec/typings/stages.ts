// Type-level checks of stage(), createPipeline() and gulpStage(), compiled
// twice: in the repository build (against the package's own types) and, by
// spec/package.spec.ts, in a strict consumer project against the packed
// package with TypeScript 6 and 5.9. Each `assertType` line fails the build
// when an inferred type changes; each `@ts-expect-error` line fails it when a
// mistake stops being a type error. Nothing here runs: no workers start.
// Imports only what a user has: the package and the types it depends on.

import { createPipeline, gulpStage, stage } from 'async-task-pipeline';
import type { GulpStage, Pipeline, Stage, StageError, StageOutput } from 'async-task-pipeline';
import type Vinyl from 'vinyl';
import { assertType } from './assert-type.js';
import type { Equal } from './assert-type.js';

/** Inference and refusals of stage(), createPipeline() and gulpStage(). */
export function stageTypeChecks(): void {
  // A typed function's output type is inferred.
  const doubled = stage((x: number) => x * 2);
  assertType<Equal<typeof doubled, Stage<number, number>>>();

  // Promises are awaited.
  const lengths = stage(async (s: string) => (await Promise.resolve(s)).length);
  assertType<Equal<typeof lengths, Stage<string, number>>>();

  // Generators fan out: the stage gives what they yield.
  const words = stage(function* (line: string) {
    for (const word of line.split(' ')) yield word;
  });
  assertType<Equal<typeof words, Stage<string, string>>>();
  const slowWords = stage(async function* (line: string) {
    yield await Promise.resolve(line.length);
  });
  assertType<Equal<typeof slowWords, Stage<string, number>>>();

  // null and undefined drop an item, so they are not part of the output.
  const positives = stage((n: number) => (n > 0 ? n : null));
  assertType<Equal<typeof positives, Stage<number, number>>>();
  const named = stage(async (n: number) => ((await Promise.resolve(n)) > 0 ? { n } : undefined));
  assertType<Equal<typeof named, Stage<number, { n: number }>>>();

  // StageOutput on its own.
  assertType<Equal<StageOutput<Promise<string | null>>, string>>();
  assertType<Equal<StageOutput<Generator<number, void, unknown>>, number>>();

  // A module reference carries the types it is given, and unknown without.
  const fromModule = stage<{ id: number }, string>({ module: './score.js', export: 'score' });
  assertType<Equal<typeof fromModule, Stage<{ id: number }, string>>>();
  const untyped = stage({ module: './score.js' });
  assertType<Equal<typeof untyped, Stage<unknown, unknown>>>();

  // A module stage typed by the function it runs.
  type Scorer = (item: { id: number }) => Promise<string | null>;
  const typedModule = stage<Scorer>({ module: './score.js', export: 'score' });
  assertType<Equal<typeof typedModule, Stage<{ id: number }, string>>>();

  // createPipeline carries the types it is given.
  const pipe = createPipeline<number, number>([doubled, positives]);
  assertType<Equal<typeof pipe, Pipeline<number, number>>>();

  // createPipeline infers: the first stage's input in, the last stage's output out.
  const inferred = createPipeline([stage((s: string) => s.length), stage((n: number) => n > 2 ? [n] : null)]);
  assertType<Equal<typeof inferred, Pipeline<string, number[]>>>();

  // gulpStage is a Stage of Vinyl files.
  const minify = gulpStage({ module: './minify.js', export: 'minify' }, { concurrency: 2 });
  assertType<Equal<typeof minify, GulpStage>>();
  const asStage: Stage<Vinyl, Vinyl> = minify;

  // An onError handler gets a StageError and the item's data.
  stage((n: number) => n, { onError: (error: StageError, data: unknown) => void [error.code, data] });

  // Mistakes.
  // @ts-expect-error a stage of numbers to numbers is not a stage of numbers to strings
  const wrongOutput: Stage<number, string> = stage((x: number) => x * 2);
  // @ts-expect-error nor a stage of strings
  const wrongInput: Stage<string, number> = stage((x: number) => x * 2);
  // @ts-expect-error concurrency is a number
  stage((x: number) => x, { concurrency: '2' });
  // @ts-expect-error an option that does not exist (a typo)
  stage((x: number) => x, { concurency: 2 });
  // @ts-expect-error onError takes 'fail', 'skip', 'emit' or a function
  stage((x: number) => x, { onError: 'ignore' });
  // @ts-expect-error a module reference needs its module
  stage({ export: 'score' });
  // @ts-expect-error createPipeline takes stages, not functions
  createPipeline([(x: number) => x]);
  // @ts-expect-error timing is a boolean
  createPipeline([doubled], { timing: 'yes' });
  // @ts-expect-error gulpStage takes a module reference, not a function
  gulpStage((file: unknown) => file);
  // @ts-expect-error a gulp error handler gets Vinyl files, not numbers
  gulpStage({ module: './minify.js' }, { onError: (_error, file: number) => file });
  // @ts-expect-error gulpStage has no 'emit' policy: a StageError is not a Vinyl file
  gulpStage({ module: './minify.js' }, { onError: 'emit' });

  void [lengths, words, slowWords, named, fromModule, untyped, typedModule, pipe, inferred, wrongOutput, wrongInput, asStage];
}
