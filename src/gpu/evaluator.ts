import { upload, type BufferPool } from './buffers.ts';
import type { KernelLibrary } from './kernels.ts';
import { ModelProgram, type Dispatch } from './model_program.ts';

const EVAL_WINDOWS_PER_SUBMIT = 256;

/**
 * Forward-only passes over a whole text with batch 1, carrying the state from window to window. The text
 * is uploaded once; each window copies its slice into the program's inputs and its loss into a per-window
 * slot, so a whole chunk of windows is one submit and the losses are read back once. Its dispatches are
 * recorded in the constructor; the caller awaits the library's ready() before run().
 */
export class Evaluator {
  private readonly lossState: GPUBuffer;
  /** A window: the program's forward, then its loss into lossState. */
  private readonly window: Dispatch[];

  constructor(
    private readonly program: ModelProgram,
    private readonly lib: KernelLibrary,
    private readonly pool: BufferPool,
  ) {
    this.lossState = pool.storage('eval loss', 8);
    const lossReduce = lib.dispatch('loss_reduce', { R: program.T, SCALE: 1 }, [program.rowLoss, this.lossState], [1, 1, 1]);
    this.window = [...program.forward, lossReduce];
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
    p.encodeReset(encoder);
    for (let w = 0; w < windows; w++) {
      encoder.copyBufferToBuffer(allInputs, w * T * 4, p.inputs, 0, T * 4);
      encoder.copyBufferToBuffer(allTargets, w * T * 4, p.targets, 0, T * 4);
      const pass = encoder.beginComputePass();
      ModelProgram.encode(pass, this.window);
      pass.end();
      p.encodeCarry(encoder);
      encoder.copyBufferToBuffer(this.lossState, 0, losses, w * 4, 4);
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
