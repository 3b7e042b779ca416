// Type-level spec: the checks live in spec/typings/ (compiled here against
// the package's own types, and by package.spec.ts against the packed package
// in a strict consumer with TypeScript 6 and 5.9); one it() runs a typed
// stage for real.

import { expect } from 'chai';
import { stage } from 'async-task-pipeline';
import type { Stage } from 'async-task-pipeline';
import { runThrough } from './helpers.js';
import { stageTypeChecks } from './typings/stages.js';

describe('types', () => {
  it('a stage whose type was inferred runs as typed', async () => {
    const doubled: Stage<number, number> = stage((x: number) => x * 2);
    expect(await runThrough(doubled, [1, 2, 3])).to.deep.equal([2, 4, 6]);
    // The checks in spec/typings/ are for the compiler; referencing them keeps them in the build.
    expect(stageTypeChecks).to.be.a('function');
  });
});
