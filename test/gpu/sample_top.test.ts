import { afterAll, describe, expect, test } from 'vitest';
import { CpuBackend } from '../../src/cpu/backend.ts';
import { createBackend } from '../../src/create_backend.ts';
import { topKTopPWeights } from '../../src/cpu/sample_filter.ts';
import type { Backend, SampleRequest } from '../../src/model/backend.ts';
import { modelConfig, trainConfig } from '../../src/model/config.ts';
import { view } from '../../src/model/layout.ts';
import { Rng } from '../../src/model/rng.ts';
import { freshState, makeSession } from '../../src/model/session.ts';

// Top-k and top-p in shaders/sample.wgsl against src/cpu/sample_filter.ts. The two backends compute the
// logits in float32 and float64 (and exp, tanh differ), so the test compares the distribution each step
// draws from, not the text: (1) with Why = 0 every step draws from by itself, identical on both sides, and
// the ids must be identical; (2) with random weights, each id the GPU drew must be the one the CPU's
// filtered distribution gives for the same uniform draw, within a tolerance, along the GPU's own text.

const V = 23;
const H = 16;
const session = makeSession(
  modelConfig({ vocabSize: V, hiddenSize: H }),
  trainConfig({ seqLength: 5, batchSize: 1, learningRate: 0.1, clip: 5 }),
);
const state = freshState(session, new Rng(4));
const p = (name: string) => view(state.params, session.layout.byName[name]);
// Weights large enough for peaked distributions.
{
  const rng = new Rng(8);
  for (const name of ['rnn.weight_ih_l0', 'rnn.weight_hh_l0', 'decoder.weight', 'decoder.bias'])
    p(name).forEach((_, i, a) => (a[i] = rng.normal() * (name === 'rnn.weight_hh_l0' ? 0.3 : 1.5)));
}

let gpu: Backend;
let cpu: Backend;
afterAll(() => {
  gpu?.destroy();
  cpu?.destroy();
});

const SETTINGS: Array<{ topK: number; topP: number; temperature: number }> = [
  { topK: 1, topP: 1, temperature: 1 },
  { topK: 3, topP: 1, temperature: 1 },
  { topK: 0, topP: 0.5, temperature: 1 },
  { topK: 5, topP: 0.8, temperature: 0.7 },
  { topK: 0, topP: 0.9, temperature: 1.6 },
];

describe('top-k / top-p sampling on the GPU and the CPU', () => {
  test('with fixed logits (Why = 0) both backends draw the same ids', async () => {
    gpu = await createBackend('gpu', session.model, session.train, session.layout);
    cpu = new CpuBackend(session.model, session.train, session.layout); // the JavaScript reference
    const fixed = { ...state, params: state.params.slice() };
    view(fixed.params, session.layout.byName['decoder.weight']).fill(0);
    gpu.setState(fixed);
    cpu.setState(fixed);
    for (const s of SETTINGS) {
      const req: SampleRequest = { length: 300, primeIds: Uint32Array.of(0), argmax: false, from: 'zero', ...s };
      const [g, c] = [await gpu.sample(req, new Rng(21)), await cpu.sample(req, new Rng(21))];
      expect([...g], JSON.stringify(s)).toEqual([...c]);
      const distinct = new Set(g).size;
      if (s.topK > 0) expect(distinct).toBeLessThanOrEqual(s.topK);
    }
  });

  test("each GPU draw is the CPU's draw from the same filtered distribution, along the GPU's text", async () => {
    gpu.setState(state);
    const by = p('decoder.bias');
    const [Wxh, Whh, Why] = [p('rnn.weight_ih_l0'), p('rnn.weight_hh_l0'), p('decoder.weight')];
    for (const s of SETTINGS) {
      const prime = Uint32Array.of(3, 1, 4);
      const req: SampleRequest = { length: 80, primeIds: prime, argmax: false, from: 'zero', ...s };
      const ids = await gpu.sample(req, new Rng(33));
      const u = new Rng(33);
      // The CPU reference (float64) fed the prime and then the GPU's ids.
      let h = new Float64Array(H);
      const feed = (x: number) => {
        const next = new Float64Array(H);
        for (let i = 0; i < H; i++) {
          let acc = Wxh[i * V + x] + p('rnn.bias_ih_l0')[i];
          for (let j = 0; j < H; j++) acc += Whh[i * H + j] * h[j];
          next[i] = Math.tanh(acc);
        }
        h = next;
      };
      prime.forEach(feed);
      const w = new Float64Array(V);
      let worst = 0;
      for (const id of ids) {
        const logits = Float64Array.from({ length: V }, (_, v) => {
          let acc = by[v];
          for (let i = 0; i < H; i++) acc += Why[v * H + i] * h[i];
          return acc;
        });
        topKTopPWeights(logits, s.temperature, s.topK, s.topP, w);
        const total = w.reduce((a, b) => a + b, 0);
        const threshold = u.uniform();
        // The GPU's id covers [before, before + w[id]) of the CPU's normalised CDF: u must fall there.
        let before = 0;
        for (let v = 0; v < id; v++) before += w[v];
        const [lo, hi] = [before / total, (before + w[id]) / total];
        const miss = Math.max(0, lo - threshold, threshold - hi);
        worst = Math.max(worst, miss);
        expect(w[id] > 0 || miss < 1e-4, `${JSON.stringify(s)}: id ${id} has no weight on the CPU`).toBe(true);
        feed(id);
      }
      expect(worst, JSON.stringify(s)).toBeLessThan(1e-4);
    }
  });
});
