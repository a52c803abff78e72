import { Session } from 'node:inspector/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { MatmulShape } from '../../src/cpu/matmul.ts';
import { Rng } from '../../src/model/rng.ts';
import { loadCpuKernels, type CpuKernels } from '../../src/wasm/kernels.ts';

// Results do not depend on the thread count: 1, 2 and 3 threads give the same bits for every transposition
// case, with accumulate and bias, at shapes whose rows or columns do not split evenly. And a kernel call
// allocates nothing once it has run.

let one: CpuKernels;
let two: CpuKernels;
let three: CpuKernels;
beforeAll(async () => {
  [one, two, three] = await Promise.all([
    loadCpuKernels({ threads: 1 }),
    loadCpuKernels({ threads: 2, minParallelWork: 0 }),
    loadCpuKernels({ threads: 3, minParallelWork: 0 }),
  ]);
});
afterAll(() => {
  for (const k of [one, two, three]) k.close();
});

it('reports its threads', () => {
  expect([one.threads, two.threads, three.threads]).toEqual([1, 2, 3]);
  expect(two.description).toBe('cpu-wasm-simd x2 threads');
  expect(one.description).toBe('cpu-wasm-simd x1 thread');
  expect(two.note).toBeNull();
});

it('runs a matmul dispatched as soon as the threads are up', async () => {
  // The first job once raced with the workers' start and was never picked up.
  for (let i = 0; i < 5; i++) {
    const k = await loadCpuKernels({ threads: 2, minParallelWork: 0 });
    const x = k.alloc(3).fill(2);
    const c = k.alloc(3);
    k.matmul(c, x, x, null, { batch: 3, M: 1, N: 1, K: 1, transA: false, transB: false, accumulate: false });
    expect(Array.from(c)).toEqual([4, 4, 4]);
    k.close();
  }
});

it('gives bitwise identical matmuls on 1, 2 and 3 threads', () => {
  const seed = (Date.now() ^ Math.floor(Math.random() * 2 ** 31)) >>> 0;
  const shapes: [number, number, number, number][] = [
    [1, 257, 100, 65],
    [1, 100, 257, 300],
    [1, 33, 1000, 17],
    [3, 17, 65, 7],
    [1, 1, 513, 100],
  ];
  for (const [batch, M, N, K] of shapes) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        for (const accumulate of [false, true]) {
          const s: MatmulShape = { batch, M, N, K, transA, transB, accumulate };
          const rng = new Rng(seed);
          const a = new Float32Array(batch * M * K).map(() => rng.uniform() * 2 - 1);
          const b = new Float32Array(batch * K * N).map(() => rng.uniform() * 2 - 1);
          const bias = new Float32Array(N).map(() => rng.uniform() * 2 - 1);
          const c = new Float32Array(batch * M * N).map(() => rng.uniform() * 2 - 1);
          const results = [one, two, three].map((k) => {
            const [ka, kb, kbias, kc] = [a, b, bias, c].map((x) => k.alloc(x.length).fill(0));
            ka.set(a);
            kb.set(b);
            kbias.set(bias);
            kc.set(c);
            k.matmul(kc, ka, kb, kbias, s);
            return new Uint32Array(kc.buffer, kc.byteOffset, kc.length);
          });
          const what = `seed ${seed} ${JSON.stringify(s)}`;
          expect(results[1], `2 threads, ${what}`).toEqual(results[0]);
          expect(results[2], `3 threads, ${what}`).toEqual(results[0]);
        }
      }
    }
  }
});

it('gives the same bits in an unshared memory (a page without cross-origin isolation), which never detaches a view', async () => {
  const single = await loadCpuKernels({ threads: 2, unsharedMemory: true, memoryBytes: 4 * 2 ** 20 });
  try {
    expect(single.threads).toBe(1);
    expect(single.note).toMatch(/one thread/);
    const s: MatmulShape = { batch: 1, M: 65, N: 100, K: 257, transA: false, transB: true, accumulate: true };
    const results = [single, two].map((k) => {
      const rng = new Rng(7);
      const [a, b, bias, c] = [s.M * s.K, s.N * s.K, s.N, s.M * s.N].map((n) => {
        const x = k.alloc(n);
        for (let i = 0; i < n; i++) x[i] = rng.uniform() * 2 - 1;
        return x;
      });
      k.matmul(c, a, b, bias, s);
      return new Uint32Array(c.buffer, c.byteOffset, c.length);
    });
    expect(results[0]).toEqual(results[1]);
    const kept = single.alloc(4).fill(3);
    expect(() => single.alloc(2 ** 20)).toThrow(/cannot grow without detaching/);
    expect(Array.from(kept)).toEqual([3, 3, 3, 3]);
  } finally {
    single.close();
  }
});

it('allocates nothing per call after the first', async () => {
  const k = two;
  const H = 128;
  const R = 64;
  const h = k.alloc(R * H).fill(0.5);
  const w = k.alloc(H * H).fill(0.25);
  const out = k.alloc(R * H);
  const bias = k.alloc(H);
  const params = k.alloc(H * H);
  const grads = k.alloc(H * H);
  const mem = k.alloc(H * H);
  const db = k.alloc(H);
  const settings = Float64Array.of(0.1, 5, 1e-8);
  const forward: MatmulShape = { batch: 1, M: R, N: H, K: H, transA: false, transB: true, accumulate: false };
  const weightGrad: MatmulShape = { batch: 1, M: H, N: H, K: R, transA: true, transB: false, accumulate: true };
  const small: MatmulShape = { batch: 1, M: 1, N: 7, K: 3, transA: false, transB: false, accumulate: false };
  const calls = () => {
    k.matmul(out, h, w, bias, forward); // split between the threads
    k.matmul(grads, out, h, null, weightGrad);
    k.matmul(out, h, w, null, small);
    k.biasGrad(db, out, R, H);
    k.update('adagrad', params, grads, mem, H * H, settings, 1);
  };
  for (let i = 0; i < 2000; i++) calls(); // optimised code
  const session = new Session();
  session.connect();
  try {
    const sampling = { samplingInterval: 64, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true };
    await session.post('HeapProfiler.startSampling', sampling as object);
    const rounds = 1000;
    for (let i = 0; i < rounds; i++) calls();
    const { profile } = await session.post('HeapProfiler.stopSampling');
    // Only what the calls allocate: the profiler's own messages are in the profile too.
    let bytes = 0;
    const walk = (n: typeof profile.head, inCalls: boolean): void => {
      const here = inCalls || n.callFrame.functionName === 'calls';
      if (here) bytes += n.selfSize;
      n.children.forEach((c) => walk(c, here));
    };
    walk(profile.head, false);
    // Five calls a round; one object of any kind per call would be 16 bytes or more a call.
    expect(bytes / rounds / 5).toBeLessThan(4);
  } finally {
    session.disconnect();
  }
});
