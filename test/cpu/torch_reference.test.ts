import { expect, test } from 'vitest';
import { ModelWindow } from '../../src/cpu/model_window.ts';
import { view } from '../../src/model/layout.ts';
import { CELL_FIXTURES, fixtureTensor, loadTorchFixture } from '../helpers/torch_fixture.ts';
import { engineModel } from '../helpers/torch_model.ts';

// The engine's loss, every gradient and the final state for one window against PyTorch's (fixtures made by
// test/fixtures/torch/make_fixtures.py with torch.nn.LSTM / GRU / RNN in float64 from float32 weights).
// Float64 path: within 1e-5 relative per element (float32 storage of the fixture is 6e-8). Float32 path
// (the CPU backend's storage): within 1e-5 of each tensor's largest magnitude.

for (const name of CELL_FIXTURES) {
  for (const ctor of [Float64Array, Float32Array]) {
    test(`${name}: loss, gradients and final state equal PyTorch's (${ctor.name})`, () => {
      const f = loadTorchFixture(name);
      const m = engineModel(f);
      const params = ctor.from(m.params);
      const win = new ModelWindow(m.config, m.layout, m.T, m.B, ctor as Float64ArrayConstructor);
      win.setState(m.h0, m.c0);
      const loss = win.forward(params as Float64Array, m.inputs, m.targets);
      const grads = new ctor(m.layout.totalFloats) as Float64Array;
      win.backward(params as Float64Array, grads, m.inputs);
      expect(Math.abs(loss - m.loss) / m.loss).toBeLessThan(1e-5);
      let checked = 0;
      for (const t of m.layout.tensors) {
        const ours = view(grads, t);
        const theirs = fixtureTensor(f, `grad.${t.name}`).data;
        const scale = Math.max(...theirs.map(Math.abs));
        ours.forEach((v, i) => {
          const tol = ctor === Float64Array ? 1e-5 * Math.abs(theirs[i]) + 1e-9 : 1e-5 * scale;
          if (!(Math.abs(v - theirs[i]) <= tol)) expect.fail(`grad.${t.name}[${i}]: engine ${v}, PyTorch ${theirs[i]}`);
          checked++;
        });
      }
      expect(checked).toBe(m.layout.tensors.reduce((a, t) => a + t.size, 0));
      win.carryState();
      const { hidden, cell } = win.getState();
      hidden.forEach((v, i) => expect(Math.abs(v - fixtureTensor(f, 'h_n').data[i])).toBeLessThan(1e-6));
      if (cell) cell.forEach((v, i) => expect(Math.abs(v - fixtureTensor(f, 'c_n').data[i])).toBeLessThan(1e-6));
    });
  }
}
