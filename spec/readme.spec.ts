// Every code block in the README runs as written.

import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { expect } from 'chai';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url);

interface Block {
  lang: string;
  code: string;
  line: number;
}

async function readmeBlocks(): Promise<Block[]> {
  const text = await readFile(new URL('README.md', root), 'utf8');
  const blocks: Block[] = [];
  const fence = /^```(\w*)\n([\s\S]*?)^```/gm;
  for (let match = fence.exec(text); match !== null; match = fence.exec(text)) {
    blocks.push({ lang: match[1] ?? '', code: match[2] ?? '', line: text.slice(0, match.index).split('\n').length });
  }
  return blocks;
}

describe('README', function () {
  this.timeout(60_000);

  it('has JavaScript blocks, and each runs to completion without error output', async () => {
    const blocks = (await readmeBlocks()).filter((b) => b.lang === 'js');
    expect(blocks.length).to.be.greaterThan(2);
    for (const block of blocks) {
      // A file at the top of the repository, run from there, as a user who
      // follows the README in a clone would: relative paths resolve alike.
      const file = new URL(`.readme-block-${block.line}-${process.pid}.mjs`, root);
      await writeFile(file, block.code);
      try {
        const { stderr } = await run(process.execPath, [file.pathname], { cwd: root.pathname, timeout: 45_000 });
        expect(stderr, `README block at line ${block.line}`).to.equal('');
      } finally {
        await rm(file, { force: true });
      }
    }
  });

  it('runs the command-line examples of its shell blocks', async () => {
    const lines = (await readmeBlocks()).filter((b) => b.lang === 'sh')
      .flatMap((b) => b.code.split('\n'))
      .filter((line) => line.includes('node bin/'));
    expect(lines.length).to.be.greaterThan(0);
    for (const line of lines) {
      const { stdout } = await run('bash', ['-c', `set -o pipefail; ${line}`], { cwd: root.pathname, timeout: 45_000 });
      expect(stdout.trim(), line).to.not.equal('');
    }
  });

  it('names only commands that exist in its shell blocks', async () => {
    const scripts = Object.keys((JSON.parse(await readFile(new URL('package.json', root), 'utf8')) as { scripts: object }).scripts);
    const blocks = (await readmeBlocks()).filter((b) => b.lang === 'sh');
    expect(blocks.length).to.be.greaterThan(0);
    for (const block of blocks) {
      for (const line of block.code.split('\n').filter((l) => l.trim() !== '' && !l.includes('node bin/'))) {
        const command = line.replace(/#.*/, '');
        for (const step of command.split('&&').map((s) => s.trim())) {
          const [tool, verb, name] = step.split(/\s+/);
          expect(tool, step).to.equal('npm');
          if (verb === 'run') expect(scripts, step).to.include(name);
          else expect(['ci', 'start', 'test'], step).to.include(verb);
        }
      }
    }
  });
});
