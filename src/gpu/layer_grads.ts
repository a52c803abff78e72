import type { LayerGradsShape } from '../cpu/layer_grads.ts';
import type { ParamLayout } from '../model/layout.ts';
import { ceilDiv } from './kernels.ts';
import type { Rows } from './model_program.ts';

// shaders/layer_grads.wgsl as the scheduler dispatches it, once per layer after its backward recurrence:
// where the layer's tensors lie in the flat gradient buffer, its bindings, and how many 16x16 output tiles
// (workgroups) its products need.

const TILE = 16;

/** A layer's tensors by name; the decoder is a layer with no weight_hh. */
export interface LayerGradTensors {
  weightIh: string;
  weightHh: string | null;
  biasIh: string;
  biasHh: string | null;
}

/**
 * The range of the flat buffer that holds a layer's tensors (in floats), and each tensor's offset inside it:
 * one binding for all of them, so the kernel stays within WebGPU's guaranteed 8 storage buffers. The layout
 * keeps a layer's tensors together (src/model/model_tensors.ts), so the range holds nothing else.
 */
function layerGradSlice(
  layout: ParamLayout,
  t: LayerGradTensors,
): { offset: number; size: number; offsets: Pick<LayerGradsShape, 'O_WIH' | 'O_WHH' | 'O_BIH' | 'O_BHH'> } {
  const slots = [t.weightIh, t.weightHh, t.biasIh, t.biasHh].map((name) => (name === null ? null : layout.byName[name]));
  const present = slots.filter((s) => s !== null);
  const offset = Math.min(...present.map((s) => s.offset));
  const end = Math.max(...present.map((s) => s.offset + s.size));
  const [wih, whh, bih, bhh] = slots.map((s) => (s ? s.offset - offset : 0));
  return { offset, size: end - offset, offsets: { O_WIH: wih, O_WHH: whh, O_BIH: bih, O_BHH: bhh } };
}

/** Workgroups of one dispatch: one per tile of [dW_ih | b_ih], [dW_hh | b_hh] and dx, as the kernel numbers them. */
export function layerGradsTiles(s: Pick<LayerGradsShape, 'R' | 'G' | 'H' | 'IN' | 'HAS_BHH' | 'HAS_DX'>): number {
  const tiles = (n: number) => ceilDiv(n, TILE);
  return tiles(s.G) * tiles(s.IN + 1) + tiles(s.G) * tiles(s.H + (s.HAS_BHH ? 1 : 0)) + (s.HAS_DX ? tiles(s.R) * tiles(s.IN) : 0);
}

/** A layer's inputs and output; null where the layer has none (a one-hot input: no x, no dx; the decoder: no hs). */
export interface LayerGradBuffers {
  dgates: GPUBuffer;
  dhgates: GPUBuffer;
  x: Rows | null;
  hs: GPUBuffer | null;
  Wih: GPUBufferBinding;
  dx: GPUBuffer | null;
}

/** Builds each layer's constants and bindings; what every layer of a window shares is given once. */
export class LayerGradsBinder {
  constructor(
    private readonly layout: ParamLayout,
    private readonly grads: GPUBuffer,
    private readonly common: {
      R: number;
      P: number;
      seed: GPUBuffer;
      /** Bound where a layer has no x or hs; dx needs a buffer of its own, since a written binding must not alias. */
      unusedInput: GPUBuffer;
      unusedOutput: GPUBuffer;
    },
  ) {}

  bind(
    tensors: LayerGradTensors,
    shape: Pick<LayerGradsShape, 'G' | 'H' | 'IN' | 'DROPOUT' | 'DROPOUT_BASE'>,
    b: LayerGradBuffers,
  ): { constants: LayerGradsShape; resources: (GPUBuffer | GPUBufferBinding)[]; tiles: number } {
    const { R, P, seed, unusedInput, unusedOutput } = this.common;
    const slice = layerGradSlice(this.layout, tensors);
    const constants: LayerGradsShape = {
      R,
      P,
      HAS_BHH: tensors.biasHh !== null,
      HAS_DX: b.dx !== null,
      X_OFFSET: b.x?.offset ?? 0,
      ...shape,
      ...slice.offsets,
    };
    const grads = { buffer: this.grads, offset: 4 * slice.offset, size: 4 * slice.size };
    const resources = [seed, b.dgates, b.dhgates, b.x?.buffer ?? unusedInput, b.hs ?? unusedInput, b.Wih, grads, b.dx ?? unusedOutput];
    return { constants, resources, tiles: layerGradsTiles(constants) };
  }
}
