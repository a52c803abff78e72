import { derivedTolerance, matmulArithmetic } from './kernel_checks/accuracy.ts';
import { matmul as cpuMatmul } from '../cpu/matmul.ts';
import { Rng } from '../model/rng.ts';
import { upload } from './buffers.ts';
import type { GpuContext } from './device.ts';
import { bind, type KernelLibrary } from './kernels.ts';
import { timePass } from './pass_timer.ts';
import { type MatmulCall, type MatmulVariant, matmulWorkgroups } from './matmul_variants.ts';

// Runs one matmul call on random inputs with any variant: checks it against the CPU twin, then times it.
// Shared by the start-up probe (kernel_choice.ts) and the microbenchmark (bench/matmul.ts), so both time
// the same way (pass_timer.ts, as the recurrence probe): timestamp-query around a pass of repeated
// dispatches where the adapter has it, else the wall clock around one submit of them.

export interface MatmulCheck {
  /** Largest |gpu - cpu| over c. */
  maxError: number;
  /** Every element within atol + rtol * |cpu| (NaN, an unwritten element, never is), and no WebGPU error. */
  ok: boolean;
  error?: string;
}

/** Inputs are uniform in [-1, 1]: the kernel checks' tolerance, derived from WGSL's accuracy (accuracy.ts). */
export function matmulTolerance(K: number): { atol: number; rtol: number } {
  return derivedTolerance(matmulArithmetic(K));
}

export type TimingMethod = 'timestamp-query' | 'wall-clock';

export class MatmulCase {
  readonly timing: TimingMethod;
  private readonly a: Float32Array;
  private readonly b: Float32Array;
  private readonly buffers: GPUBuffer[] = [];
  private readonly aBuf: GPUBuffer;
  private readonly bBuf: GPUBuffer;
  private readonly cBuf: GPUBuffer;
  private readonly biasBuf: GPUBuffer;
  private readonly cBytes: number;
  private cpuC: Float32Array | null = null;

  constructor(
    private readonly ctx: GpuContext,
    private readonly lib: KernelLibrary,
    readonly call: MatmulCall,
    seed: number,
  ) {
    const { batch, M, N, K, aOffset, bOffset } = call;
    const rng = new Rng(seed);
    const random = (n: number) => {
      const x = new Float32Array(n);
      for (let i = 0; i < n; i++) x[i] = rng.uniform() * 2 - 1;
      return x;
    };
    this.a = random(aOffset + batch * M * K);
    this.b = random(bOffset + batch * K * N);
    this.cBytes = batch * M * N * 4;
    const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    this.aBuf = this.buffer(this.a.byteLength, storage);
    this.bBuf = this.buffer(this.b.byteLength, storage);
    this.biasBuf = this.buffer(16, storage);
    this.cBuf = this.buffer(this.cBytes, storage);
    upload(ctx.device.queue, this.aBuf, this.a);
    upload(ctx.device.queue, this.bBuf, this.b);
    this.timing = ctx.hasTimestampQuery ? 'timestamp-query' : 'wall-clock';
  }

  /** c = op(a) op(b) on the GPU with `variant`, c poisoned with NaN first, against the CPU twin. */
  async check(variant: MatmulVariant): Promise<MatmulCheck> {
    const { device } = this.ctx;
    const { batch, M, N, K, transA, transB, aOffset, bOffset } = this.call;
    upload(device.queue, this.cBuf, new Float32Array(batch * M * N).fill(NaN));
    let pipeline: GPUComputePipeline;
    try {
      pipeline = await this.pipeline(variant);
    } catch (e) {
      // Over the device's limits (256 invocations in compatibility mode), or rejected by its compiler.
      return { maxError: Infinity, ok: false, error: (e as Error).message };
    }
    device.pushErrorScope('validation');
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    this.encode(pass, pipeline, 1);
    pass.end();
    const readback = this.buffer(this.cBytes, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    encoder.copyBufferToBuffer(this.cBuf, 0, readback, 0, this.cBytes);
    device.queue.submit([encoder.finish()]);
    const error = await device.popErrorScope();
    await readback.mapAsync(GPUMapMode.READ);
    const gpuC = new Float32Array(readback.getMappedRange().slice(0));
    readback.unmap();
    if (error) return { maxError: Infinity, ok: false, error: error.message };
    if (!this.cpuC) {
      this.cpuC = new Float32Array(batch * M * N);
      cpuMatmul(this.cpuC, this.a.subarray(aOffset), this.b.subarray(bOffset), null, {
        batch,
        M,
        N,
        K,
        transA,
        transB,
        accumulate: false,
      });
    }
    const cpuC = this.cpuC;
    const { atol, rtol } = matmulTolerance(K);
    let maxError = 0;
    let ok = true;
    for (let i = 0; i < cpuC.length; i++) {
      const err = Math.abs(gpuC[i] - cpuC[i]);
      if (!(err <= atol + rtol * Math.abs(cpuC[i]))) ok = false;
      maxError = Math.max(maxError, Number.isNaN(err) ? Infinity : err);
    }
    return { maxError, ok };
  }

  /**
   * Milliseconds per dispatch of `variant`: one dispatch alone, then `samples` passes of enough repeated
   * dispatches to fill about `targetMs` each; the median pass. When the one dispatch takes over
   * `enoughMs`, it is the answer: long enough to time alone, or (in the probe) slow enough to have lost.
   * Pipelines compile when created, before the clock starts.
   */
  async time(variant: MatmulVariant, opts: { samples: number; targetMs: number; maxReps: number; enoughMs?: number }): Promise<number> {
    const once = await this.timePass(variant, 1);
    if (once > (opts.enoughMs ?? Infinity)) return once;
    const reps = Math.max(1, Math.min(opts.maxReps, Math.round(opts.targetMs / Math.max(once, 1e-3))));
    const perDispatch: number[] = [];
    for (let s = 0; s < opts.samples; s++) perDispatch.push((await this.timePass(variant, reps)) / reps);
    perDispatch.sort((x, y) => x - y);
    return perDispatch[Math.floor(perDispatch.length / 2)];
  }

  destroy(): void {
    for (const b of this.buffers) b.destroy();
    this.buffers.length = 0;
  }

  private async timePass(variant: MatmulVariant, reps: number): Promise<number> {
    const pipeline = await this.pipeline(variant);
    return timePass(this.ctx, (pass) => this.encode(pass, pipeline, reps));
  }

  private pipeline(variant: MatmulVariant): Promise<GPUComputePipeline> {
    const { M, N, K, transA, transB, aOffset, bOffset } = this.call;
    return this.lib.pipeline(variant, { M, N, K, TRANS_A: transA, TRANS_B: transB, A_OFFSET: aOffset, B_OFFSET: bOffset });
  }

  private encode(pass: GPUComputePassEncoder, pipeline: GPUComputePipeline, reps: number): void {
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bind(this.ctx.device, pipeline, [this.aBuf, this.bBuf, this.biasBuf, this.cBuf]));
    for (let r = 0; r < reps; r++) pass.dispatchWorkgroups(...matmulWorkgroups(this.call));
  }

  private buffer(bytes: number, usage: number): GPUBuffer {
    const buffer = this.ctx.device.createBuffer({ size: Math.max(16, Math.ceil(bytes / 16) * 16), usage });
    this.buffers.push(buffer);
    return buffer;
  }
}
