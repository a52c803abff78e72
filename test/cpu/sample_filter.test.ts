import { describe, expect, test } from 'vitest';
import { drawCategorical } from '../../src/cpu/sample.ts';
import { drawTopKTopP, topKTopPWeights } from '../../src/cpu/sample_filter.ts';
import { Rng } from '../../src/model/rng.ts';

// Top-k and top-p on one step's logits, by hand: which ids keep their weight, and the draw.

const kept = (logits: number[], topK: number, topP: number, temperature = 1): number[] => {
  const w = new Float64Array(logits.length);
  topKTopPWeights(logits, temperature, topK, topP, w);
  return [...w.keys()].filter((v) => w[v] > 0);
};

describe('topKTopPWeights', () => {
  // Probabilities about 0.05, 0.61, 0.22, 0.08, 0.03, 0.01: ranks 2 0 1 3 4 5 is by logit.
  const logits = [1, 3.5, 2.5, 1.5, 0.5, -0.5];
  const p = logits.map(Math.exp);
  const total = p.reduce((a, b) => a + b);

  test('off (top-k 0, top-p 1) keeps everything with exp(logit - max) / temperature', () => {
    const w = new Float64Array(6);
    topKTopPWeights(logits, 2, 0, 1, w);
    w.forEach((x, v) => expect(x).toBeCloseTo(Math.exp((logits[v] - 3.5) / 2), 12));
  });

  test('top-k keeps the K largest logits', () => {
    expect(kept(logits, 1, 1)).toEqual([1]);
    expect(kept(logits, 2, 1)).toEqual([1, 2]);
    expect(kept(logits, 4, 1)).toEqual([0, 1, 2, 3]);
    expect(kept(logits, 6, 1)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(kept(logits, 99, 1)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  test('top-p keeps the smallest set of most likely ids whose mass reaches P', () => {
    const mass = (ids: number[]) => ids.reduce((a, v) => a + p[v], 0) / total;
    expect(kept(logits, 0, 0.1)).toEqual([1]); // the most likely id always stays
    expect(kept(logits, 0, mass([1]) - 1e-9)).toEqual([1]);
    expect(kept(logits, 0, mass([1]) + 1e-9)).toEqual([1, 2]);
    expect(kept(logits, 0, mass([1, 2, 3]) + 1e-9)).toEqual([0, 1, 2, 3]);
    expect(kept(logits, 0, 0.999999)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  test('top-p is measured within the top-k', () => {
    // Within the top 2 (p 0.61 and 0.22, renormalised 0.73 and 0.27), 0.7 needs only the first.
    expect(kept(logits, 2, 0.7)).toEqual([1]);
    expect(kept(logits, 2, 0.75)).toEqual([1, 2]);
  });

  test('ties rank the lower id first', () => {
    expect(kept([0, 2, 2, 2], 2, 1)).toEqual([1, 2]);
    expect(kept([5, 5], 1, 1)).toEqual([0]);
  });

  test('temperature sharpens the distribution that top-p sees', () => {
    expect(kept(logits, 0, 0.9, 1)).toEqual([1, 2, 3]);
    expect(kept(logits, 0, 0.9, 0.25)).toEqual([1]);
  });
});

test('drawTopKTopP: only kept ids, in proportion; with filtering off it is the plain categorical draw', () => {
  const logits = Float64Array.from([0.3, 2, -1, 1.2, 0.9, 2.1, -0.4]);
  const rng = new Rng(5);
  const counts = new Array(7).fill(0);
  for (let i = 0; i < 20000; i++) counts[drawTopKTopP(logits, 1, 3, 1, rng.uniform())]++;
  expect(counts.map((c, v) => (c > 0 ? v : -1)).filter((v) => v >= 0)).toEqual([1, 3, 5]);
  const e = [2, 1.2, 2.1].map((l) => Math.exp(l));
  const s = e[0] + e[1] + e[2];
  expect(counts[1] / 20000).toBeCloseTo(e[0] / s, 1);
  expect(counts[5] / 20000).toBeCloseTo(e[2] / s, 1);
  for (let i = 0; i < 1000; i++) {
    const u = rng.uniform();
    expect(drawTopKTopP(logits, 0.7, 0, 1, u)).toBe(drawCategorical(logits, 2.1, 0.7, u));
  }
});
