import { absolute, derivedTolerance, positiveSumError, WGSL } from './accuracy.ts';
import { clipScale } from '../../cpu/clip_scale.ts';
import { gradNormPartial } from '../../cpu/grad_norm_partial.ts';
import { CPU_UPDATES } from '../../cpu/optimizers.ts';
import { NO_CLIP, OPTIMIZER_TYPES, OPTIMIZERS, optimizerConfig, type OptimizerType, SETTINGS_FLOATS } from '../../model/optimizers.ts';
import { elementGrid } from './elementwise_cases.ts';
import { randomArray, type KernelCase } from './runner.ts';

// The optimizers' update kernels and the two reductions of the global gradient norm, each against its CPU
// twin. The updates read the twin's scalars rounded to float32, as the GPU backend uploads them.

/** [N, WG, clip, scale, step]: a 2-D grid at N = 70000 with WG 1; a norm-clip scale below 1 and no clip. */
const UPDATE_SHAPES: [number, number, number, number, number][] = [
  [1, 64, 1, 1, 1],
  [7, 64, 1, 0.37, 2],
  [1000, 64, NO_CLIP, 0.5, 10],
  [70000, 1, 5, 1, 3],
];

/**
 * ULP on the longest path to the new state and to the update, counted from shaders/<type>_update.wgsl with
 * WGSL's accuracy (accuracy.ts): g = clip(grad * scale) + weightDecay * p is 3 roundings; squaring doubles a
 * relative error and sqrt halves it (sqrt itself 4.5 ULP); divisions 2.5. With lr 0.05, |grad| <= 2 and the
 * state's squares >= 0.01, every update here is at most 1 (Adam's, with its bias corrections, under 0.3).
 *   adagrad: m + g g (7); lr g (4) / sqrt(m + eps) (4.5 + 4): 15.
 *   rmsprop: alpha v + (1 - alpha) g g (9); lr g (4) / (sqrt(v) (4.5 + 4.5) + eps (1)) (2.5): 16.5.
 *   adam: m (6), v (9); (lr / c1) (2.5) m (7) / (sqrt(v) (9) / c2 (2.5) + eps (1)) (2.5): 24.5. Adam's
 *   m = beta1 m + (1 - beta1) g cancels: its 6 ULP count at its terms' size, 0.9 * 0.1 + 0.1 * 2.01 < 0.3.
 */
const UPDATE_ULP: Record<OptimizerType, { state: number; update: number; cancelling?: { ulp: number; size: number } }> = {
  adagrad: { state: 7, update: 15 },
  rmsprop: { state: 9, update: 16.5 },
  adam: { state: 9, update: 24.5, cancelling: { ulp: 6, size: 0.3 } },
};

const ulpsOf = (ulp: number) => ({ abs: 0, ulp });

function updateCases(type: OptimizerType): KernelCase[] {
  const spec = OPTIMIZERS[type];
  const S = spec.stateKeys.length;
  return UPDATE_SHAPES.map(([N, WG, clip, scale, step]) => ({
    group: `${type}_update`,
    name: `N=${N} WG=${WG} clip=${clip === NO_CLIP ? 'off' : clip} scale=${scale} step=${step}`,
    async run(k, rng) {
      const config = optimizerConfig(type, { weightDecay: type === 'adagrad' ? 0 : 0.01 });
      const settings = new Float32Array(SETTINGS_FLOATS);
      spec.settings(settings, config, 0.05, clip, step);
      const params = randomArray(rng, N);
      // State as after some steps: AdaGrad's and RMSprop's squares (and Adam's second moment) positive.
      const state = randomArray(rng, S * N).map((x, i) => (S === 2 && i < N ? x * 0.1 : 0.01 + x * x));
      // Scaled so that some gradients pass the clip and some do not; a quarter exactly zero (AdaGrad skips them).
      const grads = randomArray(rng, N, 2).map((g, i) => (i % 4 === 1 ? 0 : g));
      const [gpuParams, gpuGrads, gpuState, gpuClipNorm] = await k.run(
        `${type}_update`,
        { N, WG },
        [
          { uniform: settings },
          { output: N, initial: params.slice() },
          { output: N, initial: grads.slice() },
          { output: S * N, initial: state.slice() },
          { output: 3, initial: Float32Array.of(scale, 0, 0) },
        ],
        elementGrid(k, N, WG),
      );
      CPU_UPDATES[type](params, grads, state, N, Float64Array.from(settings), Math.fround(scale));
      const tol = UPDATE_ULP[type];
      const cancelling = tol.cancelling ? [absolute(ulpsOf(tol.cancelling.ulp), tol.cancelling.size)] : [];
      const stateTol = derivedTolerance({ ops: [ulpsOf(tol.state), ...cancelling] });
      // p - update cancels where the update is as large as p: its error counts at its size, at most 1 here.
      const paramsTol = derivedTolerance({ ops: [absolute(ulpsOf(tol.update), 1), WGSL.rounded] });
      const zeroed = derivedTolerance({ ops: [], cpuRounds: false });
      k.close(gpuState, state, stateTol.atol, stateTol.rtol, 'state');
      k.close(gpuParams, params, paramsTol.atol, paramsTol.rtol, 'parameters');
      k.close(gpuGrads, grads, zeroed.atol, zeroed.rtol, 'gradients (zeroed)');
      k.close(gpuClipNorm, Float32Array.of(scale, 0, 0), 0, 0, '[scale, norm, nonFinite]: every parameter finite, no flag');
    },
  }));
}

/**
 * A NaN parameter (with a gradient) or a NaN gradient: the update raises the non-finite flag that training
 * reads with the loss. N = 70 over two workgroups, the NaN in the second; the rest as the twin.
 */
function nonFiniteCase(type: OptimizerType, planted: 'parameter' | 'gradient'): KernelCase {
  const spec = OPTIMIZERS[type];
  const S = spec.stateKeys.length;
  const N = 70;
  const bad = 66;
  return {
    group: `${type}_update`,
    name: `N=${N} a NaN ${planted} raises the non-finite flag`,
    async run(k, rng) {
      const settings = new Float32Array(SETTINGS_FLOATS);
      spec.settings(settings, optimizerConfig(type), 0.05, 5, 1);
      const params = randomArray(rng, N);
      if (planted === 'parameter') params[bad] = NaN;
      const state = randomArray(rng, S * N).map((x) => 0.01 + x * x);
      const grads = randomArray(rng, N, 2).map((g) => g || 1);
      // A GPU's clamp may turn a NaN gradient into a bound and the parameter stays finite: the flag must rise anyway.
      if (planted === 'gradient') grads[bad] = NaN;
      const [gpuParams, , , gpuClipNorm] = await k.run(
        `${type}_update`,
        { N, WG: 64 },
        [
          { uniform: settings },
          { output: N, initial: params.slice() },
          { output: N, initial: grads.slice() },
          { output: S * N, initial: state.slice() },
          { output: 3, initial: Float32Array.of(1, 0, 0) },
        ],
        elementGrid(k, N, 64),
      );
      CPU_UPDATES[type](params, grads, state, N, Float64Array.from(settings), 1);
      const flag = new Uint32Array(gpuClipNorm.buffer, gpuClipNorm.byteOffset, 3)[2];
      k.close(Float32Array.of(flag), Float32Array.of(1), 0, 0, 'nonFinite flag');
      const tol = derivedTolerance({ ops: [absolute(ulpsOf(UPDATE_ULP[type].update), 1), WGSL.rounded] });
      k.close(gpuParams.subarray(0, bad), params.subarray(0, bad), tol.atol, tol.rtol, 'parameters before the NaN');
      k.close(gpuParams.subarray(bad + 1), params.subarray(bad + 1), tol.atol, tol.rtol, 'parameters after the NaN');
    },
  };
}

export function optimizerUpdateCases(): KernelCase[] {
  return OPTIMIZER_TYPES.flatMap((type) => [...updateCases(type), nonFiniteCase(type, 'parameter'), nonFiniteCase(type, 'gradient')]);
}

export function gradNormCases(): KernelCase[] {
  // [N, NP]: fewer elements than one workgroup, a partial grid, and many elements per invocation.
  const shapes: [number, number][] = [
    [1, 1],
    [65, 2],
    [1000, 7],
    [70001, 256],
  ];
  return shapes.flatMap(([N, NP]) => [
    {
      group: 'grad_norm_partial',
      name: `N=${N} NP=${NP}`,
      async run(k, rng) {
        const grads = randomArray(rng, N, 3);
        const [gpu] = await k.run('grad_norm_partial', { N, NP }, [{ input: grads }, { output: NP }], [NP]);
        const cpu = new Float32Array(NP);
        gradNormPartial(cpu, grads, N, NP, 64);
        // A sum of up to ceil(N / NP) positive squares, each rounded: 2 roundings per term, relative to the sum.
        const tol = derivedTolerance({ ops: [positiveSumError(2 * Math.ceil(N / NP))] });
        k.close(gpu, cpu, tol.atol, tol.rtol, 'partials');
      },
    },
    {
      group: 'clip_scale',
      name: `NP=${NP} N=${N}`,
      async run(k, rng) {
        const partials = randomArray(rng, NP, 1).map((x) => x * x * N);
        const maxNorm = NP === 1 ? 1e6 : 1; // 1e6: no clipping, scale exactly 1
        const [gpu] = await k.run(
          'clip_scale',
          { NP },
          [{ uniform: Float32Array.of(maxNorm, 0, 0, 0) }, { input: partials }, { output: 3, initial: Float32Array.of(NaN, NaN, 0) }],
          [1],
        );
        const cpu = new Float32Array(2);
        clipScale(cpu, partials, NP, maxNorm);
        // norm = sqrt(a sum of NP positive partials); scale = min(1, maxNorm / (norm + 1e-6)).
        const tol = derivedTolerance({ ops: [positiveSumError(NP), WGSL.sqrt, WGSL.rounded, WGSL.div] });
        k.close(gpu.subarray(0, 2), cpu, tol.atol, tol.rtol, '[scale, norm]');
        k.close(gpu.subarray(2), Float32Array.of(0), 0, 0, 'nonFinite flag, left to the update');
      },
    },
  ]);
}
