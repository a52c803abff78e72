import type { TrainingState } from '../model/backend.ts';
import { upload, type BufferPool } from './buffers.ts';
import type { DeviceChannel } from './device_channel.ts';

/** The device buffers that make up the training state (besides the optimizer's step and learning rate). */
export interface StateBuffers {
  params: GPUBuffer; // (N,)
  optimizerState: GPUBuffer; // (S,)
  /** Per layer: the carried hidden state (B, H) and, for the LSTM, the cell state. */
  layers: ReadonlyArray<{ hs: GPUBuffer; cs: GPUBuffer | null }>;
  lossState: GPUBuffer; // [loss, smoothLoss]
}

type Transferred = Omit<TrainingState, 'step' | 'learningRate'>;

/**
 * The training state between the device and the host: one copy into one staging buffer and one readback,
 * [params (N) | optimizer state (S) | hidden (L, B, H) | cell (L, B, H) | lossState (2)]; uploads for the
 * way back. The staging buffer is reused (train reads the state at every log point); a second read while
 * one is in flight gets a temporary one.
 */
export class StateTransfer {
  private staging: GPUBuffer | null = null;
  private busy = false;

  constructor(
    private readonly pool: BufferPool,
    private readonly buffers: StateBuffers,
    private readonly N: number,
    private readonly S: number,
    private readonly BH: number,
  ) {}

  async read(channel: DeviceChannel): Promise<Transferred> {
    const { N, S, BH } = this;
    const { layers } = this.buffers;
    const hasCell = layers[0].cs !== null;
    const BH4 = BH * 4;
    const stateBytes = layers.length * BH4;
    const hiddenAt = (N + S) * 4;
    const total = hiddenAt + (hasCell ? 2 : 1) * stateBytes + 8;
    const reuse = !this.busy;
    const staging = reuse ? (this.staging ??= this.pool.readback('state readback', total)) : this.temporary(total);
    this.busy ||= reuse;
    const encoder = this.pool.device.createCommandEncoder();
    encoder.copyBufferToBuffer(this.buffers.params, 0, staging, 0, N * 4);
    encoder.copyBufferToBuffer(this.buffers.optimizerState, 0, staging, N * 4, S * 4);
    layers.forEach((l, k) => {
      encoder.copyBufferToBuffer(l.hs, 0, staging, hiddenAt + k * BH4, BH4);
      if (l.cs) encoder.copyBufferToBuffer(l.cs, 0, staging, hiddenAt + stateBytes + k * BH4, BH4);
    });
    encoder.copyBufferToBuffer(this.buffers.lossState, 0, staging, total - 8, 8);
    channel.submit(encoder);
    let all: Float32Array;
    try {
      all = await channel.read(staging, total);
    } finally {
      if (reuse) this.busy = false;
      else staging.destroy();
    }
    const h = hiddenAt / 4;
    const s = stateBytes / 4;
    return {
      params: all.slice(0, N),
      optimizerState: all.slice(N, N + S),
      hidden: all.slice(h, h + s),
      cell: hasCell ? all.slice(h + s, h + 2 * s) : null,
      smoothLoss: all[total / 4 - 1],
    };
  }

  write(s: Transferred): void {
    const queue = this.pool.device.queue;
    const { BH } = this;
    upload(queue, this.buffers.params, s.params);
    upload(queue, this.buffers.optimizerState, s.optimizerState);
    this.buffers.layers.forEach((l, k) => {
      upload(queue, l.hs, s.hidden.subarray(k * BH, (k + 1) * BH));
      if (l.cs) upload(queue, l.cs, s.cell ? s.cell.subarray(k * BH, (k + 1) * BH) : new Float32Array(BH));
    });
    upload(queue, this.buffers.lossState, new Float32Array([0, s.smoothLoss]));
  }

  private temporary(bytes: number): GPUBuffer {
    return this.pool.device.createBuffer({
      label: 'state readback (temporary)',
      size: Math.ceil(bytes / 4) * 4,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
  }
}
