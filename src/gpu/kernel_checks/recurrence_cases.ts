import { rnnPersistent } from '../../cpu/rnn_persistent.ts';
import { rnnPersistentBackward } from '../../cpu/rnn_persistent_backward.ts';
import { rnnStep } from '../../cpu/rnn_step.ts';
import { rnnStepBackwardFused } from '../../cpu/rnn_step_backward_fused.ts';
import type { Rng } from '../../model/rng.ts';
import { randomArray, randomIds, type KernelCase } from './runner.ts';

// The recurrence over a window's T steps: the per-step kernels (rnn_step forward, rnn_step_backward_fused)
// and the persistent ones that loop over the steps inside one dispatch. Tolerances: float32 on the GPU
// against float64 accumulation on the CPU, over sums of at most a few hundred terms of size ~1.

// [T, B, H, V]: 1s, one past a SIMD width, sizes around the 64-wide workgroups, and H = 257 > 256 invocations.
export const WINDOW_SHAPES: [number, number, number, number][] = [
  [1, 1, 1, 1],
  [3, 2, 7, 65],
  [5, 3, 65, 7],
  [4, 1, 100, 65],
  [2, 2, 257, 5],
];

export function rnnStepCases(): KernelCase[] {
  const shapes = [
    [1, 1, 1],
    [3, 7, 65],
    [2, 1, 257],
    [4, 100, 7],
  ];
  return shapes.map(([T, B, H]) => ({
    group: 'rnn_step',
    name: `T=${T} B=${B} H=${H}`,
    async run(k, rng) {
      const xproj = randomArray(rng, T * B * H);
      const Whh = randomArray(rng, H * H, 1 / Math.sqrt(H));
      const hs0 = randomArray(rng, (T + 1) * B * H);
      for (let t = 0; t < T; t++) {
        // Step t reads hs[t] and writes hs[t+1], which starts poisoned; the rest of hs must come back untouched.
        const initial = hs0.slice().fill(NaN, (t + 1) * B * H, (t + 2) * B * H);
        const [hs] = await k.run(
          'rnn_step',
          { B, H, WG: 64 },
          [{ uniform: new Uint32Array([t, 0, 0, 0]) }, { input: xproj }, { input: Whh }, { output: initial.length, initial }],
          [Math.ceil(H / 64), B],
        );
        const cpu = hs0.slice();
        rnnStep(cpu, xproj, Whh, t, B, H);
        k.close(hs, cpu, 1e-5, 1e-5, `hs after step ${t}`, 'hs');
      }
    },
  }));
}

/** A (T+1, B, H) hidden-state buffer: hs[0] given, the rest poisoned. */
function poisonedHs(rng: Rng, T: number, B: number, H: number): Float32Array {
  const hs = new Float32Array((T + 1) * B * H).fill(NaN);
  hs.set(randomArray(rng, B * H));
  return hs;
}

export function rnnPersistentCases(): KernelCase[] {
  return WINDOW_SHAPES.flatMap(([T, B, H, V]) =>
    [4, 64].map((WG) => ({
      group: 'rnn_persistent',
      name: `T=${T} B=${B} H=${H} V=${V} workgroup ${WG}`,
      async run(k, rng) {
        const Wxh = randomArray(rng, H * V, 0.5);
        const bh = randomArray(rng, H, 0.5);
        const Whh = randomArray(rng, H * H, 1 / Math.sqrt(H));
        const inputs = randomIds(rng, T * B, V);
        const hs = poisonedHs(rng, T, B, H);
        const [gpuHs] = await k.run(
          'rnn_persistent',
          { T, B, H, V, WG },
          [{ input: Wxh }, { input: bh }, { input: Whh }, { input: inputs }, { output: hs.length, initial: hs }],
          [B],
        );
        rnnPersistent(hs, Wxh, bh, Whh, inputs, T, B, H, V);
        k.close(gpuHs, hs, 1e-5, 1e-4, 'hs');
      },
    })),
  );
}

export function rnnPersistentBackwardCases(): KernelCase[] {
  return WINDOW_SHAPES.flatMap(([T, B, H, V]) =>
    [4, 64].map((WG) => ({
      group: 'rnn_persistent_backward',
      name: `T=${T} B=${B} H=${H} V=${V} workgroup ${WG}`,
      async run(k, rng) {
        const dlogits = randomArray(rng, T * B * V);
        const Why = randomArray(rng, V * H, 0.5);
        const hs = randomArray(rng, (T + 1) * B * H);
        const Whh = randomArray(rng, H * H, 1 / Math.sqrt(H));
        const [gpuDhraw] = await k.run(
          'rnn_persistent_backward',
          { T, B, H, V, WG },
          [{ input: dlogits }, { input: Why }, { input: hs }, { input: Whh }, { output: T * B * H }],
          [B],
        );
        const dhraw = new Float32Array(T * B * H);
        rnnPersistentBackward(dhraw, dlogits, Why, hs, Whh, T, B, H, V);
        k.close(gpuDhraw, dhraw, 1e-5, 1e-4, 'dhraw');
      },
    })),
  );
}

export function rnnStepBackwardFusedCases(): KernelCase[] {
  // The last step (no dh_next) and, where there is one, the step before it.
  return WINDOW_SHAPES.flatMap(([T, B, H, V]) =>
    [...new Set([T - 1, Math.max(0, T - 2)])].map((t) => ({
      group: 'rnn_step_backward_fused',
      name: `T=${T} B=${B} H=${H} V=${V} t=${t}`,
      async run(k, rng) {
        const dlogits = randomArray(rng, T * B * V);
        const Why = randomArray(rng, V * H, 0.5);
        const hs = randomArray(rng, (T + 1) * B * H);
        const Whh = randomArray(rng, H * H, 1 / Math.sqrt(H));
        // Rows after t hold dh_next; row t and the rows before it are poisoned (the kernel writes row t only).
        const dhraw = randomArray(rng, T * B * H);
        dhraw.fill(NaN, 0, (t + 1) * B * H);
        const WG = 64;
        const [gpuDhraw] = await k.run(
          'rnn_step_backward_fused',
          { T, B, H, V, WG },
          [
            { uniform: new Uint32Array([t, 0, 0, 0]) },
            { input: dlogits },
            { input: Why },
            { input: hs },
            { input: Whh },
            { output: dhraw.length, initial: dhraw },
          ],
          [Math.ceil(H / WG), B],
        );
        rnnStepBackwardFused(dhraw, dlogits, Why, hs, Whh, t, T, B, H, V);
        k.close(gpuDhraw.subarray(t * B * H), dhraw.subarray(t * B * H), 1e-5, 1e-4, 'dhraw');
      },
    })),
  );
}
