/** A timestamp query set with a begin and an end slot per dispatch, and the buffers to read it back. */
export class Profiler {
  private readonly querySet: GPUQuerySet;
  private readonly resolved: GPUBuffer;
  private readonly readback: GPUBuffer;

  constructor(
    device: GPUDevice,
    private readonly dispatches: number,
  ) {
    // Outside the BufferPool: only profiling makes these, and the pool has no query-resolve buffers.
    this.querySet = device.createQuerySet({ type: 'timestamp', count: 2 * dispatches });
    const bytes = 2 * dispatches * 8;
    this.resolved = device.createBuffer({
      label: 'timestamps',
      size: bytes,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
    this.readback = device.createBuffer({
      label: 'timestamp readback',
      size: bytes,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
  }

  writes(n: number): GPUComputePassTimestampWrites {
    return { querySet: this.querySet, beginningOfPassWriteIndex: 2 * n, endOfPassWriteIndex: 2 * n + 1 };
  }

  encodeResolve(encoder: GPUCommandEncoder): void {
    encoder.resolveQuerySet(this.querySet, 0, 2 * this.dispatches, this.resolved, 0);
    encoder.copyBufferToBuffer(this.resolved, 0, this.readback, 0, 2 * this.dispatches * 8);
  }

  /**
   * Milliseconds per dispatch, in encoding order; null when the readings are not meaningful: timestamps are
   * allowed to come back zero or out of order (an end before its begin, on some drivers and across power
   * states), and then no per-kernel split is better than a wrong one.
   */
  async read(): Promise<number[] | null> {
    await this.readback.mapAsync(GPUMapMode.READ);
    const ns = new BigInt64Array(this.readback.getMappedRange().slice(0));
    this.readback.unmap();
    const ms: number[] = [];
    for (let n = 0; n < this.dispatches; n++) {
      const [begin, end] = [ns[2 * n], ns[2 * n + 1]];
      if (begin === 0n || end < begin) return null;
      ms.push(Number(end - begin) / 1e6);
    }
    return ms;
  }

  destroy(): void {
    this.querySet.destroy();
    this.resolved.destroy();
    this.readback.destroy();
  }
}
