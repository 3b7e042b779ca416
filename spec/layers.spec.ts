// The layering ARCHITECTURE.md draws, checked against the sources: every
// relative import in lib/ goes down (or sideways within a folder), the worker
// entry is never imported by the main side, and threads.js is reached only
// through the two files that contain it.

import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const LIB = fileURLToPath(new URL('../../lib/', import.meta.url));

/** What each folder may import besides itself ('.' is lib/'s own top-level files). */
const ALLOWED: Record<string, readonly string[]> = {
  '.': [],
  timing: ['.'],
  run: ['.', 'timing'],
  stage: ['.', 'timing', 'run'],
  pipeline: ['.', 'timing', 'run', 'stage'],
  json: ['.'],
  gulp: ['.', 'timing', 'run', 'stage'],
  cli: ['.', 'timing', 'run', 'stage', 'pipeline', 'json'],
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

function folderOf(file: string): string {
  const rel = relative(LIB, file);
  return rel.includes('/') ? rel.slice(0, rel.indexOf('/')) : '.';
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const match of text.matchAll(/(?:from\s+|import\s*\(\s*)'([^']+)'/g)) found.push(match[1]!);
  return found;
}

describe('the layout of lib/', () => {
  const files = sources(LIB).filter((file) => relative(LIB, file) !== 'index.ts');

  it('puts every source file in a known layer folder', () => {
    const unknown = files.map(folderOf).filter((folder) => !(folder in ALLOWED));
    expect(unknown).to.deep.equal([]);
  });

  it('has no relative import that reaches up a layer', () => {
    const upward: string[] = [];
    for (const file of files) {
      const from = folderOf(file);
      for (const spec of importsOf(file).filter((s) => s.startsWith('.'))) {
        const to = folderOf(resolve(dirname(file), spec));
        if (to !== from && !ALLOWED[from]!.includes(to)) upward.push(`${relative(LIB, file)} -> ${spec}`);
      }
    }
    expect(upward).to.deep.equal([]);
  });

  it('never imports a worker entry from the main side', () => {
    const entries = ['run/worker.ts', 'run/worker-runtime.ts', 'gulp/file-worker.ts'];
    const workerSide = new Set(['run/worker.ts', 'run/worker-runtime.ts', 'gulp/file-worker.ts']);
    const offenders: string[] = [];
    for (const file of files) {
      if (workerSide.has(relative(LIB, file))) continue;
      for (const spec of importsOf(file).filter((s) => s.startsWith('.'))) {
        const target = relative(LIB, resolve(dirname(file), spec)).replace(/\.js$/, '.ts');
        if (entries.includes(target)) offenders.push(`${relative(LIB, file)} -> ${spec}`);
      }
    }
    expect(offenders).to.deep.equal([]);
  });

  it('reaches threads.js only through worker-thread.ts and the worker entry', () => {
    const users = files
      .filter((file) => importsOf(file).some((spec) => spec === 'threads' || spec.startsWith('threads/')))
      .map((file) => relative(LIB, file))
      .sort();
    expect(users).to.deep.equal(['run/worker-thread.ts', 'run/worker.ts']);
  });

  it('reaches @opentelemetry/api only through stage-metrics.ts, and at run time only by a dynamic import', () => {
    const users = files.filter((file) => importsOf(file).some((spec) => spec.startsWith('@opentelemetry/')));
    expect(users.map((file) => relative(LIB, file))).to.deep.equal(['stage/stage-metrics.ts']);
    const staticImports = readFileSync(users[0]!, 'utf8').match(/^import (?!type )[^;]*'@opentelemetry\/[^']*';/gm);
    expect(staticImports).to.equal(null);
  });

  it('reaches the redis client only through run/redis/connection.ts, loaded by the subpath and the worker command alone', () => {
    const users = files.filter((file) => importsOf(file).some((spec) => spec === 'redis' || spec.startsWith('@redis/')));
    expect(users.map((file) => relative(LIB, file))).to.deep.equal(['run/redis/connection.ts']);
    const intoRedis = files
      .filter((file) => !relative(LIB, file).startsWith('run/redis/'))
      .filter((file) => importsOf(file).some((spec) => spec.startsWith('.') && relative(LIB, resolve(dirname(file), spec)).startsWith('run/redis/')))
      .map((file) => relative(LIB, file));
    expect(intoRedis).to.deep.equal(['cli/worker.ts']);
  });
});
