// Command-line options of the bench: `--quick` (small sizes, one run each, a
// smoke test that must finish within a minute), `--write` (write results even
// in quick mode or with --only) and `--only=1,2,micro` (run some scenarios only).

export interface BenchOptions {
  quick: boolean;
  write: boolean;
  /** Scenario ids to run ('1'…'8', 'server', 'report', 'redis-1', 'redis-2', 'micro'); undefined runs them all. */
  only: Set<string> | undefined;
  /** Warm-up runs before the measured ones, and measured runs (the median is reported). */
  warmups: number;
  runs: number;
}

export function parseOptions(argv: readonly string[]): BenchOptions {
  const quick = argv.includes('--quick');
  const onlyArg = argv.find((arg) => arg.startsWith('--only='));
  const known = ['--quick', '--write'];
  for (const arg of argv) {
    if (!known.includes(arg) && arg !== onlyArg) throw new TypeError(`unknown bench option ${arg}; known: --quick, --write, --only=1,2,micro`);
  }
  return {
    quick,
    // A partial run must not replace the full results the README shows.
    write: (!quick && onlyArg === undefined) || argv.includes('--write'),
    only: onlyArg === undefined ? undefined : new Set(onlyArg.slice('--only='.length).split(',')),
    warmups: 1,
    runs: quick ? 1 : 3,
  };
}

export function selects(options: BenchOptions, id: string): boolean {
  return options.only === undefined || options.only.has(id);
}
