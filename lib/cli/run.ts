// One run of the command line, from arguments to exit code. Everything it
// touches of the process comes in `io`, so the flow reads top to bottom:
// parse, check, start the stages, stream, report.

import { writeFile } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StageError } from '../errors.js';
import { createPipeline } from '../pipeline/pipeline.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { stage } from '../stage/stage.js';
import type { Stage } from '../stage/stage.js';
import { toJsonLines } from '../json/to-json-lines.js';
import { parseCliArgs } from './args.js';
import type { CliOptions } from './args.js';
import { checkInput, openInput, openOutput, parserFor } from './input.js';
import { Progress } from './progress.js';
import type { ProgressStream } from './progress.js';
import { buildRunReport, formatReport } from './report.js';
import { USAGE, UsageError } from './usage.js';

/** The process streams a run uses. */
export interface CliIo {
  stdin: Readable;
  stdout: Writable;
  stderr: ProgressStream;
}

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

const PROGRAM = 'async-task-pipeline';

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let options: CliOptions;
  let stages: Stage[];
  try {
    options = parseCliArgs(argv);
    if (options.help) {
      io.stdout.write(USAGE);
      return EXIT_OK;
    }
    await checkInput(options.input);
    stages = options.stages.map((s) => stage({ module: s.module, export: s.exportName }, { name: s.name, concurrency: s.concurrency }));
  } catch (error) {
    // A bad module path or option is the command line's fault too.
    if (!(error instanceof UsageError) && !(error instanceof TypeError)) throw error;
    io.stderr.write(`${PROGRAM}: ${error.message}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  return runStages(options, stages, io);
}

async function runStages(options: CliOptions, stages: Stage[], io: CliIo): Promise<number> {
  const flow = createPipeline(stages);
  const progress = new Progress(io.stderr, !options.quiet);
  const startedAt = performance.now();
  let code = EXIT_OK;
  // Which end failed first, to say so: an error from a stream carries no name of its stream.
  let failedEnd: 'input' | 'output' | undefined;
  try {
    // Load every module before reading any input: a missing one fails at once.
    await flow.start();
    const input = openInput(options.input, io.stdin);
    const parser = parserFor(options.format);
    const output = openOutput(options.output, io.stdout);
    input.once('error', () => { failedEnd ??= 'input'; });
    parser.once('error', () => { failedEnd ??= 'input'; });
    output.once('error', () => { failedEnd ??= 'output'; });
    await pipeline(input, parser, flow, progress, toJsonLines(), output);
  } catch (error) {
    // A failed start() leaves the pipeline whole: end every stage's workers.
    flow.destroy();
    io.stderr.write(`${PROGRAM}: ${describeFailure(error, failedEnd, options)}\n`);
    code = EXIT_FAILED;
  } finally {
    progress.stop();
  }
  await writeReports(flow, performance.now() - startedAt, options, io);
  return code;
}

function describeFailure(error: unknown, failedEnd: 'input' | 'output' | undefined, options: CliOptions): string {
  if (error instanceof StageError) {
    const note = error.seq === undefined ? '' : "\n  (item numbers count the input's records from 0)";
    return `${error.code}: ${error.message}${note}`;
  }
  const message = error instanceof Error ? error.message : String(error);
  if (failedEnd === 'output') return `--output ${options.output === '-' ? '(standard output)' : options.output}: ${message}`;
  if (failedEnd === 'input') {
    const source = options.input === '-' ? 'standard input' : options.input;
    return `${source} (--format ${options.format}): ${message}`;
  }
  return message;
}

async function writeReports(flow: Pipeline, elapsedMs: number, options: CliOptions, io: CliIo): Promise<void> {
  if (!options.report && options.reportJson === undefined) return;
  const report = buildRunReport(flow, elapsedMs);
  if (options.report) io.stderr.write(formatReport(report));
  if (options.reportJson !== undefined) await writeFile(options.reportJson, JSON.stringify(report, null, 2) + '\n');
}
