import type { ModelConfig } from '../model/config.ts';
import type { ParamLayout, TensorSlot } from '../model/layout.ts';
import type { BufferPool } from './buffers.ts';
import { GpuLimitError } from './device.ts';
import { bind, ceilDiv, type KernelLibrary } from './kernels.ts';
import type { MatmulCall, MatmulVariant } from './matmul_variants.ts';

// The RNN's forward and backward over one (T, B) window as a list of dispatches, the GPU twin of
// src/cpu/rnn_window.ts. Pipelines, activation buffers and bind groups are all made here, once; encoding a
// step only records dispatches.
//
// Dispatches per window: forward 1 + T + 3 (input projection, T recurrent steps, output matmul,
// softmax-cross-entropy, loss); backward 3 + T + 3 (dWhy, dby, dh from outputs, T recurrent steps, dWhh,
// dbh, dWxh scatter).

const WG = 64;

interface Dispatch {
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  workgroups: [number, number, number];
}

export interface ParamBuffers {
  params: GPUBuffer;
  grads: GPUBuffer;
}

/** Kernel variants chosen per adapter (see GpuBackend). */
export interface KernelChoice {
  /** The matmul variant for each call, ranked per adapter and shape by kernel_choice.ts. */
  matmul: (call: MatmulCall) => MatmulVariant;
  /** softmax_cross_entropy's workgroup size per row. */
  softmaxWorkgroup: number;
}

export class RnnProgram {
  readonly inputs: GPUBuffer; // (T, B) u32
  readonly targets: GPUBuffer; // (T, B) u32
  readonly hs: GPUBuffer; // (T+1, B, H)
  readonly lossState: GPUBuffer; // [loss, smoothLoss]
  readonly forward: Dispatch[] = [];
  readonly backward: Dispatch[] = [];

  constructor(
    lib: KernelLibrary,
    pool: BufferPool,
    readonly config: ModelConfig,
    layout: ParamLayout,
    readonly T: number,
    readonly B: number,
    buffers: ParamBuffers,
    kernels: KernelChoice,
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
    this.inputs = pool.storage('inputs', f32(R));
    this.targets = pool.storage('targets', f32(R));
    this.hs = pool.storage('hs', f32((T + 1) * B * H));
    this.lossState = pool.storage('lossState', f32(2));
    const xproj = pool.storage('xproj', f32(R * H));
    const logits = pool.storage('logits', f32(R * V));
    const dlogits = pool.storage('dlogits', f32(R * V));
    const rowLoss = pool.storage('rowLoss', f32(R));
    const dhy = pool.storage('dhy', f32(R * H));
    const dhraw = pool.storage('dhraw', f32(R * H));
    // One 256-byte uniform slot per time step holds t, so each recurrent dispatch has its own bind group.
    const steps = pool.uniform('steps', 256 * T);
    const stepData = new Uint32Array(64 * T);
    for (let t = 0; t < T; t++) stepData[64 * t] = t;
    device.queue.writeBuffer(steps, 0, stepData);
    const stepSlot = (t: number): GPUBufferBinding => ({ buffer: steps, offset: 256 * t, size: 4 });

    const slice = (buffer: GPUBuffer, slot: TensorSlot): GPUBufferBinding => ({ buffer, offset: f32(slot.offset), size: f32(slot.size) });
    const p = (name: string) => slice(buffers.params, layout.byName[name]);
    const g = (name: string) => slice(buffers.grads, layout.byName[name]);
    const add = (
      list: Dispatch[],
      name: string,
      constants: Record<string, number | boolean>,
      resources: (GPUBuffer | GPUBufferBinding)[],
      workgroups: [number, number, number],
    ) => {
      const pipeline = lib.pipeline(name, constants);
      list.push({ pipeline, bindGroup: bind(device, pipeline, resources), workgroups });
    };
    const matmul = (
      list: Dispatch[],
      s: {
        M: number;
        N: number;
        K: number;
        TRANS_A?: boolean;
        TRANS_B?: boolean;
        ACCUMULATE?: boolean;
        A_OFFSET?: number;
        B_OFFSET?: number;
      },
      a: GPUBuffer | GPUBufferBinding,
      b: GPUBuffer | GPUBufferBinding,
      bias: GPUBuffer | GPUBufferBinding | null,
      c: GPUBuffer | GPUBufferBinding,
    ) => {
      // An unused bias binding still needs a buffer; c's own buffer serves (the shader never reads it).
      const variant = kernels.matmul({
        batch: 1,
        M: s.M,
        N: s.N,
        K: s.K,
        transA: s.TRANS_A ?? false,
        transB: s.TRANS_B ?? false,
        aOffset: s.A_OFFSET ?? 0,
        bOffset: s.B_OFFSET ?? 0,
      });
      add(list, variant, { ...s, HAS_BIAS: bias !== null }, [a, b, bias ?? a, c], [ceilDiv(s.N, 16), ceilDiv(s.M, 16), 1]);
    };

    // Forward.
    add(this.forward, 'input_projection', { R, H, V, WG }, [p('Wxh'), p('bh'), this.inputs, xproj], [ceilDiv(H, WG), R, 1]);
    for (let t = 0; t < T; t++) {
      add(this.forward, 'rnn_step', { B, H, WG }, [stepSlot(t), xproj, p('Whh'), this.hs], [ceilDiv(H, WG), B, 1]);
    }
    // logits (R, V) = h_1..h_T (R, H) Why^T + by
    matmul(this.forward, { M: R, N: V, K: H, TRANS_B: true, A_OFFSET: B * H }, this.hs, p('Why'), p('by'), logits);
    add(
      this.forward,
      'softmax_cross_entropy',
      { R, V, SCALE: 1 / B, WG: kernels.softmaxWorkgroup },
      [logits, this.targets, rowLoss, dlogits],
      [R, 1, 1],
    );
    add(this.forward, 'loss_reduce', { R, SCALE: 1 / B }, [rowLoss, this.lossState], [1, 1, 1]);

    // Backward: every gradient is added into.
    // dWhy (V, H) += dlogits^T (V, R) h_1..h_T (R, H)
    matmul(this.backward, { M: V, N: H, K: R, TRANS_A: true, ACCUMULATE: true, B_OFFSET: B * H }, dlogits, this.hs, null, g('Why'));
    add(this.backward, 'bias_grad', { R, N: V, WG }, [dlogits, g('by')], [ceilDiv(V, WG), 1, 1]);
    // dhy (R, H) = dlogits (R, V) Why (V, H)
    matmul(this.backward, { M: R, N: H, K: V }, dlogits, p('Why'), null, dhy);
    for (let t = T - 1; t >= 0; t--) {
      add(this.backward, 'rnn_step_backward', { T, B, H, WG }, [stepSlot(t), dhy, this.hs, p('Whh'), dhraw], [ceilDiv(H, WG), B, 1]);
    }
    // dWhh (H, H) += dhraw^T (H, R) h_0..h_{T-1} (R, H)
    matmul(this.backward, { M: H, N: H, K: R, TRANS_A: true, ACCUMULATE: true }, dhraw, this.hs, null, g('Whh'));
    add(this.backward, 'bias_grad', { R, N: H, WG }, [dhraw, g('bh')], [ceilDiv(H, WG), 1, 1]);
    add(this.backward, 'input_projection_backward', { R, H, V, WG }, [dhraw, this.inputs, g('Wxh')], [ceilDiv(H, WG), 1, 1]);
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
