// The node flags a worker thread starts with. By default a Worker inherits
// the host's `process.execArgv`, and some of those break every worker: under
// `node --input-type=module -e …` (or code read from stdin) each worker died
// at start with "--input-type can only be used with string input via --eval,
// --print, or STDIN" (issue 8, item 10).
//
// Node's `execArgv` option replaces what is inherited, but it is stricter than
// inheritance: it refuses V8 and per-process flags (--max-old-space-size,
// --title, --expose-gc, --jitless, ...) with ERR_WORKER_INVALID_EXEC_ARGV,
// which inheritance silently ignores. So the host's flags are inherited as
// before unless one of them is a flag a worker must not have; only then is
// the list given explicitly, made of the flags known to work in a worker and
// to matter there: loaders, preloads, conditions, source maps, warnings and
// experimental features. (Node 20's worker docs: V8 options and options that
// affect the process are not supported in `execArgv`.)

/** Flags that run the host's own entry code, tests, watch mode or debugger: never a worker's. */
function breaksWorker(name: string): boolean {
  return HOST_ONLY.has(name) || HOST_ONLY_PREFIXES.some((prefix) => name.startsWith(prefix));
}

const HOST_ONLY = new Set(['-e', '--eval', '-p', '--print', '-pe', '--input-type', '-c', '--check', '-i', '--interactive', '--debug-port']);
const HOST_ONLY_PREFIXES = ['--test', '--experimental-test', '--watch', '--inspect', '--debug-brk'];

/** Flags worth handing a worker when the list must be given explicitly. */
function worthKeeping(name: string): boolean {
  if (KEPT.has(name)) return true;
  const experimental = name.startsWith('--experimental-') || name.startsWith('--no-experimental-');
  return experimental && !NOT_FOR_WORKERS.has(name) && !name.startsWith('--experimental-test');
}

const KEPT = new Set([
  '--import', '--require', '-r', '--loader', '--conditions', '-C', '--enable-source-maps', '--preserve-symlinks',
  '--no-warnings', '--no-deprecation', '--disable-warning', '--trace-warnings', '--trace-deprecation',
  '--throw-deprecation', '--pending-deprecation', '--trace-uncaught', '--unhandled-rejections',
]);

// Experimental flags that Node refuses in a worker's execArgv, or that are the process's.
const NOT_FOR_WORKERS = new Set(['--experimental-sea-config', '--experimental-shadow-realm', '--experimental-permission', '--experimental-policy']);

/** Flags whose value may follow as a separate argument (`--import tsx`). */
const TAKES_VALUE = new Set([
  '--import', '--require', '-r', '--loader', '--experimental-loader', '--conditions', '-C', '--disable-warning',
  '--unhandled-rejections', '--experimental-default-type', '--experimental-specifier-resolution',
  '-e', '--eval', '-p', '--print', '-pe', '--input-type', '--inspect-port', '--debug-port', '--test-reporter',
  '--test-reporter-destination', '--test-name-pattern', '--test-skip-pattern', '--test-shard', '--test-concurrency',
  '--test-timeout', '--watch-path',
]);

function nameOf(token: string): string {
  const equals = token.indexOf('=');
  return equals === -1 ? token : token.slice(0, equals);
}

/**
 * The `execArgv` to give a worker: undefined to inherit the host's flags as
 * Node does, or, when one of them must not reach a worker, the host's flags
 * that are worth keeping, each with its value.
 */
export function workerExecArgv(hostArgv: readonly string[] = process.execArgv): string[] | undefined {
  if (!hostArgv.some((token) => token.startsWith('-') && breaksWorker(nameOf(token)))) return undefined;
  const kept: string[] = [];
  for (let i = 0; i < hostArgv.length; i++) {
    const token = hostArgv[i]!;
    const name = nameOf(token);
    const separateValue = name === token && TAKES_VALUE.has(name) && i + 1 < hostArgv.length;
    if (worthKeeping(name)) {
      kept.push(token);
      if (separateValue) kept.push(hostArgv[i + 1]!);
    }
    // A value is skipped with its flag, kept or not: `-e <code>` is never a flag.
    if (separateValue) i++;
  }
  return kept;
}
