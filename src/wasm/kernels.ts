import type { MatmulShape } from '../cpu/matmul.ts';
import { optimizerStateFloats, type OptimizerType } from '../model/optimizers.ts';
import { cellKernels, type CellExports, type CellKernels } from './cell_kernels.ts';
import { oneHotKernels, type OneHotExports, type OneHotKernels } from './onehot_kernels.ts';
import { inNode, ThreadPool, type MatmulExport } from './thread_pool.ts';

// The WebAssembly SIMD kernels for the CPU backend, and the memory they work in.
//
// The kernels read and write float32 arrays that live in the module's WebAssembly memory: `alloc(n)` hands
// out views into it (64-byte aligned, never freed: allocate a model's buffers once), and every kernel takes
// such views, a pointer being the view's byteOffset. Their contracts are those of the TypeScript twins in
// src/cpu (same names, argument order and shapes), checked in test/wasm/kernels.test.ts.
//
// Threads: where shared memory is available (Node; a cross-origin isolated page), the memory is a shared
// WebAssembly.Memory and matmuls of at least `minParallelWork` multiply-adds are split between `threads`
// threads (src/wasm/thread_pool.ts). Each element of c is computed by one thread in the same order whatever
// the split, so results do not depend on the thread count. Elsewhere the kernels run on one thread, and
// `note` says why.
//
// Views are never detached under their holder: a shared memory grows without detaching anything, and an
// unshared one (one thread) only grows before the first view is handed out; past that, size it up front
// with `memoryBytes`.

export interface CpuKernelsOptions {
  /** Threads for big matmuls, the calling one included. Default: the machine's cores, at most 4. */
  threads?: number;
  /** Initial memory (rounded up to 64 KiB pages). All an unshared memory will ever have once views exist. */
  memoryBytes?: number;
  /** The largest the memory may grow to. Default 2 GiB. */
  maxMemoryBytes?: number;
  /** Use an unshared memory (one thread) even where shared memory is available; for tests. */
  unsharedMemory?: boolean;
  /** Matmuls with fewer multiply-adds (batch * M * N * K) than this run on the calling thread alone. */
  minParallelWork?: number;
}

export interface CpuKernels {
  /** Threads that big matmuls are split across (1 where shared memory is not available). */
  readonly threads: number;
  /** What runs, for benchmark rows: `cpu-wasm-simd x2 threads`. */
  readonly description: string;
  /** Why fewer threads run than were asked for, or null. */
  readonly note: string | null;
  /** A float32 array of n elements in the kernels' memory, zero-filled, 64-byte aligned. */
  alloc(n: number): Float32Array;
  /** c (+)= op(a) op(b) + bias: src/cpu/matmul.ts's contract. */
  matmul(c: Float32Array, a: Float32Array, b: Float32Array, bias: Float32Array | null, s: MatmulShape): void;
  /**
   * One optimizer step over n elements: the contract of src/cpu/optimizers.ts's CPU_UPDATES[type] (settings
   * are OPTIMIZERS[type].settings, scale the global-norm clip factor), computed in float32 on one thread.
   */
  update(
    type: OptimizerType,
    params: Float32Array,
    grads: Float32Array,
    state: Float32Array,
    n: number,
    settings: ArrayLike<number>,
    scale: number,
  ): void;
  /** db (N,) += column sums of d (R, N): src/cpu/bias_grad.ts's contract. */
  biasGrad(db: Float32Array, d: Float32Array, R: number, N: number): void;
  /** The cells' element-wise steps: src/cpu/<cell>_pointwise.ts's contracts, on the calling thread. */
  readonly cells: CellKernels;
  /**
   * The one-hot input projection and its backward, and the softmax cross-entropy: src/cpu/input_projection*.ts's
   * and softmax_cross_entropy.ts's contracts, on the calling thread.
   */
  readonly oneHot: OneHotKernels;
  /** Stops the kernel threads. The kernels run on one thread afterwards. */
  close(): void;
}

const PAGE = 65536;
const ALIGN = 64;
// The module has no data or stack; the first page stays unused all the same, so no view starts at 0.
const FIRST = PAGE;
const DEFAULT_MIN_PARALLEL_WORK = 1 << 18;

interface Exports extends CellExports, OneHotExports {
  matmul: MatmulExport;
  adagrad_update(params: number, grads: number, mem: number, n: number, lr: number, clip: number, eps: number, scale: number): void;
  rmsprop_update(
    params: number,
    grads: number,
    sq: number,
    n: number,
    lr: number,
    clip: number,
    eps: number,
    weightDecay: number,
    alpha: number,
    oneMinusAlpha: number,
    scale: number,
  ): void;
  adam_update(
    params: number,
    grads: number,
    state: number,
    n: number,
    lr: number,
    clip: number,
    eps: number,
    weightDecay: number,
    beta1: number,
    oneMinusBeta1: number,
    beta2: number,
    oneMinusBeta2: number,
    correction1: number,
    correction2Sqrt: number,
    scale: number,
  ): void;
  bias_grad(db: number, d: number, R: number, N: number): void;
}

/**
 * Whether this engine compiles WebAssembly SIMD (every current browser and Node; Safari before 16.4 does
 * not): a module of one function returning a v128 (wasm-feature-detect's probe).
 */
export function simdSupported(): boolean {
  const probe = [0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11];
  return WebAssembly.validate(new Uint8Array(probe));
}

/** The page's cores (and Node 21's), at most 4; Node 20 has no navigator, and its callers pass os.availableParallelism(). */
export function defaultThreads(): number {
  return Math.max(1, Math.min(globalThis.navigator?.hardwareConcurrency ?? 1, 4));
}

export async function loadCpuKernels(options: CpuKernelsOptions = {}): Promise<CpuKernels> {
  const asked = Math.max(1, Math.floor(options.threads ?? defaultThreads()));
  const shareable = typeof SharedArrayBuffer !== 'undefined' && (inNode || globalThis.crossOriginIsolated === true);
  const shared = shareable && options.unsharedMemory !== true;
  // Shown in parentheses after the description (the backend's name), so it has none of its own.
  const note =
    asked <= 1 || shared
      ? null
      : shareable
        ? `one thread, not ${asked}: unshared memory asked for`
        : `one thread, not ${asked}: threads need a cross-origin isolated page, served with COOP and COEP headers`;
  const pages = Math.max(2, Math.ceil((options.memoryBytes ?? 16 * 2 ** 20) / PAGE));
  const maxPages = Math.max(pages, Math.ceil((options.maxMemoryBytes ?? 2 ** 31) / PAGE));
  // Both builds declare a maximum, so the memory they import must have one too.
  const memory = new WebAssembly.Memory({ initial: pages, maximum: maxPages, shared });
  const module = await WebAssembly.compile(await wasmBytes(shared));
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const exports = instance.exports as unknown as Exports;
  const threads = shared ? asked : 1;
  const pool = threads > 1 ? await ThreadPool.start(module, memory, threads, exports.matmul) : null;
  return new WasmKernels(memory, shared, exports, pool, threads, note, options.minParallelWork ?? DEFAULT_MIN_PARALLEL_WORK);
}

/**
 * The memoryBytes that allocations of these lengths, made in this order, take from alloc() (its arithmetic):
 * all an unshared memory needs up front.
 */
export function kernelMemoryBytes(lengths: Iterable<number>): number {
  let top = FIRST;
  let end = FIRST;
  for (const n of lengths) {
    end = top + n * 4;
    top = Math.ceil(end / ALIGN) * ALIGN;
  }
  return end;
}

class WasmKernels implements CpuKernels {
  readonly description: string;
  readonly cells: CellKernels;
  readonly oneHot: OneHotKernels;
  private top = FIRST;
  private handedOut = false;
  // Buffer objects whose views have been checked to be this memory (see owns()).
  private readonly known = new WeakSet<ArrayBufferLike>();

  constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly shared: boolean,
    private readonly exports: Exports,
    private pool: ThreadPool | null,
    readonly threads: number,
    readonly note: string | null,
    private readonly minParallelWork: number,
  ) {
    this.description = `cpu-wasm-simd x${threads} thread${threads === 1 ? '' : 's'}`;
    this.cells = cellKernels(exports, (x, n, name) => this.check(x, n, name));
    this.oneHot = oneHotKernels(exports, (x, n, name) => this.check(x, n, name));
  }

  alloc(n: number): Float32Array {
    if (!Number.isInteger(n) || n < 0) throw new Error(`alloc: bad length ${n}`);
    const start = this.top;
    const end = start + n * 4;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      if (!this.shared && this.handedOut) {
        throw new Error(
          `the kernels' memory (${have} bytes, one thread) is full and cannot grow without detaching the arrays already handed out: pass memoryBytes >= ${end} to loadCpuKernels`,
        );
      }
      this.memory.grow(Math.ceil((end - have) / PAGE));
    }
    this.top = Math.ceil(end / ALIGN) * ALIGN;
    this.handedOut = true;
    return new Float32Array(this.memory.buffer, start, n);
  }

  matmul(c: Float32Array, a: Float32Array, b: Float32Array, bias: Float32Array | null, s: MatmulShape): void {
    const { batch, M, N, K, transA, transB, accumulate } = s;
    this.check(c, batch * M * N, 'c');
    this.check(a, batch * M * K, 'a');
    this.check(b, batch * K * N, 'b');
    if (bias) this.check(bias, N, 'bias');
    const flags = (transA ? 1 : 0) | (transB ? 2 : 0) | (accumulate ? 4 : 0);
    const biasPtr = bias ? bias.byteOffset : 0;
    if (this.pool && batch * M * N * K >= this.minParallelWork) {
      this.pool.matmul(c.byteOffset, a.byteOffset, b.byteOffset, biasPtr, batch, M, N, K, flags);
    } else {
      this.exports.matmul(c.byteOffset, a.byteOffset, b.byteOffset, biasPtr, batch, M, N, K, flags, 0, M, 0, N);
    }
  }

  // Element-wise and memory-bound: one thread streams it faster than a hand-off to the pool would pay for at
  // this project's model sizes, so it stays on the calling thread (and so cannot depend on the thread count).
  update(
    type: OptimizerType,
    params: Float32Array,
    grads: Float32Array,
    state: Float32Array,
    n: number,
    s: ArrayLike<number>,
    scale: number,
  ): void {
    this.check(params, n, 'params');
    this.check(grads, n, 'grads');
    this.check(state, optimizerStateFloats(type, n), 'state');
    // No destructuring: a training step allocates nothing (test/wasm/threads.test.ts).
    const p = params.byteOffset;
    const g = grads.byteOffset;
    const st = state.byteOffset;
    if (type === 'adagrad') this.exports.adagrad_update(p, g, st, n, s[0], s[1], s[2], scale);
    else if (type === 'rmsprop') this.exports.rmsprop_update(p, g, st, n, s[0], s[1], s[2], s[3], s[4], s[5], scale);
    else this.exports.adam_update(p, g, st, n, s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8], s[9], scale);
  }

  biasGrad(db: Float32Array, d: Float32Array, R: number, N: number): void {
    this.check(db, N, 'db');
    this.check(d, R * N, 'd');
    this.exports.bias_grad(db.byteOffset, d.byteOffset, R, N);
  }

  close(): void {
    this.pool?.close();
    this.pool = null;
  }

  // A kernel reads and writes raw memory: an array from elsewhere, or one too short for the shape, would
  // silently read or clobber its neighbours.
  private check(x: Float32Array | Uint32Array, n: number, name: string): void {
    if (x.length < n) throw new Error(`${name} has ${x.length} elements, the shape needs ${n}`);
    if (!this.known.has(x.buffer)) {
      if (!this.owns(x)) throw new Error(`${name} is not in the kernels' memory: allocate it with alloc()`);
      this.known.add(x.buffer);
    }
  }

  // Whether x's buffer is this memory: a store through x shows up in the memory. (Not identity: V8 may hand
  // out a new SharedArrayBuffer object for the same shared memory at any time.) Runs once per buffer object.
  private owns(x: Float32Array | Uint32Array): boolean {
    if (x.length === 0) return true;
    if (x.byteOffset + 4 > this.memory.buffer.byteLength) return false;
    const mine = new Uint32Array(this.memory.buffer, x.byteOffset, 1);
    const theirs = new Uint32Array(x.buffer, x.byteOffset, 1);
    const saved = theirs[0];
    let same = true;
    for (const mask of [0x5a5a5a5a, 0xa5a5a5a5]) {
      theirs[0] = saved ^ mask;
      same &&= mine[0] === theirs[0];
    }
    theirs[0] = saved;
    return same;
  }
}

// The committed builds (src/wasm/build.ts), next to this file: read from disk in Node, fetched in the page
// (Vite emits them as assets).
async function wasmBytes(shared: boolean): Promise<ArrayBuffer> {
  const url = shared ? new URL('./kernels.wasm', import.meta.url) : new URL('./kernels_single.wasm', import.meta.url);
  if (url.protocol === 'file:') {
    const fs = 'node:fs/promises';
    const { readFile } = (await import(/* @vite-ignore */ fs)) as typeof import('node:fs/promises');
    const bytes = await readFile(url);
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }
  const response = await fetch(url);
  if (!response.ok) throw new Error(`loading ${url}: HTTP ${response.status}`);
  return response.arrayBuffer();
}
