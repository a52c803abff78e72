import type { ModelConfig } from '../model/config.ts';
import { view, type ParamLayout, type Vec } from '../model/layout.ts';
import { biasGrad } from './bias_grad.ts';
import { inputProjection } from './input_projection.ts';
import { inputProjectionBackward } from './input_projection_backward.ts';
import { matmul, type MatmulShape } from './matmul.ts';
import { rnnStep } from './rnn_step.ts';
import { rnnStepBackward } from './rnn_step_backward.ts';
import { softmaxCrossEntropy } from './softmax_cross_entropy.ts';

// Forward and backward over one (T, B) window, op by op in the order the GPU scheduler records them.
// Activations, views and matmul shapes are made once, so a step allocates nothing; Float64Array gives the
// float64 path the gradient check needs.

type ArrayCtor = Float32ArrayConstructor | Float64ArrayConstructor;

export class RnnWindow<A extends Vec> {
  readonly xproj: A; // (T, B, H)
  readonly hs: A; // (T+1, B, H); hs[0] is the carried state
  readonly logits: A; // (T, B, V)
  readonly dlogits: A; // (T, B, V)
  readonly rowLoss: A; // (T, B)
  readonly dhy: A; // (T, B, H)
  readonly dhraw: A; // (T, B, H)
  private readonly hOut: A; // h_1..h_T, a view of hs
  private readonly hIn: A; // h_0..h_{T-1}
  private readonly paramViews: TensorViews<A>;
  private readonly gradViews: TensorViews<A>;
  private readonly shapes: Record<'logits' | 'dWhy' | 'dhy' | 'dWhh', MatmulShape>;

  constructor(
    readonly config: ModelConfig,
    readonly layout: ParamLayout,
    readonly T: number,
    readonly B: number,
    ctor: ArrayCtor,
  ) {
    const { hiddenSize: H, vocabSize: V } = config;
    const R = T * B;
    const make = (n: number) => new ctor(n) as A;
    this.xproj = make(R * H);
    this.hs = make((T + 1) * B * H);
    this.logits = make(R * V);
    this.dlogits = make(R * V);
    this.rowLoss = make(R);
    this.dhy = make(R * H);
    this.dhraw = make(R * H);
    this.hOut = this.hs.subarray(B * H) as A;
    this.hIn = this.hs.subarray(0, R * H) as A;
    this.paramViews = new TensorViews(layout);
    this.gradViews = new TensorViews(layout);
    const mm = (M: number, N: number, K: number, transA: boolean, transB: boolean, accumulate: boolean): MatmulShape => ({
      batch: 1,
      M,
      N,
      K,
      transA,
      transB,
      accumulate,
    });
    this.shapes = {
      logits: mm(R, V, H, false, true, false),
      dWhy: mm(V, H, R, true, false, true),
      dhy: mm(R, H, V, false, false, false),
      dWhh: mm(H, H, R, true, false, true),
    };
  }

  /** Returns the loss summed over the window and averaged over the batch; leaves dlogits for backward. */
  forward(params: A, inputs: Uint32Array, targets: Uint32Array): number {
    const { T, B } = this;
    const { hiddenSize: H, vocabSize: V } = this.config;
    const R = T * B;
    const p = this.paramViews.of(params);
    inputProjection(this.xproj, p.Wxh, p.bh, inputs, R, H, V);
    for (let t = 0; t < T; t++) rnnStep(this.hs, this.xproj, p.Whh, t, B, H);
    matmul(this.logits, this.hOut, p.Why, p.by, this.shapes.logits);
    softmaxCrossEntropy(this.rowLoss, this.dlogits, this.logits, targets, R, V, 1 / B);
    let sum = 0;
    for (let r = 0; r < R; r++) sum += this.rowLoss[r];
    return sum / B;
  }

  /** Adds this window's gradients into grads (the caller zeroes them once per step). */
  backward(params: A, grads: A, inputs: Uint32Array): void {
    const { T, B } = this;
    const { hiddenSize: H, vocabSize: V } = this.config;
    const R = T * B;
    const p = this.paramViews.of(params);
    const g = this.gradViews.of(grads);
    matmul(g.Why, this.dlogits, this.hOut, null, this.shapes.dWhy);
    biasGrad(g.by, this.dlogits, R, V);
    matmul(this.dhy, this.dlogits, p.Why, null, this.shapes.dhy);
    for (let t = T - 1; t >= 0; t--) rnnStepBackward(this.dhraw, this.dhy, this.hs, p.Whh, t, T, B, H);
    matmul(g.Whh, this.dhraw, this.hIn, null, this.shapes.dWhh);
    biasGrad(g.bh, this.dhraw, R, H);
    inputProjectionBackward(g.Wxh, this.dhraw, inputs, R, H, V);
  }

  /** Moves the last hidden state to the front, for the next window. */
  carryHidden(): void {
    const BH = this.B * this.config.hiddenSize;
    this.hs.copyWithin(0, this.T * BH, (this.T + 1) * BH);
  }

  resetHidden(): void {
    this.hs.fill(0, 0, this.B * this.config.hiddenSize);
  }
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
