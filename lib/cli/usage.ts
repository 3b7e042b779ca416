// The command line's usage text, and the error for a command line that
// cannot run (exit code 2, one line and a pointer to --help).

import { PROGRAM } from './program.js';

export const USAGE = `Usage: ${PROGRAM} -s MODULE#EXPORT[:concurrency=N] [-s …] [options]
       ${PROGRAM} worker --redis URL --stage MODULE#EXPORT …  (serves stages for other
                 processes through Redis; see '${PROGRAM} worker --help')
       ${PROGRAM} --help | --version

Reads items, runs them through the stages in order (each in worker threads),
and writes the results as JSON Lines.

Stages:
  -s, --stage SPEC        A stage: a module path (relative to the working directory)
                          or file URL, then #exportName (default: the default export),
                          then optionally :concurrency=N worker threads. Repeatable;
                          stages run in the order given. At least one is required.

Input and output:
  -i, --input FILE|-      Where items come from (default: - , standard input).
  -f, --format FORMAT     How the input is read (default: jsonl):
                            jsonl  one JSON value per line
                            json   one top-level JSON array, one item per element
                            lines  one string item per line of text
  -o, --output FILE|-     Where results go, as JSON Lines (default: - , standard output).

Failures (for every stage):
      --on-error POLICY   What a failed item does (default: fail):
                            fail  stop the run, exit 1, naming the stage and item
                            skip  drop the item; the run goes on
                            emit  write {"error": {...}} in the item's place
      --dead-letter FILE  Write each failed item to FILE as a JSON line
                          {"error": {...}, "item": ...} and go on (instead of --on-error).
      --timeout MS        Milliseconds one item may run before it fails with TIMEOUT
                          (items then cross to the workers one at a time).
      --retries N         Times an item that killed its worker is run again before it
                          fails with WORKER_DIED (default: 1).
      --unordered         Write results as they complete rather than in input order.

Reports:
      --report            Print a per-stage table (counts, p50/p95/p99 latency and a
                          latency histogram) to standard error at the end.
      --report-json FILE  Write the same report as JSON to FILE.
      --report-html FILE  Write the run report as one self-contained HTML page to FILE:
                          the bottleneck and advice, items/s and items held over time,
                          the task stream, latency histograms, the figures.
      --trace FILE        Write the timing of the last items as a Chrome trace
                          (open it in https://ui.perfetto.dev or chrome://tracing).
  -q, --quiet             No progress line (items, items/s, the bottleneck so far). It
                          shows only when standard error is a terminal and the
                          results do not go to one.
  -h, --help              Print this text.
  -V, --version           Print the version.

Exit codes: 0 done, 1 a stage, the input or a file failed, 2 bad usage.

Example:
  ${PROGRAM} -s ./parse.js#parse -s ./score.js#score:concurrency=4 \\
    -i events.jsonl -o scored.jsonl --on-error skip --report
`;

/** A command line that cannot run: the process prints the message and a pointer to --help, and exits with 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** What a usage error prints: one line saying what is wrong, one saying where help is (as GNU tools do). */
export function usageMessage(error: UsageError): string {
  return `${PROGRAM}: ${error.message}\nTry '${PROGRAM} --help' for more information.\n`;
}
