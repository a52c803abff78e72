import { decodeUtf8 } from './utf8.ts';
import { Vocabulary } from './vocabulary.ts';

export interface Corpus {
  text: string;
  ids: Uint32Array; // (N,) code point ids
  vocab: Vocabulary;
}

export class CorpusError extends Error {}

/** Builds the corpus from raw bytes; `name` only labels error messages. */
export function corpusFromBytes(bytes: Uint8Array, name: string, vocab?: Vocabulary): Corpus {
  let text: string;
  try {
    text = decodeUtf8(bytes);
  } catch (e) {
    throw new CorpusError(`${name}: ${(e as Error).message}`);
  }
  return corpusFromText(text, name, vocab);
}

export function corpusFromText(text: string, name: string, vocab?: Vocabulary): Corpus {
  if (text.length === 0) throw new CorpusError(`${name}: the corpus is empty`);
  const v = vocab ?? Vocabulary.fromText(text);
  if (v.size < 2) throw new CorpusError(`${name}: the corpus has fewer than 2 distinct characters`);
  let ids: Uint32Array;
  try {
    ids = v.encode(text);
  } catch (e) {
    throw new CorpusError(`${name}: ${(e as Error).message}`);
  }
  return { text, ids, vocab: v };
}
