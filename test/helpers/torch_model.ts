import { modelConfig, type ModelConfig } from '../../src/model/config.ts';
import { modelLayout } from '../../src/model/model_tensors.ts';
import type { ParamLayout } from '../../src/model/layout.ts';
import { fixtureTensor, type TorchFixture } from './torch_fixture.ts';

/** A PyTorch cell fixture as the engine sees it: its config, flat float32 parameters and window. */
export function engineModel(f: TorchFixture) {
  const c = f.config!;
  const config: ModelConfig = modelConfig({
    cell: c.cell,
    vocabSize: c.vocab_size,
    hiddenSize: c.hidden,
    layers: c.layers,
    embedSize: c.embed,
  });
  const layout: ParamLayout = modelLayout(config);
  const params = new Float32Array(layout.totalFloats);
  for (const t of layout.tensors) params.set(fixtureTensor(f, t.name).data, t.offset);
  const ids = (name: string) => Uint32Array.from(fixtureTensor(f, name).data);
  return {
    config,
    layout,
    params,
    T: c.seq,
    B: c.batch,
    inputs: ids('inputs'),
    targets: ids('targets'),
    h0: fixtureTensor(f, 'h0').data,
    c0: f.tensors.get('c0')?.data ?? null,
    loss: fixtureTensor(f, 'loss').data[0],
  };
}
