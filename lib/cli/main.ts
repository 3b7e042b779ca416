// lib/cli/: the `async-task-pipeline` command line, on top of everything
// else: argument parsing, input, progress and the final report.
//
// The `async-task-pipeline` command (bin/async-task-pipeline.js imports
// this file): runs the command line on this process and sets its exit code.

import { runCli } from './commands.js';
import { EXIT_FAILED, PROGRAM } from './program.js';

let settled = false;

// A run that never settles while nothing is left to wait on would otherwise
// exit with code 0 as if it had succeeded: fail loudly instead.
process.once('beforeExit', () => {
  if (settled) return;
  process.stderr.write(`${PROGRAM}: stopped before the run finished (no work left to wait on); this is a bug\n`);
  process.exitCode = EXIT_FAILED;
});

runCli(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }).then(
  (code) => {
    settled = true;
    process.exitCode = code;
  },
  (error: unknown) => {
    settled = true;
    process.stderr.write(`${PROGRAM}: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = EXIT_FAILED;
  },
);
