// Every code block in the README runs as written, as a user would run it: in
// a project of their own that installed the packed package (spec/consumer.ts),
// not in this repository.
//
// What a block's info string may say, after its language:
// - `js file=NAME`: a module the examples use (a worker module), written to
//   the project as NAME before any block runs; it is not run itself.
// - `js needs=PKG[,PKG]`: the block imports other packages too (a user would
//   `npm install` them); they are linked from this repository's node_modules.
// - `js skip=REASON`: the block cannot run on its own; the reason must say why.
// Every other `js` block runs with node in the project folder and must exit 0
// with nothing on standard error.

import { existsSync } from 'node:fs';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { expect } from 'chai';
import { consumerProject, repoRoot, runIn } from './consumer.js';

interface Block {
  lang: string;
  /** `file=work.js` and the like, from the info string. */
  attrs: Record<string, string>;
  code: string;
  line: number;
}

async function readmeBlocks(): Promise<Block[]> {
  const text = await readFile(join(repoRoot, 'README.md'), 'utf8');
  const blocks: Block[] = [];
  const fence = /^```(\w*)([^\n]*)\n([\s\S]*?)^```/gm;
  for (let match = fence.exec(text); match !== null; match = fence.exec(text)) {
    const attrs: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)=("[^"]*"|\S+)/g)) attrs[key!] = value!.replace(/^"|"$/g, '');
    blocks.push({ lang: match[1] ?? '', attrs, code: match[3] ?? '', line: text.slice(0, match.index).split('\n').length });
  }
  return blocks;
}

/** The consumer project with every `file=` block written and every `needs=` package linked. */
async function preparedProject(blocks: Block[]): Promise<string> {
  const { dir } = await consumerProject();
  for (const block of blocks.filter((b) => b.attrs.file !== undefined)) await writeFile(join(dir, block.attrs.file!), block.code);
  for (const name of blocks.flatMap((b) => b.attrs.needs?.split(',') ?? [])) {
    const link = join(dir, 'node_modules', name);
    if (existsSync(link)) continue;
    await mkdir(dirname(link), { recursive: true });
    await symlink(join(repoRoot, 'node_modules', name), link, 'dir');
  }
  return dir;
}

describe('README', function () {
  // The first spec to ask for the consumer project packs and installs it.
  this.timeout(240_000);

  it('has JavaScript blocks, and each runs to completion without error output in a project that installed the package', async () => {
    const blocks = (await readmeBlocks()).filter((b) => b.lang === 'js');
    const runnable = blocks.filter((b) => b.attrs.file === undefined && b.attrs.skip === undefined);
    expect(runnable.length).to.be.greaterThan(5);
    const dir = await preparedProject(blocks);
    for (const block of runnable) {
      const file = `readme-block-${block.line}.mjs`;
      await writeFile(join(dir, file), block.code);
      const { stderr } = await runIn(dir, process.execPath, [file]).catch((error: { stderr: string }) => {
        expect.fail(`README block at line ${block.line} failed:\n${error.stderr}`);
      });
      expect(stderr, `README block at line ${block.line}`).to.equal('');
    }
  });

  it('shows every worker module its examples use, and says why a block that does not run cannot', async () => {
    const blocks = (await readmeBlocks()).filter((b) => b.lang === 'js');
    const files = blocks.map((b) => b.attrs.file).filter((f) => f !== undefined);
    expect(files).to.include('work.js');
    for (const block of blocks) {
      if (block.attrs.skip !== undefined) expect(block.attrs.skip.split(/\s+/).length, `reason of the block at line ${block.line}`).to.be.greaterThan(2);
      // A module named by a path into this repository would not exist in a user's project.
      expect(block.code, `block at line ${block.line}`).to.not.match(/['"`]\.?\/?dist\//);
      for (const [, name] of block.code.matchAll(/new URL\('\.\/([\w.-]+)', import\.meta\.url\)/g)) {
        expect(files, `block at line ${block.line} uses ${name}`).to.include(name);
      }
    }
  });

  it('runs the command-line examples of its shell blocks in that project', async () => {
    const blocks = await readmeBlocks();
    const lines = blocks.filter((b) => b.lang === 'sh')
      .flatMap((b) => b.code.split('\n'))
      .filter((line) => line.includes('npx async-task-pipeline'));
    expect(lines.length).to.be.greaterThan(0);
    const dir = await preparedProject(blocks.filter((b) => b.lang === 'js'));
    for (const line of lines) {
      const { stdout } = await runIn(dir, 'bash', ['-c', `set -o pipefail; ${line}`]);
      expect(stdout.trim(), line).to.not.equal('');
    }
  });

  it('names only commands that exist in its shell blocks', async () => {
    const pkg = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { name: string; scripts: object };
    const scripts = Object.keys(pkg.scripts);
    const blocks = (await readmeBlocks()).filter((b) => b.lang === 'sh');
    expect(blocks.length).to.be.greaterThan(0);
    for (const block of blocks) {
      for (const line of block.code.split('\n').filter((l) => l.trim() !== '' && !l.includes('npx async-task-pipeline'))) {
        const command = line.replace(/#.*/, '');
        for (const step of command.split('&&').map((s) => s.trim())) {
          const [tool, verb, name] = step.split(/\s+/);
          expect(tool, step).to.equal('npm');
          if (verb === 'run') expect(scripts, step).to.include(name);
          else if (verb === 'install') expect(name, step).to.equal(pkg.name);
          else expect(['ci', 'start', 'test'], step).to.include(verb);
        }
      }
    }
  });
});
