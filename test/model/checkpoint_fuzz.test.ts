import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { CheckpointError, decodeCheckpoint, encodeCheckpoint, type Checkpoint } from '../../src/model/checkpoint.ts';
import { modelConfig, trainConfig } from '../../src/model/config.ts';
import { Rng } from '../../src/model/rng.ts';
import { modelLayout } from '../../src/model/model_tensors.ts';
import { runCli } from '../helpers/cli.ts';
import { buildFile, readHeader, type Header } from '../helpers/safetensors_edit.ts';

// The checkpoint loader against a few thousand seeded mutations of valid checkpoints: truncations, bit
// flips in the header and the data, huge header lengths, huge, negative and fractional offsets, names given
// twice, overlapping tensors, dtypes other than F32, shapes and metadata of the wrong types. Each decode
// either succeeds (a flipped bit in the data can leave a valid file) or throws a CheckpointError: no other
// exception, no allocation larger than the file. A sample of the failures goes through `char-rnn eval`,
// which must print one `char-rnn: ...` line and exit with code 2.

const SEED = 11;
const IN_PROCESS = 20_000;
const THROUGH_CLI = 24;

function checkpoint(rng: Rng, training: boolean): Checkpoint {
  const vocab = ['\n', ' ', 'a', 'b', 'c', '한'];
  const model = modelConfig({ vocabSize: vocab.length, hiddenSize: 4 });
  const layout = modelLayout(model);
  const fill = (scale: number) => Float32Array.from({ length: layout.totalFloats }, () => rng.normal() * scale);
  return {
    vocab,
    model,
    train: trainConfig({ seqLength: 5, batchSize: 2, learningRate: 0.1, clip: 5 }),
    seed: 7,
    iter: 30,
    params: fill(0.1),
    training: training
      ? {
          optimizerState: fill(1).map(Math.abs),
          step: 30,
          learningRate: 0.1,
          hidden: new Float32Array(8).fill(0.5),
          cell: null,
          pointer: 10,
          smoothLoss: 40.5,
          rng: [1, 2, 3, 4],
        }
      : null,
    data: 'x.txt',
  };
}

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.nextU32() % xs.length];
const int = (rng: Rng, n: number): number => rng.nextU32() % n;

const WEIRD: unknown[] = [-1, -4096, 1.5, 2 ** 53, 1e20, 1e308, -0, NaN, null, true, '12', [], {}, [1, 2, 3], 'F32', ''];

/** One mutation of a valid file, and its kind. */
function mutate(rng: Rng, good: Uint8Array): { kind: string; bytes: Uint8Array } {
  const { header, data } = readHeader(good);
  const headerEnd = good.length - data.length;
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  const edit = (kind: string, f: (h: Header) => void) => {
    const h = structuredClone(header);
    f(h);
    return { kind, bytes: buildFile(h, data) };
  };
  const flip = (kind: string, from: number, to: number, count: number) => {
    const b = good.slice();
    for (let i = 0; i < count; i++) b[from + int(rng, to - from)] ^= 1 << int(rng, 8);
    return { kind, bytes: b };
  };
  switch (int(rng, 12)) {
    case 0:
      return { kind: 'truncation', bytes: good.slice(0, int(rng, good.length)) };
    case 1:
      return flip('header bit flip', 8, headerEnd, 1 + int(rng, 3));
    case 2:
      return flip('data bit flip', headerEnd, good.length, 1 + int(rng, 8));
    case 3: {
      const b = good.slice();
      const lengths = [2n ** 64n - 1n, 2n ** 63n, BigInt(good.length), BigInt(good.length - 7), 0n, 1n, BigInt(rng.nextU32()) * 65536n];
      new DataView(b.buffer).setBigUint64(0, pick(rng, lengths), true);
      return { kind: 'header length', bytes: b };
    }
    case 4:
      return edit('data_offsets', (h) => {
        const e = h[pick(rng, names)];
        e.data_offsets = pick(rng, [
          [pick(rng, WEIRD), e.data_offsets[1]],
          [e.data_offsets[0], pick(rng, WEIRD)],
          [-e.data_offsets[1], -e.data_offsets[0]],
          [e.data_offsets[0] + 4, e.data_offsets[1] + 4],
          [0, 2 ** 62],
          pick(rng, WEIRD),
        ]);
      });
    case 5:
      return edit('overlap', (h) => {
        const [a, b] = [pick(rng, names), pick(rng, names)];
        h[a].data_offsets = [...h[b].data_offsets];
        h[a].shape = [...h[b].shape];
      });
    case 6: {
      // A name given twice in the header text, the second time with another tensor's entry (JSON.parse keeps
      // the last): an overlap, unless the two names were the same.
      const name = pick(rng, names);
      const other = h2s(header[pick(rng, names)]);
      const text = JSON.stringify(header).replace(/\}$/, `,${JSON.stringify(name)}:${other}}`);
      return { kind: 'duplicate name', bytes: buildFile(text, data) };
    }
    case 7:
      return edit(
        'dtype',
        (h) => (h[pick(rng, names)].dtype = pick(rng, ['F16', 'BF16', 'F64', 'I64', 'U8', 'BOOL', 'f32', 42, null, ''])),
      );
    case 8:
      return edit('shape', (h) => {
        const e = h[pick(rng, names)];
        e.shape = pick(rng, [
          [pick(rng, WEIRD)],
          [...e.shape, 1],
          [2 ** 31, 2 ** 31],
          [],
          [0],
          e.shape.slice().reverse(),
          pick(rng, WEIRD),
        ]);
      });
    case 9:
      return edit('metadata types', (h) => {
        const key = pick(rng, ['format', 'vocab', 'config', 'iter', 'pointer', 'smooth_loss', 'rng', 'data', 'extra']);
        if (rng.uniform() < 0.2) h.__metadata__ = pick(rng, WEIRD);
        else h.__metadata__[key] = pick(rng, [...WEIRD, '-1', '1e3', 'NaN', '[]', '{}', '"x"', '[0,0,0,0]', '["a","a"]', '{"cell":"rnn"}']);
      });
    case 10:
      return edit('config fields', (h) => {
        const config = JSON.parse(h.__metadata__.config);
        config[pick(rng, ['cell', 'hidden', 'layers', 'vocab_size', 'seq', 'batch', 'lr', 'clip', 'seed'])] = pick(rng, [
          ...WEIRD,
          'lstm',
          2 ** 40,
        ]);
        h.__metadata__.config = JSON.stringify(config);
      });
    default:
      return edit('entry removed or replaced', (h) => {
        const name = pick(rng, [...names, '__metadata__']);
        if (rng.uniform() < 0.5) delete h[name];
        else h[name] = pick(rng, WEIRD);
      });
  }
}

function h2s(x: unknown): string {
  return JSON.stringify(x);
}

/** Runs f and returns the largest typed array or ArrayBuffer constructed meanwhile, in bytes. */
function largestAllocation(f: () => void): number {
  const g = globalThis as Record<string, unknown>;
  const originals = { ArrayBuffer, Uint8Array, Float32Array, Float64Array, Uint32Array } as Record<string, unknown>;
  let largest = 0;
  for (const [name, ctor] of Object.entries(originals)) {
    const bytesPer = name === 'ArrayBuffer' || name === 'Uint8Array' ? 1 : name === 'Float64Array' ? 8 : 4;
    const proxy: object = new Proxy(ctor as new (...a: unknown[]) => object, {
      construct(target, args, newTarget) {
        if (typeof args[0] === 'number') largest = Math.max(largest, args[0] * bytesPer);
        return Reflect.construct(target, args, newTarget === proxy ? target : newTarget);
      },
    });
    g[name] = proxy;
  }
  try {
    f();
  } finally {
    Object.assign(g, originals);
  }
  return largest;
}

const dir = mkdtempSync(join(tmpdir(), 'char-rnn-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test(
  `${IN_PROCESS} mutated checkpoints: a CheckpointError or a valid checkpoint, never another exception`,
  { timeout: 60_000 },
  async () => {
    const rng = new Rng(SEED);
    const goods = [encodeCheckpoint(checkpoint(rng, true)), encodeCheckpoint(checkpoint(rng, false))];
    // The tracker sees the decoder's arrays: a valid file allocates about its own size.
    expect(largestAllocation(() => decodeCheckpoint(goods[0], 'ck.safetensors'))).toBeGreaterThan(goods[0].length / 4);
    const counts = new Map<string, { refused: number; valid: number }>();
    const failures: Array<{ kind: string; bytes: Uint8Array }> = [];
    const t0 = performance.now();
    for (let n = 0; n < IN_PROCESS; n++) {
      const m = mutate(rng, goods[n % 2]);
      let error: unknown = null;
      const largest = largestAllocation(() => {
        try {
          decodeCheckpoint(m.bytes, 'ck.safetensors');
        } catch (e) {
          error = e;
        }
      });
      if (error !== null && !(error instanceof CheckpointError)) {
        throw new Error(`mutation ${n} (${m.kind}, seed ${SEED}) threw ${(error as Error).stack}`);
      }
      if (error) expect((error as Error).message).not.toMatch(/\n/);
      const outcome = error ? 'refused' : 'valid';
      // The flat layout pads each tensor to 256 bytes: at most 64 floats of padding for each of 13 tensors.
      expect(largest, `mutation ${n} (${m.kind})`).toBeLessThanOrEqual(m.bytes.length + 13 * 256);
      const c = counts.get(m.kind) ?? { refused: 0, valid: 0 };
      c[outcome]++;
      counts.set(m.kind, c);
      if (outcome === 'refused' && failures.length < THROUGH_CLI && n % 41 === 0) failures.push(m);
      if (m.kind === 'truncation' || m.kind === 'dtype') expect(outcome, `mutation ${n} (${m.kind})`).toBe('refused');
    }
    const ms = performance.now() - t0;
    console.log(`fuzz: ${IN_PROCESS} mutations in ${ms.toFixed(0)} ms (seed ${SEED}):`, Object.fromEntries(counts));
    for (const [i, m] of failures.entries()) writeFileSync(join(dir, `bad-${i}.safetensors`), m.bytes);
    expect(failures.length).toBe(THROUGH_CLI);
  },
);

test(`${THROUGH_CLI} of them through char-rnn eval: one line and exit code 2 each`, { timeout: 120_000 }, async () => {
  const text = join(dir, 'text.txt');
  writeFileSync(text, 'abc cab\n');
  for (let i = 0; i < THROUGH_CLI; i += 3) {
    const runs = await Promise.all(
      [i, i + 1, i + 2].map((j) => runCli(['eval', '--backend', 'cpu', '--checkpoint', join(dir, `bad-${j}.safetensors`), '--data', text])),
    );
    for (const r of runs) {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^char-rnn: [^\n]+\n$/);
    }
  }
});
