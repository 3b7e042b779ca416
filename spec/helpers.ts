// Shared helpers of the spec suite: running streams, fixtures, gates pinned
// with Atomics, a seeded random source and child node processes.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import { expect } from 'chai';

/** The file URL of a compiled fixture: `fixture('double.js')`. */
export function fixture(file: string): URL {
  return new URL(`./fixtures/${file}`, import.meta.url);
}

/** The file system path of a compiled fixture. */
export function fixturePath(file: string): string {
  return fileURLToPath(fixture(file));
}

// V8 gives every new context a `gc` once the flag is set, even at run time:
// specs that check what is collectable need no node flag of their own.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Runs a full garbage collection, after letting the current job end (WeakRefs made in it hold until then). */
export async function collectGarbage(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  gc();
}

/** A Writable that keeps every chunk it receives, in order. */
export class Collector extends Writable {
  readonly chunks: unknown[] = [];

  constructor() {
    super({ objectMode: true });
  }

  override _write(chunk: unknown, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.chunks.push(chunk);
    callback();
  }
}

/** Runs `inputs` through a Transform (or Duplex) with stream.pipeline and returns what came out. */
export async function runThrough(transform: Duplex, inputs: Iterable<unknown> | AsyncIterable<unknown>): Promise<unknown[]> {
  const sink = new Collector();
  await pipeline(Readable.from(inputs), transform, sink);
  return sink.chunks;
}

/** Awaits a promise that must reject and returns its reason. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  expect.fail('expected the promise to reject, but it resolved');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` until true; throws after `timeoutMs` with `what` in the message. */
export async function waitUntil(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(2);
  }
}

/**
 * A gate shared with the `gated` fixture: cell 0 is the gate (0 closed, 1
 * open), cell 1 counts calls that reached it.
 */
export class Gate {
  readonly buffer = new SharedArrayBuffer(8);
  private readonly cells = new Int32Array(this.buffer);

  /** Calls of the fixture that have reached the gate so far. */
  get entered(): number {
    return Atomics.load(this.cells, 1);
  }

  open(): void {
    Atomics.store(this.cells, 0, 1);
    Atomics.notify(this.cells, 0);
  }

  /** Resolves once `count` calls have reached the gate. */
  whenEntered(count: number): Promise<void> {
    return waitUntil(() => this.entered >= count, `${count} calls reached the gate`);
  }
}

/** A reproducible pseudo-random source (a 32-bit LCG, Numerical Recipes constants). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Numbers 0 .. count-1. */
export function range(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i);
}

/** A fresh directory under the OS temp dir, removed by the returned function. */
export function makeTempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

// Where child scripts live: inside the repository, so that
// `import 'async-task-pipeline'` resolves to the built package by
// self-reference. One directory per process, as other runs may share dist/.
const SCRIPT_ROOT = fileURLToPath(new URL('../spec-tmp/', import.meta.url));
let scriptDir: string | undefined;

/** Writes an ESM script for a child process and returns its path. */
export function writeScript(name: string, source: string): string {
  if (scriptDir === undefined) {
    mkdirSync(SCRIPT_ROOT, { recursive: true });
    scriptDir = mkdtempSync(join(SCRIPT_ROOT, `${process.pid}-`));
  }
  const path = join(scriptDir, `${name}.mjs`);
  writeFileSync(path, source);
  return path;
}

/** Removes every script written by writeScript() in this process. */
export function removeScripts(): void {
  if (scriptDir !== undefined) rmSync(scriptDir, { recursive: true, force: true });
  scriptDir = undefined;
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when the child had to be killed because it did not exit by itself. */
  timedOut: boolean;
}

/** Runs `node script`; kills it after `timeoutMs` and says so, rather than hanging the suite. */
export function runNode(script: string, timeoutMs = 15_000): Promise<ChildResult> {
  return runNodeWith([script], { timeoutMs });
}

/** Runs `node ...args` with `stdin` as its input, in `cwd`, `env` added to this process's; killed after `timeoutMs`, as runNode. */
export function runNodeWith(
  args: string[],
  options: { stdin?: string; cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<ChildResult> {
  const { stdin, cwd, timeoutMs = 15_000, env } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, env: env === undefined ? undefined : { ...process.env, ...env }, stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    if (stdin !== undefined) child.stdin!.end(stdin);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout!.setEncoding('utf8').on('data', (text: string) => { stdout += text; });
    child.stderr!.setEncoding('utf8').on('data', (text: string) => { stderr += text; });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

/** The command's entry file, as npm links it. */
export const CLI_BIN = fileURLToPath(new URL('../../bin/async-task-pipeline.js', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `async-task-pipeline` binary with `args`, feeding `stdin` to it; kills it after 30 s. */
export function runCliBinary(args: string[], stdin = ''): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], { cwd: fileURLToPath(new URL('../../', import.meta.url)), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => { stdout += text; });
    child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr += text; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => undefined); // the child may exit before reading it all
    child.stdin.end(stdin);
  });
}

/**
 * In a `before` hook, for a tool a suite needs and does not have: fails when
 * the environment variable `requiredBy` is set (as in CI), else skips the
 * suite with a banner that cannot be missed. `lines` say what is skipped and why.
 */
export function skipLoudlyUnlessRequired(context: Mocha.Context, requiredBy: string, failure: string, lines: readonly string[]): never {
  const value = process.env[requiredBy];
  if (value !== undefined && value !== '') throw new Error(failure);
  const rule = `  ${'#'.repeat(64)}`;
  console.error(['', rule, ...lines.map((line) => `  ##  ${line.padEnd(60)}##`), rule, ''].join('\n'));
  return context.skip();
}
