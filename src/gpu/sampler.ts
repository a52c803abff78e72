import type { SampleRequest } from '../model/backend.ts';
import type { ModelConfig } from '../model/config.ts';
import type { ParamLayout } from '../model/layout.ts';
import { upload, type BufferPool } from './buffers.ts';
import { bind, type KernelLibrary } from './kernels.ts';
import { ModelProgram, type KernelChoice } from './model_program.ts';
import type { Recurrence } from './recurrence.ts';

/** Characters per command buffer: a long sample is several submits, so no one runs into a driver's watchdog. */
export const SAMPLE_STEPS_PER_SUBMIT = 256;

/** sample_draw's ids buffer: [count, generator state (4), the ids drawn]; see shaders/sample_draw.wgsl. */
const IDS_START = 5;

/**
 * Sampling on the GPU with no round trip per character: a forward-only program of one step and one stream,
 * then sample_draw, which writes the drawn id straight into the program's input. The sample (prime, then
 * every character) is recorded one compute pass per character, SAMPLE_STEPS_PER_SUBMIT characters to a
 * command buffer, and read back once at the end.
 */
export class Sampler {
  private readonly request: GPUBuffer;
  private readonly weights: GPUBuffer;
  private ids: GPUBuffer | null = null;
  private prime: GPUBuffer | null = null;
  private readback: GPUBuffer | null = null;
  private capacity = 0;
  private bindGroup: GPUBindGroup | null = null;

  /** The sampler with its pipelines built. */
  static async create(
    lib: KernelLibrary,
    pool: BufferPool,
    config: ModelConfig,
    layout: ParamLayout,
    params: GPUBuffer,
    kernels: KernelChoice,
    recurrence: Recurrence,
  ): Promise<Sampler> {
    const program = new ModelProgram(lib, pool, config, layout, 1, 1, params, null, kernels, recurrence);
    const [draw] = await Promise.all([lib.pipeline('sample_draw', { V: config.vocabSize }), lib.ready()]);
    return new Sampler(lib, pool, config, program, draw);
  }

  private constructor(
    private readonly lib: KernelLibrary,
    private readonly pool: BufferPool,
    config: ModelConfig,
    readonly program: ModelProgram,
    private readonly draw: GPUComputePipeline,
  ) {
    // The step's target is ignored (>= V): its loss and gradient are never used.
    upload(lib.device.queue, this.program.targets, new Uint32Array([0xffffffff]));
    this.request = pool.uniform('sample request', 16);
    this.weights = pool.storage('sample weights', config.vocabSize * 4);
  }

  /**
   * Records and submits the sample, continuing `encoder` (which may hold the starting state's copies); returns
   * the readback buffer that holds the ids once the last submit completes.
   */
  run(encoder: GPUCommandEncoder, req: SampleRequest, rngState: number[], submit: (e: GPUCommandEncoder) => void): GPUBuffer {
    const P = req.primeIds.length;
    if (req.length + IDS_START > this.capacity || P > this.capacity) {
      this.capacity = Math.max(req.length + IDS_START, P, 256);
      this.ids = this.pool.storage('sample ids', this.capacity * 4);
      this.prime = this.pool.storage('sample prime', this.capacity * 4);
      this.readback = this.pool.readback('sample readback', this.capacity * 4);
      this.bindGroup = bind(this.lib.device, this.draw, [this.request, this.program.logits, this.program.inputs, this.ids, this.weights]);
    }
    const queue = this.lib.device.queue;
    const request = new ArrayBuffer(16);
    new Float32Array(request, 0, 1)[0] = 1 / req.temperature;
    new Uint32Array(request, 4, 2).set([req.argmax ? 1 : 0, req.topK ?? 0]);
    new Float32Array(request, 12, 1)[0] = req.topP ?? 1;
    upload(queue, this.request, request);
    upload(queue, this.ids!, new Uint32Array(rngState), 4);
    upload(queue, this.prime!, req.primeIds);
    encoder.clearBuffer(this.ids!, 0, 4);
    let steps = 0;
    const step = (draw: boolean, forward: boolean): void => {
      if (++steps % SAMPLE_STEPS_PER_SUBMIT === 0) {
        submit(encoder);
        encoder = this.lib.device.createCommandEncoder();
      }
      const pass = encoder.beginComputePass();
      if (draw) {
        pass.setPipeline(this.draw);
        pass.setBindGroup(0, this.bindGroup!);
        pass.dispatchWorkgroups(1);
      }
      if (forward) ModelProgram.encode(pass, this.program.forward);
      pass.end();
      if (forward) this.program.encodeCarry(encoder);
    };
    for (let i = 0; i < P; i++) {
      encoder.copyBufferToBuffer(this.prime!, i * 4, this.program.inputs, 0, 4);
      step(false, true);
    }
    for (let n = 0; n < req.length; n++) step(true, n + 1 < req.length);
    encoder.copyBufferToBuffer(this.ids!, IDS_START * 4, this.readback!, 0, Math.max(4, req.length * 4));
    submit(encoder);
    return this.readback!;
  }
}
