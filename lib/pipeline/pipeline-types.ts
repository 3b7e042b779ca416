// The types createPipeline reads from its stages: what goes in, what comes
// out, and whether neighbours meet. Kept apart from the Duplex, as
// stage/stage-types.ts is kept apart from the Stage.

import type { Stage } from '../stage/stage.js';

/** The item type a stage takes. */
export type StageInput<S> = S extends Stage<infer In, any> ? In : never;

/** The item type a stage gives. */
export type StageOutputOf<S> = S extends Stage<any, infer Out> ? Out : never;

/** The first stage's input: of a list built at run time, its stages' inputs. */
export type PipelineInput<S extends readonly unknown[]> = S extends readonly [infer F, ...unknown[]] ? StageInput<F> : StageInput<S[number]>;

/** The last stage's output: of a list built at run time, its stages' outputs. */
export type PipelineOutput<S extends readonly unknown[]> = S extends readonly [...unknown[], infer L] ? StageOutputOf<L> : StageOutputOf<S[number]>;

/**
 * The stages as given when each one takes what the one before gives; where
 * one does not, that stage's place asks for a stage that would, so the
 * compiler names the mismatch there. A stage that gives `unknown` (an untyped
 * module stage) is taken at its word: the next stage's input type stands.
 */
export type CheckedStages<S extends readonly unknown[]> = S extends readonly [infer A, infer B, ...infer Rest]
  ? unknown extends StageOutputOf<A>
    ? readonly [A, ...CheckedStages<readonly [B, ...Rest]>]
    : [StageOutputOf<A>] extends [StageInput<B>]
      ? readonly [A, ...CheckedStages<readonly [B, ...Rest]>]
      : readonly [A, Stage<StageOutputOf<A>, any>, ...Rest]
  : S;
