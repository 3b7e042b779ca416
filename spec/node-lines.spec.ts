// What a consumer project does differently from one Node line to the next
// (issue 15): TypeScript stage modules under Node's type stripping, and the
// package required from CommonJS. Against the packed package, installed.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { consumerProject, runInConsumer } from './consumer.js';

const WORK_TS = `// work.ts: erasable TypeScript only, as type stripping requires.
interface Doc { n: number }
export function double(doc: Doc): number { return doc.n * 2; }
`;

/** A host program in TypeScript that runs the .ts stage module at `module` in a worker. */
const mainTs = (module: string): string => `import { Readable } from 'node:stream';
import { createPipeline, stage, StageError } from 'async-task-pipeline';

const doubled = createPipeline([stage({ module: new URL(${JSON.stringify(module)}, import.meta.url), export: 'double' })]);
try {
  const out: number[] = [];
  for await (const x of Readable.from([{ n: 1 }, { n: 2 }, { n: 3 }]).pipe(doubled)) out.push(x as number);
  console.log(JSON.stringify({ out }));
} catch (error) {
  console.log(JSON.stringify({ code: (error as StageError).code, message: (error as Error).message }));
}
`;

const MAIN_CJS = `const { createPipeline, stage } = require('async-task-pipeline');
const { redisTransport } = require('async-task-pipeline/redis');
const { Readable } = require('node:stream');

(async () => {
  const doubled = createPipeline([stage((x) => x * 2, { name: 'double' })]);
  const out = [];
  for await (const x of Readable.from([1, 2, 3]).pipe(doubled)) out.push(x);
  console.log(JSON.stringify({ out, redisTransport: typeof redisTransport }));
})();
`;

// process.features.typescript is 'strip' (or 'transform') where Node runs .ts
// files by itself: 22.18 and later by default.
const stripsTypes = Boolean((process.features as { typescript?: string | false }).typescript);

describe(`Node ${process.versions.node} in a consumer project`, function () {
  this.timeout(240_000);

  before(async () => {
    await consumerProject();
  });

  it('runs a stage module written in TypeScript, from a host program in TypeScript, under type stripping', async function () {
    if (!stripsTypes) {
      console.log(`      SKIPPED: Node ${process.versions.node} has no type stripping (22.18 and later do); the next spec covers what it does instead`);
      this.skip();
    }
    const { dir } = await consumerProject();
    await writeFile(join(dir, 'work.ts'), WORK_TS);
    await writeFile(join(dir, 'main-ts.ts'), mainTs('./work.ts'));
    const { stdout, stderr } = await runInConsumer('main-ts.ts');
    expect(JSON.parse(stdout)).to.deep.equal({ out: [2, 4, 6] });
    expect(stderr, 'no warning').to.equal('');
  });

  it('fails a TypeScript stage module with LOAD_FAILED that says what to do, where Node cannot strip its types', async () => {
    const { dir } = await consumerProject();
    await writeFile(join(dir, 'work.ts'), WORK_TS);
    await writeFile(join(dir, 'main-js.js'), mainTs('./work.ts').replace(/ as number| as StageError| as Error|: number\[\]/g, ''));
    const { stdout } = await runInConsumer('main-js.js');
    if (stripsTypes) {
      expect(JSON.parse(stdout)).to.deep.equal({ out: [2, 4, 6] });
      // Type stripping stops at node_modules, for everyone's package alike.
      await mkdir(join(dir, 'node_modules/ts-stages'), { recursive: true });
      await writeFile(join(dir, 'node_modules/ts-stages/package.json'), '{ "name": "ts-stages", "type": "module" }\n');
      await writeFile(join(dir, 'node_modules/ts-stages/work.ts'), WORK_TS);
      await writeFile(join(dir, 'main-nm.js'), mainTs('./node_modules/ts-stages/work.ts').replace(/ as number| as StageError| as Error|: number\[\]/g, ''));
      const failed = JSON.parse((await runInConsumer('main-nm.js')).stdout) as { code: string; message: string };
      expect(failed.code).to.equal('LOAD_FAILED');
      expect(failed.message).to.match(/node_modules/);
    } else {
      const failed = JSON.parse(stdout) as { code: string; message: string };
      expect(failed.code).to.equal('LOAD_FAILED');
      expect(failed.message).to.match(/Unknown file extension "\.ts"/);
      expect(failed.message).to.match(/compile the module with tsc, or start node with a TypeScript loader \(node --import tsx\)/);
    }
  });

  it('is required from CommonJS, its /redis subpath too, and runs a pipeline with no warning', async () => {
    const { dir } = await consumerProject();
    await writeFile(join(dir, 'main.cjs'), MAIN_CJS);
    const { stdout, stderr } = await runInConsumer('main.cjs');
    expect(JSON.parse(stdout)).to.deep.equal({ out: [2, 4, 6], redisTransport: 'function' });
    expect(stderr, 'no warning').to.equal('');
  });
});
