// Options shared by the JSON stream helpers (jsonArray, jsonLines,
// toJsonLines): each is checked on entry and a bad one names itself.

import { checkInteger, checkKnownKeys, checkObject } from '../checks.js';

/** The object side's queue bound when none is given, as for `stage()`. */
export const DEFAULT_ITEM_HIGH_WATER_MARK = 64;

/** Checks the option names and `highWaterMark`; returns the options as a record for further checks. */
export function resolveJsonStreamOptions(
  options: unknown,
  known: readonly string[],
): { given: Record<string, unknown>; highWaterMark: number } {
  const given = options === undefined ? {} : checkObject('options', options);
  checkKnownKeys('options', given, known);
  const highWaterMark =
    given.highWaterMark === undefined
      ? DEFAULT_ITEM_HIGH_WATER_MARK
      : checkInteger('options.highWaterMark', given.highWaterMark, 1);
  return { given, highWaterMark };
}

/** A string option that must be one of a few words (no function form, unlike `onError`). */
export function checkChoice<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    const got = typeof value === 'string' ? `${JSON.stringify(value)} (string)` : `${String(value)} (${typeof value})`;
    throw new TypeError(`${name} must be ${allowed.map((a) => `'${a}'`).join(' or ')}, got ${got}`);
  }
  return value as T;
}
