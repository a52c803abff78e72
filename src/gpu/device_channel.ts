import { deviceLostMessage, GpuDeviceError } from './device_error.ts';

/**
 * The way work goes to a device and results come back: submits (counted: a test checks one per training
 * step) and readbacks that fail with the device's first uncaptured error, or with the reason it was lost,
 * instead of returning garbage or hanging on a map that will never complete.
 */
export class DeviceChannel {
  submits = 0;
  private uncaptured: string | null = null;
  /** Rejects once the device is lost, so that a read waiting on it fails instead of hanging. */
  private readonly lost: Promise<never>;
  private lostMessage: string | null = null;

  constructor(private readonly device: GPUDevice) {
    device.addEventListener('uncapturederror', (e) => {
      this.uncaptured ??= (e as GPUUncapturedErrorEvent).error.message;
    });
    this.lost = device.lost.then((info) => {
      this.lostMessage = deviceLostMessage(info);
      throw new GpuDeviceError(this.lostMessage);
    });
    this.lost.catch(() => {}); // destroy() loses the device too, with nobody reading
  }

  submit(encoder: GPUCommandEncoder): void {
    this.device.queue.submit([encoder.finish()]);
    this.submits++;
  }

  /** Maps a readback buffer and copies `bytes` out; fails with the device's first uncaptured error. */
  async read<T extends Float32ArrayConstructor | Uint32ArrayConstructor = Float32ArrayConstructor>(
    buffer: GPUBuffer,
    bytes: number,
    ctor?: T,
  ): Promise<Float32Array> {
    if (this.lostMessage) throw new GpuDeviceError(this.lostMessage);
    await Promise.race([buffer.mapAsync(GPUMapMode.READ, 0, Math.ceil(bytes / 4) * 4), this.lost]);
    const copy = new (ctor ?? Float32Array)(buffer.getMappedRange(0, Math.ceil(bytes / 4) * 4).slice(0));
    buffer.unmap();
    await this.checkErrors();
    return copy as Float32Array;
  }

  async checkErrors(): Promise<void> {
    if (this.lostMessage) throw new GpuDeviceError(this.lostMessage);
    if (this.uncaptured) throw new GpuDeviceError(`WebGPU error: ${this.uncaptured}`);
  }
}
