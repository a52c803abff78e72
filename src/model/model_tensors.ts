import { CELLS } from './cells.ts';
import type { ModelConfig } from './config.ts';
import { layoutTensors, type ParamLayout, type TensorSpec } from './layout.ts';

// The model's tensors, named as in the state_dict of a PyTorch encoder/rnn/decoder model, in layout order:
//   encoder.weight (V, E)                        when embedded (torch.nn.Embedding)
//   rnn.weight_ih_l{k} (G*H, in_k), rnn.weight_hh_l{k} (G*H, H), rnn.bias_ih_l{k} (G*H,),
//   rnn.bias_hh_l{k} (G*H,)                      except the tanh RNN (min-char-rnn's single bias)
//   decoder.weight (V, H), decoder.bias (V,)
// in_0 is E, or V for a one-hot input; in_k = H above. min-char-rnn's single layer is Wxh, Whh, bh, Why, by
// in this order, so its initial weights are drawn exactly as before.

export const ENCODER = 'encoder.weight';
export const DECODER_WEIGHT = 'decoder.weight';
export const DECODER_BIAS = 'decoder.bias';

export interface LayerTensors {
  weightIh: string;
  weightHh: string;
  biasIh: string;
  /** Null for the tanh RNN. */
  biasHh: string | null;
}

export function layerTensorNames(config: ModelConfig, k: number): LayerTensors {
  return {
    weightIh: `rnn.weight_ih_l${k}`,
    weightHh: `rnn.weight_hh_l${k}`,
    biasIh: `rnn.bias_ih_l${k}`,
    biasHh: CELLS[config.cell].hasHiddenBias ? `rnn.bias_hh_l${k}` : null,
  };
}

/** Input width of layer k. */
export function layerInputSize(config: ModelConfig, k: number): number {
  if (k > 0) return config.hiddenSize;
  return config.embedSize > 0 ? config.embedSize : config.vocabSize;
}

export function modelTensors(config: ModelConfig): TensorSpec[] {
  const { vocabSize: V, hiddenSize: H, embedSize: E } = config;
  const cell = CELLS[config.cell];
  const GH = cell.gates * H;
  const bound = 1 / Math.sqrt(H);
  const weight: Pick<TensorSpec, 'init' | 'bound'> = cell.init === 'minCharRnn' ? { init: 'randn' } : { init: 'uniform', bound };
  const bias: Pick<TensorSpec, 'init' | 'bound'> = cell.init === 'minCharRnn' ? { init: 'zeros' } : { init: 'uniform', bound };
  const specs: TensorSpec[] = [];
  if (E > 0) specs.push({ name: ENCODER, shape: [V, E], init: 'normal' });
  for (let k = 0; k < config.layers; k++) {
    const n = layerTensorNames(config, k);
    specs.push({ name: n.weightIh, shape: [GH, layerInputSize(config, k)], ...weight });
    specs.push({ name: n.weightHh, shape: [GH, H], ...weight });
    specs.push({ name: n.biasIh, shape: [GH], ...bias });
    if (n.biasHh) specs.push({ name: n.biasHh, shape: [GH], ...bias });
  }
  specs.push({ name: DECODER_WEIGHT, shape: [V, H], ...weight });
  specs.push({ name: DECODER_BIAS, shape: [V], ...bias });
  return specs;
}

export function modelLayout(config: ModelConfig): ParamLayout {
  return layoutTensors(modelTensors(config));
}
