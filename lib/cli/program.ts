// What every command of the program shares: its name, its exit codes, and
// its version, read from the package's own package.json when asked.

import { readFileSync } from 'node:fs';

export const PROGRAM = 'async-task-pipeline';

/** The run finished. */
export const EXIT_OK = 0;
/** Something failed at run time: a stage, the input, the output, a file. */
export const EXIT_FAILED = 1;
/** The command line itself is wrong: nothing was run. */
export const EXIT_USAGE = 2;

/**
 * The package's version, read at run time so that it cannot drift from the
 * published package.json. The file is found by walking up from this module:
 * the build output may sit at any depth below the package root.
 */
export function packageVersion(): string {
  let dir = new URL('./', import.meta.url);
  for (;;) {
    const found = readPackage(new URL('package.json', dir));
    if (found?.name === PROGRAM && typeof found.version === 'string') return found.version;
    const parent = new URL('../', dir);
    if (parent.href === dir.href) throw new Error(`cannot find the package.json of ${PROGRAM} above ${import.meta.url}`);
    dir = parent;
  }
}

function readPackage(url: URL): { name?: unknown; version?: unknown } | undefined {
  try {
    return JSON.parse(readFileSync(url, 'utf8')) as { name?: unknown; version?: unknown };
  } catch {
    return undefined;
  }
}

/**
 * A failure at run time that the command describes itself (a file that
 * cannot be opened or written): printed as it is, exit code 1.
 */
export class CliFailure extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CliFailure';
  }
}

/** `what: cannot read it (ENOENT)`, from a failed file operation. */
export function fileFailure(what: string, verb: 'read' | 'write', error: unknown): CliFailure {
  const code = (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
  return new CliFailure(`${what}: cannot ${verb} it (${code})`, { cause: error });
}
