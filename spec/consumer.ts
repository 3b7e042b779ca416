// The package as a user gets it: a copy of the repository's files as a
// fresh clone has them (no dist/), packed with `npm pack` (which builds
// through the `prepare` script), the tarball installed into a temp consumer
// project outside the repository. The package and README specs share it, so
// the pack and the install happen once per spec run.

import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const exec = promisify(execFile);

/** The repository's top folder (specs run from dist/spec). */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface Consumer {
  /** The consumer project's folder: its node_modules holds the installed package. */
  dir: string;
  /** The fresh copy of the repository that was packed. */
  clone: string;
  /** The tarball `npm pack` made. */
  tarball: string;
  /** The paths inside the tarball, as `npm pack --json` lists them. */
  files: string[];
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** A compiled module left in dist/lib by an older build, planted in the clone before it is packed. */
export const STALE = 'dist/lib/stale-module.js';

let made: Promise<Consumer> | undefined;

/** The consumer project, made on first use and removed when the process exits. */
export function consumerProject(): Promise<Consumer> {
  made ??= makeConsumer();
  return made;
}

async function makeConsumer(): Promise<Consumer> {
  const top = mkdtempSync(join(tmpdir(), 'atp-consumer-'));
  process.once('exit', () => rmSync(top, { recursive: true, force: true }));
  const clone = await freshClone(join(top, 'clone'));
  // Scripts run: `prepare` builds dist/lib from lib/, as on a fresh clone.
  const { stdout } = await exec('npm', ['pack', '--json', '--pack-destination', top], { cwd: clone, maxBuffer: 16 << 20 });
  const [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const tarball = join(top, packed!.filename);
  const dir = join(top, 'app');
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2));
  // At the repository's versions: @types/node for the TypeScript checks, and
  // redis, the optional peer that a user of async-task-pipeline/redis installs.
  const versionOf = (name: string): string =>
    (JSON.parse(readFileSync(join(repoRoot, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  const install = ['install', '--no-audit', '--no-fund', tarball, `@types/node@${versionOf('@types/node')}`, `redis@${versionOf('redis')}`];
  try {
    await exec('npm', [...install, '--offline'], { cwd: dir });
  } catch {
    // Not all of it is in the npm cache (a package's metadata, a newer
    // dependency): the registry fills the gaps.
    await exec('npm', [...install, '--prefer-offline'], { cwd: dir });
  }
  return { dir, clone, tarball, files: packed!.files.map((f) => f.path) };
}

/**
 * The files a fresh clone of the working tree would have: tracked and new
 * files, not ignored ones (no dist/), with the repository's node_modules
 * linked in so that `prepare` can build, and one stale compiled module.
 */
async function freshClone(clone: string): Promise<string> {
  const { stdout } = await exec('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: repoRoot, maxBuffer: 16 << 20 });
  for (const file of stdout.split('\0')) {
    // A file deleted in the working tree is still listed as tracked; a
    // node_modules that is a symlink is not matched by the ignore rule `node_modules/`.
    if (file === '' || file === 'node_modules' || !existsSync(join(repoRoot, file))) continue;
    cpSync(join(repoRoot, file), join(clone, file), { recursive: true });
  }
  symlinkSync(join(repoRoot, 'node_modules'), join(clone, 'node_modules'), 'dir');
  // What a working tree that built an older layout holds: the pack must not ship it.
  mkdirSync(join(clone, 'dist/lib'), { recursive: true });
  writeFileSync(join(clone, STALE), 'export {};\n');
  return clone;
}

/** Runs `node file` in the consumer project. */
export async function runInConsumer(file: string, options: { input?: string; args?: string[] } = {}): Promise<RunResult> {
  const { dir } = await consumerProject();
  return runIn(dir, process.execPath, [file, ...(options.args ?? [])], options.input);
}

/** Runs a program in `cwd`, feeding `input` to its standard input; rejects on a non-zero exit. */
export function runIn(cwd: string, program: string, args: string[], input?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(program, args, { cwd, timeout: 60_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error === null) resolve({ stdout, stderr });
      else reject(Object.assign(new Error(`${program} ${args.join(' ')} failed: ${error.message}`, { cause: error }), { stdout, stderr }));
    });
    child.stdin?.end(input ?? '');
  });
}

/** The TypeScript compilers a consumer may use: the repository's 6.x and 5.9. */
export const compilers = {
  'TypeScript 6': join(repoRoot, 'node_modules/typescript/bin/tsc'),
  'TypeScript 5.9': join(repoRoot, 'node_modules/typescript-5.9/bin/tsc'),
} as const;

/**
 * A strict consumer's tsconfig: `skipLibCheck: false`, so the package's own
 * .d.ts files are checked, with the strictest flags a user may turn on.
 */
export function strictTsconfig(include: string[]): string {
  return JSON.stringify({
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      types: ['node'],
      strict: true,
      skipLibCheck: false,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      noEmit: true,
    },
    include,
  }, null, 2);
}
