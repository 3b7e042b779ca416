// What a stage runs, as given by the user: a function or a module reference.

import { createRequire } from 'node:module';
import { isAbsolute, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { checkString } from '../checks.js';
import type { StepSpec } from '../run/protocol.js';

/** A function exported by a module, loaded inside each worker. */
export interface ModuleRef {
  /**
   * The module: a file URL (`new URL('./work.js', import.meta.url)`, the
   * recommended form), a path (`./work.js`, relative to `process.cwd()`, or
   * absolute), or a package by bare specifier (`my-stages`,
   * `@scope/pkg/sub`), resolved as an `import` in a module of
   * `process.cwd()` would resolve it: through `node_modules` and the
   * package's `exports` with the `import` condition.
   */
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

/**
 * A module reference's `module` as a file URL: a URL as given, a path against
 * `process.cwd()`, a bare specifier as an `import` from there would resolve it.
 */
export function toFileUrl(module: unknown): string {
  if (module instanceof URL) {
    if (module.protocol !== 'file:') throw new TypeError(`target.module must be a file URL, got ${module.href}`);
    return module.href;
  }
  const path = checkString('target.module', module);
  if (path.startsWith('file:')) return new URL(path).href;
  if (isAbsolute(path) || /^\.\.?([/\\]|$)/.test(path)) return pathToFileURL(resolve(path)).href;
  return packageOrPath(path);
}

// "The current directory" is process.cwd() when the stage is made: the
// specifier resolves as from a module file in it. A specifier that names no
// package there is taken as a path (`dist/work.js`), as before bare
// specifiers were read, so that such a path still loads, or fails to load
// with LOAD_FAILED naming the file.
function packageOrPath(specifier: string): string {
  try {
    const url = importResolver()(specifier, pathToFileURL(process.cwd() + sep).href);
    if (url.startsWith('file:')) return url;
  } catch {
    // Not a package that resolves from here.
  }
  return pathToFileURL(resolve(specifier)).href;
}

type ResolveImport = (specifier: string, parent: string) => string;
let resolveImport: ResolveImport | undefined;

// import-meta-resolve costs about 14 ms to load, a third of the package's
// import, and only bare specifiers need it: it is loaded on first use. Stage
// construction is synchronous, so it is required rather than imported (an
// ES module without top-level await, which require() loads on Node >= 20.19,
// the package's engines floor).
function importResolver(): ResolveImport {
  resolveImport ??= (createRequire(import.meta.url)('import-meta-resolve') as { resolve: ResolveImport }).resolve;
  return resolveImport;
}
