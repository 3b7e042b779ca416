// What a stage runs, as given by the user: a function or a module reference.

import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { checkString } from '../checks.js';
import type { StepSpec } from '../run/protocol.js';

/** A function exported by a module, loaded inside each worker. */
export interface ModuleRef {
  /** A path (relative paths resolve against `process.cwd()`) or a file URL. */
  module: string | URL;
  /** The export to call. @default the default export */
  export?: string;
}

export interface ResolvedTarget {
  step: StepSpec;
  /** Set for function targets: what `thread: false` calls. */
  fn: ((data: unknown, context: unknown) => unknown) | undefined;
  /** For messages: "module file:///…#name" or "function double". */
  description: string;
}

export function resolveTarget(target: unknown, name: string | undefined): ResolvedTarget {
  if (typeof target === 'function') return functionTarget(target as (data: unknown, context: unknown) => unknown, name);
  if (target !== null && typeof target === 'object' && 'module' in target) return moduleTarget(target as ModuleRef, name);
  throw new TypeError(
    `stage() takes a function or { module, export? }, got ${target === null ? 'null' : typeof target}`,
  );
}

function functionTarget(fn: (data: unknown, context: unknown) => unknown, name: string | undefined): ResolvedTarget {
  const source = Function.prototype.toString.call(fn);
  const stageName = name ?? (fn.name || 'anonymous');
  return {
    step: { kind: 'source', source, name: stageName },
    fn,
    description: `function ${stageName}`,
  };
}

function moduleTarget(ref: ModuleRef, name: string | undefined): ResolvedTarget {
  const url = toFileUrl(ref.module);
  const exportName = ref.export === undefined ? undefined : checkString('target.export', ref.export);
  const stageName = name ?? exportName ?? 'default';
  return {
    step: { kind: 'module', url, exportName, name: stageName },
    fn: undefined,
    description: `${exportName === undefined ? 'the default export' : `export "${exportName}"`} of ${url}`,
  };
}

/** A module given as a path (relative to the working directory), an absolute path or a file URL, as a file URL. */
export function toFileUrl(module: unknown): string {
  if (module instanceof URL) {
    if (module.protocol !== 'file:') throw new TypeError(`target.module must be a file URL, got ${module.href}`);
    return module.href;
  }
  const path = checkString('target.module', module);
  if (path.startsWith('file:')) return new URL(path).href;
  return pathToFileURL(isAbsolute(path) ? path : resolve(path)).href;
}
