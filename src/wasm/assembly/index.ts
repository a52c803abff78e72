// AssemblyScript entry: the kernels that src/wasm/kernels.ts loads. No data segments, no heap, no runtime:
// every array is a byte offset into the imported memory that src/wasm/kernels.ts hands out.
export { matmul } from './matmul';
export { adagrad_update } from './adagrad_update';
export { rmsprop_update } from './rmsprop_update';
export { adam_update } from './adam_update';
export { bias_grad } from './bias_grad';
export { rnn_pointwise_forward, rnn_pointwise_backward } from './rnn_pointwise';
export { lstm_pointwise_forward, lstm_pointwise_backward } from './lstm_pointwise';
export { gru_pointwise_forward, gru_pointwise_backward } from './gru_pointwise';
export { input_projection } from './input_projection';
export { input_projection_backward } from './input_projection_backward';
export { softmax_cross_entropy } from './softmax_cross_entropy';
