// Stage functions of the demo. They run inside worker threads: the demo names
// this module and an export, and each worker imports it once.

import { createHash } from 'node:crypto';

/** A document the demo generates. */
export interface Doc {
  id: number;
  text: string;
}

export interface Scored {
  id: number;
  words: number;
  digest: string;
  score: number;
}

/** Counts the words of a document: light work. */
export function countWords(doc: Doc): { id: number; text: string; words: number } {
  return { id: doc.id, text: doc.text, words: doc.text.split(/\s+/).filter(Boolean).length };
}

/**
 * Hashes the text again and again: about a millisecond of CPU-bound work, the
 * kind that would block the event loop if it ran on the main thread.
 */
export function fingerprint(doc: { id: number; text: string; words: number }, rounds = 400): Scored {
  let digest = doc.text;
  for (let i = 0; i < rounds; i++) digest = createHash('sha256').update(digest).digest('hex');
  return { id: doc.id, words: doc.words, digest: digest.slice(0, 16), score: parseInt(digest.slice(0, 4), 16) / 0xffff };
}

/** Keeps documents that scored at least the threshold given as the stage's context. */
export function keepHighScores(doc: Scored, context: { threshold: number }): Scored | null {
  return doc.score >= context.threshold ? doc : null;
}
