import { expect, test } from 'vitest';
import { Rng } from '../../src/model/rng.ts';

// Reference values computed independently (Python, from the documented algorithm: SplitMix32-style seeding
// with x += 0x9e3779b9 and the murmur3 finaliser, then xoshiro128** 1.0).
const REFERENCE: Record<number, { state: number[]; first: number[] }> = {
  0: { state: [0x92ca2f0e, 0x3cd6e3f3, 0x1b147dcc, 0x4c081dbf], first: [3809008728, 1133695204, 53579671, 2891528803, 139681546] },
  42: { state: [0x3805ea2c, 0xeb5cd984, 0x1327aacb, 0xc5ba443d], first: [2837322924, 544945897, 479756282, 3500138142, 339756180] },
  12345: { state: [0x479199b4, 0x30c2cbd5, 0x3b5fd909, 0x8ee55794], first: [518667457, 440444462, 4232892992, 3757857622, 3939018813] },
};

test('seeding and the first outputs match the reference', () => {
  for (const [seed, ref] of Object.entries(REFERENCE)) {
    const rng = new Rng(Number(seed));
    expect(rng.state()).toEqual(ref.state);
    expect(Array.from({ length: 5 }, () => rng.nextU32())).toEqual(ref.first);
  }
});

test('uniform takes the top 24 bits', () => {
  const rng = new Rng(42);
  expect([rng.uniform(), rng.uniform(), rng.uniform()]).toEqual([0.6606156826019287, 0.12688004970550537, 0.11170190572738647]);
});

test('same seed, same stream; fromState continues exactly', () => {
  const a = new Rng(7);
  const b = new Rng(7);
  for (let i = 0; i < 100; i++) a.nextU32();
  for (let i = 0; i < 100; i++) b.nextU32();
  const c = Rng.fromState(a.state());
  const next = Array.from({ length: 10 }, () => a.normal());
  expect(Array.from({ length: 10 }, () => b.normal())).toEqual(next);
  expect(Array.from({ length: 10 }, () => c.normal())).toEqual(next);
  expect(next.every(Number.isFinite)).toBe(true);
  expect(() => Rng.fromState([1, 2, 3])).toThrow();
  expect(() => Rng.fromState([1, 2, 3, 2 ** 32])).toThrow();
});

test('normal draws have about zero mean and unit variance', () => {
  const rng = new Rng(1);
  const n = 20000;
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < n; i++) {
    const x = rng.normal();
    sum += x;
    sq += x * x;
  }
  expect(Math.abs(sum / n)).toBeLessThan(0.03);
  expect(Math.abs(sq / n - 1)).toBeLessThan(0.05);
});
