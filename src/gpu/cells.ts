import type { CellType } from '../model/config.ts';

// A cell's kernels as the scheduler binds them: shaders/<cell>_forward.wgsl and <cell>_backward.wgsl, with
// their bindings in order (the GPU side of src/cpu/cells.ts). `range` is the (t0, t1) uniform slot of the
// dispatch; the rest are one layer's buffers (see model_program.ts) and weight slices.

export interface GpuLayerBuffers {
  range: GPUBufferBinding;
  xproj: GPUBuffer; // (T, B, G*H)
  hs: GPUBuffer; // (T+1, B, H)
  cs: GPUBuffer | null; // (T+1, B, H), LSTM
  reserve: GPUBuffer | null; // (T, B, reserve*H)
  dy: GPUBuffer; // (T, B, H)
  dgates: GPUBuffer; // (T, B, G*H)
  dhgates: GPUBuffer; // (T, B, G*H), GRU (else dgates)
  dh: GPUBuffer | null; // (T, B, H), GRU
  dc: GPUBuffer | null; // (T, B, H), LSTM
  Whh: GPUBufferBinding;
  bhh: GPUBufferBinding | null;
}

type Resources = (GPUBuffer | GPUBufferBinding)[];

export interface GpuCell {
  forward(l: GpuLayerBuffers): Resources;
  backward(l: GpuLayerBuffers): Resources;
}

export const GPU_CELLS: Record<CellType, GpuCell> = {
  rnn: {
    forward: (l) => [l.range, l.xproj, l.Whh, l.hs],
    backward: (l) => [l.range, l.dgates, l.dy, l.hs, l.Whh],
  },
  lstm: {
    forward: (l) => [l.range, l.xproj, l.Whh, l.bhh!, l.hs, l.cs!, l.reserve!],
    backward: (l) => [l.range, l.dgates, l.dc!, l.dy, l.cs!, l.reserve!, l.Whh],
  },
  gru: {
    forward: (l) => [l.range, l.xproj, l.Whh, l.bhh!, l.hs, l.reserve!],
    backward: (l) => [l.range, l.dgates, l.dhgates, l.dh!, l.dy, l.hs, l.reserve!, l.Whh],
  },
};
