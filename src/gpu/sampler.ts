import type { SampleRequest } from '../model/backend.ts';
import type { ModelConfig } from '../model/config.ts';
import type { ParamLayout } from '../model/layout.ts';
import { upload, type BufferPool } from './buffers.ts';
import { bind, type KernelLibrary } from './kernels.ts';

const SAMPLE_WG_LIMIT = 1; // sample.wgsl runs in a single workgroup

/** sample.wgsl's buffers and pipeline, made on the first sample and grown for longer requests. */
export class Sampler {
  readonly scratch: GPUBuffer; // [h, hNext, logits, ranks, weights]
  private readonly request: GPUBuffer;
  private readonly pipeline: GPUComputePipeline;
  private ids: GPUBuffer | null = null;
  private readback: GPUBuffer | null = null;
  private capacity = 0;
  private bindGroup: GPUBindGroup | null = null;

  constructor(
    private readonly lib: KernelLibrary,
    private readonly pool: BufferPool,
    config: ModelConfig,
    layout: ParamLayout,
    private readonly params: GPUBuffer,
  ) {
    const { hiddenSize: H, vocabSize: V } = config;
    const off = (name: string) => layout.byName[name].offset;
    this.pipeline = lib.pipeline('sample', {
      H,
      V,
      OFF_WXH: off('Wxh'),
      OFF_WHH: off('Whh'),
      OFF_BH: off('bh'),
      OFF_WHY: off('Why'),
      OFF_BY: off('by'),
    });
    this.scratch = pool.storage('sample scratch', (2 * H + 3 * V) * 4);
    this.request = pool.uniform('sample request', 48);
  }

  encode(encoder: GPUCommandEncoder, req: SampleRequest, rngState: number[]): GPUBuffer {
    const P = req.primeIds.length;
    const needed = P + req.length;
    if (needed > this.capacity) {
      this.capacity = Math.max(needed, 256);
      this.ids = this.pool.storage('sample ids', this.capacity * 4);
      this.readback = this.pool.readback('sample readback', this.capacity * 4);
      this.bindGroup = bind(this.lib.device, this.pipeline, [this.request, this.params, this.scratch, this.ids]);
    }
    const queue = this.lib.device.queue;
    const request = new ArrayBuffer(48);
    new Uint32Array(request, 0, 3).set([P, req.length, req.argmax ? 1 : 0]);
    new Float32Array(request, 12, 1)[0] = 1 / req.temperature;
    new Uint32Array(request, 16, 4).set(rngState);
    new Uint32Array(request, 32, 1)[0] = req.topK ?? 0;
    new Float32Array(request, 36, 1)[0] = req.topP ?? 1;
    upload(queue, this.request, request);
    upload(queue, this.ids!, req.primeIds);
    const pass = encoder.beginComputePass();
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.bindGroup!);
    pass.dispatchWorkgroups(SAMPLE_WG_LIMIT);
    pass.end();
    encoder.copyBufferToBuffer(this.ids!, P * 4, this.readback!, 0, Math.max(4, req.length * 4));
    return this.readback!;
  }
}
