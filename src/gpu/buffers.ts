import { checkBufferFits } from './device.ts';

// Every GPU buffer of a backend is created here, so memory is counted in one place and a test can check
// that nothing is allocated after the first training step.

export class BufferPool {
  bytes = 0;
  created = 0;
  private readonly buffers: GPUBuffer[] = [];

  constructor(readonly device: GPUDevice) {}

  storage(label: string, bytes: number): GPUBuffer {
    checkBufferFits(this.device, label, bytes);
    return this.create(label, bytes, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
  }

  uniform(label: string, bytes: number): GPUBuffer {
    return this.create(label, bytes, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
  }

  readback(label: string, bytes: number): GPUBuffer {
    return this.create(label, bytes, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
  }

  destroy(): void {
    for (const b of this.buffers) b.destroy();
    this.buffers.length = 0;
  }

  private create(label: string, bytes: number, usage: number): GPUBuffer {
    // WebGPU wants sizes in multiples of 4; a zero-sized binding is invalid.
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    const buffer = this.device.createBuffer({ label, size, usage });
    this.buffers.push(buffer);
    this.bytes += size;
    this.created++;
    return buffer;
  }
}

/** queue.writeBuffer for any typed array (TypeScript's DOM types reject views of ArrayBufferLike). */
export function upload(queue: GPUQueue, buffer: GPUBuffer, data: ArrayBufferView | ArrayBuffer, offset = 0): void {
  queue.writeBuffer(buffer, offset, data as GPUAllowSharedBufferSource);
}
