import type { LossReading } from '../model/backend.ts';
import type { BufferPool } from './buffers.ts';
import type { DeviceChannel } from './device_channel.ts';
import type { KernelLibrary } from './kernels.ts';
import type { Dispatch } from './model_program.ts';
import { NON_FINITE_OFFSET } from './optimizer.ts';

// The training loss on the GPU: loss_reduce turns the window's per-row losses into [loss, smoothLoss]
// (lossState, which a checkpoint's state transfer reads too), and a print copies them, with the optimizer's
// non-finite flag, into one readback buffer: one map per print, nothing read back on other steps.

const READBACK_BYTES = 12; // [loss, smoothLoss, nonFinite]

export class LossReadout {
  /** [loss, smoothLoss] of the last step. */
  readonly state: GPUBuffer;
  readonly dispatch: Dispatch;
  private readonly readback: GPUBuffer;
  /** The last step's submit already copied the reading out (step's keepLoss). */
  private kept = false;

  constructor(
    lib: KernelLibrary,
    pool: BufferPool,
    rowLoss: GPUBuffer,
    R: number,
    B: number,
    /** The optimizer's [scale, norm, nonFinite] buffer. */
    private readonly clipNorm: GPUBuffer,
  ) {
    this.state = pool.storage('lossState', 8);
    this.readback = pool.readback('loss readback', READBACK_BYTES);
    this.dispatch = lib.dispatch('loss_reduce', { R, SCALE: 1 / B }, [rowLoss, this.state], [1, 1, 1]);
  }

  /** Records the copy into the readback buffer, the one the next read() maps. */
  encodeCopy(encoder: GPUCommandEncoder): void {
    encoder.copyBufferToBuffer(this.state, 0, this.readback, 0, 8);
    encoder.copyBufferToBuffer(this.clipNorm, NON_FINITE_OFFSET, this.readback, 8, 4);
    this.kept = true;
  }

  /** The reading after the last step; copies it out first unless that step's submit did. */
  async read(device: GPUDevice, channel: DeviceChannel, submit: (e: GPUCommandEncoder) => void): Promise<LossReading> {
    if (!this.kept) {
      const encoder = device.createCommandEncoder();
      this.encodeCopy(encoder);
      submit(encoder);
    }
    this.kept = false;
    const reading = await channel.read(this.readback, READBACK_BYTES);
    const nonFiniteParams = new Uint32Array(reading.buffer, reading.byteOffset, 3)[2] !== 0;
    return { loss: reading[0], smoothLoss: reading[1], nonFiniteParams };
  }

  /** A step whose loss will not be read: the readback buffer no longer holds its reading. */
  discard(): void {
    this.kept = false;
  }
}
