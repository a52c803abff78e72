// All parameters live in one flat array with a table of named offsets (llm.c's malloc_and_point_parameters).
// Gradients and optimizer state use the same layout, so clipping and the update are one pass over one
// buffer, and a checkpoint is one copy. Every tensor starts on a 256-byte boundary so that a slice can be
// bound on the GPU by {buffer, offset, size}; the padding stays zero.

export const TENSOR_ALIGN_FLOATS = 64; // 256 bytes of float32

export interface TensorSpec {
  name: string;
  shape: number[];
  /** randn: min-char-rnn's N(0, 1) * 0.01; normal: N(0, 1) (torch.nn.Embedding); uniform: U(-bound, bound). */
  init: 'randn' | 'zeros' | 'normal' | 'uniform';
  bound?: number;
}

export interface TensorSlot extends TensorSpec {
  offset: number; // in floats
  size: number; // product of shape
}

export interface ParamLayout {
  tensors: TensorSlot[];
  byName: Record<string, TensorSlot>;
  totalFloats: number;
}

export function layoutTensors(specs: TensorSpec[]): ParamLayout {
  const tensors: TensorSlot[] = [];
  const byName: Record<string, TensorSlot> = {};
  let offset = 0;
  for (const spec of specs) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const slot = { ...spec, offset, size };
    tensors.push(slot);
    byName[spec.name] = slot;
    offset += Math.ceil(size / TENSOR_ALIGN_FLOATS) * TENSOR_ALIGN_FLOATS;
  }
  return { tensors, byName, totalFloats: offset };
}

export type Vec = Float32Array | Float64Array;

export function view<T extends Vec>(flat: T, slot: TensorSlot): T {
  return flat.subarray(slot.offset, slot.offset + slot.size) as T;
}
