import { gradUpdate } from '../../cpu/grad_update.ts';
import { ADAGRAD_EPS, modelConfig } from '../../model/config.ts';
import { modelLayout } from '../../model/model_tensors.ts';
import { grid2d } from '../kernels.ts';
import { gradUpdateGrid, packInputs } from '../rnn_program.ts';
import { WINDOW_SHAPES } from './recurrence_cases.ts';
import { randomArray, randomIds, type KernelCase } from './runner.ts';

// grad_update: every weight and bias gradient of the window as a reduction over its rows, then clip and
// AdaGrad, in one dispatch. It reads and updates the parameters, the AdaGrad memory and the smooth loss in
// place, so those outputs start from their inputs and cannot be poisoned: a missed element is caught only
// where the CPU twin moved it, which is every entry with a non-zero gradient (all but the dWxh columns of
// ids absent from the window).

export function gradUpdateCases(): KernelCase[] {
  return WINDOW_SHAPES.map(([T, B, H, V]) => ({
    group: 'grad_update',
    name: `T=${T} B=${B} H=${H} V=${V}`,
    async run(k, rng) {
      const layout = modelLayout(modelConfig({ vocabSize: V, hiddenSize: H }));
      const n = layout.totalFloats;
      const R = T * B;
      const off = { Wxh: 0, Whh: 0, bh: 0, Why: 0, by: 0 };
      for (const name of Object.keys(off) as (keyof typeof off)[]) off[name] = layout.byName[name].offset;
      const params = randomArray(rng, n);
      const mem = randomArray(rng, n).map((x) => 0.1 + Math.abs(x));
      // Scaled so that some gradients pass the clip of 1 and some do not.
      const dlogits = randomArray(rng, R * V, 0.7);
      const hs = randomArray(rng, (T + 1) * B * H);
      const dhraw = randomArray(rng, R * H, 0.7);
      const inputs = new Uint32Array(2 * R + V + 1);
      packInputs(inputs, randomIds(rng, R, V), R, V);
      const rowLoss = randomArray(rng, R).map(Math.abs);
      const lossState = new Float32Array([NaN, 50]); // the loss slot is written, not updated
      const [lr, clip, scale] = [0.1, 1, 1 / B];
      const { workgroups, ...starts } = gradUpdateGrid(H, V);
      const [x, y] = grid2d(workgroups, k.device.limits.maxComputeWorkgroupsPerDimension);
      const [gpuParams, gpuMem, gpuLoss] = await k.run(
        'grad_update',
        {
          T,
          B,
          H,
          V,
          OFF_WXH: off.Wxh,
          OFF_WHH: off.Whh,
          OFF_BH: off.bh,
          OFF_WHY: off.Why,
          OFF_BY: off.by,
          ...starts,
          LR: lr,
          CLIP: clip,
          EPS: ADAGRAD_EPS,
          SCALE: scale,
        },
        [
          { output: n, initial: params.slice() },
          { output: n, initial: mem.slice() },
          { input: dlogits },
          { input: hs },
          { input: dhraw },
          { input: inputs },
          { input: rowLoss },
          { output: 2, initial: lossState.slice() },
        ],
        [x, y],
      );
      gradUpdate(params, mem, dlogits, hs, dhraw, inputs, rowLoss, lossState, T, B, H, V, off, lr, clip, scale);
      // A clipped gradient is exact; an unclipped one carries float32 rounding of a sum of R terms.
      k.close(gpuMem, mem, 1e-5, 1e-4, 'AdaGrad memory');
      k.close(gpuParams, params, 1e-5, 1e-4, 'parameters');
      k.close(gpuLoss, lossState, 0, 1e-5, '[loss, smoothLoss]');
    },
  }));
}
