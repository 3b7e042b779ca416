// A module stage may name a package by bare specifier: it resolves as an
// `import` from a module in process.cwd() would, through node_modules and the
// package's exports map with the `import` condition.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { stage } from 'async-task-pipeline';
import { makeTempDir, runThrough } from './helpers.js';

/** A project folder with one installed package whose import and require entries differ. */
function projectWithPackage(): { dir: string; remove: () => void } {
  const project = makeTempDir('atp-bare');
  const pkg = join(project.dir, 'node_modules', '@acme', 'stages');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({
    name: '@acme/stages',
    type: 'module',
    exports: {
      '.': { import: './esm.js', require: './cjs.cjs' },
      './extra': './extra.js',
    },
  }));
  writeFileSync(join(pkg, 'esm.js'), 'export function tag(x) { return `esm:${x}`; }\n');
  writeFileSync(join(pkg, 'cjs.cjs'), 'exports.tag = (x) => `cjs:${x}`;\n');
  writeFileSync(join(pkg, 'extra.js'), 'export default function shout(x) { return String(x).toUpperCase(); }\n');
  writeFileSync(join(project.dir, 'local.js'), 'export function twice(x) { return x * 2; }\n');
  return project;
}

/** Makes a stage with process.cwd() at `dir`: the module is resolved then. */
function stageIn<T>(dir: string, make: () => T): T {
  const before = process.cwd();
  process.chdir(dir);
  try {
    return make();
  } finally {
    process.chdir(before);
  }
}

describe('module stages named by bare specifier', () => {
  let project: { dir: string; remove: () => void };
  before(() => { project = projectWithPackage(); });
  after(() => project.remove());

  it('loads the package an import from the current directory finds, through its exports with the import condition', async () => {
    const s = stageIn(project.dir, () => stage({ module: '@acme/stages', export: 'tag' }));
    // Run from the repository again: the package was resolved when the stage was made.
    expect(await runThrough(s, ['a', 'b'])).to.deep.equal(['esm:a', 'esm:b']);
  });

  it('loads a subpath the package exports', async () => {
    const s = stageIn(project.dir, () => stage({ module: '@acme/stages/extra' }));
    expect(await runThrough(s, ['a'])).to.deep.equal(['A']);
  });

  it('still takes a specifier that names no package as a path from the current directory', async () => {
    const s = stageIn(project.dir, () => stage({ module: 'local.js', export: 'twice' }));
    expect(await runThrough(s, [1, 2])).to.deep.equal([2, 4]);
  });
});
