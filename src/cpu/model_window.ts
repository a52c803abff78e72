import { CELLS, type CellSpec } from '../model/cells.ts';
import type { ModelConfig } from '../model/config.ts';
import { view, type ParamLayout, type Vec } from '../model/layout.ts';
import { DECODER_BIAS, DECODER_WEIGHT, ENCODER, layerInputSize, layerTensorNames, type LayerTensors } from '../model/model_tensors.ts';
import type { LayerBuffers } from './cells.ts';
import { dropout } from './dropout.ts';
import { embedding } from './embedding.ts';
import { embeddingBackward } from './embedding_backward.ts';
import type { MatmulShape } from './matmul.ts';
import { plainOps, type Recurrence, type WindowOps } from './window_ops.ts';

// Forward and backward of the whole model over one (T, B) window, op by op in the order the GPU scheduler
// records them (cuDNN's per-layer order): per layer, the input projection of all rows, the recurrence, and
// in backward the cell's element-wise backward, then the weight gradients as matmuls over all R = T * B rows.
// Activations, views and matmul shapes are made once, so a step allocates nothing; Float64Array gives the
// float64 path the gradient check needs. Memory, matmuls, the one-hot input projection and its backward,
// the softmax cross-entropy, bias gradients and the recurrence come from `ops` (src/cpu/window_ops.ts):
// plain loops for an array constructor, or the WebAssembly kernels.

type ArrayCtor = Float32ArrayConstructor | Float64ArrayConstructor;

const mm = (M: number, N: number, K: number, transA: boolean, transB: boolean, accumulate: boolean): MatmulShape => ({
  batch: 1,
  M,
  N,
  K,
  transA,
  transB,
  accumulate,
});

export class ModelWindow<A extends Vec> {
  readonly layers: LayerBuffers<A>[] = [];
  readonly logits: A; // (T, B, V)
  readonly dlogits: A; // (T, B, V)
  readonly rowLoss: A; // (T, B)
  private readonly embedded: A | null; // (T, B, E)
  private readonly dembedded: A | null; // (T, B, E)
  private readonly inputIds: Uint32Array | null; // (T, B): the inputs, where ops' input projection reads them
  private readonly targetIds: Uint32Array; // (T, B): the targets, where ops' softmax cross-entropy reads them
  private readonly cell: CellSpec;
  private readonly ops: WindowOps<A>;
  private readonly recurrences: Recurrence<A>[];
  private readonly names: LayerTensors[];
  private readonly shapes: Record<'xproj' | 'dWih' | 'dx' | 'dWhh', MatmulShape>[];
  private readonly head: Record<'logits' | 'dWhy' | 'dy', MatmulShape>;
  private readonly paramViews: TensorViews<A>;
  private readonly gradViews: TensorViews<A>;
  /** The dropout seed of the current step; null: no dropout (evaluation, sampling, or p = 0). */
  private dropoutSeed: number | null = null;

  constructor(
    readonly config: ModelConfig,
    readonly layout: ParamLayout,
    readonly T: number,
    readonly B: number,
    memory: ArrayCtor | WindowOps<A>,
  ) {
    const { hiddenSize: H, vocabSize: V, embedSize: E } = config;
    const R = T * B;
    this.ops = typeof memory === 'function' ? plainOps<A>(memory) : memory;
    const make = (n: number) => this.ops.alloc(n);
    this.cell = CELLS[config.cell];
    const GH = this.cell.gates * H;
    for (let k = 0; k < config.layers; k++) {
      const hs = make((T + 1) * B * H);
      const dgates = make(R * GH);
      const dropped = config.dropout > 0 && k < config.layers - 1;
      const hOut = hs.subarray(B * H) as A;
      this.layers.push({
        xproj: make(R * GH),
        hs,
        cs: this.cell.hasCellState ? make((T + 1) * B * H) : null,
        reserve: this.cell.reserve > 0 ? make(R * this.cell.reserve * H) : null,
        y: dropped ? make(R * H) : hOut,
        hOut,
        hIn: hs.subarray(0, R * H) as A,
        dy: make(R * H),
        dgates,
        dhgates: this.cell.separateHiddenGrad ? make(R * GH) : dgates,
        dh: this.cell.separateHiddenGrad ? make(R * H) : null,
        dc: this.cell.hasCellState ? make(R * H) : null,
      });
    }
    this.embedded = E > 0 ? make(R * E) : null;
    this.dembedded = E > 0 ? make(R * E) : null;
    this.inputIds = E > 0 ? null : this.ops.allocIds(R);
    this.targetIds = this.ops.allocIds(R);
    this.logits = make(R * V);
    this.dlogits = make(R * V);
    this.rowLoss = make(R);
    this.recurrences = this.layers.map((l) => this.ops.recurrence(config.cell, l, T, B, H));
    this.names = this.layers.map((_, k) => layerTensorNames(config, k));
    this.shapes = this.layers.map((_, k) => {
      const inSize = layerInputSize(config, k);
      return {
        xproj: mm(R, GH, inSize, false, true, false),
        dWih: mm(GH, inSize, R, true, false, true),
        dx: mm(R, inSize, GH, false, false, false),
        dWhh: mm(GH, H, R, true, false, true),
      };
    });
    this.head = { logits: mm(R, V, H, false, true, false), dWhy: mm(V, H, R, true, false, true), dy: mm(R, H, V, false, false, false) };
    this.paramViews = new TensorViews(layout);
    this.gradViews = new TensorViews(layout);
  }

  /**
   * Returns the loss summed over the window and averaged over the batch; leaves dlogits for backward.
   * `dropoutSeed` turns dropout on for a training step (null: evaluation).
   */
  forward(params: A, inputs: Uint32Array, targets: Uint32Array, dropoutSeed: number | null = null): number {
    const { T, B, config } = this;
    const { hiddenSize: H, vocabSize: V, embedSize: E } = config;
    const R = T * B;
    const GH = this.cell.gates * H;
    const p = this.paramViews.of(params);
    this.dropoutSeed = config.dropout > 0 ? dropoutSeed : null;
    if (this.embedded) embedding(this.embedded, p[ENCODER], inputs, R, E);
    for (let k = 0; k < config.layers; k++) {
      const l = this.layers[k];
      const n = this.names[k];
      if (k === 0 && this.inputIds) {
        copyIds(this.inputIds, inputs);
        this.ops.inputProjection(l.xproj, p[n.weightIh], p[n.biasIh], this.inputIds, R, GH, V);
      } else {
        const x = k === 0 ? this.embedded! : this.layers[k - 1].y;
        this.ops.matmul(l.xproj, x, p[n.weightIh], p[n.biasIh], this.shapes[k].xproj);
      }
      this.recurrences[k].forward(p[n.weightHh], n.biasHh ? p[n.biasHh] : null, 0, T);
      if (l.y !== l.hOut) {
        if (this.dropoutSeed === null) l.y.set(l.hOut);
        else this.applyDropout(l.y, l.hOut, k);
      }
    }
    this.ops.matmul(this.logits, this.top().y, p[DECODER_WEIGHT], p[DECODER_BIAS], this.head.logits);
    copyIds(this.targetIds, targets);
    this.ops.softmaxCrossEntropy(this.rowLoss, this.dlogits, this.logits, this.targetIds, R, V, 1 / B);
    let sum = 0;
    for (let r = 0; r < R; r++) sum += this.rowLoss[r];
    return sum / B;
  }

  /** Adds this window's gradients into grads (the caller zeroes them once per step). */
  backward(params: A, grads: A, inputs: Uint32Array): void {
    const { T, B, config } = this;
    const { hiddenSize: H, vocabSize: V, embedSize: E } = config;
    const R = T * B;
    const GH = this.cell.gates * H;
    const p = this.paramViews.of(params);
    const g = this.gradViews.of(grads);
    this.ops.matmul(g[DECODER_WEIGHT], this.dlogits, this.top().y, null, this.head.dWhy);
    this.ops.biasGrad(g[DECODER_BIAS], this.dlogits, R, V);
    this.ops.matmul(this.top().dy, this.dlogits, p[DECODER_WEIGHT], null, this.head.dy);
    for (let k = config.layers - 1; k >= 0; k--) {
      const l = this.layers[k];
      const n = this.names[k];
      this.recurrences[k].backward(p[n.weightHh], 0, T);
      this.ops.matmul(g[n.weightHh], l.dhgates, l.hIn, null, this.shapes[k].dWhh);
      if (n.biasHh) this.ops.biasGrad(g[n.biasHh], l.dhgates, R, GH);
      if (k === 0 && this.inputIds) {
        // Copied again: backward need not follow a forward on the same inputs.
        copyIds(this.inputIds, inputs);
        this.ops.inputProjectionBackward(g[n.weightIh], l.dgates, this.inputIds, R, GH, V);
      } else {
        const x = k === 0 ? this.embedded! : this.layers[k - 1].y;
        this.ops.matmul(g[n.weightIh], l.dgates, x, null, this.shapes[k].dWih);
        // dx = dgates W_ih: the gradient at the layer's input, through dropout into the layer below.
        const dx = k === 0 ? this.dembedded! : this.layers[k - 1].dy;
        this.ops.matmul(dx, l.dgates, p[n.weightIh], null, this.shapes[k].dx);
        if (k > 0 && this.dropoutSeed !== null) this.applyDropout(dx, dx, k - 1);
      }
      this.ops.biasGrad(g[n.biasIh], l.dgates, R, GH);
    }
    if (this.dembedded) embeddingBackward(g[ENCODER], this.dembedded, inputs, R, E);
  }

  /** Moves each layer's last state to the front, for the next window. */
  carryState(): void {
    const BH = this.B * this.config.hiddenSize;
    for (let k = 0; k < this.layers.length; k++) {
      const l = this.layers[k];
      l.hs.copyWithin(0, this.T * BH, (this.T + 1) * BH);
      l.cs?.copyWithin(0, this.T * BH, (this.T + 1) * BH);
    }
  }

  resetState(): void {
    const BH = this.B * this.config.hiddenSize;
    for (let k = 0; k < this.layers.length; k++) {
      this.layers[k].hs.fill(0, 0, BH);
      this.layers[k].cs?.fill(0, 0, BH);
    }
  }

  /** The carried state as PyTorch's (h_n, c_n): (L, B, H) each; `cell` is null without a cell state. */
  getState(): { hidden: Float32Array; cell: Float32Array | null } {
    const BH = this.B * this.config.hiddenSize;
    const hidden = new Float32Array(this.layers.length * BH);
    const cell = this.cell.hasCellState ? new Float32Array(this.layers.length * BH) : null;
    this.layers.forEach((l, k) => {
      hidden.set(l.hs.subarray(0, BH), k * BH);
      cell?.set(l.cs!.subarray(0, BH), k * BH);
    });
    return { hidden, cell };
  }

  setState(hidden: ArrayLike<number>, cell: ArrayLike<number> | null): void {
    const BH = this.B * this.config.hiddenSize;
    this.layers.forEach((l, k) => {
      for (let i = 0; i < BH; i++) l.hs[i] = hidden[k * BH + i];
      if (l.cs) for (let i = 0; i < BH; i++) l.cs[i] = cell ? cell[k * BH + i] : 0;
    });
  }

  private top(): LayerBuffers<A> {
    return this.layers[this.layers.length - 1];
  }

  /** Layer k's dropout mask (its elements numbered after the layers below) on (T, B, H) values. */
  private applyDropout(out: A, inp: A, k: number): void {
    const RH = this.T * this.B * this.config.hiddenSize;
    dropout(out, inp, this.dropoutSeed!, k * RH, RH, this.config.dropout);
  }
}

/** The window's R ids into the array the ops read them from (a loop: a subarray would allocate). */
function copyIds(to: Uint32Array, from: Uint32Array): void {
  for (let r = 0; r < to.length; r++) to[r] = from[r];
}

/** The named tensors of one flat array, made again only when a different array comes in. */
class TensorViews<A extends Vec> {
  private flat: A | null = null;
  private views: Record<string, A> = {};

  constructor(private readonly layout: ParamLayout) {}

  of(flat: A): Record<string, A> {
    if (flat !== this.flat) {
      this.flat = flat;
      this.views = Object.fromEntries(this.layout.tensors.map((t) => [t.name, view(flat, t)]));
    }
    return this.views;
  }
}
