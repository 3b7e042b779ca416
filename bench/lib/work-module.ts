// How each runner names a stage function of bench/work.ts.

import type * as work from '../work.js';

/** The name of an export of bench/work.ts. */
export type WorkName = keyof typeof work;

/** The compiled bench/work.js, as our stages and piscina load it. */
export const WORK_MODULE = new URL('../work.js', import.meta.url);
