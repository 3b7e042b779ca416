// The run command (the default one), from arguments to exit code.
// Everything it touches of the process comes in `io`, so the flow reads top
// to bottom: parse, open the files, start the stages, stream, report.

import { writeFile } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StageError } from '../errors.js';
import { createPipeline } from '../pipeline/pipeline.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { stage } from '../stage/stage.js';
import type { Stage } from '../stage/stage.js';
import type { StageOptions } from '../stage/stage-options.js';
import { JsonValueError, toJsonLines } from '../json/to-json-lines.js';
import { parseCliArgs } from './args.js';
import type { CliOptions } from './args.js';
import { DeadLetter } from './dead-letter.js';
import { emittedErrorsAsJson } from './failure-json.js';
import { checkInput, locateJsonError, openInput, openOutput, parserFor } from './input.js';
import { jsonTextLines, textLinesOut } from './json-text-lines.js';
import { CliFailure, EXIT_FAILED, EXIT_OK, EXIT_USAGE, PROGRAM, fileFailure, packageVersion } from './program.js';
import { Progress } from './progress.js';
import type { ProgressStream } from './progress.js';
import { buildRunReport, formatReport } from './report.js';
import { USAGE, UsageError, usageMessage } from './usage.js';

/** The process streams a run uses. */
export interface CliIo {
  stdin: Readable;
  stdout: Writable & { isTTY?: boolean };
  stderr: ProgressStream;
}

/**
 * Which part of the run failed first: an error from a stream does not name
 * its stream. 'result': a result could not be written as JSON.
 */
type FailedEnd = 'input' | 'output' | 'dead-letter' | 'result' | undefined;

export async function runCommand(argv: readonly string[], io: CliIo): Promise<number> {
  let options: CliOptions;
  let stages: Stage[];
  let deadLetter: DeadLetter | undefined;
  try {
    options = parseCliArgs(argv);
    if (options.help) {
      io.stdout.write(USAGE);
      return EXIT_OK;
    }
    if (options.version) {
      io.stdout.write(`${PROGRAM} ${packageVersion()}\n`);
      return EXIT_OK;
    }
    deadLetter = options.deadLetter === undefined ? undefined : new DeadLetter(options.deadLetter);
    stages = makeStages(options, deadLetter);
  } catch (error) {
    // A module path the library refuses is the command line's fault too.
    if (!(error instanceof UsageError) && !(error instanceof TypeError)) throw error;
    io.stderr.write(usageMessage(error));
    return EXIT_USAGE;
  }
  return runStages(options, stages, deadLetter, io);
}

/**
 * JSON Lines cross to the workers as text, which parse and stringify
 * (`json: true`, see run/json-text.ts), when every failure fails the run
 * (the default). `--on-error skip|emit` and `--dead-letter` hand a failed
 * record on, and a bad line must stay the input's failure, not a record's:
 * those runs parse on the main thread as before.
 */
function crossesAsText(options: CliOptions): boolean {
  return options.format === 'jsonl' && options.onError === 'fail' && options.deadLetter === undefined;
}

// Text records of about 1 KB: 1024 held per stage is about 1 MB, and batches
// of a few hundred lines share each crossing (64 made batches of ~16).
const TEXT_HIGH_WATER_MARK = 1024;

function makeStages(options: CliOptions, deadLetter: DeadLetter | undefined): Stage[] {
  const shared: StageOptions = { onError: deadLetter?.writable ?? options.onError, ordered: options.ordered };
  if (crossesAsText(options)) {
    shared.json = true;
    shared.highWaterMark = TEXT_HIGH_WATER_MARK;
  }
  if (options.timeoutMs !== undefined) shared.timeout = options.timeoutMs;
  if (options.retries !== undefined) shared.retries = options.retries;
  return options.stages.map((s) =>
    stage({ module: s.module, export: s.exportName }, { ...shared, name: s.name, concurrency: s.concurrency }),
  );
}

async function runStages(options: CliOptions, stages: Stage[], deadLetter: DeadLetter | undefined, io: CliIo): Promise<number> {
  const flow = createPipeline(stages);
  // As curl does: no progress line when the results go to the same terminal.
  const progress = new Progress(io.stderr, !options.quiet && io.stderr.isTTY === true && !(options.output === '-' && io.stdout.isTTY === true),
    () => liveBottleneck(flow));
  const startedAt = performance.now();
  let failedEnd: FailedEnd;
  const failing = (end: FailedEnd) => (): void => { failedEnd ??= end; };
  let lineOf: ((seq: number) => number) | undefined;
  try {
    await checkInput(options.input);
    const output = await openOutput('--output', options.output, io.stdout);
    await deadLetter?.open((error) => {
      failing('dead-letter')();
      flow.destroy(error);
    });
    // Load every module before reading any input: a missing one fails at once.
    await flow.start();
    const input = openInput(options.input, io.stdin);
    const text = crossesAsText(options) ? jsonTextLines() : undefined;
    lineOf = text?.lineOf;
    const parser = text?.stream ?? parserFor(options.format);
    input.once('error', failing('input'));
    parser.once('error', failing('input'));
    output.once('error', failing('output'));
    const writer = text === undefined ? toJsonLines() : textLinesOut();
    writer.once('error', failing('result'));
    const results = options.onError === 'emit' ? [flow, emittedErrorsAsJson()] : [flow];
    await pipeline([input, parser, ...results, progress, writer, output]);
    await deadLetter?.close();
  } catch (error) {
    // A failed start() leaves the pipeline whole: end every stage's workers.
    flow.destroy();
    deadLetter?.abort();
    progress.abandon();
    const where = failedEnd === 'input' && options.format === 'json' && options.input !== '-' ? await locateJsonError(options.input) : undefined;
    io.stderr.write(`${PROGRAM}: ${describeFailure(error, failedEnd, options, flow, where, lineOf)}\n`);
    await writeReports(flow, performance.now() - startedAt, options, io).catch(() => undefined);
    return EXIT_FAILED;
  }
  progress.stop();
  try {
    await writeReports(flow, performance.now() - startedAt, options, io);
  } catch (error) {
    io.stderr.write(`${PROGRAM}: ${describeFailure(error, undefined, options, flow, undefined)}\n`);
    return EXIT_FAILED;
  }
  return EXIT_OK;
}

function describeFailure(
  error: unknown, failedEnd: FailedEnd, options: CliOptions, flow: Pipeline, where: string | undefined, lineOf?: (seq: number) => number,
): string {
  if (error instanceof CliFailure) return error.message;
  if (failedEnd === 'result' && error instanceof JsonValueError) return describeResultFailure(error, options, flow);
  const text = lineOf === undefined ? undefined : describeTextFailure(error, options, lineOf);
  if (text !== undefined) return text;
  if (StageError.isStageError(error)) {
    const note = error.seq === undefined ? '' : "\n  (item numbers count the input's records from 0)";
    return `${error.code}: ${error.message}${note}`;
  }
  const message = error instanceof Error ? error.message : String(error);
  if (failedEnd === 'output') return `--output ${options.output === '-' ? '(standard output)' : options.output}: ${message}`;
  if (failedEnd === 'dead-letter') return `--dead-letter ${options.deadLetter}: ${message}`;
  if (failedEnd === 'input') {
    const source = options.input === '-' ? 'standard input' : options.input;
    return `${source} (--format ${options.format}): ${where === undefined ? '' : `${where}: `}${message}`;
  }
  return message;
}

/**
 * When records cross as text, a line that is not JSON and a result JSON
 * cannot hold fail in the worker, as the item's StageError: said as before,
 * the line by its number (the input's fault), the result by its stage.
 */
function describeTextFailure(error: unknown, options: CliOptions, lineOf: (seq: number) => number): string | undefined {
  if (!StageError.isStageError(error) || error.seq === undefined || !(error.cause instanceof Error)) return undefined;
  const code = (error.cause as Error & { code?: unknown }).code;
  if (code === 'ERR_INVALID_JSON') {
    const source = options.input === '-' ? 'standard input' : options.input;
    return `${source} (--format ${options.format}): line ${lineOf(error.seq)} is not valid JSON: ${error.cause.message}`;
  }
  if (code !== 'ERR_JSON_RESULT') return undefined;
  return `the result of item ${error.seq} from stage "${error.stage}" ${error.cause.message.replace(/^the result /, '')}. The result is at fault, not the input: ` +
    "the stage must return values JSON can write (no BigInt, function, symbol or cycle).\n  (item numbers count the input's records from 0)";
}

/** A result the output cannot hold: the stage's doing, not the input's. */
function describeResultFailure(error: JsonValueError, options: CliOptions, flow: Pipeline): string {
  const last = flow.stages[flow.stages.length - 1]!;
  const matched = resultsMatchRecords(options, flow);
  const which = matched ? `the result of item ${error.index}` : `result ${error.index} (counting the results written, from 0)`;
  const note = matched ? "\n  (item numbers count the input's records from 0)" : '';
  return `${which} from stage "${last.name}" ${error.problem}. The result is at fault, not the input: ` +
    `the stage must return values JSON can write (no BigInt, function, symbol or cycle).${note}`;
}

// The n-th result is the n-th record when results keep input order and no
// stage dropped an item or made several of one.
function resultsMatchRecords(options: CliOptions, flow: Pipeline): boolean {
  return options.ordered && flow.stages.every(({ stats }) =>
    stats.filtered + stats.fanOut + stats.skipped === 0 && (stats.failed === 0 || options.onError === 'emit'));
}

/** What the progress line says limits the run so far: the stage and its busy share, or which end. */
function liveBottleneck(flow: Pipeline): string | undefined {
  const { bottleneck, throughput } = flow.getLatencySummary();
  if (bottleneck !== null) return `bottleneck ${bottleneck.stage} (busy ${Math.round(bottleneck.busyShare * 100)}%)`;
  if (throughput.limitedBy === 'sink' || throughput.limitedBy === 'source') return `limited by the ${throughput.limitedBy === 'sink' ? 'output' : 'input'}`;
  return undefined;
}

async function writeReports(flow: Pipeline, elapsedMs: number, options: CliOptions, io: CliIo): Promise<void> {
  if (options.report || options.reportJson !== undefined) {
    const report = buildRunReport(flow, elapsedMs);
    if (options.report) io.stderr.write(formatReport(report));
    if (options.reportJson !== undefined) await writeText('--report-json', options.reportJson, JSON.stringify(report, null, 2) + '\n');
  }
  if (options.trace !== undefined) await writeText('--trace', options.trace, JSON.stringify(flow.getTrace()) + '\n');
  if (options.reportHtml !== undefined) await writeText('--report-html', options.reportHtml, flow.getHtmlReport({ title: `${PROGRAM} ${options.stages.map((s) => s.name).join(' → ')}` }));
}

async function writeText(option: string, path: string, text: string): Promise<void> {
  try {
    await writeFile(path, text);
  } catch (error) {
    throw fileFailure(`${option} ${path}`, 'write', error);
  }
}
