// The command line's usage text, and the error that prints it (exit code 2).

export const USAGE = `Usage: async-task-pipeline --stage ./module.js#export[:concurrency=N] [--stage …] [options]

Reads items, runs them through the stages in order (each in worker threads),
and writes the results as JSON Lines.

Options:
  --stage SPEC          A stage: a module path (relative to the working directory)
                        or file URL, then #exportName (default: the default export),
                        then optionally :concurrency=N worker threads. Repeatable;
                        stages run in the order given. At least one is required.
  --input FILE|-        Where items come from (default: - , standard input).
  --format FORMAT       How the input is read (default: jsonl):
                          jsonl  one JSON value per line
                          json   one top-level JSON array, one item per element
                          lines  one string item per line of text
  --output FILE|-       Where results go, as JSON Lines (default: - , standard output).
  --report              Print a per-stage table (counts, p50/p95/p99 latency and a
                        latency histogram) to standard error at the end.
  --report-json FILE    Write the same report as JSON to FILE.
  --quiet               No progress line (it shows only when standard error is a terminal).
  --help                Print this text.

Exit codes: 0 done, 1 a stage or the input failed, 2 bad usage.

Example:
  async-task-pipeline --stage ./parse.js#parse --stage ./score.js#score:concurrency=4 \\
    --input events.jsonl --output scored.jsonl --report
`;

/** A command line that cannot run: the process prints the message and the usage, and exits with 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
