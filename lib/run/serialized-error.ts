import type { SerializedError } from './protocol.js';

// threads.js rebuilds errors as plain `Error`s and drops `code` and every other
// own field, so errors that matter cross the thread boundary as data we shape.

/** Flattens any thrown value to clone-safe data. */
export function serializeError(value: unknown): SerializedError {
  if (value instanceof Error) {
    return {
      name: value.name,
      message: value.message,
      stack: value.stack,
      code: cloneSafe((value as { code?: unknown }).code),
    };
  }
  return {
    name: 'Error',
    message: `non-Error value thrown: ${renderThrown(value)}`,
    stack: undefined,
    code: undefined,
    thrown: cloneSafe(value),
  };
}

/** Rebuilds an Error with the original name, message, stack and code. */
export function deserializeError(data: SerializedError): Error {
  const error = new Error(data.message);
  error.name = data.name;
  if (data.stack !== undefined) error.stack = data.stack;
  if (data.code !== undefined) (error as Error & { code: unknown }).code = data.code;
  if ('thrown' in data) (error as Error & { thrown: unknown }).thrown = data.thrown;
  return error;
}

function renderThrown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'symbol') return value.toString();
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  try {
    return JSON.stringify(value) ?? typeof value;
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function cloneSafe(value: unknown): unknown {
  if (value === undefined || value === null) return value;
  const type = typeof value;
  if (type === 'string' || type === 'number' || type === 'boolean' || type === 'bigint') return value;
  try {
    return structuredClone(value);
  } catch {
    return renderThrown(value);
  }
}
