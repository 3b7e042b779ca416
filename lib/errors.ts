/**
 * Stable codes carried by {@link StageError}. Code that handles errors should
 * switch on these, never on message text.
 */
export type StageErrorCode =
  /** The stage function threw or rejected for this item. */
  | 'FUNCTION_FAILED'
  /** The module, export or function source could not be loaded in the worker. */
  | 'LOAD_FAILED'
  /** A function sent as source text used a variable of the scope it was written in. */
  | 'CLOSURE_REFERENCE'
  /** The worker thread died (process.exit, uncaught error, out of memory) with the item in flight. */
  | 'WORKER_DIED'
  /** The item or its result could not be structured-cloned across the thread boundary. */
  | 'DATA_CLONE'
  /** The item ran longer than `options.timeout`. */
  | 'TIMEOUT'
  /**
   * `options.onError` could not take a failed item: its handler threw or
   * rejected, or its dead-letter stream failed, was destroyed or has ended.
   * `cause` is the handler's or the stream's error.
   */
  | 'ON_ERROR_FAILED'
  /** The stage or pipeline was used in a way its contract does not allow. */
  | 'INVALID_STATE'
  /** A remote stage's transport failed: its server could not be reached, or the connection was lost. */
  | 'TRANSPORT_FAILED'
  /** The stage's worker pool was closed (`pool.close()`) while the stage still used it. */
  | 'POOL_CLOSED';

/** Fields a {@link StageError} is built from. */
export interface StageErrorInit {
  /** What went wrong: one of {@link StageErrorCode}. */
  code: StageErrorCode;
  /** The stage at fault. */
  stage: string;
  /** The item at fault, by input position. */
  seq?: number | undefined;
  /** The original error. */
  cause?: unknown;
}

/**
 * The one error class of this package: every failure a stage reports carries
 * the stage's name, the item's sequence number (when one item is at fault) and
 * the original error as `cause`.
 *
 * @example
 * ```js
 * try { await pipeline(source, stage(fn), sink); }
 * catch (err) { if (err instanceof StageError) console.log(err.code, err.stage, err.seq); }
 * ```
 */
export class StageError extends Error {
  /** What went wrong; switch on it rather than on the message. */
  readonly code: StageErrorCode;
  /** The name of the stage at fault (`'pipeline'` for a pipeline's own state errors). */
  readonly stage: string;
  /** The input position of the item at fault, when one item is. */
  readonly seq: number | undefined;

  /** @internal Made by this package; handle errors by their `code`. */
  constructor(message: string, init: StageErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'StageError';
    this.code = init.code;
    this.stage = init.stage;
    this.seq = init.seq;
  }

  /** @internal `FUNCTION_FAILED` for an item. */
  static functionFailed(stage: string, seq: number, cause: unknown): StageError {
    return new StageError(
      `Stage "${stage}" failed on item ${seq}: ${describe(cause)}`,
      { code: 'FUNCTION_FAILED', stage, seq, cause },
    );
  }

  /** @internal `LOAD_FAILED`. */
  static loadFailed(stage: string, what: string, cause: unknown): StageError {
    return new StageError(
      `Stage "${stage}" could not load ${what}: ${describe(cause)}${typeScriptHint(cause)}`,
      { code: 'LOAD_FAILED', stage, cause },
    );
  }

  /** @internal `CLOSURE_REFERENCE`, naming the variable and the two ways out. */
  static closureReference(stage: string, variable: string, cause: unknown): StageError {
    return new StageError(
      `Stage "${stage}" cannot run its function in a worker thread: the function uses ` +
        `"${variable}", a variable from the scope it was written in. A function given to ` +
        'stage() is sent to the worker as source text, so it cannot see the variables around it. ' +
        'Either move it into a module and use stage({ module, export }), or pass the value in ' +
        'options.context and read it from the function\'s second argument.',
      { code: 'CLOSURE_REFERENCE', stage, cause },
    );
  }

  /** @internal `WORKER_DIED`. */
  static workerDied(stage: string, seq: number | undefined, cause: unknown): StageError {
    const which = seq === undefined ? '' : ` while item ${seq} was in flight`;
    return new StageError(
      `Stage "${stage}": its worker thread died${which}: ${describe(cause)}`,
      { code: 'WORKER_DIED', stage, seq, cause },
    );
  }

  /** @internal `DATA_CLONE`. */
  static dataClone(stage: string, seq: number, direction: 'input' | 'result', cause: unknown): StageError {
    const what = direction === 'input' ? 'item' : 'result of item';
    return new StageError(
      `Stage "${stage}": the ${what} ${seq} cannot be sent between threads ` +
        `(structured clone failed: ${describe(cause)})`,
      { code: 'DATA_CLONE', stage, seq, cause },
    );
  }

  /** @internal `TIMEOUT`. */
  static timeout(stage: string, seq: number, timeoutMs: number): StageError {
    return new StageError(
      `Stage "${stage}": item ${seq} ran longer than options.timeout (${timeoutMs} ms); its worker was replaced`,
      { code: 'TIMEOUT', stage, seq },
    );
  }

  /** @internal `TRANSPORT_FAILED`. */
  static transportFailed(stage: string, what: string, cause: unknown): StageError {
    return new StageError(`Stage "${stage}" ${what}: ${describe(cause)}`, { code: 'TRANSPORT_FAILED', stage, cause });
  }

  /** @internal `POOL_CLOSED`. */
  static poolClosed(stage: string): StageError {
    return new StageError(
      `Stage "${stage}": its worker pool was closed (pool.close()) while the stage still used it; give it an open pool`,
      { code: 'POOL_CLOSED', stage },
    );
  }

  /** @internal `ON_ERROR_FAILED` for a handler that threw or rejected. */
  static handlerFailed(stage: string, seq: number | undefined, cause: unknown): StageError {
    return new StageError(
      `Stage "${stage}": its onError handler failed on item ${seq}: ${describe(cause)}`,
      { code: 'ON_ERROR_FAILED', stage, seq, cause },
    );
  }

  /** @internal `ON_ERROR_FAILED` for a dead-letter stream; `problem` completes "its dead-letter stream (options.onError) …". */
  static deadLetterFailed(stage: string, seq: number | undefined, problem: string, cause: unknown): StageError {
    const because = cause === undefined ? '' : `: ${describe(cause)}`;
    return new StageError(
      `Stage "${stage}": its dead-letter stream (options.onError) ${problem}${because}`,
      { code: 'ON_ERROR_FAILED', stage, seq, cause },
    );
  }

  /** @internal `INVALID_STATE`. */
  static invalidState(stage: string, message: string): StageError {
    return new StageError(message, { code: 'INVALID_STATE', stage });
  }

  /**
   * True for a {@link StageError}, also one from another copy of this package.
   *
   * @param value - anything caught
   * @returns whether `value` is a StageError
   */
  static isStageError(value: unknown): value is StageError {
    return value instanceof StageError ||
      (value instanceof Error && value.name === 'StageError' && typeof (value as { code?: unknown }).code === 'string');
  }
}

/**
 * A short, readable account of any thrown value, for messages. Never throws:
 * a thrown value may have getters or Proxy traps that do.
 */
export function describe(value: unknown): string {
  try {
    if (value instanceof Error) return `${value.name}: ${value.message}`;
    if (typeof value === 'string') return value;
    return `${typeof value} ${JSON.stringify(value)}`;
  } catch {
    try {
      return String(value);
    } catch {
      return `a ${typeof value} that cannot be described`;
    }
  }
}

/**
 * What to do about a TypeScript stage module on a Node line that cannot run
 * one (20, or 22 before 22.18 without --experimental-strip-types): Node's own
 * error names only the file extension.
 */
function typeScriptHint(cause: unknown): string {
  const code = (cause as { code?: unknown } | null)?.code;
  const message = cause instanceof Error ? cause.message : '';
  if (code !== 'ERR_UNKNOWN_FILE_EXTENSION' || !/\.[cm]?ts\b/.test(message)) return '';
  return (
    `. Node ${process.versions.node} runs no TypeScript by itself: Node 22.18 and later strip types by default; ` +
    'here, compile the module with tsc, or start node with a TypeScript loader (node --import tsx), which the workers inherit'
  );
}
