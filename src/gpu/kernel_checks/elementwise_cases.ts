import { derivedTolerance, randomSumError, times, WGSL } from './accuracy.ts';
import { dropout } from '../../cpu/dropout.ts';
import { embedding } from '../../cpu/embedding.ts';
import { embeddingBackward } from '../../cpu/embedding_backward.ts';
import { inputProjectionBackward } from '../../cpu/input_projection_backward.ts';
import type { Rng } from '../../model/rng.ts';
import { grid2d } from '../kernels.ts';
import { packInputs } from '../pack_inputs.ts';
import { randomArray, randomIds, type KernelCase, type KernelComparisons } from './runner.ts';

// The element-wise and scatter kernels around the recurrence: dropout, the embedding lookup and its
// scatter-add, the one-hot input projection's scatter-add and bias gradients, each against its CPU twin
// (the recurrence kernels are in cell_cases.ts, the optimizers' in optimizer_cases.ts).

export function elementGrid(k: KernelComparisons, count: number, WG: number): [number, number] {
  return grid2d(Math.ceil(count / WG), k.device.limits.maxComputeWorkgroupsPerDimension);
}

export function dropoutCases(): KernelCase[] {
  // [N, WG, BASE, P]: WG 1 with N = 70000 takes the 2-D grid (over 65535 workgroups) at a small size.
  const shapes: [number, number, number, number][] = [
    [1, 64, 0, 0.5],
    [65, 64, 12345, 0.25],
    [1000, 64, 7, 0.3],
    [1000, 64, 0xfffffff0, 0],
    [70000, 1, 3, 0.1],
  ];
  return shapes.map(([N, WG, BASE, P]) => ({
    group: 'dropout',
    name: `N=${N} WG=${WG} BASE=${BASE} P=${P}`,
    async run(k, rng) {
      const seed = rng.nextU32();
      const inp = randomArray(rng, N);
      const [out] = await k.run(
        'dropout',
        { N, BASE, P, WG },
        [{ uniform: new Uint32Array([seed, 0, 0, 0]) }, { input: inp }, { output: N }],
        elementGrid(k, N, WG),
      );
      const cpu = new Float32Array(N);
      dropout(cpu, inp, seed, BASE, N, P);
      // The mask is exact (a wrong one is off by |inp| / (1 - P)); a kept element is x / (1 - P) on the GPU,
      // after P's conversion to float32 and 1 - P, against float64 on the CPU.
      const tol = derivedTolerance({ ops: [times(2, WGSL.rounded), WGSL.div] });
      k.close(out, cpu, tol.atol, tol.rtol, 'out');
    },
  }));
}

/** [R, V, E]: 1s, a vocabulary larger than the rows (some ids absent), and E around the workgroup size. */
const TABLE_SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [6, 65, 7],
  [15, 7, 65],
  [4, 65, 100],
  [4, 5, 257],
];

function packed(rng: Rng, R: number, V: number): { ids: Uint32Array; inputs: Uint32Array } {
  const ids = randomIds(rng, R, V);
  const inputs = new Uint32Array(2 * R + V + 1);
  packInputs(inputs, ids, R, V);
  return { ids, inputs };
}

export function embeddingCases(): KernelCase[] {
  return TABLE_SHAPES.map(([R, V, E]) => ({
    group: 'embedding',
    name: `R=${R} V=${V} E=${E}`,
    async run(k, rng) {
      const weight = randomArray(rng, V * E);
      const { ids, inputs } = packed(rng, R, V);
      const WG = 64;
      const [x] = await k.run(
        'embedding',
        { R, E, WG },
        [{ input: weight }, { input: inputs }, { output: R * E }],
        elementGrid(k, R * E, WG),
      );
      const cpu = new Float32Array(R * E);
      embedding(cpu, weight, ids, R, E);
      const tol = derivedTolerance({ ops: [] }); // a copy: exact
      k.close(x, cpu, tol.atol, tol.rtol, 'x');
    },
  }));
}

/**
 * A scatter-add of up to R terms of random sign and at most 1 into a value of at most 1: float32 sums on
 * the GPU, and on the CPU too (its twin stores float32 after each term), so both sides' errors count.
 */
function scatterTolerance(R: number) {
  const sum = randomSumError(R + 1, R + 1);
  return derivedTolerance({ ops: [sum, sum] });
}

export function embeddingBackwardCases(): KernelCase[] {
  return TABLE_SHAPES.map(([R, V, E]) => ({
    group: 'embedding_backward',
    name: `R=${R} V=${V} E=${E}`,
    async run(k, rng) {
      // dweight adds into what is there, so it cannot be poisoned; rows of absent ids must come back as they were.
      const dweight = randomArray(rng, V * E);
      const dx = randomArray(rng, R * E);
      const { ids, inputs } = packed(rng, R, V);
      const WG = 64;
      const [gpu] = await k.run(
        'embedding_backward',
        { R, V, E, WG },
        [{ output: V * E, initial: dweight.slice() }, { input: dx }, { input: inputs }],
        elementGrid(k, V * E, WG),
      );
      embeddingBackward(dweight, dx, ids, R, E);
      const tol = scatterTolerance(R);
      k.close(gpu, dweight, tol.atol, tol.rtol, 'dweight');
    },
  }));
}

export function inputProjectionBackwardCases(): KernelCase[] {
  return TABLE_SHAPES.map(([R, V, N]) => ({
    group: 'input_projection_backward',
    name: `R=${R} V=${V} N=${N}`,
    async run(k, rng) {
      const dW = randomArray(rng, N * V);
      const dgates = randomArray(rng, R * N);
      const { ids, inputs } = packed(rng, R, V);
      const WG = 64;
      const [gpu] = await k.run(
        'input_projection_backward',
        { R, V, N, WG },
        [{ output: N * V, initial: dW.slice() }, { input: dgates }, { input: inputs }],
        elementGrid(k, N * V, WG),
      );
      inputProjectionBackward(dW, dgates, ids, R, N, V);
      const tol = scatterTolerance(R);
      k.close(gpu, dW, tol.atol, tol.rtol, 'dW');
    },
  }));
}
