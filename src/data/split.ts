import { CorpusError, type Corpus } from './corpus.ts';

// The validation split: the last valFrac of the corpus is held out, as in the benchmark figures the project
// compares with (train on the first 90% of Tiny Shakespeare, evaluate the last 10%). The vocabulary is the
// whole corpus's, so the held-out text never has an unknown character.

export interface CorpusSplit {
  /** The training part: the corpus's first ids, with its vocabulary. */
  train: Corpus;
  /** The held-out ids; empty when valFrac is 0. */
  validation: Uint32Array;
}

export function splitCorpus(corpus: Corpus, valFrac: number, seqLength: number, name: string): CorpusSplit {
  const n = corpus.ids.length;
  const held = Math.floor(n * valFrac);
  if (valFrac > 0 && (held < seqLength + 1 || n - held < seqLength + 1)) {
    throw new CorpusError(
      `${name}: --val-frac ${valFrac} of ${n} characters leaves ${held} for validation and ${n - held} for training; each needs at least seq + 1 = ${seqLength + 1}`,
    );
  }
  return { train: { ...corpus, ids: corpus.ids.subarray(0, n - held) }, validation: corpus.ids.subarray(n - held) };
}
