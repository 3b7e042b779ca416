// gulp 5 ships no typings and @types/gulp is not installed: the little of
// its API the example uses.
declare module 'gulp' {
  import type { Duplex, Readable, Transform } from 'node:stream';

  type TaskFunction = () => NodeJS.ReadableStream | NodeJS.WritableStream | Promise<unknown> | void;

  interface Gulp {
    src(globs: string | string[], options?: { cwd?: string; base?: string; buffer?: boolean }): Readable;
    dest(folder: string, options?: { cwd?: string }): Duplex;
    series(...tasks: TaskFunction[]): TaskFunction;
    task(name: string, fn: TaskFunction): void;
  }

  const gulp: Gulp;
  export default gulp;
  export type { TaskFunction, Transform };
}
