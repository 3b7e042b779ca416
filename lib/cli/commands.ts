// The program's commands. The first argument picks one by name; anything
// else (an option) runs the default command, `run`, so that
// `async-task-pipeline --stage …` needs no command word. To add a command,
// add an entry here and its file beside this one.

import type { CliIo } from './run.js';
import { runCommand } from './run.js';
import { runWorkerCli } from './worker.js';

export type { CliIo } from './run.js';

/** One command: takes the arguments after its name, resolves to the exit code. */
export interface Command {
  name: string;
  run(argv: readonly string[], io: CliIo): Promise<number>;
}

/** Named commands; `run` is also the default. */
export const COMMANDS: readonly Command[] = [
  { name: 'run', run: runCommand },
  { name: 'worker', run: runWorkerCli },
];

const DEFAULT = COMMANDS[0]!;

export function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const named = COMMANDS.find((c) => c.name === argv[0]);
  return named === undefined ? DEFAULT.run(argv, io) : named.run(argv.slice(1), io);
}
