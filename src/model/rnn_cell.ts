import type { ModelConfig } from './config.ts';
import { layoutTensors, type ParamLayout, type TensorSpec } from './layout.ts';

// min-char-rnn's vanilla RNN: h_t = tanh(Wxh x_t + Whh h_{t-1} + bh), y_t = Why h_t + by.
// `pytorch` is the name of each tensor in a torch.nn.RNN state_dict inside an encoder/rnn/decoder model.

export interface CellTensor extends TensorSpec {
  pytorch: string;
}

export function rnnTensors(config: ModelConfig): CellTensor[] {
  const { vocabSize: V, hiddenSize: H } = config;
  return [
    { name: 'Wxh', pytorch: 'rnn.weight_ih_l0', shape: [H, V], init: 'randn' },
    { name: 'Whh', pytorch: 'rnn.weight_hh_l0', shape: [H, H], init: 'randn' },
    { name: 'bh', pytorch: 'rnn.bias_ih_l0', shape: [H], init: 'zeros' },
    { name: 'Why', pytorch: 'decoder.weight', shape: [V, H], init: 'randn' },
    { name: 'by', pytorch: 'decoder.bias', shape: [V], init: 'zeros' },
  ];
}

export function rnnLayout(config: ModelConfig): ParamLayout {
  return layoutTensors(rnnTensors(config));
}
