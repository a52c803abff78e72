import type { ModelConfig } from '../model/config.ts';
import type { ParamLayout, TensorSlot } from '../model/layout.ts';
import { upload, type BufferPool } from './buffers.ts';
import { GpuLimitError } from './device.ts';
import { bind, ceilDiv, grid2d, type KernelLibrary } from './kernels.ts';
import type { MatmulCall, MatmulVariant } from './matmul_variants.ts';

// The RNN's forward and backward over one (T, B) window as a list of dispatches, the GPU twin of
// src/cpu/rnn_window.ts. Pipelines, activation buffers and bind groups are all made here, once; encoding a
// step only records dispatches.
//
// Every dispatch is a launch (on SwiftShader in Node about 13 us inside one submit, measured with a trivial
// kernel) and, on a GPU, a point where the whole chip waits, so the window is as few dispatches as the
// recurrence allows. Everything that is not recurrent runs once for all R = T * B rows:
// the output projection, softmax-cross-entropy, and one update dispatch that computes every weight and bias
// gradient as a reduction over the rows and applies clip and AdaGrad to it. The recurrence itself is either
//   persistent: one dispatch forward and one backward, one workgroup per stream looping over the T steps
//     (the input projection rides in the forward one): 5 dispatches per training step; or
//   per-step: the input projection for all rows, then one dispatch per time step forward and one per step
//     backward (with dhy = dlogits Why folded into it): 2T + 4 dispatches per training step.

const WG = 64;
const CPU_PERSISTENT_WG = 4;

interface Dispatch {
  /** The shader's name, for per-kernel timings. */
  kernel: string;
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  workgroups: [number, number, number];
}

/** The window's one matmul, logits (R, V) = h_1..h_T (R, H) Why^T + by, as the kernel choice probes it. */
export function logitsCall(config: Pick<ModelConfig, 'hiddenSize' | 'vocabSize'>, T: number, B: number): MatmulCall {
  const { hiddenSize: H, vocabSize: V } = config;
  return { batch: 1, M: T * B, N: V, K: H, transA: false, transB: true, aOffset: B * H, bOffset: 0 };
}

/** Kernel variants chosen per adapter (see GpuBackend). */
export interface KernelChoice {
  /** The matmul variant for each call, ranked per adapter and shape by kernel_choice.ts. */
  matmul: (call: MatmulCall) => MatmulVariant;
  /** softmax_cross_entropy's workgroup size per row. */
  softmaxWorkgroup: number;
}

/** How the recurrence is dispatched; `workgroup` is the persistent kernels' workgroup size. */
export type Recurrence = { kind: 'persistent'; workgroup: number } | { kind: 'per-step' };

/** The device limits chooseRecurrence reads. */
export type RecurrenceLimits = Pick<
  GPUSupportedLimits,
  'maxComputeWorkgroupStorageSize' | 'maxComputeInvocationsPerWorkgroup' | 'maxComputeWorkgroupSizeX'
>;

/**
 * The persistent kernels keep two hidden vectors per stream in workgroup memory and loop over blocks of 4
 * rows, so they fit any hidden size up to maxComputeWorkgroupStorageSize / 8 floats. On a CPU adapter a
 * workgroup runs on one core as 4 SIMD lanes and more invocations only add barrier cost, so its workgroups
 * are 4 wide. On a GPU a workgroup gets one invocation per 4-row block; when that is over the invocation
 * limit, the per-step kernels spread the rows over more of the chip than B workgroups can.
 */
export function chooseRecurrence(limits: RecurrenceLimits, isCpuAdapter: boolean, H: number): Recurrence {
  if (2 * H * 4 > limits.maxComputeWorkgroupStorageSize) return { kind: 'per-step' };
  if (isCpuAdapter) return { kind: 'persistent', workgroup: CPU_PERSISTENT_WG };
  const blocks = Math.ceil(H / 4);
  if (blocks > Math.min(limits.maxComputeInvocationsPerWorkgroup, limits.maxComputeWorkgroupSizeX)) return { kind: 'per-step' };
  return { kind: 'persistent', workgroup: Math.ceil(blocks / 32) * 32 };
}

/**
 * grad_update.wgsl's invocation ranges: 4x4 tiles of dWhh and dWhy, 4-row blocks of each dWxh column, 4-entry
 * blocks of dbh and dby, then one invocation for the loss; each range starts on a workgroup boundary.
 */
export function gradUpdateGrid(H: number, V: number) {
  const wg = (n: number) => Math.ceil(n / WG) * WG;
  const [HT, VT] = [Math.ceil(H / 4), Math.ceil(V / 4)];
  const WHY_START = wg(HT * HT);
  const WXH_START = WHY_START + wg(VT * HT);
  const BH_START = WXH_START + wg(HT * V);
  const BY_START = BH_START + wg(HT);
  const LOSS_START = BY_START + wg(VT);
  return { WHY_START, WXH_START, BH_START, BY_START, LOSS_START, workgroups: LOSS_START / WG + 1 };
}

/**
 * Fills `packed` (2R + V + 1,) with what grad_update reads from its inputs binding: the ids (R,), then the
 * rows grouped by id as start (V+1,) and rows (R,), so that a dWxh column sums only its own rows. Built on
 * the CPU, which has the ids anyway, in O(R + V).
 */
export function packInputs(packed: Uint32Array, ids: Uint32Array, R: number, V: number): void {
  packed.set(ids.subarray(0, R));
  const start = packed.subarray(R, R + V + 1);
  const rows = packed.subarray(R + V + 1, 2 * R + V + 1);
  start.fill(0);
  for (let r = 0; r < R; r++) if (ids[r] < V) start[ids[r] + 1]++;
  for (let v = 0; v < V; v++) start[v + 1] += start[v];
  // Fill each group in row order, using start[v] as its cursor, then shift the cursors back.
  for (let r = 0; r < R; r++) if (ids[r] < V) rows[start[ids[r]]++] = r;
  for (let v = V; v > 0; v--) start[v] = start[v - 1];
  start[0] = 0;
}

/** What the update dispatch needs; absent for a forward-only (evaluation) program. */
export interface UpdateSettings {
  mem: GPUBuffer;
  learningRate: number;
  clip: number;
  eps: number;
}

export class RnnProgram {
  readonly inputs: GPUBuffer; // (T, B) u32 ids, then the rows grouped by id (see packInputs)
  readonly targets: GPUBuffer; // (T, B) u32
  readonly hs: GPUBuffer; // (T+1, B, H)
  readonly lossState: GPUBuffer; // [loss, smoothLoss]
  /** Forward through softmax-cross-entropy: leaves per-row losses and dlogits. */
  readonly forward: Dispatch[] = [];
  /** Forward-only programs: the window's loss into lossState (training folds it into the update). */
  readonly lossReduce: Dispatch[] = [];
  /** Backward recurrence, then the update of every parameter (and the loss); empty without `update`. */
  readonly backward: Dispatch[] = [];
  private readonly packedInputs: Uint32Array;

  constructor(
    lib: KernelLibrary,
    pool: BufferPool,
    readonly config: ModelConfig,
    layout: ParamLayout,
    readonly T: number,
    readonly B: number,
    params: GPUBuffer,
    kernels: KernelChoice,
    readonly recurrence: Recurrence,
    update: UpdateSettings | null,
  ) {
    const device = lib.device;
    const { hiddenSize: H, vocabSize: V } = config;
    const R = T * B;
    // Row-parallel kernels (input projection, softmax-cross-entropy) put one workgroup row per (t, b).
    const maxGroups = device.limits.maxComputeWorkgroupsPerDimension;
    if (R > maxGroups) {
      throw new GpuLimitError(`seq * batch = ${R} is over this adapter's maxComputeWorkgroupsPerDimension (${maxGroups})`);
    }
    const f32 = (n: number) => n * 4;
    this.inputs = pool.storage('inputs', f32(2 * R + V + 1));
    this.packedInputs = new Uint32Array(2 * R + V + 1);
    this.targets = pool.storage('targets', f32(R));
    this.hs = pool.storage('hs', f32((T + 1) * B * H));
    this.lossState = pool.storage('lossState', f32(2));
    const logits = pool.storage('logits', f32(R * V));
    const dlogits = pool.storage('dlogits', f32(R * V));
    const rowLoss = pool.storage('rowLoss', f32(R));

    const slice = (slot: TensorSlot): GPUBufferBinding => ({ buffer: params, offset: f32(slot.offset), size: f32(slot.size) });
    const p = (name: string) => slice(layout.byName[name]);
    const add = (
      list: Dispatch[],
      kernel: string,
      constants: Record<string, number | boolean>,
      resources: (GPUBuffer | GPUBufferBinding)[],
      workgroups: [number, number, number],
    ) => {
      const pipeline = lib.pipeline(kernel, constants);
      list.push({ kernel, pipeline, bindGroup: bind(device, pipeline, resources), workgroups });
    };
    // Per-step kernels: one 256-byte uniform slot per time step holds t, so each dispatch has its own bind group.
    let steps: GPUBuffer | null = null;
    if (recurrence.kind === 'per-step') {
      steps = pool.uniform('steps', 256 * T);
      const stepData = new Uint32Array(64 * T);
      for (let t = 0; t < T; t++) stepData[64 * t] = t;
      device.queue.writeBuffer(steps, 0, stepData);
    }
    const stepSlot = (t: number): GPUBufferBinding => ({ buffer: steps!, offset: 256 * t, size: 4 });

    // Forward.
    if (recurrence.kind === 'persistent') {
      const constants = { T, B, H, V, WG: recurrence.workgroup };
      add(this.forward, 'rnn_persistent', constants, [p('Wxh'), p('bh'), p('Whh'), this.inputs, this.hs], [B, 1, 1]);
    } else {
      const xproj = pool.storage('xproj', f32(R * H));
      add(this.forward, 'input_projection', { R, H, V, WG }, [p('Wxh'), p('bh'), this.inputs, xproj], [ceilDiv(H, WG), R, 1]);
      for (let t = 0; t < T; t++) {
        add(this.forward, 'rnn_step', { B, H, WG }, [stepSlot(t), xproj, p('Whh'), this.hs], [ceilDiv(H, WG), B, 1]);
      }
    }
    // logits (R, V) = h_1..h_T (R, H) Why^T + by
    const matmul = { M: R, N: V, K: H, TRANS_B: true, A_OFFSET: B * H, HAS_BIAS: true };
    add(
      this.forward,
      kernels.matmul(logitsCall(config, T, B)),
      matmul,
      [this.hs, p('Why'), p('by'), logits],
      [ceilDiv(V, 16), ceilDiv(R, 16), 1],
    );
    add(
      this.forward,
      'softmax_cross_entropy',
      { R, V, SCALE: 1 / B, WG: kernels.softmaxWorkgroup },
      [logits, this.targets, rowLoss, dlogits],
      [R, 1, 1],
    );
    if (!update) {
      add(this.lossReduce, 'loss_reduce', { R, SCALE: 1 / B }, [rowLoss, this.lossState], [1, 1, 1]);
      return;
    }

    // Backward: the recurrence leaves dhraw (R, H); the update reduces every gradient from it, dlogits and hs.
    const dhraw = pool.storage('dhraw', f32(R * H));
    if (recurrence.kind === 'persistent') {
      const constants = { T, B, H, V, WG: recurrence.workgroup };
      add(this.backward, 'rnn_persistent_backward', constants, [dlogits, p('Why'), this.hs, p('Whh'), dhraw], [B, 1, 1]);
    } else {
      for (let t = T - 1; t >= 0; t--) {
        add(
          this.backward,
          'rnn_step_backward_fused',
          { T, B, H, V, WG },
          [stepSlot(t), dlogits, p('Why'), this.hs, p('Whh'), dhraw],
          [ceilDiv(H, WG), B, 1],
        );
      }
    }
    const off = (name: string) => layout.byName[name].offset;
    const { workgroups, ...starts } = gradUpdateGrid(H, V);
    const [x, y] = grid2d(workgroups, maxGroups);
    add(
      this.backward,
      'grad_update',
      {
        T,
        B,
        H,
        V,
        OFF_WXH: off('Wxh'),
        OFF_WHH: off('Whh'),
        OFF_BH: off('bh'),
        OFF_WHY: off('Why'),
        OFF_BY: off('by'),
        ...starts,
        LR: update.learningRate,
        CLIP: update.clip,
        EPS: update.eps,
        SCALE: 1 / B,
      },
      [params, update.mem, dlogits, this.hs, dhraw, this.inputs, rowLoss, this.lossState],
      [x, y, 1],
    );
  }

  /** Uploads a window's input ids (T, B) with their grouping by id. */
  uploadInputs(queue: GPUQueue, ids: Uint32Array): void {
    packInputs(this.packedInputs, ids, this.T * this.B, this.config.vocabSize);
    upload(queue, this.inputs, this.packedInputs);
  }

  static encode(pass: GPUComputePassEncoder, dispatches: Dispatch[]): void {
    for (const d of dispatches) {
      pass.setPipeline(d.pipeline);
      pass.setBindGroup(0, d.bindGroup);
      pass.dispatchWorkgroups(...d.workgroups);
    }
  }

  /** Records hs[T] -> hs[0]: the last hidden state carried into the next window. */
  encodeCarry(encoder: GPUCommandEncoder, carry: GPUBuffer): void {
    const BH4 = this.B * this.config.hiddenSize * 4;
    encoder.copyBufferToBuffer(this.hs, this.T * BH4, carry, 0, BH4);
    encoder.copyBufferToBuffer(carry, 0, this.hs, 0, BH4);
  }
}

export type { Dispatch };
