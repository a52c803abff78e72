import { CPU_CELLS, type LayerBuffers } from '../cpu/cells.ts';
import { CELLS } from '../model/cells.ts';
import type { CellType } from '../model/config.ts';
import { Rng } from '../model/rng.ts';
import type { Tolerance } from './kernel_checks/accuracy.ts';
import { cellTolerance } from './kernel_checks/cell_tolerance.ts';
import { upload } from './buffers.ts';
import { GPU_CELLS, type GpuLayerBuffers } from './cells.ts';
import { GpuLimitError, type GpuContext } from './device.ts';
import { ceilDiv, type KernelLibrary } from './kernels.ts';
import { timePass } from './pass_timer.ts';
import { PER_STEP_WG, recurrenceConstants, type Recurrence } from './recurrence.ts';

// One layer's recurrence over a (T, B) window of H units, forward then backward, on random inputs and
// dispatched as a candidate Recurrence would dispatch it in model_program.ts (same kernels, constants and
// workgroups, so the winner's pipelines are reused): checked against the CPU twins, then timed. The
// start-up probe (recurrence_choice.ts) runs one such case for all of its candidates.
//
// The check runs at the real T: on llvmpipe every loop of an invocation shares one budget of 65535
// iterations, after which all of them exit early (Mesa's LP_MAX_TGSI_LOOP_ITERATIONS), so a persistent
// kernel can be right over two steps and wrong over 25. To keep the CPU twins cheap it compares one stream
// (the last) and the steps where such faults show: the last Tc forward steps, restarted from the GPU's state
// at T - Tc, and the first Tc backward steps, from the GPU's gradients at Tc; backward reads the GPU's
// forward values, so each half is checked on exactly the inputs that the kernel saw.

const RANGE_SLOT = 256; // bytes: uniform bindings start on 256-byte boundaries
/** Multiply-adds the CPU twins may spend on a check (Tc steps of forward and backward, one stream). */
const CHECK_MACS = 2e7;

export interface RecurrenceCheck {
  ok: boolean;
  maxError: number;
  error?: string;
}

interface Dispatch {
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  workgroups: [number, number, number];
}

type Host = Record<'hs' | 'cs' | 'reserve' | 'dgates' | 'dhgates' | 'dh' | 'dc', Float32Array | null>;

export class RecurrenceCase {
  private readonly G: number;
  private readonly host: {
    xproj: Float32Array;
    Whh: Float32Array;
    bhh: Float32Array;
    hs: Float32Array;
    cs: Float32Array;
    dy: Float32Array;
  };
  private readonly gpu: GpuLayerBuffers;
  private readonly buffers: GPUBuffer[] = [];
  private readonly dispatches = new Map<string, Dispatch[]>();

  constructor(
    private readonly ctx: GpuContext,
    private readonly lib: KernelLibrary,
    readonly cell: CellType,
    readonly T: number,
    readonly B: number,
    readonly H: number,
    seed: number,
  ) {
    const spec = CELLS[cell];
    const G = (this.G = spec.gates);
    const rng = new Rng(seed);
    const random = (n: number, scale = 1) => Float32Array.from({ length: n }, () => (rng.uniform() * 2 - 1) * scale);
    const carried = () => {
      const s = new Float32Array((T + 1) * B * H).fill(NaN);
      s.set(random(B * H));
      return s;
    };
    this.host = {
      xproj: random(T * B * G * H),
      Whh: random(G * H * H, 1 / Math.sqrt(H)),
      bhh: random(G * H, 0.5),
      hs: carried(),
      cs: carried(),
      dy: random(T * B * H),
    };
    const device = ctx.device;
    const storage = (n: number) => this.buffer(n * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
    const ranges = this.buffer(RANGE_SLOT * (T + 1), GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    const rangeData = new Uint32Array((RANGE_SLOT / 4) * (T + 1));
    rangeData.set([0, T], 0);
    for (let t = 0; t < T; t++) rangeData.set([t, t + 1], (RANGE_SLOT / 4) * (t + 1));
    upload(device.queue, ranges, rangeData);
    const R = T * B;
    const dgates = storage(R * G * H);
    this.gpu = {
      range: { buffer: ranges, offset: 0, size: 8 },
      xproj: storage(R * G * H),
      hs: storage((T + 1) * B * H),
      cs: spec.hasCellState ? storage((T + 1) * B * H) : null,
      reserve: spec.reserve > 0 ? storage(R * spec.reserve * H) : null,
      dy: storage(R * H),
      dgates,
      dhgates: spec.separateHiddenGrad ? storage(R * G * H) : dgates,
      dh: spec.separateHiddenGrad ? storage(R * H) : null,
      dc: spec.hasCellState ? storage(R * H) : null,
      Whh: { buffer: storage(G * H * H) },
      bhh: spec.hasHiddenBias ? { buffer: storage(G * H) } : null,
    };
    upload(device.queue, this.gpu.xproj, this.host.xproj);
    upload(device.queue, this.gpu.dy, this.host.dy);
    upload(device.queue, this.gpu.Whh.buffer, this.host.Whh);
    if (this.gpu.bhh) upload(device.queue, this.gpu.bhh.buffer, this.host.bhh);
  }

  /** Forward then backward with `r` from a poisoned start, against the CPU twins on the last stream. */
  async check(r: Recurrence): Promise<RecurrenceCheck> {
    const { device } = this.ctx;
    const { T, B, H, G } = this;
    const spec = CELLS[this.cell];
    const nan = (n: number) => new Float32Array(n).fill(NaN);
    upload(device.queue, this.gpu.hs, this.host.hs);
    if (this.gpu.cs) upload(device.queue, this.gpu.cs, this.host.cs);
    if (this.gpu.reserve) upload(device.queue, this.gpu.reserve, nan(T * B * spec.reserve * H));
    for (const b of new Set([this.gpu.dgates, this.gpu.dhgates])) upload(device.queue, b, nan(T * B * G * H));
    for (const b of [this.gpu.dh, this.gpu.dc]) if (b) upload(device.queue, b, nan(T * B * H));
    device.pushErrorScope('validation');
    let dispatches: Dispatch[];
    try {
      dispatches = await this.encodeList(r);
    } catch (e) {
      await device.popErrorScope();
      if (e instanceof GpuLimitError) throw e; // the caller tells a device limit from a wrong kernel
      return { ok: false, maxError: Infinity, error: (e as Error).message };
    }
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    encode(pass, dispatches);
    pass.end();
    const names = ['hs', 'cs', 'reserve', 'dgates', 'dhgates', 'dh', 'dc'] as const;
    const reads = names.map((n) => {
      const src = this.gpu[n];
      if (!src || (n === 'dhgates' && src === this.gpu.dgates)) return null;
      const rb = device.createBuffer({ size: src.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      encoder.copyBufferToBuffer(src, 0, rb, 0, src.size);
      return rb;
    });
    device.queue.submit([encoder.finish()]);
    const error = await device.popErrorScope();
    const got = {} as Host;
    for (const [i, n] of names.entries()) {
      const rb = reads[i];
      if (rb) await rb.mapAsync(GPUMapMode.READ);
      got[n] = rb ? new Float32Array(rb.getMappedRange().slice(0)) : null;
      rb?.destroy(); // one set per candidate: not kept until the case ends
    }
    got.dhgates ??= got.dgates;
    if (error) return { ok: false, maxError: Infinity, error: error.message };
    return this.compare(got);
  }

  /** Milliseconds per forward + backward with `r`: once alone, then the median of a few timed repeats. */
  async time(r: Recurrence, opts: { samples: number; targetMs: number; maxReps: number; enoughMs?: number }): Promise<number> {
    const d = await this.encodeList(r);
    const once = await timePass(this.ctx, (pass) => encode(pass, d));
    if (once > (opts.enoughMs ?? Infinity)) return once;
    const reps = Math.max(1, Math.min(opts.maxReps, Math.round(opts.targetMs / Math.max(once, 1e-3))));
    const each: number[] = [];
    const repeated = (pass: GPUComputePassEncoder) => {
      for (let i = 0; i < reps; i++) encode(pass, d);
    };
    for (let s = 0; s < opts.samples; s++) each.push((await timePass(this.ctx, repeated)) / reps);
    return each.sort((x, y) => x - y)[Math.floor(each.length / 2)];
  }

  destroy(): void {
    for (const b of this.buffers) b.destroy();
    this.buffers.length = 0;
  }

  /** The twins on the last stream: forward over [T - Tc, T), backward over [0, Tc); worst error of each. */
  private compare(got: Host): RecurrenceCheck {
    const { T, B, H, G } = this;
    const spec = CELLS[this.cell];
    const Tc = Math.max(1, Math.min(T, Math.floor(CHECK_MACS / (2 * G * H * H))));
    const s = B - 1;
    // (rows, B, n) -> stream s's (rows, 1, n), in float64 for the twins
    // Read-back buffers are padded to 16 bytes: rows are counted from T, not from the length.
    const stream = (a: Float32Array | null, n: number, rows = T) => {
      if (!a) return null;
      const out = new Float64Array(rows * n);
      for (let t = 0; t < rows; t++) out.set(a.subarray((t * B + s) * n, (t * B + s + 1) * n), t * n);
      return out;
    };
    const gpu = {
      hs: stream(got.hs, H, T + 1)!,
      cs: stream(got.cs, H, T + 1),
      reserve: stream(got.reserve, spec.reserve * H),
      dgates: stream(got.dgates, G * H)!,
      dhgates: stream(got.dhgates, G * H)!,
      dh: stream(got.dh, H),
      dc: stream(got.dc, H),
    };
    const copy = (a: Float64Array | null) => a && a.slice();
    const dgates = copy(gpu.dgates)!;
    const layer: LayerBuffers<Float64Array> = {
      xproj: stream(this.host.xproj, G * H)!,
      hs: copy(gpu.hs)!,
      cs: copy(gpu.cs),
      reserve: copy(gpu.reserve),
      hOut: gpu.hs,
      y: gpu.hs,
      hIn: gpu.hs,
      dy: stream(this.host.dy, H)!,
      dgates,
      dhgates: spec.separateHiddenGrad ? copy(gpu.dhgates)! : dgates,
      dh: copy(gpu.dh),
      dc: copy(gpu.dc),
    };
    const Whh = Float64Array.from(this.host.Whh);
    const cpu = CPU_CELLS[this.cell];
    cpu.forward(layer, Whh, Float64Array.from(this.host.bhh), T - Tc, T, 1, H);
    // Backward reads the GPU's forward values, not the twin's.
    cpu.backward({ ...layer, hs: gpu.hs, cs: gpu.cs, reserve: gpu.reserve }, Whh, 0, Tc, T, 1, H);
    let maxError = 0;
    let ok = true;
    // The kernel checks' tolerances (derived from WGSL's accuracy), over the Tc steps each half ran.
    const largest = (...arrays: (Float64Array | null)[]) =>
      Math.max(0, ...arrays.map((a) => (a ? a.reduce((m, x) => Math.max(m, Math.abs(x)), 0) : 0)));
    const forwardTol = cellTolerance(this.cell, false, Tc, H, largest(layer.cs));
    const backwardTol = cellTolerance(this.cell, true, Tc, H, largest(layer.dgates, layer.dhgates, layer.dh, layer.dc));
    const close = (g: Float64Array | null, c: Float64Array | null, n: number, r0: number, r1: number, tol: Tolerance) => {
      if (!g || !c) return;
      for (let i = r0 * n; i < r1 * n; i++) {
        const err = Math.abs(g[i] - c[i]);
        if (!(err <= tol.atol + tol.rtol * Math.abs(c[i]))) ok = false;
        maxError = Math.max(maxError, Number.isNaN(err) ? Infinity : err);
      }
    };
    close(gpu.hs, layer.hs, H, T - Tc + 1, T + 1, forwardTol);
    close(gpu.cs, layer.cs, H, T - Tc + 1, T + 1, forwardTol);
    close(gpu.reserve, layer.reserve, spec.reserve * H, T - Tc, T, forwardTol);
    close(gpu.dgates, layer.dgates, G * H, 0, Tc, backwardTol);
    if (spec.separateHiddenGrad) close(gpu.dhgates, layer.dhgates, G * H, 0, Tc, backwardTol);
    close(gpu.dh, layer.dh, H, 0, Tc, backwardTol);
    close(gpu.dc, layer.dc, H, 0, Tc, backwardTol);
    return { ok, maxError };
  }

  /** The dispatches of forward then backward, as ModelProgram encodes them for `r`, their pipelines built. */
  private async encodeList(r: Recurrence): Promise<Dispatch[]> {
    const key = JSON.stringify(r);
    const cached = this.dispatches.get(key);
    if (cached) return cached;
    const { T, B, H } = this;
    const cell = GPU_CELLS[this.cell];
    const range = (slot: number) => ({ ...this.gpu, range: { buffer: this.gpu.range.buffer, offset: RANGE_SLOT * slot, size: 8 } });
    const list: Dispatch[] = [];
    for (const backward of [false, true]) {
      const kernel = `${this.cell}_${backward ? 'backward' : 'forward'}`;
      const T0: Record<string, number> = backward ? { T, B, H } : { B, H };
      const constants = { ...T0, ...recurrenceConstants(r, backward) };
      const resources = (slot: number) => (backward ? cell.backward(range(slot)) : cell.forward(range(slot)));
      const add = (slot: number, workgroups: [number, number, number]) =>
        list.push(this.lib.dispatch(kernel, constants, resources(slot), workgroups));
      if (r.kind === 'persistent') add(0, [1, B, 1]);
      else for (let i = 0; i < T; i++) add(1 + (backward ? T - 1 - i : i), [ceilDiv(H, PER_STEP_WG), B, 1]);
    }
    await this.lib.ready();
    this.dispatches.set(key, list);
    return list;
  }

  private buffer(bytes: number, usage: number): GPUBuffer {
    const buffer = this.ctx.device.createBuffer({ size: Math.max(16, Math.ceil(bytes / 16) * 16), usage });
    this.buffers.push(buffer);
    return buffer;
  }
}

function encode(pass: GPUComputePassEncoder, list: Dispatch[]): void {
  for (const d of list) {
    pass.setPipeline(d.pipeline);
    pass.setBindGroup(0, d.bindGroup);
    pass.dispatchWorkgroups(...d.workgroups);
  }
}
