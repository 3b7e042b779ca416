// The gulp example: minify src/**/*.js (relative to gulp's --cwd) into
// minified/, with terser running in worker threads (`minify`, the default
// task) or inline on the main thread (`main-thread`, for comparison).
//
//   npx gulp --gulpfile dist/examples/gulp/gulpfile.js --cwd <folder> [minify|main-thread]
//
// gulp 5 loads this compiled file as ESM (the package is "type": "module").
//
// Tasks join their streams with stream.pipeline, not .pipe(): in gulp 5 an
// error in the middle of a .pipe() chain is swallowed by gulp.src's streams
// and the task shows as "did not complete" (gulpjs/gulp#2812); pipeline()
// rejects with the error, which gulp prints (our error's toString()).

import { availableParallelism } from 'node:os';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { TransformCallback } from 'node:stream';
import gulp from 'gulp';
import type Vinyl from 'vinyl';
import { gulpStage } from 'async-task-pipeline';
import { minifySource } from './minify.js';

const SOURCES = 'src/**/*.js';
const OUTPUT = 'minified';

/** Worker threads for the `minify` task: $GULP_MINIFY_THREADS, else one per core. */
function threadCount(): number {
  const given = Number(process.env.GULP_MINIFY_THREADS);
  return Number.isInteger(given) && given > 0 ? given : availableParallelism();
}

/** Minifies in worker threads: one gulpStage, as any gulp plugin is used. */
export function minify(): Promise<void> {
  const workers = gulpStage({ module: new URL('./minify.js', import.meta.url), export: 'minify' }, { concurrency: threadCount() });
  return pipeline(gulp.src(SOURCES), workers, gulp.dest(OUTPUT));
}

/** The same minification on the main thread, one file after another, as a plain gulp plugin would. */
function mainThread(): Promise<void> {
  const inline = new Transform({
    objectMode: true,
    transform(file: Vinyl, _encoding: BufferEncoding, callback: TransformCallback): void {
      if (!file.isBuffer()) {
        callback(null, file);
        return;
      }
      minifySource(file.contents.toString('utf8')).then((code) => {
        file.contents = Buffer.from(code);
        callback(null, file);
      }, (error: unknown) => callback(error as Error));
    },
  });
  return pipeline(gulp.src(SOURCES), inline, gulp.dest(OUTPUT));
}

gulp.task('main-thread', mainThread);
export default minify;
