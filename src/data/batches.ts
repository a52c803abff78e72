import { CorpusError } from './corpus.ts';

// B contiguous streams, as char-rnn's minibatch loader splits the corpus: stream b reads
// ids[b*L .. (b+1)*L) with L = floor(N / B), all streams at the same offset `pointer`.
// B = 1 is min-char-rnn's data pointer exactly.

export interface Window {
  inputs: Uint32Array; // (T, B) time-major: row t*B + b
  targets: Uint32Array; // (T, B)
  /** True when the pointer wrapped (or this is the first window): the carried hidden state starts from zero. */
  reset: boolean;
}

export class BatchLoader {
  readonly streamLength: number;
  pointer = 0;
  private readonly window: Window;

  constructor(
    private readonly ids: Uint32Array,
    readonly batchSize: number,
    readonly seqLength: number,
  ) {
    this.streamLength = Math.floor(ids.length / batchSize);
    if (this.streamLength < seqLength + 1) {
      throw new CorpusError(
        `the corpus (${ids.length} characters) is too short for batch ${batchSize} and seq ${seqLength}: each of the ${batchSize} streams needs at least ${seqLength + 1} characters`,
      );
    }
    this.window = {
      inputs: new Uint32Array(seqLength * batchSize),
      targets: new Uint32Array(seqLength * batchSize),
      reset: false,
    };
  }

  /** Windows per pass over the streams: next() wraps (resets) after this many. */
  get windowsPerEpoch(): number {
    const { seqLength: T, streamLength: L } = this;
    // Window j reads from pointer j * T and is taken while j * T + T + 1 < L.
    return Math.max(1, Math.ceil((L - T - 1) / T));
  }

  /** The next window; the returned arrays are reused by the following call. */
  next(first: boolean): Window {
    const { batchSize: B, seqLength: T, streamLength: L } = this;
    const w = this.window;
    w.reset = first || this.pointer + T + 1 >= L;
    if (w.reset) this.pointer = 0;
    for (let b = 0; b < B; b++) {
      const base = b * L + this.pointer;
      for (let t = 0; t < T; t++) {
        w.inputs[t * B + b] = this.ids[base + t];
        w.targets[t * B + b] = this.ids[base + t + 1];
      }
    }
    this.pointer += T;
    return w;
  }
}
