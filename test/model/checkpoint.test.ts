import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { CheckpointError, decodeCheckpoint, encodeCheckpoint, type Checkpoint } from '../../src/model/checkpoint.ts';
import { loadCheckpoint, saveCheckpoint } from '../../src/model/checkpoint_file.ts';
import { view } from '../../src/model/layout.ts';
import { Rng } from '../../src/model/rng.ts';
import { modelLayout } from '../../src/model/model_tensors.ts';
import { encodeSafetensors } from '../../src/model/safetensors.ts';
import { buildFile, editHeader, readHeader } from '../helpers/safetensors_edit.ts';
import { modelConfig, trainConfig } from '../../src/model/config.ts';
import { optimizerConfig } from '../../src/model/optimizers.ts';

const H = 4;
const VOCAB = ['\n', 'a', 'b', '한', '😀'];
const V = VOCAB.length;
const B = 2;

function makeCheckpoint(): Checkpoint {
  const model = modelConfig({ vocabSize: V, hiddenSize: H });
  const layout = modelLayout(model);
  const rng = new Rng(5);
  const params = new Float32Array(layout.totalFloats);
  const mem = new Float32Array(layout.totalFloats);
  for (const t of layout.tensors) {
    view(params, t).forEach((_, i, a) => (a[i] = rng.normal()));
    view(mem, t).forEach((_, i, a) => (a[i] = rng.uniform() * 10));
  }
  // Values a careless writer would lose: -0, a subnormal, the largest float32.
  const by = view(params, layout.byName['decoder.bias']);
  by[0] = -0;
  by[1] = 1e-40;
  by[2] = 3.4028234663852886e38;
  return {
    vocab: VOCAB,
    model,
    train: trainConfig({ seqLength: 7, batchSize: B, learningRate: 0.05, clip: 5 }),
    seed: 123,
    iter: 200,
    params,
    training: {
      optimizerState: mem,
      step: 200,
      learningRate: 0.05,
      hidden: Float32Array.from({ length: B * H }, () => rng.normal()),
      cell: null,
      pointer: 1400,
      smoothLoss: 54.123456789012345,
      rng: rng.state(),
    },
    data: '/tmp/corpus.txt',
  };
}

const bitsOf = (a: Float32Array) => [...new Uint32Array(a.buffer, a.byteOffset, a.length)];

describe('round trip', () => {
  test('is bit-exact', () => {
    const ck = makeCheckpoint();
    const bytes = encodeCheckpoint(ck);
    const back = decodeCheckpoint(bytes, 'ck');
    expect(bitsOf(back.params)).toEqual(bitsOf(ck.params));
    expect(bitsOf(back.training!.optimizerState)).toEqual(bitsOf(ck.training!.optimizerState));
    expect(bitsOf(back.training!.hidden)).toEqual(bitsOf(ck.training!.hidden));
    expect(back.training!.smoothLoss).toBe(ck.training!.smoothLoss);
    expect(back.training!.rng).toEqual(ck.training!.rng);
    expect(back.training!.pointer).toBe(1400);
    expect(back.iter).toBe(200);
    expect(back.seed).toBe(123);
    expect(back.vocab).toEqual(VOCAB);
    expect(back.model).toEqual(ck.model);
    expect(back.train).toEqual(ck.train);
    expect(back.data).toBe('/tmp/corpus.txt');
    expect(encodeCheckpoint(back)).toEqual(bytes);
  });

  test('writes a safetensors file with PyTorch names', () => {
    const bytes = encodeCheckpoint(makeCheckpoint());
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const { header, data } = readHeader(bytes);
    const shapes = Object.fromEntries(
      Object.entries(header)
        .filter(([k]) => k !== '__metadata__')
        .map(([k, v]) => [k, v.shape]),
    );
    expect(shapes).toEqual({
      'rnn.weight_ih_l0': [H, V],
      'rnn.weight_hh_l0': [H, H],
      'rnn.bias_ih_l0': [H],
      'rnn.bias_hh_l0': [H],
      'decoder.weight': [V, H],
      'decoder.bias': [V],
      'train.adagrad.sum.rnn.weight_ih_l0': [H, V],
      'train.adagrad.sum.rnn.weight_hh_l0': [H, H],
      'train.adagrad.sum.rnn.bias_ih_l0': [H],
      'train.adagrad.sum.decoder.weight': [V, H],
      'train.adagrad.sum.decoder.bias': [V],
      'train.hidden': [1, B, H],
    });
    for (const [k, v] of Object.entries(header)) if (k !== '__metadata__') expect(v.dtype).toBe('F32');
    const ends = Object.values(header)
      .filter((v) => v.data_offsets)
      .map((v) => v.data_offsets[1]);
    expect(Math.max(...ends)).toBe(data.length);
    const meta = header.__metadata__;
    expect(Object.values(meta).every((v) => typeof v === 'string')).toBe(true);
    expect(meta.format).toBe('webgpu-char-rnn/1');
    expect(JSON.parse(meta.vocab)).toEqual(VOCAB);
    expect(JSON.parse(meta.config)).toEqual({
      cell: 'rnn',
      hidden: H,
      layers: 1,
      embed: 0,
      dropout: 0,
      vocab_size: V,
      seq: 7,
      batch: B,
      optimizer: 'adagrad',
      lr: 0.05,
      alpha: 0.95,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weight_decay: 0,
      clip: 5,
      clip_norm: 0,
      lr_decay: 1,
      lr_decay_after: 0,
      val_frac: 0,
      seed: 123,
    });
    expect(meta.iter).toBe('200');
    expect(meta.step).toBe('200');
    expect(meta.lr).toBe('0.05');
    expect(meta.pointer).toBe('1400');
    expect(meta.data).toBe('/tmp/corpus.txt');
    expect(JSON.parse(meta.rng)).toHaveLength(4);
    // bias_hh is all zeros.
    const [b0, b1] = header['rnn.bias_hh_l0'].data_offsets;
    expect([...new Float32Array(data.slice(b0, b1).buffer)]).toEqual([0, 0, 0, 0]);
  });

  test('Adam and RMSprop state: PyTorch state keys per tensor, step and learning rate, bit-exact', () => {
    for (const type of ['adam', 'rmsprop'] as const) {
      const base = makeCheckpoint();
      const n = modelLayout(base.model).totalFloats;
      const keys = type === 'adam' ? ['exp_avg', 'exp_avg_sq'] : ['square_avg'];
      const layout = modelLayout(base.model);
      // Values in every tensor's slot; the alignment padding between them stays zero, as in the engine.
      const state = new Float32Array(keys.length * n);
      keys.forEach((_, k) => {
        for (const t of layout.tensors) view(state.subarray(k * n), t).forEach((_, i, a) => (a[i] = ((i + k) % 7) * 0.25 - 0.5));
      });
      const ck: Checkpoint = {
        ...base,
        train: trainConfig({
          seqLength: 7,
          batchSize: B,
          optimizer: optimizerConfig(type, { weightDecay: 0.125 }),
          clip: 0,
          clipNorm: 2,
          lrDecay: 0.97,
          lrDecayAfter: 3,
          valFrac: 0.1,
        }),
        training: { ...base.training!, optimizerState: state, step: 37, learningRate: 0.0015 },
        bestVal: { loss: 1.4375, iter: 180 },
      };
      const bytes = encodeCheckpoint(ck);
      const names = Object.keys(readHeader(bytes).header);
      for (const key of keys) expect(names).toContain(`train.${type}.${key}.rnn.weight_hh_l0`);
      expect(names.filter((k) => k.startsWith(`train.${type}.`))).toHaveLength(keys.length * 5);
      const back = decodeCheckpoint(bytes, 'ck');
      expect(bitsOf(back.training!.optimizerState)).toEqual(bitsOf(state));
      expect(back.training!.step).toBe(37);
      expect(back.training!.learningRate).toBe(0.0015);
      expect(back.train).toEqual(ck.train);
      expect(back.bestVal).toEqual({ loss: 1.4375, iter: 180 });
      expect(encodeCheckpoint(back)).toEqual(bytes);
    }
  });

  test('checkpoints from before the other optimizers load: train.adagrad.<name>, no step or lr', () => {
    const ck = makeCheckpoint();
    const old = editHeader(encodeCheckpoint(ck), (h) => {
      for (const k of Object.keys(h)) {
        if (k.startsWith('train.adagrad.sum.')) {
          h[k.replace('train.adagrad.sum.', 'train.adagrad.')] = h[k];
          delete h[k];
        }
      }
      const config = JSON.parse(h.__metadata__.config);
      for (const k of ['optimizer', 'alpha', 'betas', 'eps', 'weight_decay', 'clip_norm', 'lr_decay', 'lr_decay_after', 'val_frac'])
        delete config[k];
      h.__metadata__.config = JSON.stringify(config);
      delete h.__metadata__.step;
      delete h.__metadata__.lr;
    });
    const back = decodeCheckpoint(old, 'old');
    expect(bitsOf(back.training!.optimizerState)).toEqual(bitsOf(ck.training!.optimizerState));
    expect(back.training!.step).toBe(ck.iter);
    expect(back.training!.learningRate).toBe(0.05);
    expect(back.train).toEqual(ck.train);
  });

  test('a PyTorch-written checkpoint loads: bias_hh added to bias_ih, any tensor order, unpadded header', () => {
    const ck = makeCheckpoint();
    const layout = modelLayout(ck.model);
    const t = (name: string) => view(ck.params, layout.byName[name]);
    const biasHh = Float32Array.of(0.5, -0.25, 0, 2);
    const bytes = encodeSafetensors(
      [
        ['decoder.bias', { shape: [V], data: t('decoder.bias') }],
        ['decoder.weight', { shape: [V, H], data: t('decoder.weight') }],
        ['rnn.bias_hh_l0', { shape: [H], data: biasHh }],
        ['rnn.bias_ih_l0', { shape: [H], data: t('rnn.bias_ih_l0') }],
        ['rnn.weight_hh_l0', { shape: [H, H], data: t('rnn.weight_hh_l0') }],
        ['rnn.weight_ih_l0', { shape: [H, V], data: t('rnn.weight_ih_l0') }],
      ],
      {
        format: 'webgpu-char-rnn/1',
        vocab: JSON.stringify(VOCAB),
        config: JSON.stringify({ cell: 'rnn', hidden: H, layers: 1, vocab_size: V }),
        iter: '0',
      },
    );
    const { header, data } = readHeader(bytes);
    const unpadded = buildFile(JSON.stringify(header).padEnd(JSON.stringify(header).length + 3, ' '), data, false);
    for (const file of [bytes, unpadded]) {
      const back = decodeCheckpoint(file, 'torch');
      expect(back.training).toBeNull();
      const bh = view(back.params, layout.byName['rnn.bias_ih_l0']);
      expect([...bh]).toEqual([...t('rnn.bias_ih_l0')].map((v, i) => Math.fround(v + biasHh[i])));
      expect(bitsOf(view(back.params, layout.byName['decoder.weight']))).toEqual(bitsOf(t('decoder.weight')));
      expect(back.train.seqLength).toBe(25); // min-char-rnn's, for a config without training fields
    }
  });

  test('save is atomic: the file appears whole, no temporary file is left', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'char-rnn-ck-'));
    try {
      const path = join(dir, 'model.safetensors');
      const ck = makeCheckpoint();
      await saveCheckpoint(path, ck);
      await saveCheckpoint(path, ck); // over an existing file
      expect(readdirSync(dir)).toEqual(['model.safetensors']);
      expect(new Uint8Array(readFileSync(path))).toEqual(encodeCheckpoint(ck));
      expect(bitsOf((await loadCheckpoint(path)).params)).toEqual(bitsOf(ck.params));
      await expect(saveCheckpoint(join(dir, 'missing', 'x.safetensors'), ck)).rejects.toThrow(CheckpointError);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});

describe('bad checkpoints give one-line CheckpointErrors', () => {
  const good = encodeCheckpoint(makeCheckpoint());
  const bad = (bytes: Uint8Array) => () => decodeCheckpoint(bytes, 'ck.safetensors');
  const expectError = (bytes: Uint8Array, message: string | RegExp) => {
    expect(bad(bytes)).toThrow(CheckpointError);
    expect(bad(bytes)).toThrow(message);
    try {
      decodeCheckpoint(bytes, 'ck.safetensors');
    } catch (e) {
      expect((e as Error).message).not.toContain('\n');
      expect((e as Error).message.startsWith('ck.safetensors: ')).toBe(true);
    }
  };
  const meta = (edit: (m: Record<string, string>) => void) => editHeader(good, (h) => edit(h.__metadata__));
  const config = (edit: (c: Record<string, unknown>) => void) =>
    meta((m) => {
      const c = JSON.parse(m.config);
      edit(c);
      m.config = JSON.stringify(c);
    });

  test('truncated', () => {
    expectError(good.subarray(0, 5), 'truncated: 5 bytes');
    expectError(good.subarray(0, 40), /truncated: the header length is \d+ bytes but only 32 bytes follow/);
    expectError(good.subarray(0, good.length - 4), /out of range.*truncated/);
  });

  test('header', () => {
    const { data } = readHeader(good);
    expectError(buildFile('{"rnn.weight_ih_l0": [1, 2', data), 'the header is not valid JSON');
    expectError(buildFile('[1, 2, 3]', data), 'the header is not a JSON object');
    const huge = good.slice();
    new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
    expectError(huge, 'not plausible');
  });

  test('tensor names', () => {
    expectError(
      editHeader(good, (h) => {
        h['rnn.weight_ih_l1'] = h['rnn.weight_ih_l0'];
        delete h['rnn.weight_ih_l0'];
      }),
      'unexpected tensor rnn.weight_ih_l1',
    );
    expectError(
      editHeader(good, (h) => delete h['decoder.bias']),
      'missing tensor decoder.bias',
    );
    expectError(
      editHeader(good, (h) => delete h['train.hidden']),
      'missing tensor train.hidden',
    );
  });

  test('shapes, dtypes and offsets', () => {
    expectError(
      editHeader(good, (h) => (h['rnn.weight_hh_l0'].shape = [H * H])),
      `tensor rnn.weight_hh_l0 has shape [${H * H}], expected [${H}, ${H}]`,
    );
    expectError(
      editHeader(good, (h) => (h['rnn.weight_ih_l0'].shape = [V, H])),
      `tensor rnn.weight_ih_l0 has shape [${V}, ${H}], expected [${H}, ${V}]`,
    );
    expectError(
      editHeader(good, (h) => (h['decoder.bias'].dtype = 'F16')),
      'tensor decoder.bias has dtype F16; only F32 is supported',
    );
    expectError(
      editHeader(good, (h) => (h['decoder.bias'].dtype = 'BF16')),
      'only F32',
    );
    expectError(
      editHeader(good, (h) => (h['decoder.bias'].data_offsets = [0, 8])),
      /do not hold 5 float32 values/,
    );
    expectError(
      editHeader(good, (h) => {
        const [b, e] = h['decoder.bias'].data_offsets;
        h['decoder.bias'].data_offsets = [b + 100000, e + 100000];
      }),
      /tensor decoder.bias: data_offsets .* are out of range/,
    );
    expectError(
      editHeader(
        good,
        (h) =>
          (h['decoder.bias'].data_offsets = h['rnn.weight_ih_l0'].data_offsets.map((x: number, i: number) =>
            i === 0 ? x : x - 4 * (H * V - V),
          )),
      ),
      /overlap/,
    );
    expectError(
      editHeader(good, (h) => (h['decoder.bias'].shape = [-5])),
      'shape is not a list of non-negative integers',
    );
  });

  test('vocabulary against config and tensors', () => {
    // One character fewer than the tensors are wide.
    expectError(
      meta((m) => (m.vocab = JSON.stringify(VOCAB.slice(0, 4)))),
      `the vocabulary has 4 characters but config.vocab_size is ${V}`,
    );
    const both = meta((m) => {
      m.vocab = JSON.stringify(VOCAB.slice(0, 4));
      const c = JSON.parse(m.config);
      c.vocab_size = 4;
      m.config = JSON.stringify(c);
    });
    expectError(
      both,
      `tensor rnn.weight_ih_l0 has shape [${H}, ${V}], expected [${H}, 4] for a 1-layer rnn with hidden size ${H}, one-hot input and a vocabulary of 4`,
    );
    expectError(
      meta((m) => (m.vocab = JSON.stringify(['a', 'a', 'b', 'c', 'd']))),
      'repeated character',
    );
    expectError(
      meta((m) => (m.vocab = JSON.stringify(['ab', 'c', 'd', 'e', 'f']))),
      'is not one character',
    );
    expectError(
      meta((m) => (m.vocab = 'abcde')),
      '__metadata__.vocab is not valid JSON',
    );
  });

  test('metadata', () => {
    expectError(
      meta((m) => delete m.format),
      'training state (train.*) in a file without __metadata__.format',
    );
    expectError(
      meta((m) => (m.format = 'other/2')),
      'unsupported format "other/2"',
    );
    expectError(
      meta((m) => delete m.iter),
      '__metadata__ has no iter',
    );
    expectError(
      meta((m) => (m.iter = '-3')),
      '__metadata__.iter is not a non-negative integer',
    );
    expectError(
      meta((m) => (m.pointer = '1.5')),
      '__metadata__.pointer is not a non-negative integer',
    );
    expectError(
      meta((m) => (m.smooth_loss = 'low')),
      '__metadata__.smooth_loss is not a number',
    );
    expectError(
      meta((m) => (m.rng = '[1,2,3]')),
      '__metadata__.rng is not four unsigned 32-bit integers',
    );
    expectError(
      meta((m) => (m.rng = '[0,0,0,0]')),
      '__metadata__.rng',
    );
    expectError(
      meta((m) => (m.config = '{')),
      '__metadata__.config is not valid JSON',
    );
    expectError(
      config((c) => (c.cell = 'lstm')),
      `tensor rnn.weight_ih_l0 has shape [${H}, ${V}], expected [${4 * H}, ${V}] for a 1-layer lstm`,
    );
    expectError(
      config((c) => (c.cell = 'gru2')),
      '__metadata__.config.cell is "gru2"; expected one of rnn, lstm, gru',
    );
    expectError(
      config((c) => (c.layers = 2)),
      `missing tensor rnn.weight_ih_l1 [${H}, ${H}] (for a 2-layer rnn`,
    );
    expectError(
      config((c) => (c.layers = 5)),
      '__metadata__.config.layers is 5; at most 4 are supported',
    );
    expectError(
      config((c) => (c.hidden = 0)),
      '__metadata__.config.hidden is not a positive integer',
    );
    expectError(
      config((c) => (c.lr = 'fast')),
      '__metadata__.config.lr is not a positive number',
    );
    expectError(
      editHeader(good, (h) => (h.__metadata__.iter = 200)),
      '__metadata__.iter is not a string',
    );
  });
});
