import type { TrainConfig } from '../model/config.ts';
import { NO_CLIP, OPTIMIZERS, optimizerStateFloats, SETTINGS_FLOATS } from '../model/optimizers.ts';
import { BufferPool, upload } from './buffers.ts';
import { ceilDiv, grid2d, type KernelLibrary } from './kernels.ts';
import type { Dispatch } from './model_program.ts';

// The optimizer on the GPU: its state (S flat buffers in the parameters' layout, one GPU buffer of S * N
// floats), the scalars of its update in a uniform written by the host before each step, and the dispatches
// that clip and update: with --clip-norm, the global gradient norm as two reductions (grad_norm_partial,
// clip_scale) into a [scale, norm] buffer that the update reads, so the norm is never read back; then the
// optimizer's element-wise update (shaders/<type>_update.wgsl), which also zeroes the gradients.

const WG = 64;
/** Workgroups of the norm's first reduction: enough to read a large gradient in parallel. */
const MAX_NORM_PARTIALS = 256;
const CLIP_NORM_BYTES = 16;
/** The byte offset of the non-finite flag in clipNorm. */
export const NON_FINITE_OFFSET = 8;
const FLOAT_ONE_BITS = 0x3f800000;

export class GpuOptimizer {
  readonly state: GPUBuffer;
  readonly dispatches: Dispatch[] = [];
  readonly stateFloats: number;
  step = 0;
  learningRate: number;
  /** [scale, norm, nonFinite (u32)]: the global-norm clip factor, and the update's flag for a NaN or infinite parameter. */
  readonly clipNorm: GPUBuffer;
  private readonly settings: GPUBuffer;
  private readonly settingsData = new Float32Array(SETTINGS_FLOATS);

  constructor(
    lib: KernelLibrary,
    pool: BufferPool,
    readonly train: TrainConfig,
    params: GPUBuffer,
    grads: GPUBuffer,
    N: number,
  ) {
    const device = pool.device;
    const { type } = train.optimizer;
    this.learningRate = train.learningRate;
    this.stateFloats = optimizerStateFloats(type, N);
    this.state = pool.storage(`${type} state`, this.stateFloats * 4);
    this.settings = pool.uniform(`${type} settings`, SETTINGS_FLOATS * 4);
    // [scale, norm, nonFinite]: scale stays 1 unless the norm is clipped; the update sets nonFinite.
    const clipNorm = pool.storage('clip norm', CLIP_NORM_BYTES);
    this.clipNorm = clipNorm;
    this.resetClipNorm(device.queue);
    if (train.clipNorm > 0) {
      const NP = Math.min(MAX_NORM_PARTIALS, ceilDiv(N, WG));
      const partials = pool.storage('gradient norm partials', NP * 4);
      const normSettings = pool.uniform('clip norm settings', 16);
      upload(device.queue, normSettings, new Float32Array([train.clipNorm, 0, 0, 0]));
      this.dispatches.push(lib.dispatch('grad_norm_partial', { N, NP }, [grads, partials], [NP, 1, 1]));
      this.dispatches.push(lib.dispatch('clip_scale', { NP }, [normSettings, partials, clipNorm], [1, 1, 1]));
    }
    const kernel = `${type}_update`;
    const [x, y] = grid2d(ceilDiv(N, WG), device.limits.maxComputeWorkgroupsPerDimension);
    this.dispatches.push(lib.dispatch(kernel, { N, WG }, [this.settings, params, grads, this.state, clipNorm], [x, y, 1]));
  }

  /** Scale 1, norm 0 and the non-finite flag down: for a new model or one set from a (finite) state. */
  resetClipNorm(queue: GPUQueue): void {
    upload(queue, this.clipNorm, new Uint32Array([FLOAT_ONE_BITS, 0, 0, 0]));
  }

  /** Counts the step and writes its scalars (Adam's bias corrections change every step); before its submit. */
  beginStep(queue: GPUQueue): void {
    this.step++;
    const { optimizer, clip } = this.train;
    OPTIMIZERS[optimizer.type].settings(this.settingsData, optimizer, this.learningRate, clip > 0 ? clip : NO_CLIP, this.step);
    upload(queue, this.settings, this.settingsData);
  }
}

/** The shaders an optimizer config needs, for compiling them up front. */
export function optimizerShaders(train: TrainConfig): string[] {
  return [`${train.optimizer.type}_update`, ...(train.clipNorm > 0 ? ['grad_norm_partial', 'clip_scale'] : [])];
}
