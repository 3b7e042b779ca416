// Rebuilding a function from its source text, inside the worker. The main side
// only checks that a function can be sent (see stage-target.ts).

/**
 * Turns `fn.toString()` back into a function, in the worker's global scope so
 * that it sees no variables of ours. Arrow, `function`, `async`, generator and
 * method-shorthand forms all arrive here; the last is not an expression on its
 * own, so it is rebuilt as the single member of an object literal.
 */
export function rebuildFunction(source: string): (...args: unknown[]) => unknown {
  let built: unknown;
  try {
    built = evaluate(`(${source})`);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    const holder = evaluate(`({ ${source} })`) as Record<string, unknown>;
    built = Object.values(holder)[0];
  }
  if (typeof built !== 'function') {
    throw new TypeError(`the source text is not a function: ${source.slice(0, 80)}`);
  }
  return built as (...args: unknown[]) => unknown;
}

function evaluate(expression: string): unknown {
  // Function() rather than eval so that the rebuilt function closes over the
  // global scope only, never over this module.
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function(`return ${expression};`)();
}

/** The variable named by a ReferenceError thrown for an undeclared name. */
export function missingVariable(error: unknown): string | undefined {
  if (!(error instanceof ReferenceError)) return undefined;
  const match = /^(\S+) is not defined$/.exec(error.message);
  return match?.[1];
}
