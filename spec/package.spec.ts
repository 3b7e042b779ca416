// The package as npm ships it: packed (which builds it), installed into a
// consumer project outside the repository, run there and compiled there by a
// strict TypeScript consumer with both supported compiler majors.

import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { STALE, compilers, consumerProject, repoRoot, runIn, runInConsumer, strictTsconfig } from './consumer.js';

const WORK = `// work.js: the consumer's own worker module.
export function double(x) { return x * 2; }
`;

const MAIN = `import { Readable } from 'node:stream';
import { createPipeline, stage } from 'async-task-pipeline';

const work = new URL('./work.js', import.meta.url);
const doubled = createPipeline([stage({ module: work, export: 'double' }, { concurrency: 2 })]);
const out = [];
for await (const x of Readable.from([1, 2, 3]).pipe(doubled)) out.push(x);
console.log(JSON.stringify({ out, processed: doubled.getLatencySummary().stageStatistics.double.processedCount }));
`;

describe('package', function () {
  // The first spec to ask packs and installs: a build and an npm install.
  this.timeout(240_000);

  before(async () => {
    await consumerProject();
  });

  it('packs the compiled library, its types, README, LICENSE and CHANGELOG, and no specs, sources or examples', async () => {
    const { files } = await consumerProject();
    expect(files).to.include.members([
      'package.json', 'README.md', 'LICENSE', 'CHANGELOG.md',
      'bin/async-task-pipeline.js', 'dist/lib/index.js', 'dist/lib/index.d.ts',
    ]);
    expect(files.filter((f) => !/^(dist\/lib\/|bin\/)/.test(f) && !['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md'].includes(f))).to.deep.equal([]);
  });

  it('packs no compiled module left in dist/lib by an older build', async () => {
    const { clone, files } = await consumerProject();
    expect(existsSync(join(clone, STALE)), 'the planted module is gone after the pack').to.equal(false);
    expect(files).to.not.include(STALE);
    // The bundle's shared chunks (npm run bundle) have no source of their own.
    const orphans = files.filter((f) => f.startsWith('dist/lib/') && f.endsWith('.js') && !/^dist\/lib\/shared-\w+\.js$/.test(f))
      .filter((f) => !existsSync(join(clone, f.replace(/^dist\//, '').replace(/\.js$/, '.ts'))));
    expect(orphans).to.deep.equal([]);
  });

  it('ships its entries as bundles that load shared chunks, not the module tree (import time)', async () => {
    const { dir } = await consumerProject();
    for (const entry of ['dist/lib/index.js', 'dist/lib/run/redis/index.js', 'dist/lib/run/worker.js', 'dist/lib/cli/main.js']) {
      const code = await readFile(join(dir, 'node_modules/async-task-pipeline', entry), 'utf8');
      const ours = [...code.matchAll(/(?:from|import)\s*\(?\s*"(\.[^"]+)"/g)].map((m) => m[1]!);
      expect(ours.length, `${entry} imports chunks`).to.be.greaterThan(0);
      expect(ours.filter((s) => !/^(\.\.?\/)+shared-\w+\.js$/.test(s)), entry).to.deep.equal([]);
    }
  });

  it('ships source maps that carry their sources, since lib/*.ts is not in the package', async () => {
    const { dir, files } = await consumerProject();
    const maps = files.filter((f) => f.endsWith('.map'));
    expect(maps.length).to.be.greaterThan(10);
    for (const map of maps) {
      const parsed = JSON.parse(await readFile(join(dir, 'node_modules/async-task-pipeline', map), 'utf8')) as { sources: string[]; sourcesContent?: Array<string | null> };
      expect(parsed.sourcesContent?.length, map).to.equal(parsed.sources.length);
      expect(parsed.sourcesContent!.every((s) => typeof s === 'string' && s.length > 0), map).to.equal(true);
    }
  });

  it('runs a worker stage from a module of the consumer project', async () => {
    const { dir } = await consumerProject();
    await writeFile(join(dir, 'work.js'), WORK);
    await writeFile(join(dir, 'main.js'), MAIN);
    const { stdout } = await runInConsumer('main.js');
    expect(JSON.parse(stdout)).to.deep.equal({ out: [2, 4, 6], processed: 3 });
  });

  it('installs the command line, which runs a stage of the consumer project', async () => {
    const { dir } = await consumerProject();
    await writeFile(join(dir, 'work.js'), WORK);
    const { stdout } = await runIn(dir, join(dir, 'node_modules/.bin/async-task-pipeline'), ['--stage', './work.js#double', '--quiet'], '1\n2\n');
    expect(stdout.trim().split('\n')).to.deep.equal(['2', '4']);
  });

  for (const [compiler, tsc] of Object.entries(compilers)) {
    it(`compiles the type-level checks against the packed types with ${compiler}, strict and with skipLibCheck off`, async () => {
      const { dir } = await consumerProject();
      const typings = join(dir, 'typings');
      await mkdir(typings, { recursive: true });
      const sources = join(repoRoot, 'spec/typings');
      for (const file of await readdir(sources)) await copyFile(join(sources, file), join(typings, file));
      await writeFile(join(dir, 'tsconfig.json'), strictTsconfig(['typings']));
      const result = await runIn(dir, process.execPath, [tsc, '-p', 'tsconfig.json']).catch((error: { stdout: string }) => error);
      expect(result.stdout, `${compiler} reported errors`).to.equal('');
    });
  }
});
