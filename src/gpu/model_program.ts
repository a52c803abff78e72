import { CELLS } from '../model/cells.ts';
import type { ModelConfig } from '../model/config.ts';
import type { ParamLayout } from '../model/layout.ts';
import { DECODER_BIAS, DECODER_WEIGHT, ENCODER, layerInputSize, layerTensorNames } from '../model/model_tensors.ts';
import { upload, type BufferPool } from './buffers.ts';
import { GPU_CELLS, type GpuLayerBuffers } from './cells.ts';
import { GpuLimitError } from './device.ts';
import { ceilDiv, grid2d, type KernelLibrary } from './kernels.ts';
import { LayerGradsBinder } from './layer_grads.ts';
import { matmulWorkgroups, type MatmulCall, type MatmulVariant } from './matmul_variants.ts';
import { packInputs } from './pack_inputs.ts';
import { PER_STEP_WG, recurrenceConstants, type Recurrence } from './recurrence.ts';

// The whole model's forward and backward over one (T, B) window as a list of dispatches, the GPU twin of
// src/cpu/model_window.ts, in cuDNN's per-layer order: the input projection of all R = T * B rows (a gather
// for a one-hot input, else a matmul), the recurrence (the cell's kernel: recurrent matmul and element-wise
// step fused), and backward the cell's backward recurrence, then one layer_grads dispatch for the layer's
// weight and bias gradients (GEMMs over all rows, added into one flat gradient buffer in the parameter
// layout) and its input gradient. Pipelines, activation buffers and bind groups are all made here, once;
// encoding a step only records dispatches.
//
// The recurrence is either persistent (one dispatch for all T steps, one workgroup per stream looping over
// them) or per-step (one dispatch per step, the units spread over ceil(H / 64) workgroups per stream). With
// the persistent one, a layer above the first costs 4 dispatches per step (input projection, recurrence,
// backward recurrence, layer_grads) and 5 with dropout (its forward mask; backward's is in layer_grads).

const WG = 64;
const RANGE_SLOT = 256; // bytes: uniform bindings start on 256-byte boundaries

export interface Dispatch {
  /** The shader's name, for per-kernel timings. */
  kernel: string;
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  workgroups: [number, number, number];
}

/** Kernel variants chosen per adapter (see GpuBackend). */
export interface KernelChoice {
  /** The matmul variant for each call, ranked per adapter and shape by kernel_choice.ts. */
  matmul: (call: MatmulCall) => MatmulVariant;
  /** softmax_cross_entropy's workgroup size per row. */
  softmaxWorkgroup: number;
}

/** An (R, n) operand inside a buffer: hs[1..T] of a layer is its hs at element offset B * H. */
export interface Rows {
  buffer: GPUBuffer;
  offset: number;
}

/** One layer's device buffers; `y` is its output rows (hs[1..T], or their dropout in training). */
export interface GpuLayer {
  hs: GPUBuffer;
  cs: GPUBuffer | null;
  y: Rows;
}

export class ModelProgram {
  readonly inputs: GPUBuffer; // (T, B) u32 ids, then the rows grouped by id (see packInputs)
  readonly targets: GPUBuffer; // (T, B) u32
  readonly rowLoss: GPUBuffer; // (T, B)
  readonly logits: GPUBuffer; // (T, B, V)
  readonly layers: GpuLayer[] = [];
  /** Forward through softmax-cross-entropy: leaves per-row losses and dlogits. */
  readonly forward: Dispatch[] = [];
  /** Every gradient, added into `grads`; empty for a forward-only program. */
  readonly backward: Dispatch[] = [];
  /** The dropout seed of the step, a uniform written before each training step. */
  private readonly dropoutSeed: GPUBuffer | null = null;
  private readonly packedInputs: Uint32Array;
  private readonly seedData = new Uint32Array(4);
  private readonly carry: GPUBuffer;

  constructor(
    lib: KernelLibrary,
    pool: BufferPool,
    readonly config: ModelConfig,
    layout: ParamLayout,
    readonly T: number,
    readonly B: number,
    params: GPUBuffer,
    /** The flat gradient buffer: a training program; null: forward only (evaluation, sampling). */
    grads: GPUBuffer | null,
    kernels: KernelChoice,
    readonly recurrence: Recurrence,
  ) {
    const device = lib.device;
    const { hiddenSize: H, vocabSize: V, embedSize: E, layers: L } = config;
    const cell = CELLS[config.cell];
    const gpuCell = GPU_CELLS[config.cell];
    const GH = cell.gates * H;
    const R = T * B;
    const maxGroups = device.limits.maxComputeWorkgroupsPerDimension;
    if (R > maxGroups) throw new GpuLimitError(`seq * batch = ${R} is over this adapter's maxComputeWorkgroupsPerDimension (${maxGroups})`);
    const f32 = (n: number) => n * 4;
    const storage = (label: string, n: number) => pool.storage(label, f32(n));
    this.inputs = storage('inputs', 2 * R + V + 1);
    this.packedInputs = new Uint32Array(2 * R + V + 1);
    this.targets = storage('targets', R);
    this.rowLoss = storage('rowLoss', R);
    this.logits = storage('logits', R * V);
    this.carry = storage('carry', B * H);
    const dlogits = storage('dlogits', R * V);
    const dropout = grads !== null && config.dropout > 0 && L > 1;
    if (dropout) {
      this.dropoutSeed = pool.uniform('dropout seed', 16);
    }

    const slice = (buffer: GPUBuffer, name: string): GPUBufferBinding => {
      const slot = layout.byName[name];
      return { buffer, offset: f32(slot.offset), size: f32(slot.size) };
    };
    const p = (name: string) => slice(params, name);
    const g = (name: string) => slice(grads!, name);
    const add = (
      list: Dispatch[],
      kernel: string,
      constants: Record<string, number | boolean>,
      resources: (GPUBuffer | GPUBufferBinding)[],
      workgroups: [number, number, number],
    ) => {
      list.push(lib.dispatch(kernel, constants, resources, workgroups));
    };
    // c (R, N) = x (R, K) W^T + bias, x starting inside its buffer: the input projections and the logits.
    const linear = (c: GPUBuffer, x: Rows, W: GPUBufferBinding, bias: GPUBufferBinding, N: number, K: number) => {
      const call: MatmulCall = { batch: 1, M: R, N, K, transA: false, transB: true, aOffset: x.offset, bOffset: 0 };
      const constants = { M: R, N, K, TRANS_A: false, TRANS_B: true, ACCUMULATE: false, HAS_BIAS: true, A_OFFSET: x.offset, B_OFFSET: 0 };
      add(this.forward, kernels.matmul(call), constants, [x.buffer, W, bias, c], matmulWorkgroups(call));
    };
    const grid = (count: number): [number, number, number] => [...grid2d(ceilDiv(count, WG), maxGroups), 1];
    // Forward only: backward applies the same mask as layer_grads writes dx.
    const dropoutDispatch = (inp: Rows, out: GPUBuffer, k: number) => {
      const n = R * H;
      const constants = { N: n, BASE: k * n, IN_OFFSET: inp.offset, P: config.dropout, WG };
      add(this.forward, 'dropout', constants, [this.dropoutSeed!, inp.buffer, out], grid(n));
    };

    // Per-step range slots: slot 0 is [0, T) (persistent), slot 1 + t is [t, t + 1).
    const ranges = pool.uniform('recurrence ranges', RANGE_SLOT * (T + 1));
    const rangeData = new Uint32Array((RANGE_SLOT / 4) * (T + 1));
    rangeData.set([0, T], 0);
    for (let t = 0; t < T; t++) rangeData.set([t, t + 1], (RANGE_SLOT / 4) * (t + 1));
    upload(device.queue, ranges, rangeData);
    const range = (slot: number): GPUBufferBinding => ({ buffer: ranges, offset: RANGE_SLOT * slot, size: 8 });
    const recur = (
      list: Dispatch[],
      kernel: string,
      T0: Record<string, number>,
      resources: (slot: number) => (GPUBuffer | GPUBufferBinding)[],
      backward: boolean,
    ) => {
      if (recurrence.kind === 'persistent') {
        add(list, kernel, { ...T0, ...recurrenceConstants(recurrence, backward) }, resources(0), [1, B, 1]);
      } else {
        for (let i = 0; i < T; i++) {
          const t = backward ? T - 1 - i : i;
          add(list, kernel, { ...T0, ...recurrenceConstants(recurrence, backward) }, resources(1 + t), [ceilDiv(H, PER_STEP_WG), B, 1]);
        }
      }
    };

    // Forward.
    const embedded = E > 0 ? storage('embedded', R * E) : null;
    if (embedded) add(this.forward, 'embedding', { R, E, WG }, [p(ENCODER), this.inputs, embedded], grid(R * E));
    const layerBuffers: GpuLayerBuffers[] = [];
    for (let k = 0; k < L; k++) {
      const n = layerTensorNames(config, k);
      const hs = storage(`hs l${k}`, (T + 1) * B * H);
      const dgates = grads ? storage(`dgates l${k}`, R * GH) : null;
      const buffers: Omit<GpuLayerBuffers, 'range'> = {
        xproj: storage(`xproj l${k}`, R * GH),
        hs,
        cs: cell.hasCellState ? storage(`cs l${k}`, (T + 1) * B * H) : null,
        reserve: cell.reserve > 0 ? storage(`reserve l${k}`, R * cell.reserve * H) : null,
        dy: grads ? storage(`dy l${k}`, R * H) : hs,
        dgates: dgates ?? hs,
        dhgates: grads && cell.separateHiddenGrad ? storage(`dhgates l${k}`, R * GH) : (dgates ?? hs),
        dh: grads && cell.separateHiddenGrad ? storage(`dh l${k}`, R * H) : null,
        dc: grads && cell.hasCellState ? storage(`dc l${k}`, R * H) : null,
        Whh: p(n.weightHh),
        bhh: n.biasHh ? p(n.biasHh) : null,
      };
      const inSize = layerInputSize(config, k);
      if (k === 0 && !embedded) {
        add(
          this.forward,
          'input_projection',
          { R, H: GH, V, WG },
          [p(n.weightIh), p(n.biasIh), this.inputs, buffers.xproj],
          [ceilDiv(GH, WG), R, 1],
        );
      } else {
        const x: Rows = k === 0 ? { buffer: embedded!, offset: 0 } : this.layers[k - 1].y;
        linear(buffers.xproj, x, p(n.weightIh), p(n.biasIh), GH, inSize);
      }
      recur(this.forward, `${config.cell}_forward`, { B, H }, (slot) => gpuCell.forward({ ...buffers, range: range(slot) }), false);
      let y: Rows = { buffer: hs, offset: B * H };
      if (dropout && k < L - 1) {
        y = { buffer: storage(`y l${k}`, R * H), offset: 0 };
        dropoutDispatch({ buffer: hs, offset: B * H }, y.buffer, k);
      }
      this.layers.push({ hs, cs: buffers.cs, y });
      layerBuffers.push({ ...buffers, range: range(0) });
    }
    const top = this.layers[L - 1];
    linear(this.logits, top.y, p(DECODER_WEIGHT), p(DECODER_BIAS), V, H);
    add(
      this.forward,
      'softmax_cross_entropy',
      { R, V, SCALE: 1 / B, WG: kernels.softmaxWorkgroup },
      [this.logits, this.targets, this.rowLoss, dlogits],
      [R, 1, 1],
    );
    if (!grads) return;

    // Backward: the decoder, then each layer from the top. After a layer's backward recurrence, each of its
    // other gradients depends only on its gate gradients: one layer_grads dispatch makes them all (the
    // decoder's too, as a layer without recurrence), adding into the layer's slice of the gradient buffer.
    const layerGrads = new LayerGradsBinder(layout, grads, {
      R,
      P: config.dropout,
      seed: this.dropoutSeed ?? pool.uniform('no dropout seed', 16),
      unusedInput: storage('unused input', 4),
      unusedOutput: storage('unused dx', 4),
    });
    const addLayerGrads = (...args: Parameters<LayerGradsBinder['bind']>) => {
      const { constants, resources, tiles } = layerGrads.bind(...args);
      add(this.backward, 'layer_grads', constants, resources, [...grid2d(tiles, maxGroups), 1]);
    };
    const noDropout = { DROPOUT: false, DROPOUT_BASE: 0 };
    const decoder = { weightIh: DECODER_WEIGHT, weightHh: null, biasIh: DECODER_BIAS, biasHh: null };
    addLayerGrads(
      decoder,
      { G: V, H: 0, IN: H, ...noDropout },
      { dgates: dlogits, dhgates: dlogits, x: top.y, hs: null, Wih: p(DECODER_WEIGHT), dx: layerBuffers[L - 1].dy },
    );
    const dembedded = embedded ? storage('dembedded', R * E) : null;
    for (let k = L - 1; k >= 0; k--) {
      const n = layerTensorNames(config, k);
      const buffers = layerBuffers[k];
      recur(this.backward, `${config.cell}_backward`, { T, B, H }, (slot) => gpuCell.backward({ ...buffers, range: range(slot) }), true);
      const oneHot = k === 0 && !embedded;
      const x: Rows | null = oneHot ? null : k === 0 ? { buffer: embedded!, offset: 0 } : this.layers[k - 1].y;
      // dx = dgates W_ih: the gradient at the layer's input, through dropout into the layer below.
      const dx = oneHot ? null : k === 0 ? dembedded : layerBuffers[k - 1].dy;
      const masks = dropout && k > 0 ? { DROPOUT: true, DROPOUT_BASE: (k - 1) * R * H } : noDropout;
      const shape = { G: GH, H, IN: oneHot ? 0 : layerInputSize(config, k), ...masks };
      addLayerGrads(n, shape, { dgates: buffers.dgates, dhgates: buffers.dhgates, x, hs: buffers.hs, Wih: p(n.weightIh), dx });
      if (oneHot)
        add(this.backward, 'input_projection_backward', { R, V, N: GH, WG }, [g(n.weightIh), buffers.dgates, this.inputs], grid(GH * V));
    }
    if (dembedded) add(this.backward, 'embedding_backward', { R, V, E, WG }, [g(ENCODER), dembedded, this.inputs], grid(V * E));
  }

  /** Uploads a window's input ids (T, B) with their grouping by id, and the step's dropout seed. */
  uploadInputs(queue: GPUQueue, ids: Uint32Array, dropoutSeed = 0): void {
    packInputs(this.packedInputs, ids, this.T * this.B, this.config.vocabSize);
    upload(queue, this.inputs, this.packedInputs);
    if (this.dropoutSeed) {
      this.seedData[0] = dropoutSeed;
      upload(queue, this.dropoutSeed, this.seedData);
    }
  }

  static encode(pass: GPUComputePassEncoder, dispatches: Dispatch[]): void {
    for (const d of dispatches) {
      pass.setPipeline(d.pipeline);
      pass.setBindGroup(0, d.bindGroup);
      pass.dispatchWorkgroups(...d.workgroups);
    }
  }

  /** Records hs[T] -> hs[0] (and cs) for every layer: the last state carried into the next window. */
  encodeCarry(encoder: GPUCommandEncoder): void {
    const BH4 = this.B * this.config.hiddenSize * 4;
    for (const l of this.layers) {
      for (const s of l.cs ? [l.hs, l.cs] : [l.hs]) {
        encoder.copyBufferToBuffer(s, this.T * BH4, this.carry, 0, BH4);
        encoder.copyBufferToBuffer(this.carry, 0, s, 0, BH4);
      }
    }
  }

  /** Records a zero carried state for every layer. */
  encodeReset(encoder: GPUCommandEncoder): void {
    const BH4 = this.B * this.config.hiddenSize * 4;
    for (const l of this.layers) {
      encoder.clearBuffer(l.hs, 0, BH4);
      if (l.cs) encoder.clearBuffer(l.cs, 0, BH4);
    }
  }
}
