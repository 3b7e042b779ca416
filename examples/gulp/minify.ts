// The work of the gulp example: minify one JavaScript file with terser. The
// gulpfile runs `minify` in worker threads through gulpStage, and calls
// `minifySource` inline on the main thread for its comparison task.

import { minify as terser } from 'terser';
import type { GulpFileData } from 'async-task-pipeline';

/** Minified code of one source text; throws terser's own error on a syntax error. */
export async function minifySource(code: string): Promise<string> {
  const result = await terser(code, { compress: { passes: 2 }, mangle: true });
  if (result.code === undefined) throw new Error('terser returned no code');
  return result.code;
}

/** The gulpStage worker function: new contents for one file. */
export async function minify(file: GulpFileData): Promise<string> {
  return minifySource(file.contents.toString('utf8'));
}
