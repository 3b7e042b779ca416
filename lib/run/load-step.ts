// Finds the function of a step: rebuilt from source text, or imported from a
// module. Runs in a worker, or on the main thread for `thread: false`.

import type { StageFn } from './batch-runner.js';
import { rebuildFunction } from './function-source.js';
import type { StepSpec } from './protocol.js';

export async function loadStep(step: StepSpec): Promise<StageFn> {
  if (step.kind === 'source') return rebuildFunction(step.source);
  const namespace = (await import(step.url)) as Record<string, unknown>;
  const found = pickExport(namespace, step.exportName);
  if (typeof found !== 'function') {
    const wanted = step.exportName === undefined ? 'default export' : `export "${step.exportName}"`;
    const have = Object.keys(namespace).join(', ') || 'none';
    throw new TypeError(`${step.url} has no ${wanted} that is a function (its exports: ${have})`);
  }
  return found as StageFn;
}

// A CommonJS module arrives as `default` = module.exports; its named exports
// are found there when Node's static analysis of the module missed them.
function pickExport(namespace: Record<string, unknown>, name: string | undefined): unknown {
  if (name === undefined) return namespace.default;
  if (name in namespace) return namespace[name];
  const cjs = namespace.default;
  return cjs !== null && typeof cjs === 'object' ? (cjs as Record<string, unknown>)[name] : undefined;
}
