// `--stage ./module.js#export:concurrency=N`, taken apart.

import { UsageError } from './usage.js';

/** One `--stage` argument. */
export interface StageSpec {
  /** Module path or file URL, as given. */
  module: string;
  /** Export to call; undefined for the default export. */
  exportName: string | undefined;
  /** Worker threads, when given. */
  concurrency: number | undefined;
  /** Name in reports and errors: the export name, made unique in the pipeline. */
  name: string;
}

// The suffix is matched at the end only, so module paths may hold ':' (C:\…, file:).
const SUFFIX = /:concurrency=([^:#]*)$/;
const EXPORT_NAME = /^[A-Za-z_$][\w$]*$/;

export function parseStageSpec(text: string): Omit<StageSpec, 'name'> {
  let rest = text;
  let concurrency: number | undefined;
  const suffix = SUFFIX.exec(rest);
  if (suffix !== null) {
    concurrency = Number(suffix[1]);
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new UsageError(`--stage ${text}: concurrency must be an integer >= 1, got "${suffix[1]}"`);
    }
    rest = rest.slice(0, suffix.index);
  }
  const hash = rest.lastIndexOf('#');
  const module = hash === -1 ? rest : rest.slice(0, hash);
  const exportName = hash === -1 ? undefined : rest.slice(hash + 1);
  if (module.length === 0) throw new UsageError(`--stage ${text}: no module path before "#"`);
  if (exportName !== undefined && !EXPORT_NAME.test(exportName)) {
    throw new UsageError(`--stage ${text}: "${exportName}" is not an export name`);
  }
  return { module, exportName, concurrency };
}

/** Names each stage after its export, adding -2, -3 … when one appears again (pipeline names must be unique). */
export function nameStages(specs: ReadonlyArray<Omit<StageSpec, 'name'>>): StageSpec[] {
  const seen = new Map<string, number>();
  return specs.map((spec) => {
    const base = spec.exportName ?? 'default';
    const count = (seen.get(base) ?? 0) + 1;
    seen.set(base, count);
    return { ...spec, name: count === 1 ? base : `${base}-${count}` };
  });
}
