// The two tools of the type-level checks.

/** True when A and B are the same type (not merely assignable either way). */
export type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;

/** Compiles only when its argument type is `true`. */
export function assertType<T extends true>(): T | undefined {
  return undefined;
}
