import { upload, type BufferPool } from './buffers.ts';
import type { KernelLibrary } from './kernels.ts';
import { RnnProgram } from './rnn_program.ts';

const EVAL_WINDOWS_PER_SUBMIT = 256;

/**
 * Forward-only passes over a whole text with batch 1, carrying the hidden state from window to window.
 * The text is uploaded once; each window copies its slice into the program's inputs and its loss into a
 * per-window slot, so a whole chunk of windows is one submit and the losses are read back once.
 */
export class Evaluator {
  private readonly carry: GPUBuffer;

  constructor(
    private readonly program: RnnProgram,
    private readonly lib: KernelLibrary,
    private readonly pool: BufferPool,
  ) {
    this.carry = pool.storage('eval carry', program.config.hiddenSize * 4);
  }

  async run(
    ids: Uint32Array,
    submit: (e: GPUCommandEncoder) => void,
    read: (b: GPUBuffer, bytes: number) => Promise<Float32Array>,
  ): Promise<Float32Array> {
    const T = this.program.T;
    const windows = Math.ceil(Math.max(0, ids.length - 1) / T);
    if (windows === 0) return new Float32Array(0);
    const inputs = new Uint32Array(windows * T);
    const targets = new Uint32Array(windows * T).fill(0xffffffff); // past the end: ignored
    inputs.set(ids.subarray(0, ids.length - 1));
    targets.set(ids.subarray(1));
    const device = this.lib.device;
    const allInputs = this.pool.storage('eval inputs', inputs.byteLength);
    const allTargets = this.pool.storage('eval targets', targets.byteLength);
    const losses = this.pool.storage('eval window losses', windows * 4);
    const readback = this.pool.readback('eval readback', windows * 4);
    upload(device.queue, allInputs, inputs);
    upload(device.queue, allTargets, targets);
    const p = this.program;
    let encoder = device.createCommandEncoder();
    encoder.clearBuffer(p.hs, 0, p.config.hiddenSize * 4);
    for (let w = 0; w < windows; w++) {
      encoder.copyBufferToBuffer(allInputs, w * T * 4, p.inputs, 0, T * 4);
      encoder.copyBufferToBuffer(allTargets, w * T * 4, p.targets, 0, T * 4);
      const pass = encoder.beginComputePass();
      RnnProgram.encode(pass, p.forward);
      RnnProgram.encode(pass, p.lossReduce);
      pass.end();
      p.encodeCarry(encoder, this.carry);
      encoder.copyBufferToBuffer(p.lossState, 0, losses, w * 4, 4);
      if ((w + 1) % EVAL_WINDOWS_PER_SUBMIT === 0 || w === windows - 1) {
        if (w === windows - 1) encoder.copyBufferToBuffer(losses, 0, readback, 0, windows * 4);
        submit(encoder);
        encoder = device.createCommandEncoder();
      }
    }
    const result = await read(readback, windows * 4);
    for (const b of [allInputs, allTargets, losses, readback]) b.destroy();
    return result;
  }
}
