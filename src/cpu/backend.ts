import type { Window } from '../data/batches.ts';
import type { Backend, LossReading, SampleRequest, TrainingState } from '../model/backend.ts';
import type { ModelConfig, TrainConfig } from '../model/config.ts';
import type { ParamLayout } from '../model/layout.ts';
import type { Rng } from '../model/rng.ts';
import { firstNonFinite } from '../model/safetensors.ts';
import { NO_CLIP, OPTIMIZERS, optimizerStateFloats, SETTINGS_FLOATS, type OptimizerType } from '../model/optimizers.ts';
import { clipScale } from './clip_scale.ts';
import { gradNormPartial } from './grad_norm_partial.ts';
import { lossReduce } from './loss_reduce.ts';
import { CPU_UPDATES, type CpuUpdate } from './optimizers.ts';
import { ModelWindow } from './model_window.ts';
import { sample } from './sample.ts';
import { plainOps, type WindowOps } from './window_ops.ts';

/** What a CpuBackend computes with: its window ops (memory included), its name, and what to release. */
export interface CpuEngine {
  ops: WindowOps<Float32Array>;
  /** The backend's deviceName. */
  name: string;
  /** The optimizer updates, on arrays from ops.alloc; default src/cpu/optimizers.ts's CPU_UPDATES. */
  updates?: Record<OptimizerType, CpuUpdate>;
  close(): void;
}

const REFERENCE: CpuEngine = { ops: plainOps(Float32Array), name: 'CPU (JavaScript reference)', close() {} };

/**
 * The CPU backend: float32 storage like the GPU. By default every op is a plain loop in src/cpu (the
 * reference); with src/wasm/backend.ts's engine, the window's memory and matmuls are WebAssembly's.
 */
export class CpuBackend implements Backend {
  readonly kind = 'cpu';
  readonly deviceName: string;
  private readonly params: Float32Array;
  private readonly grads: Float32Array;
  private readonly optimizerState: Float32Array;
  private readonly update: CpuUpdate;
  private readonly clipNorm = new Float64Array(2); // [partial sum of g^2, unused], then [scale, norm]
  private readonly settings = new Float64Array(SETTINGS_FLOATS);
  private optimizerStep = 0;
  private learningRate: number;
  private readonly window: ModelWindow<Float32Array>;
  private readonly lossState = new Float64Array(2); // [loss, smoothLoss]
  private evalWindow: ModelWindow<Float32Array> | null = null;
  private sampleWindow: ModelWindow<Float32Array> | null = null;

  constructor(
    readonly config: ModelConfig,
    readonly train: TrainConfig,
    readonly layout: ParamLayout,
    private readonly engine: CpuEngine = REFERENCE,
  ) {
    this.deviceName = engine.name;
    // In the engine's memory: the window's matmuls read the weights and add into the gradients in place.
    this.params = engine.ops.alloc(layout.totalFloats);
    this.grads = engine.ops.alloc(layout.totalFloats);
    // In the engine's memory too, so that the engine's update can work on it in place.
    this.optimizerState = engine.ops.alloc(optimizerStateFloats(train.optimizer.type, layout.totalFloats));
    this.update = (engine.updates ?? CPU_UPDATES)[train.optimizer.type];
    this.learningRate = train.learningRate;
    this.window = new ModelWindow(config, layout, train.seqLength, train.batchSize, engine.ops);
  }

  step(w: Window, _keepLoss = false, dropoutSeed = 0): void {
    if (w.reset) this.window.resetState();
    const { seqLength: T, batchSize: B } = this.train;
    this.window.forward(this.params, w.inputs, w.targets, dropoutSeed);
    lossReduce(this.lossState, this.window.rowLoss, T * B, 1 / B);
    this.window.backward(this.params, this.grads, w.inputs);
    this.applyUpdate();
    this.window.carryState();
  }

  /** Clipping (element-wise, or of the global norm) and the optimizer's update, as the GPU's update dispatches. */
  private applyUpdate(): void {
    const { optimizer, clip, clipNorm } = this.train;
    const n = this.layout.totalFloats;
    let scale = 1;
    if (clipNorm > 0) {
      gradNormPartial(this.clipNorm, this.grads, n, 1, n);
      clipScale(this.clipNorm, this.clipNorm, 1, clipNorm);
      scale = this.clipNorm[0];
    }
    this.optimizerStep++;
    OPTIMIZERS[optimizer.type].settings(this.settings, optimizer, this.learningRate, clip > 0 ? clip : NO_CLIP, this.optimizerStep);
    this.update(this.params, this.grads, this.optimizerState, n, this.settings, scale);
  }

  setLearningRate(lr: number): void {
    this.learningRate = lr;
  }

  async readLoss(): Promise<LossReading> {
    // A scan of the parameters at each print: cheap next to the steps between two prints.
    return { loss: this.lossState[0], smoothLoss: this.lossState[1], nonFiniteParams: firstNonFinite(this.params) !== -1 };
  }

  async sample(req: SampleRequest, rng: Rng): Promise<Uint32Array> {
    this.sampleWindow ??= new ModelWindow(this.config, this.layout, 1, 1, this.engine.ops);
    const w = this.sampleWindow;
    if (req.from === 'stream0') {
      const { hidden, cell } = this.window.getState();
      w.setState(streamZero(hidden, this.config, this.train.batchSize), cell && streamZero(cell, this.config, this.train.batchSize));
    } else w.resetState();
    const out = new Uint32Array(req.length);
    sample(out, w, this.params, req.primeIds, req.temperature, req.argmax, rng, req.topK, req.topP);
    return out;
  }

  async getState(): Promise<TrainingState> {
    const { hidden, cell } = this.window.getState();
    return {
      params: this.params.slice(),
      optimizerState: this.optimizerState.slice(),
      step: this.optimizerStep,
      learningRate: this.learningRate,
      hidden,
      cell,
      smoothLoss: this.lossState[1],
    };
  }

  setState(s: TrainingState): void {
    this.params.set(s.params);
    this.optimizerState.set(s.optimizerState);
    this.optimizerStep = s.step;
    this.learningRate = s.learningRate;
    this.window.setState(s.hidden, s.cell);
    this.lossState[1] = s.smoothLoss;
  }

  async evaluate(ids: Uint32Array): Promise<{ lossSum: number; count: number }> {
    const T = this.train.seqLength;
    this.evalWindow ??= new ModelWindow(this.config, this.layout, T, 1, this.engine.ops);
    const w = this.evalWindow;
    w.resetState();
    const inputs = new Uint32Array(T);
    const targets = new Uint32Array(T);
    let lossSum = 0;
    for (let start = 0; start + 1 < ids.length; start += T) {
      const n = Math.min(T, ids.length - 1 - start);
      // The last window is padded with ignored targets (>= V): their loss is zero.
      for (let t = 0; t < T; t++) {
        inputs[t] = t < n ? ids[start + t] : 0;
        targets[t] = t < n ? ids[start + t + 1] : 0xffffffff;
      }
      lossSum += w.forward(this.params, inputs, targets);
      w.carryState();
    }
    return { lossSum, count: Math.max(0, ids.length - 1) };
  }

  destroy(): void {
    this.engine.close();
  }
}

/** Stream 0 of each layer of an (L, B, H) state, as (L, 1, H). */
function streamZero(state: Float32Array, config: ModelConfig, B: number): Float32Array {
  const H = config.hiddenSize;
  const out = new Float32Array(config.layers * H);
  for (let k = 0; k < config.layers; k++) out.set(state.subarray(k * B * H, k * B * H + H), k * H);
  return out;
}
