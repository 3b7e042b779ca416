// Writes N sample JavaScript files for the gulp example:
//   node dist/examples/gulp/generate.js <folder> [count=200]
// creates <folder>/src/sample-0000.js … (the folder is emptied first).

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sampleSource } from './sample-source.js';

/** Writes `count` sample files into `folder`/src and returns their paths. */
export function generateSamples(folder: string, count: number): string[] {
  const src = join(folder, 'src');
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(src, { recursive: true });
  const paths: string[] = [];
  for (let i = 0; i < count; i++) {
    const path = join(src, `sample-${String(i).padStart(4, '0')}.js`);
    writeFileSync(path, sampleSource(i));
    paths.push(path);
  }
  return paths;
}

function main(argv: string[]): void {
  const [folder, countText = '200'] = argv;
  const count = Number(countText);
  if (folder === undefined || !Number.isInteger(count) || count < 1) {
    process.stderr.write('usage: node dist/examples/gulp/generate.js <folder> [count=200]\n');
    process.exitCode = 2;
    return;
  }
  const written = generateSamples(resolve(folder), count);
  process.stdout.write(`wrote ${written.length} files to ${join(resolve(folder), 'src')}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main(process.argv.slice(2));
