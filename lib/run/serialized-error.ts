import type { SerializedError } from './protocol.js';

// threads.js rebuilds errors as plain `Error`s and drops `code` and every other
// own field, so errors that matter cross the thread boundary as data we shape.
//
// Serialising must never throw: it runs inside the worker's catch of a user
// function, and a throw there would fail the whole batch as if the worker
// had died (issue 8, item 9). A user's error may have getters that throw, or
// be a Proxy whose every trap throws; each read is guarded on its own, and
// what cannot be read is described plainly.

/** Flattens any thrown value to clone-safe data. Never throws. */
export function serializeError(value: unknown): SerializedError {
  if (isError(value)) {
    return {
      name: stringOr(read(value, 'name'), 'Error'),
      message: stringOr(read(value, 'message'), '(the error\'s message could not be read)'),
      stack: stringOr(read(value, 'stack'), undefined),
      code: cloneSafe(read(value, 'code')),
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

const UNREADABLE = Symbol('unreadable');

function isError(value: unknown): value is object {
  try {
    return value instanceof Error;
  } catch {
    // A Proxy whose getPrototypeOf trap throws.
    return false;
  }
}

function read(value: object, key: string): unknown {
  try {
    return (value as Record<string, unknown>)[key];
  } catch {
    return UNREADABLE;
  }
}

function stringOr<T>(value: unknown, fallback: T): string | T {
  return typeof value === 'string' ? value : fallback;
}

function renderThrown(value: unknown): string {
  try {
    if (typeof value === 'string') return JSON.stringify(value);
    if (typeof value === 'symbol') return value.toString();
    if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
    return JSON.stringify(value) ?? typeof value;
  } catch {
    return plainDescription(value);
  }
}

// Object.prototype.toString itself reads Symbol.toStringTag, which a hostile
// object can make throw.
function plainDescription(value: unknown): string {
  try {
    return Object.prototype.toString.call(value);
  } catch {
    return `a value of type ${typeof value} that cannot be described`;
  }
}

function cloneSafe(value: unknown): unknown {
  if (value === UNREADABLE) return undefined;
  if (value === undefined || value === null) return value;
  const type = typeof value;
  if (type === 'string' || type === 'number' || type === 'boolean' || type === 'bigint') return value;
  try {
    return structuredClone(value);
  } catch {
    return renderThrown(value);
  }
}
