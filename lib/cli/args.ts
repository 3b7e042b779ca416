// The command line, parsed and checked with node:util parseArgs. Every
// mistake is a UsageError (exit code 2) that names the option.

import { parseArgs } from 'node:util';
import { nameStages, parseStageSpec } from './stage-spec.js';
import type { StageSpec } from './stage-spec.js';
import { UsageError } from './usage.js';

export const FORMATS = ['jsonl', 'json', 'lines'] as const;
export type InputFormat = (typeof FORMATS)[number];

/** What the command line asks for. `'-'` means standard input or output. */
export interface CliOptions {
  help: boolean;
  stages: StageSpec[];
  input: string;
  format: InputFormat;
  output: string;
  report: boolean;
  reportJson: string | undefined;
  quiet: boolean;
}

const OPTIONS = {
  stage: { type: 'string', multiple: true },
  input: { type: 'string', default: '-' },
  format: { type: 'string', default: 'jsonl' },
  output: { type: 'string', default: '-' },
  report: { type: 'boolean', default: false },
  'report-json': { type: 'string' },
  quiet: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export function parseCliArgs(argv: readonly string[]): CliOptions {
  let values;
  try {
    ({ values } = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (error) {
    // parseArgs says what was wrong ("Unknown option '--x'"); keep its words.
    throw new UsageError((error as Error).message);
  }
  const help = values.help;
  const stageTexts = values.stage ?? [];
  if (!help && stageTexts.length === 0) throw new UsageError('at least one --stage is required');
  return {
    help,
    stages: nameStages(stageTexts.map(parseStageSpec)),
    input: nonEmpty('--input', values.input),
    format: formatOf(values.format),
    output: nonEmpty('--output', values.output),
    report: values.report,
    reportJson: values['report-json'] === undefined ? undefined : nonEmpty('--report-json', values['report-json']),
    quiet: values.quiet,
  };
}

function formatOf(value: string): InputFormat {
  if (!(FORMATS as readonly string[]).includes(value)) {
    throw new UsageError(`--format must be ${FORMATS.join(', ')}; got "${value}"`);
  }
  return value as InputFormat;
}

function nonEmpty(option: string, value: string): string {
  if (value.length === 0) throw new UsageError(`${option} needs a file name or -`);
  return value;
}
