// The worker side of the HTTP example: two module stages. Each runs in a
// worker thread; the module is imported once per worker.

import { createHash } from 'node:crypto';

/** One line of the request body. */
export interface Line {
  id: number;
  text: string;
}

/** One line of the response body. */
export interface Analysis {
  id: number;
  words: number;
  sha256: string;
  label?: 'short' | 'long';
}

const WORD = /\S+/g;

/** Counts the words of the text and hashes it: the CPU-bound part. */
export function analyse(line: Line): Analysis {
  const words = line.text.match(WORD)?.length ?? 0;
  return { id: line.id, words, sha256: createHash('sha256').update(line.text).digest('hex') };
}

/** Labels an analysis by the length of its text. */
export function label(analysis: Analysis): Analysis {
  return { ...analysis, label: analysis.words >= 10 ? 'long' : 'short' };
}
