import { cellTolerance } from './cell_tolerance.ts';
import { gruBackward } from '../../cpu/gru_backward.ts';
import { gruForward } from '../../cpu/gru_forward.ts';
import { lstmBackward } from '../../cpu/lstm_backward.ts';
import { lstmForward } from '../../cpu/lstm_forward.ts';
import { rnnBackward } from '../../cpu/rnn_backward.ts';
import { rnnForward } from '../../cpu/rnn_forward.ts';
import type { Rng } from '../../model/rng.ts';
import type { Constants } from '../kernels.ts';
import { KernelCheckError, randomArray, type Binding, type KernelCase, type KernelComparisons } from './runner.ts';

// The cells' recurrences (rnn, lstm, gru forward and backward) and the element-wise and reduction kernels of
// a layered model (dropout, embedding and its backward, the input projection's and biases' weight
// gradients, AdaGrad), each against its CPU twin in src/cpu.
//
// Every recurrence kernel serves two dispatch modes, and each is checked: per-step (workgroups
// (ceil(H / WG), B), one dispatch per step with range [t, t+1), backward from T-1 down to 0), where after
// every step the rows written so far must match and the rows not yet written must still be NaN; and
// persistent (workgroups (1, B), one dispatch with range [0, T)) at WG 4 (units loop over H) and WG 64, and
// at WG 64 over two ranges, the way a scheduler would split a window. The forward kernels are checked with
// several lanes per unit too (KL, whose partial sums meet in workgroup memory).
//
// Tolerances, |gpu - cpu| <= atol + rtol |cpu|, are derived from WGSL's accuracy (accuracy.ts; see
// cellTolerance): the CPU twins accumulate in float64 and store float32; the GPU sums H or G H float32
// products with Whh scaled by 1 / sqrt(H), then applies tanh (whose absolute 1e-5 dominates) and sigmoid,
// and the error is carried through each of the T steps.

/** [T, B, H]: 1s, one past a SIMD width, around the 64-wide workgroup, H = 257 > 256, and a single stream. */
const CELL_SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [3, 2, 7],
  [5, 3, 65],
  [2, 2, 257],
  [4, 1, 100],
];

interface Mode {
  name: string;
  WG: number;
  perStep: boolean;
  /** Lanes per unit in the forward kernels (KL): 1 reads rows apart, more read a row's floats side by side. */
  lanes?: number;
  /** Persistent over two ranges, [0, floor(T/2)) and the rest (in reverse order for backward): a window in chunks. */
  split?: boolean;
}

/** The backward kernels read Whh by columns, already side by side, and take no lanes. */
const BACKWARD_MODES: Mode[] = [
  { name: 'per-step', WG: 64, perStep: true },
  { name: 'persistent WG 4', WG: 4, perStep: false },
  { name: 'persistent WG 64', WG: 64, perStep: false },
  { name: 'persistent WG 64 in two ranges', WG: 64, perStep: false, split: true },
];

/** KL = WG (one unit per pass), KL < WG, and KL past H (lanes with nothing to add). */
const FORWARD_MODES: Mode[] = [
  ...BACKWARD_MODES,
  { name: 'per-step 16 lanes', WG: 64, perStep: true, lanes: 16 },
  { name: 'persistent WG 4 4 lanes', WG: 4, perStep: false, lanes: 4 },
  { name: 'persistent WG 64 8 lanes in two ranges', WG: 64, perStep: false, lanes: 8, split: true },
];

/** One read-write buffer of a recurrence kernel, stored as rows of `rowLen` floats per step. */
interface StateBuffer {
  name: string;
  /** What the GPU buffer starts as: NaN wherever the kernel must write, the carried state elsewhere. */
  initial: Float32Array;
  /** The CPU twin's result over the whole window, from the same start. */
  cpu: Float32Array;
  rowLen: number;
  /** Step t writes row t + shift (1 for hs and cs, whose row 0 is the carried state; 0 otherwise). */
  shift: number;
}

/**
 * Runs a recurrence kernel over a window of T steps in `mode` and compares its read-write buffers with the
 * CPU twin's. `bindings(range, states)` gives the kernel's bindings for one dispatch, with the states (in
 * the order of `states`) as outputs starting from the given values.
 */
async function checkRecurrence(
  k: KernelComparisons,
  kernel: string,
  constants: Constants,
  [T, B, H]: [number, number, number],
  mode: Mode,
  backward: boolean,
  states: StateBuffer[],
  bindings: (range: Uint32Array, current: Float32Array[]) => Binding[],
): Promise<void> {
  const magnitude = Math.max(...states.map((s) => s.cpu.reduce((m, x) => Math.max(m, Math.abs(x)), 0)));
  const tol = cellTolerance(kernel.split('_')[0] as 'rnn' | 'lstm' | 'gru', backward, T, H, magnitude);
  const withWG = { ...constants, WG: mode.WG, ...(mode.lanes ? { KL: mode.lanes } : {}) };
  let current = states.map((s) => s.initial);
  if (!mode.perStep) {
    const m = Math.floor(T / 2); // 0 when T = 1: an empty range first
    const ranges = !mode.split
      ? [[0, T]]
      : backward
        ? [
            [m, T],
            [0, m],
          ]
        : [
            [0, m],
            [m, T],
          ];
    for (const [t0, t1] of ranges) current = await k.run(kernel, withWG, bindings(new Uint32Array([t0, t1, 0, 0]), current), [1, B]);
  } else {
    const steps = Array.from({ length: T }, (_, i) => (backward ? T - 1 - i : i));
    for (const t of steps) {
      current = await k.run(kernel, withWG, bindings(new Uint32Array([t, t + 1, 0, 0]), current), [Math.ceil(H / mode.WG), B]);
      states.forEach((s, i) => {
        // Rows done so far: [0, t + shift] forward, [t, T) backward; the others must still be NaN.
        const [lo, hi] = backward ? [t * s.rowLen, s.cpu.length] : [0, (t + 1 + s.shift) * s.rowLen];
        k.close(current[i].subarray(lo, hi), s.cpu.subarray(lo, hi), tol.atol, tol.rtol, `${s.name} after step ${t}`, s.name);
        expectUntouched(current[i], lo, hi, `${s.name} after step ${t}`);
      });
    }
  }
  states.forEach((s, i) => k.close(current[i], s.cpu, tol.atol, tol.rtol, s.name));
}

/** Everything outside [lo, hi) is still NaN (the poison). */
function expectUntouched(a: Float32Array, lo: number, hi: number, what: string): void {
  for (let i = 0; i < a.length; i++) {
    if ((i < lo || i >= hi) && !Number.isNaN(a[i])) throw new KernelCheckError(`${what}: element ${i} was written (${a[i]}) out of turn`);
  }
}

/** A (T+1, B, H) state buffer: row 0 given, the rest poisoned. */
function carried(rng: Rng, T: number, B: number, H: number): Float32Array {
  const s = new Float32Array((T + 1) * B * H).fill(NaN);
  s.set(randomArray(rng, B * H));
  return s;
}

const nans = (n: number) => new Float32Array(n).fill(NaN);

function state(name: string, initial: Float32Array, rowLen: number, shift: number): StateBuffer {
  return { name, initial, cpu: initial.slice(), rowLen, shift };
}

function cellCases(
  group: string,
  run: (k: KernelComparisons, rng: Rng, shape: [number, number, number], mode: Mode) => Promise<void>,
): KernelCase[] {
  const modes = group.endsWith('_backward') ? BACKWARD_MODES : FORWARD_MODES;
  return CELL_SHAPES.flatMap((shape) =>
    modes.map((mode) => ({
      group,
      name: `T=${shape[0]} B=${shape[1]} H=${shape[2]} ${mode.name}`,
      run: (k: KernelComparisons, rng: Rng) => run(k, rng, shape, mode),
    })),
  );
}

/** A forward window of the LSTM twin on random inputs: what lstm_backward reads. */
function lstmWindow(rng: Rng, T: number, B: number, H: number) {
  const xproj = randomArray(rng, T * B * 4 * H);
  const Whh = randomArray(rng, 4 * H * H, 1 / Math.sqrt(H));
  const bhh = randomArray(rng, 4 * H, 0.5);
  const hs = carried(rng, T, B, H);
  const cs = carried(rng, T, B, H);
  const reserve = nans(T * B * 4 * H);
  return { xproj, Whh, bhh, hs, cs, reserve };
}

/** A forward window of the GRU twin on random inputs: what gru_backward reads. */
function gruWindow(rng: Rng, T: number, B: number, H: number) {
  const xproj = randomArray(rng, T * B * 3 * H);
  const Whh = randomArray(rng, 3 * H * H, 1 / Math.sqrt(H));
  const bhh = randomArray(rng, 3 * H, 0.5);
  const hs = carried(rng, T, B, H);
  const reserve = nans(T * B * 4 * H);
  return { xproj, Whh, bhh, hs, reserve };
}

export function rnnForwardCases(): KernelCase[] {
  return cellCases('rnn_forward', async (k, rng, [T, B, H], mode) => {
    const xproj = randomArray(rng, T * B * H);
    const Whh = randomArray(rng, H * H, 1 / Math.sqrt(H));
    const hs = state('hs', carried(rng, T, B, H), B * H, 1);
    rnnForward(hs.cpu, xproj, Whh, 0, T, B, H);
    await checkRecurrence(k, 'rnn_forward', { B, H }, [T, B, H], mode, false, [hs], (range, [h]) => [
      { uniform: range },
      { input: xproj },
      { input: Whh },
      { output: h.length, initial: h },
    ]);
  });
}

export function rnnBackwardCases(): KernelCase[] {
  return cellCases('rnn_backward', async (k, rng, [T, B, H], mode) => {
    const Whh = randomArray(rng, H * H, 1 / Math.sqrt(H));
    const hs = carried(rng, T, B, H);
    rnnForward(hs, randomArray(rng, T * B * H), Whh, 0, T, B, H);
    const dy = randomArray(rng, T * B * H);
    const dgates = state('dgates', nans(T * B * H), B * H, 0);
    rnnBackward(dgates.cpu, dy, hs, Whh, 0, T, T, B, H);
    await checkRecurrence(k, 'rnn_backward', { T, B, H }, [T, B, H], mode, true, [dgates], (range, [dg]) => [
      { uniform: range },
      { output: dg.length, initial: dg },
      { input: dy },
      { input: hs },
      { input: Whh },
    ]);
  });
}

export function lstmForwardCases(): KernelCase[] {
  return cellCases('lstm_forward', async (k, rng, [T, B, H], mode) => {
    const w = lstmWindow(rng, T, B, H);
    const hs = state('hs', w.hs, B * H, 1);
    const cs = state('cs', w.cs, B * H, 1);
    const reserve = state('reserve', w.reserve, B * 4 * H, 0);
    lstmForward(hs.cpu, cs.cpu, reserve.cpu, w.xproj, w.Whh, w.bhh, 0, T, B, H);
    await checkRecurrence(k, 'lstm_forward', { B, H }, [T, B, H], mode, false, [hs, cs, reserve], (range, [h, c, r]) => [
      { uniform: range },
      { input: w.xproj },
      { input: w.Whh },
      { input: w.bhh },
      { output: h.length, initial: h },
      { output: c.length, initial: c },
      { output: r.length, initial: r },
    ]);
  });
}

export function lstmBackwardCases(): KernelCase[] {
  return cellCases('lstm_backward', async (k, rng, [T, B, H], mode) => {
    const w = lstmWindow(rng, T, B, H);
    lstmForward(w.hs, w.cs, w.reserve, w.xproj, w.Whh, w.bhh, 0, T, B, H);
    const dy = randomArray(rng, T * B * H);
    const dgates = state('dgates', nans(T * B * 4 * H), B * 4 * H, 0);
    const dc = state('dc', nans(T * B * H), B * H, 0);
    lstmBackward(dgates.cpu, dc.cpu, dy, w.cs, w.reserve, w.Whh, 0, T, T, B, H);
    await checkRecurrence(k, 'lstm_backward', { T, B, H }, [T, B, H], mode, true, [dgates, dc], (range, [dg, d]) => [
      { uniform: range },
      { output: dg.length, initial: dg },
      { output: d.length, initial: d },
      { input: dy },
      { input: w.cs },
      { input: w.reserve },
      { input: w.Whh },
    ]);
  });
}

export function gruForwardCases(): KernelCase[] {
  return cellCases('gru_forward', async (k, rng, [T, B, H], mode) => {
    const w = gruWindow(rng, T, B, H);
    const hs = state('hs', w.hs, B * H, 1);
    const reserve = state('reserve', w.reserve, B * 4 * H, 0);
    gruForward(hs.cpu, reserve.cpu, w.xproj, w.Whh, w.bhh, 0, T, B, H);
    await checkRecurrence(k, 'gru_forward', { B, H }, [T, B, H], mode, false, [hs, reserve], (range, [h, r]) => [
      { uniform: range },
      { input: w.xproj },
      { input: w.Whh },
      { input: w.bhh },
      { output: h.length, initial: h },
      { output: r.length, initial: r },
    ]);
  });
}

export function gruBackwardCases(): KernelCase[] {
  return cellCases('gru_backward', async (k, rng, [T, B, H], mode) => {
    const w = gruWindow(rng, T, B, H);
    gruForward(w.hs, w.reserve, w.xproj, w.Whh, w.bhh, 0, T, B, H);
    const dy = randomArray(rng, T * B * H);
    const dgates = state('dgates', nans(T * B * 3 * H), B * 3 * H, 0);
    const dhgates = state('dhgates', nans(T * B * 3 * H), B * 3 * H, 0);
    const dh = state('dh', nans(T * B * H), B * H, 0);
    gruBackward(dgates.cpu, dhgates.cpu, dh.cpu, dy, w.hs, w.reserve, w.Whh, 0, T, T, B, H);
    await checkRecurrence(k, 'gru_backward', { T, B, H }, [T, B, H], mode, true, [dgates, dhgates, dh], (range, [dg, dhg, d]) => [
      { uniform: range },
      { output: dg.length, initial: dg },
      { output: dhg.length, initial: dhg },
      { output: d.length, initial: d },
      { input: dy },
      { input: w.hs },
      { input: w.reserve },
      { input: w.Whh },
    ]);
  });
}

/** Workgroups for `count` invocations of WG each, 2-D past the per-dimension limit. */
