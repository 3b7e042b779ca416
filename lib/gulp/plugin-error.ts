// gulp's error convention, without the `plugin-error` package: gulp-cli
// prints an error whose `showStack` is a boolean with its own `toString()`,
// and plugin authors read `plugin` and `fileName`. We keep our one error class
// (StageError, with its code, stage, seq and cause) and add those fields, so
// code that handles StageErrors and gulp's reporter both understand it.

import { StageError, describe } from '../errors.js';
import type { StageErrorInit } from '../errors.js';

/** The plugin name gulpStage errors carry, as gulp plugins name their package. */
export const PLUGIN_NAME = 'async-task-pipeline';

/**
 * A {@link StageError} with the fields of gulp's `PluginError`: `plugin`,
 * `fileName`, `showStack` (false: the message says what went wrong, the
 * worker's stack is in `cause`) and `showProperties`.
 */
export class GulpPluginError extends StageError {
  /** The plugin name gulp prints: `async-task-pipeline`. */
  readonly plugin = PLUGIN_NAME;
  /** Absolute path of the file at fault, when one is. */
  readonly fileName: string | undefined;
  /** Whether gulp prints the stack: no, the message says what went wrong and the worker's stack is in `cause`. */
  showStack = false;
  /** Whether gulp prints `fileName` and the other fields. */
  showProperties = true;

  /** @internal Made by gulpStage. */
  constructor(message: string, init: StageErrorInit & { fileName?: string | undefined }) {
    super(message, init);
    this.fileName = init.fileName;
  }

  /** Wraps a StageError from the stage, naming the file it was working on. */
  static of(error: StageError, fileName: string | undefined, relative: string | undefined): GulpPluginError {
    const message = relative === undefined ? error.message : `${relative}: ${error.message}`;
    return new GulpPluginError(message, { code: error.code, stage: error.stage, seq: error.seq, cause: error.cause, fileName });
  }

  /** The user's module did not load: says which module, not our worker entry that imports it. */
  static ofLoadFailure(error: StageError, target: string): GulpPluginError {
    return new GulpPluginError(
      `gulpStage "${error.stage}" could not load ${target}: ${describe(error.cause)}`,
      { code: error.code, stage: error.stage, cause: error.cause },
    );
  }

  /** A file whose contents are a stream: the worker needs the bytes. */
  static streamContents(stage: string, seq: number, fileName: string, relative: string): GulpPluginError {
    return new GulpPluginError(
      `${relative}: gulpStage "${stage}" takes files with Buffer contents, and this file's contents are a stream; ` +
        'read it buffered: gulp.src(glob) buffers by default, do not pass { buffer: false }',
      { code: 'INVALID_STATE', stage, seq, fileName },
    );
  }

  /** Something other than a Vinyl file was written to the stage. */
  static notAFile(stage: string, seq: number, value: unknown): GulpPluginError {
    return new GulpPluginError(
      `gulpStage "${stage}" takes Vinyl files (as gulp.src() gives), got ${kindOf(value)}`,
      { code: 'INVALID_STATE', stage, seq },
    );
  }

  /** As gulp's PluginError prints itself: name and plugin, message, then details. */
  override toString(): string {
    let text = `${this.name} in plugin "${this.plugin}"\nMessage:\n    ${this.message}`;
    if (this.showProperties) {
      text += `\nDetails:\n    code: ${this.code}\n    stage: ${this.stage}`;
      if (this.fileName !== undefined) text += `\n    fileName: ${this.fileName}`;
    }
    if (this.showStack && this.stack !== undefined) text += `\nStack:\n${this.stack}`;
    return text;
  }
}

function kindOf(value: unknown): string {
  if (value === null || typeof value !== 'object') return value === null ? 'null' : typeof value;
  return Object.prototype.toString.call(value);
}
