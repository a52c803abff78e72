import type { GpuContext } from './device.ts';

// Milliseconds of one compute pass, measured the same way by every probe and benchmark (the matmul and
// recurrence probes, bench/matmul.ts): timestamp queries around the pass where the adapter has them, else
// the wall clock from its submit until the queue is idle.

export async function timePass(
  ctx: Pick<GpuContext, 'device' | 'hasTimestampQuery'>,
  encode: (pass: GPUComputePassEncoder) => void,
): Promise<number> {
  const { device } = ctx;
  const encoder = device.createCommandEncoder();
  if (!ctx.hasTimestampQuery) {
    const pass = encoder.beginComputePass();
    encode(pass);
    pass.end();
    const t0 = performance.now();
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
    return performance.now() - t0;
  }
  const querySet = device.createQuerySet({ type: 'timestamp', count: 2 });
  const resolved = device.createBuffer({ size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
  const readback = device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  try {
    const pass = encoder.beginComputePass({ timestampWrites: { querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } });
    encode(pass);
    pass.end();
    encoder.resolveQuerySet(querySet, 0, 2, resolved, 0);
    encoder.copyBufferToBuffer(resolved, 0, readback, 0, 16);
    device.queue.submit([encoder.finish()]);
    await readback.mapAsync(GPUMapMode.READ);
    const [begin, end] = new BigUint64Array(readback.getMappedRange().slice(0));
    readback.unmap();
    return Number(end - begin) / 1e6;
  } finally {
    querySet.destroy();
    resolved.destroy();
    readback.destroy();
  }
}
