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
      // A few float32 operations per element (a division and a square root among them): a few ulp, but
      // Adam's step divides by sqrt(v) / c2 + eps with v small, which amplifies the ulp of m and v.
      const rtol = type === 'adam' ? 1e-5 : 2e-6;
      k.close(gpuState, state, 1e-7, rtol, 'state');
      k.close(gpuParams, params, 1e-7, rtol, 'parameters');
      k.close(gpuGrads, grads, 0, 0, 'gradients (zeroed)');
      k.close(gpuClipNorm, Float32Array.of(scale, 0, 0), 0, 0, '[scale, norm, nonFinite]: every parameter finite, no flag');
    },
  }));
}

/**
 * A NaN parameter with a gradient stays NaN after any update: the update raises the non-finite flag that
 * training reads with the loss. N = 70 over two workgroups, the NaN in the second; the rest as the twin.
 */
function nonFiniteCase(type: OptimizerType): KernelCase {
  const spec = OPTIMIZERS[type];
  const S = spec.stateKeys.length;
  const N = 70;
  const bad = 66;
  return {
    group: `${type}_update`,
    name: `N=${N} a NaN parameter raises the non-finite flag`,
    async run(k, rng) {
      const settings = new Float32Array(SETTINGS_FLOATS);
      spec.settings(settings, optimizerConfig(type), 0.05, 5, 1);
      const params = randomArray(rng, N);
      params[bad] = NaN;
      const state = randomArray(rng, S * N).map((x) => 0.01 + x * x);
      const grads = randomArray(rng, N, 2).map((g) => g || 1);
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
      k.close(gpuParams.subarray(0, bad), params.subarray(0, bad), 1e-7, 1e-5, 'parameters before the NaN');
      k.close(gpuParams.subarray(bad + 1), params.subarray(bad + 1), 1e-7, 1e-5, 'parameters after the NaN');
    },
  };
}

export function optimizerUpdateCases(): KernelCase[] {
  return OPTIMIZER_TYPES.flatMap((type) => [...updateCases(type), nonFiniteCase(type)]);
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
        // Sums of up to N / NP float32 squares in a different order: relative error grows like sqrt(terms) ulp.
        k.close(gpu, cpu, 1e-6, 1e-5, 'partials');
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
        k.close(gpu.subarray(0, 2), cpu, 1e-7, 1e-5, '[scale, norm]');
        k.close(gpu.subarray(2), Float32Array.of(0), 0, 0, 'nonFinite flag, left to the update');
      },
    },
  ]);
}
