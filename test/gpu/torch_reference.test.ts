import { trainConfig } from '../../src/model/config.ts';
import { expect, test } from 'vitest';
import { createBackend } from '../../src/create_backend.ts';
import { view } from '../../src/model/layout.ts';
import { CELL_FIXTURES, fixtureTensor, loadTorchFixture } from '../helpers/torch_fixture.ts';
import { engineModel } from '../helpers/torch_model.ts';

// A GPU training step against PyTorch's loss and gradients for one window (test/fixtures/torch/). The
// backend's public interface gives the gradients back through AdaGrad's first step: from zero memory and
// with the clip out of the way, mem = g^2 and the parameter moves against g's sign, so
// g = sign(p0 - p1) * sqrt(mem). Within 1e-4 of each tensor's largest gradient.

for (const name of CELL_FIXTURES) {
  test(`${name}: the GPU step's loss and gradients equal PyTorch's`, async () => {
    const f = loadTorchFixture(name);
    const m = engineModel(f);
    const train = trainConfig({ seqLength: m.T, batchSize: m.B, learningRate: 1e-3, clip: 1e6 });
    const gpu = await createBackend('gpu', m.config, train, m.layout);
    try {
      gpu.setState({
        params: m.params,
        optimizerState: new Float32Array(m.layout.totalFloats),
        step: 0,
        learningRate: 1e-3,
        hidden: m.h0,
        cell: m.c0,
        smoothLoss: 0,
      });
      gpu.step({ inputs: m.inputs, targets: m.targets, reset: false }, true);
      const { loss } = await gpu.readLoss();
      expect(Math.abs(loss - m.loss) / m.loss).toBeLessThan(1e-4);
      const after = await gpu.getState();
      for (const t of m.layout.tensors) {
        const theirs = fixtureTensor(f, `grad.${t.name}`).data;
        const [p0, p1, mem] = [view(m.params, t), view(after.params, t), view(after.optimizerState, t)];
        const scale = Math.max(...theirs.map(Math.abs));
        for (let i = 0; i < t.size; i++) {
          const g = Math.sign(p0[i] - p1[i]) * Math.sqrt(mem[i]);
          if (!(Math.abs(g - theirs[i]) <= 1e-4 * scale)) expect.fail(`grad.${t.name}[${i}]: GPU ${g}, PyTorch ${theirs[i]}`);
        }
      }
    } finally {
      gpu.destroy();
    }
  });
}
