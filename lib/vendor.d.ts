// threads.js 1.7 ships typings but its package `exports` map has no `types`
// condition, so TypeScript under `moduleResolution: nodenext` cannot find them
// (TS7016). These declare only the two functions this package uses.

declare module 'threads' {
  /** Waits for the worker's init message and returns a proxy of its exposed methods. */
  export function spawn<T = unknown>(worker: unknown, options?: { timeout?: number }): Promise<T>;
  /** Marks a call argument whose listed transferables are moved, not copied. */
  export function Transfer(payload: unknown, transferables: Array<ArrayBuffer | import('node:worker_threads').MessagePort>): unknown;
}

declare module 'threads/worker' {
  /** Exposes an object of methods to the thread that spawned this worker. */
  export function expose(api: object): void;
}
