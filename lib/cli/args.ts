// The run command's command line, parsed with node:util parseArgs and
// checked option by option. Every mistake is a UsageError that names the
// option. The value checks are exported for other commands to reuse.

import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { nameStages, parseStageSpec } from './stage-spec.js';
import type { StageSpec } from './stage-spec.js';
import { UsageError } from './usage.js';

export const FORMATS = ['jsonl', 'json', 'lines'] as const;
export type InputFormat = (typeof FORMATS)[number];

export const ON_ERROR = ['fail', 'skip', 'emit'] as const;
export type OnErrorChoice = (typeof ON_ERROR)[number];

/** What the command line asks for. `'-'` means standard input or output. */
export interface CliOptions {
  help: boolean;
  version: boolean;
  stages: StageSpec[];
  input: string;
  format: InputFormat;
  output: string;
  /** What a failed item does; undefined when --dead-letter decides. */
  onError: OnErrorChoice | undefined;
  deadLetter: string | undefined;
  ordered: boolean;
  timeoutMs: number | undefined;
  retries: number | undefined;
  report: boolean;
  reportJson: string | undefined;
  /** Where to write the HTML run report. */
  reportHtml: string | undefined;
  /** Where to write the Chrome trace of the last items. */
  trace: string | undefined;
  quiet: boolean;
}

const OPTIONS = {
  stage: { type: 'string', short: 's', multiple: true },
  input: { type: 'string', short: 'i', default: '-' },
  format: { type: 'string', short: 'f', default: 'jsonl' },
  output: { type: 'string', short: 'o', default: '-' },
  'on-error': { type: 'string' },
  'dead-letter': { type: 'string' },
  unordered: { type: 'boolean', default: false },
  timeout: { type: 'string' },
  retries: { type: 'string' },
  report: { type: 'boolean', default: false },
  'report-json': { type: 'string' },
  'report-html': { type: 'string' },
  trace: { type: 'string' },
  quiet: { type: 'boolean', short: 'q', default: false },
  help: { type: 'boolean', short: 'h', default: false },
  version: { type: 'boolean', short: 'V', default: false },
} as const satisfies ParseArgsConfig['options'];

export function parseCliArgs(argv: readonly string[]): CliOptions {
  const values = parseOptions(argv, OPTIONS);
  const { help, version } = values;
  const stageTexts = values.stage ?? [];
  if (!help && !version && stageTexts.length === 0) throw new UsageError('at least one --stage is required');
  const deadLetter = fileOption('--dead-letter', values['dead-letter']);
  const onError = values['on-error'] === undefined ? undefined : oneOf('--on-error', values['on-error'], ON_ERROR);
  if (deadLetter !== undefined && onError !== undefined) {
    throw new UsageError('--dead-letter and --on-error both say what a failed item does: give one of them');
  }
  return {
    help,
    version,
    stages: nameStages(stageTexts.map(parseStageSpec)),
    input: fileOption('--input', values.input),
    format: oneOf('--format', values.format, FORMATS),
    output: fileOption('--output', values.output),
    onError: deadLetter === undefined ? (onError ?? 'fail') : undefined,
    deadLetter,
    ordered: !values.unordered,
    timeoutMs: values.timeout === undefined ? undefined : positiveNumber('--timeout', values.timeout, 'a number of milliseconds > 0'),
    retries: values.retries === undefined ? undefined : integerFrom('--retries', values.retries, 0),
    report: values.report,
    reportJson: fileOption('--report-json', values['report-json']),
    reportHtml: fileOption('--report-html', values['report-html']),
    trace: fileOption('--trace', values.trace),
    quiet: values.quiet,
  };
}

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;
/** The values parseArgs gives for `T`, strict and without positionals. */
export type OptionValues<T extends OptionsConfig> =
  ReturnType<typeof parseArgs<{ args: string[]; options: T; strict: true; allowPositionals: false }>>['values'];

/**
 * parseArgs with its errors turned into UsageErrors of one line. Its words
 * stay ("Unknown option '--x'"); a multi-line hint is joined onto the line.
 */
export function parseOptions<T extends OptionsConfig>(argv: readonly string[], options: T): OptionValues<T> {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n').join(' '));
  }
}

/** A value from `allowed`, or a UsageError listing them. */
export function oneOf<T extends string>(option: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`${option} must be ${allowed.join(', ')}; got "${value}"`);
  return value as T;
}

/** An integer >= min written in decimal digits (no "1e3", no "0x10", no blanks). */
export function integerFrom(option: string, text: string, min: number): number {
  const value = /^[+-]?\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min) throw new UsageError(`${option} must be an integer >= ${min}; got "${text}"`);
  return value;
}

/** A finite decimal number > 0. */
export function positiveNumber(option: string, text: string, expected: string): number {
  const value = /^\+?(\d+\.?\d*|\.\d+)$/.test(text) ? Number(text) : Number.NaN;
  if (!(value > 0) || !Number.isFinite(value)) throw new UsageError(`${option} must be ${expected}; got "${text}"`);
  return value;
}

/** A file name, `-`, or absent; an empty one is a mistake. */
function fileOption<T extends string | undefined>(option: string, value: T): T {
  if (value !== undefined && value.length === 0) throw new UsageError(`${option} needs a file name${option === '--input' || option === '--output' ? ' or -' : ''}`);
  return value;
}
