// The kernel threads: workers that share the kernels' WebAssembly memory and compute parts of big matmuls.
//
// Dispatch goes through a control block, an Int32Array on its own SharedArrayBuffer, built once:
//   [GEN]      job counter; a worker runs a job when it sees it change (Atomics.wait / notify on it)
//   [PENDING]  workers still busy with the current job; the last one to finish notifies it
//   [OP]       what to run (matmul, or quit)
//   [ERROR]    set by a worker whose kernel threw
//   [ARGS..]   the matmul's arguments (byte offsets and sizes)
//   [PARTS..]  per thread, the block of c it computes: m0, m1, n0, n1
// The calling thread computes part 0 itself, so `threads` counts it. A job allocates nothing: it writes
// numbers into the block and bumps GEN; Atomics operations order those writes before the workers' reads,
// and the workers' stores into the memory before the caller's return.

const GEN = 0;
const PENDING = 1;
const OP = 2;
const ERROR = 3;
const ARGS = 4;
const PARTS = 16;
const OP_MATMUL = 0;
const OP_QUIT = 1;
const SPIN = 20000;
const WAIT_MS = 100;
const MAX_TIMEOUTS = 600; // a minute of waits
const MAX_POLLS = 2_000_000_000; // seconds of polling
/** Rows or columns of c are handed out in units of this many, the register blocks' size. */
const UNIT = 8;

export interface MatmulExport {
  (
    c: number,
    a: number,
    b: number,
    bias: number,
    batch: number,
    M: number,
    N: number,
    K: number,
    flags: number,
    m0: number,
    m1: number,
    n0: number,
    n1: number,
  ): void;
}

interface WorkerHandle {
  terminate(): unknown;
}

export class ThreadPool {
  private readonly ctl: Int32Array;
  private readonly canBlock: boolean;

  private constructor(
    readonly threads: number,
    private readonly workers: WorkerHandle[],
    control: SharedArrayBuffer,
    private readonly matmulPart: MatmulExport,
  ) {
    this.ctl = new Int32Array(control);
    this.canBlock = canBlock();
  }

  /** Starts threads - 1 workers on `memory` and waits until each has instantiated `module`. */
  static async start(
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    threads: number,
    matmulPart: MatmulExport,
  ): Promise<ThreadPool> {
    const control = new SharedArrayBuffer(4 * (PARTS + 4 * threads));
    const workers: WorkerHandle[] = [];
    try {
      for (let part = 1; part < threads; part++) workers.push(await spawn({ module, memory, control, part }));
    } catch (e) {
      for (const w of workers) w.terminate();
      throw e;
    }
    return new ThreadPool(threads, workers, control, matmulPart);
  }

  /** c[z] (+)= op(a[z]) op(b[z]) + bias over all of c, split between the threads by rows or by columns. */
  matmul(c: number, a: number, b: number, bias: number, batch: number, M: number, N: number, K: number, flags: number): void {
    const ctl = this.ctl;
    ctl[OP] = OP_MATMUL;
    ctl[ARGS] = c;
    ctl[ARGS + 1] = a;
    ctl[ARGS + 2] = b;
    ctl[ARGS + 3] = bias;
    ctl[ARGS + 4] = batch;
    ctl[ARGS + 5] = M;
    ctl[ARGS + 6] = N;
    ctl[ARGS + 7] = K;
    ctl[ARGS + 8] = flags;
    const byRows = (((M + UNIT - 1) / UNIT) | 0) >= (((N + UNIT - 1) / UNIT) | 0);
    const units = (((byRows ? M : N) + UNIT - 1) / UNIT) | 0;
    const total = byRows ? M : N;
    for (let p = 0; p < this.threads; p++) {
      // Integer arithmetic throughout: a float here would be boxed on every call.
      const lo = Math.min(total, (((units * p) / this.threads) | 0) * UNIT);
      const hi = Math.min(total, (((units * (p + 1)) / this.threads) | 0) * UNIT);
      const r = PARTS + 4 * p;
      ctl[r] = byRows ? lo : 0;
      ctl[r + 1] = byRows ? hi : M;
      ctl[r + 2] = byRows ? 0 : lo;
      ctl[r + 3] = byRows ? N : hi;
    }
    this.dispatch();
    this.matmulPart(c, a, b, bias, batch, M, N, K, flags, ctl[PARTS], ctl[PARTS + 1], ctl[PARTS + 2], ctl[PARTS + 3]);
    this.join();
  }

  private dispatch(): void {
    Atomics.store(this.ctl, PENDING, this.threads - 1);
    Atomics.add(this.ctl, GEN, 1);
    Atomics.notify(this.ctl, GEN);
  }

  private join(): void {
    const ctl = this.ctl;
    let pending = Atomics.load(ctl, PENDING);
    for (let i = 0; pending !== 0 && i < SPIN; i++) pending = Atomics.load(ctl, PENDING);
    if (pending === 0) return this.checkError();
    // A worker that never answers (a lost wake-up, a dead thread) is an error, not a hang. Counted in waits
    // and polls, not clock readings: a float from the clock would be boxed on every slow join.
    let timeouts = 0;
    let polls = 0;
    while (pending !== 0) {
      // A page's main thread may not block: it keeps polling.
      if (this.canBlock) {
        if (Atomics.wait(ctl, PENDING, pending, WAIT_MS) === 'timed-out') timeouts++;
      } else polls++;
      pending = Atomics.load(ctl, PENDING);
      if (pending !== 0 && (timeouts > MAX_TIMEOUTS || polls > MAX_POLLS)) {
        throw new Error(`kernel threads did not finish a matmul in a minute (${pending} still busy)`);
      }
    }
    this.checkError();
  }

  private checkError(): void {
    if (Atomics.load(this.ctl, ERROR) !== 0) throw new Error('a kernel thread failed (its error is on the console)');
  }

  /** Stops the workers; the pool cannot be used afterwards. */
  close(): void {
    this.ctl[OP] = OP_QUIT;
    this.dispatch();
    for (const w of this.workers) w.terminate();
  }
}

/** Whether this thread may call Atomics.wait (Node and workers may; a page's main thread may not). */
function canBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  part: number;
}

export const inNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

// The specifier sits in a variable so that Vite leaves the Node-only import out of the page's bundle.
const nodeThreads = 'node:worker_threads';

async function spawn(init: WorkerInit): Promise<WorkerHandle> {
  if (inNode) {
    const { Worker } = (await import(/* @vite-ignore */ nodeThreads)) as typeof import('node:worker_threads');
    const w = new Worker(new URL('./kernel_worker.js', import.meta.url), { workerData: init });
    // A pool that is never closed does not keep the process alive.
    w.unref();
    await new Promise<void>((resolve, reject) => {
      w.once('message', () => resolve());
      w.once('error', reject);
      w.once('exit', (code) => reject(new Error(`kernel thread ${init.part} exited with code ${code} before it started`)));
    });
    return w;
  }
  const w = new Worker(new URL('./kernel_worker.js', import.meta.url), { type: 'module' });
  w.postMessage(init);
  await new Promise<void>((resolve, reject) => {
    w.onmessage = () => resolve();
    w.onerror = (e) => reject(new Error(`kernel thread ${init.part} failed to start: ${e.message}`));
  });
  return w;
}
