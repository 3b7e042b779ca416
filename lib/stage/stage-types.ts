// The types a stage's function gives its Stage: what it takes, what it makes
// downstream. Kept apart from the class so that pipeline typing reads them
// without the stream machinery.

import type { Stage } from './stage.js';

/** A stage function: called with the item's data and `options.context`. */
export type StageFunction<In = any, R = unknown> = (data: In, context: any) => R;

/**
 * The stage a module reference makes: typed by the function it runs,
 * `stage<typeof import('./score.js').score>({ module: './score.js', export: 'score' })`,
 * or by its item types, `stage<In, Out>({ module })`. (Items are never
 * functions, which cannot cross threads, so the two cannot be confused.)
 */
export type ModuleStage<A, Out> = [A] extends [(...args: any[]) => any]
  ? Stage<Parameters<A>[0], StageOutput<ReturnType<A>>>
  : Stage<A, Out>;

/** What a stage function's return type makes downstream: promises awaited, generators fanned out, null dropped. */
export type StageOutput<R> =
  Awaited<R> extends infer A
    ? A extends Generator<infer Y, any, any> | AsyncGenerator<infer Y, any, any>
      ? Y
      : Exclude<A, null | undefined | void>
    : never;
