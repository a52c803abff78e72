import type { Window } from '../data/batches.ts';
import type { Backend, LossReading, SampleRequest, TrainingState } from '../model/backend.ts';
import type { ModelConfig, TrainConfig } from '../model/config.ts';
import type { ParamLayout } from '../model/layout.ts';
import type { Rng } from '../model/rng.ts';
import { BufferPool, upload } from './buffers.ts';
import type { GpuContext } from './device.ts';
import { KernelLibrary, type ShaderSource } from './kernels.ts';
import { chooseMatmuls, memoryCache, type KernelChoiceCache } from './kernel_choice.ts';
import { ALL_MATMUL_VARIANTS } from './matmul_variants.ts';
import { ModelProgram, type Dispatch, type KernelChoice } from './model_program.ts';
import { chooseRecurrence, logitsCall, type Recurrence } from './recurrence.ts';
import { chooseRecurrenceByProbe } from './recurrence_choice.ts';
import { Evaluator } from './evaluator.ts';
import { LossReadout } from './loss_reading.ts';
import { GpuOptimizer, optimizerShaders } from './optimizer.ts';
import { Profiler } from './profiler.ts';
import { Sampler } from './sampler.ts';
import { DeviceChannel } from './device_channel.ts';
import { StateTransfer } from './state_transfer.ts';

// The WebGPU backend. It owns the device's buffers for one model: parameters, gradients and optimizer state
// (flat buffers in the model's layout, llm.c style), the activations of one window, and the carried state.
// A training step is one command buffer and one submit: the program's forward and backward, then the
// optimizer's clipping and element-wise update over the flat buffers (src/gpu/optimizer.ts) and the loss
// reduction; the loss stays on the GPU unless asked for.

const SHADERS = [
  'input_projection',
  'embedding',
  ...ALL_MATMUL_VARIANTS,
  'softmax_cross_entropy',
  'loss_reduce',
  'layer_grads',
  'input_projection_backward',
  'embedding_backward',
  'dropout',
  'sample_draw',
];
const cellShaders = (config: ModelConfig) => [`${config.cell}_forward`, `${config.cell}_backward`];
const processKernelCache = memoryCache();

export interface GpuBackendOptions {
  /** Overrides the per-adapter probe of chooseRecurrenceByProbe (tests run both paths). */
  recurrence?: Recurrence;
  /** Where the matmul and recurrence probes' per-adapter choices are kept (default: for the life of the process). */
  kernelCache?: KernelChoiceCache;
}

/** GPU time of one kernel within a profiled step, summed over its dispatches. */
export interface KernelTime {
  kernel: string;
  dispatches: number;
  ms: number;
}

export class GpuBackend implements Backend {
  readonly kind = 'gpu';
  readonly deviceName: string;
  readonly pool: BufferPool;
  private readonly channel: DeviceChannel;

  /** Queue submits so far: a test checks there is exactly one per training step. */
  get submits(): number {
    return this.channel.submits;
  }
  readonly dispatchesPerStep: number;
  readonly kernels: KernelChoice;
  readonly recurrence: Recurrence;
  private readonly device: GPUDevice;
  private readonly params: GPUBuffer;
  private readonly grads: GPUBuffer;
  private readonly optimizer: GpuOptimizer;
  private readonly program: ModelProgram;
  /** The whole training step: the program's forward and backward, then the update. */
  private readonly stepDispatches: Dispatch[];
  private readonly loss: LossReadout;
  private profiler: Profiler | null = null;
  private sampler: Sampler | null = null;
  private evaluator: Evaluator | null = null;
  private readonly transfer: StateTransfer;

  private constructor(
    readonly ctx: GpuContext,
    private readonly lib: KernelLibrary,
    readonly config: ModelConfig,
    readonly train: TrainConfig,
    readonly layout: ParamLayout,
    options: GpuBackendOptions,
    kernels: KernelChoice,
  ) {
    this.device = ctx.device;
    this.deviceName = `GPU: ${ctx.adapterName}`;
    this.channel = new DeviceChannel(this.device);
    this.pool = new BufferPool(this.device);
    const bytes = layout.totalFloats * 4;
    this.params = this.pool.storage('params', bytes);
    this.grads = this.pool.storage('gradients', bytes);
    this.kernels = kernels;
    this.recurrence = options.recurrence ?? chooseRecurrence(this.device.limits, ctx.isCpuAdapter, config.hiddenSize);
    const { seqLength: T, batchSize: B } = train;
    this.program = new ModelProgram(lib, this.pool, config, layout, T, B, this.params, this.grads, kernels, this.recurrence);
    this.optimizer = new GpuOptimizer(lib, this.pool, train, this.params, this.grads, layout.totalFloats);
    this.loss = new LossReadout(lib, this.pool, this.program.rowLoss, T * B, B, this.optimizer.clipNorm);
    this.transfer = new StateTransfer(
      this.pool,
      { params: this.params, optimizerState: this.optimizer.state, layers: this.program.layers, lossState: this.loss.state },
      layout.totalFloats,
      this.optimizer.stateFloats,
      B * config.hiddenSize,
    );
    this.stepDispatches = [...this.program.forward, ...this.program.backward, ...this.optimizer.dispatches, this.loss.dispatch];
    this.dispatchesPerStep = this.stepDispatches.length;
  }

  static async create(
    ctx: GpuContext,
    source: ShaderSource,
    config: ModelConfig,
    train: TrainConfig,
    layout: ParamLayout,
    options: GpuBackendOptions = {},
  ): Promise<GpuBackend> {
    const lib = new KernelLibrary(ctx.device, source);
    // Compile first, so a shader error is one message naming the file and line, not a cascade of invalid objects.
    await lib.checkCompilation([...SHADERS, ...cellShaders(config), ...optimizerShaders(train)]);
    // The matmul variant ranked per adapter and shape, for the training window and the evaluator's batch 1;
    // barriers are expensive on CPU adapters such as SwiftShader, hence softmax's workgroup of 1 there.
    const calls = [logitsCall(config, train.seqLength, train.batchSize), logitsCall(config, train.seqLength, 1)];
    const matmuls = await chooseMatmuls(ctx, lib, source, calls, options.kernelCache ?? processKernelCache);
    const kernels: KernelChoice = { matmul: (call) => matmuls.pick(call), softmaxWorkgroup: ctx.isCpuAdapter ? 1 : 64 };
    // Persistent or per-step, timed per adapter and window shape like the matmuls (recurrence_choice.ts).
    const shape = { cell: config.cell, T: train.seqLength, B: train.batchSize, H: config.hiddenSize };
    const recurrence =
      options.recurrence ?? (await chooseRecurrenceByProbe(ctx, lib, source, shape, options.kernelCache ?? processKernelCache)).recurrence;
    const backend = new GpuBackend(ctx, lib, config, train, layout, { ...options, recurrence }, kernels);
    await lib.ready();
    await backend.checkErrors();
    return backend;
  }

  step(w: Window, keepLoss = false, dropoutSeed = 0): void {
    const encoder = this.beginStep(w, dropoutSeed);
    const pass = encoder.beginComputePass();
    ModelProgram.encode(pass, this.stepDispatches);
    pass.end();
    this.endStep(encoder, keepLoss);
  }

  /**
   * One training step like step(w), with each dispatch in a compute pass of its own that writes timestamps,
   * so the step's GPU time can be split by kernel (the passes add a little time of their own). Returns null
   * when the adapter has no timestamp-query feature or its readings were not meaningful (Profiler.read). The step trains: it moves the model like step(w).
   */
  async profileStep(w: Window): Promise<KernelTime[] | null> {
    if (!this.ctx.hasTimestampQuery) return null;
    const dispatches = this.stepDispatches;
    this.profiler ??= new Profiler(this.device, dispatches.length);
    const encoder = this.beginStep(w);
    dispatches.forEach((d, n) => {
      const pass = encoder.beginComputePass({ timestampWrites: this.profiler!.writes(n) });
      ModelProgram.encode(pass, [d]);
      pass.end();
    });
    this.profiler.encodeResolve(encoder);
    this.endStep(encoder, false);
    const ms = await this.profiler.read();
    await this.checkErrors();
    if (!ms) return null;
    const times = new Map<string, KernelTime>();
    dispatches.forEach((d, n) => {
      const t = times.get(d.kernel) ?? { kernel: d.kernel, dispatches: 0, ms: 0 };
      t.dispatches++;
      t.ms += ms[n];
      times.set(d.kernel, t);
    });
    return [...times.values()];
  }

  private beginStep(w: Window, dropoutSeed = 0): GPUCommandEncoder {
    const queue = this.device.queue;
    this.program.uploadInputs(queue, w.inputs, dropoutSeed);
    upload(queue, this.program.targets, w.targets);
    this.optimizer.beginStep(queue);
    const encoder = this.device.createCommandEncoder();
    if (w.reset) this.program.encodeReset(encoder);
    return encoder;
  }

  private endStep(encoder: GPUCommandEncoder, keepLoss: boolean): void {
    this.program.encodeCarry(encoder);
    if (keepLoss) this.loss.encodeCopy(encoder);
    else this.loss.discard();
    this.submit(encoder);
  }

  readLoss(): Promise<LossReading> {
    return this.loss.read(this.device, this.channel, (e) => this.submit(e));
  }

  async sample(req: SampleRequest, rng: Rng): Promise<Uint32Array> {
    this.sampler ??= await Sampler.create(this.lib, this.pool, this.config, this.layout, this.params, this.kernels, this.recurrence);
    const encoder = this.device.createCommandEncoder();
    const H4 = this.config.hiddenSize * 4;
    const into = this.sampler.program.layers;
    if (req.from === 'stream0') {
      this.program.layers.forEach((l, k) => {
        encoder.copyBufferToBuffer(l.hs, 0, into[k].hs, 0, H4);
        if (l.cs) encoder.copyBufferToBuffer(l.cs, 0, into[k].cs!, 0, H4);
      });
    } else this.sampler.program.encodeReset(encoder);
    const readback = this.sampler.run(encoder, req, rng.state(), (e) => this.submit(e));
    if (!req.argmax) for (let i = 0; i < req.length; i++) rng.nextU32();
    return new Uint32Array((await this.read(readback, req.length * 4, Uint32Array)).buffer, 0, req.length);
  }

  async getState(): Promise<TrainingState> {
    const state = await this.transfer.read(this.channel);
    return { ...state, step: this.optimizer.step, learningRate: this.optimizer.learningRate };
  }

  setState(s: TrainingState): void {
    this.transfer.write(s);
    this.optimizer.resetClipNorm(this.device.queue);
    this.optimizer.step = s.step;
    this.optimizer.learningRate = s.learningRate;
  }

  setLearningRate(lr: number): void {
    this.optimizer.learningRate = lr;
  }

  async evaluate(ids: Uint32Array): Promise<{ lossSum: number; count: number }> {
    // Kept only once its pipelines are built: a failed build leaves nothing half-made behind.
    const evaluator =
      this.evaluator ??
      new Evaluator(
        new ModelProgram(
          this.lib,
          this.pool,
          this.config,
          this.layout,
          this.train.seqLength,
          1,
          this.params,
          null,
          this.kernels,
          this.recurrence,
        ),
        this.lib,
        this.pool,
      );
    await this.lib.ready();
    this.evaluator = evaluator;
    const losses = await evaluator.run(
      ids,
      (encoder) => this.submit(encoder),
      (b, n) => this.read(b, n),
    );
    let lossSum = 0;
    for (const l of losses) lossSum += l;
    return { lossSum, count: Math.max(0, ids.length - 1) };
  }

  destroy(): void {
    this.profiler?.destroy();
    this.pool.destroy();
    this.device.destroy();
  }

  private submit(encoder: GPUCommandEncoder): void {
    this.channel.submit(encoder);
  }

  private read(buffer: GPUBuffer, bytes: number, ctor?: Uint32ArrayConstructor): Promise<Float32Array> {
    return this.channel.read(buffer, bytes, ctor);
  }

  private checkErrors(): Promise<void> {
    return this.channel.checkErrors();
  }
}
