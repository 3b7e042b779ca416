// Option checks in the manner of Node core and p-map: each names the option,
// what it expected and what arrived.

function shown(value: unknown): string {
  if (typeof value === 'string') return `${JSON.stringify(value)} (string)`;
  if (typeof value === 'function') return `a function (function)`;
  if (value === null) return 'null';
  if (typeof value === 'object') return `${Object.prototype.toString.call(value)} (object)`;
  // Only primitives are left here, which String() renders faithfully.
  // eslint-disable-next-line @typescript-eslint/no-base-to-string
  return `${String(value)} (${typeof value})`;
}

function fail(name: string, expected: string, value: unknown): never {
  throw new TypeError(`${name} must be ${expected}, got ${shown(value)}`);
}

export function checkInteger(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    fail(name, `an integer >= ${min}`, value);
  }
  return value;
}

export function checkPositive(name: string, value: unknown): number {
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) fail(name, 'a finite number > 0', value);
  return value;
}

export function checkBoolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') fail(name, 'a boolean', value);
  return value;
}

export function checkString(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) fail(name, 'a non-empty string', value);
  return value;
}

export function checkObject(name: string, value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(name, 'an object', value);
  return value as Record<string, unknown>;
}

/** `alternatives` describes what else the caller accepts, e.g. "a function". */
export function checkOneOf<T extends string>(name: string, value: unknown, allowed: readonly T[], alternatives = ''): T {
  const listed = allowed.map((a) => `'${a}'`).join(', ');
  if (!allowed.includes(value as T)) fail(name, alternatives === '' ? `one of ${listed}` : `${listed}, ${alternatives}`, value);
  return value as T;
}

export function checkAbortSignal(name: string, value: unknown): AbortSignal {
  if (!(value instanceof AbortSignal)) fail(name, 'an AbortSignal', value);
  return value;
}

export function checkCloneable(name: string, value: unknown): unknown {
  try {
    structuredClone(value);
  } catch (error) {
    throw new TypeError(`${name} must be a structured-cloneable value: ${(error as Error).message}`, { cause: error });
  }
  return value;
}

/** Throws on option names this call does not know: a typo must not pass silently. */
export function checkKnownKeys(name: string, value: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new TypeError(`${name}.${key} is not an option; the options are ${known.join(', ')}`);
    }
  }
}
