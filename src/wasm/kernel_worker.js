// One kernel thread (plain JavaScript, so Node's worker_threads and the browser's Web Workers run this file
// as it is, with no bundler or TypeScript loader in between). It instantiates the kernels on the shared
// memory it is given, then waits on the control block for parts of matmuls to compute; the protocol is
// described in src/wasm/thread_pool.ts, which starts it.

const GEN = 0;
const PENDING = 1;
const OP = 2;
const ERROR = 3;
const ARGS = 4;
const PARTS = 16;
const OP_MATMUL = 0;
const OP_QUIT = 1;
// Spin this many polls for the next job before sleeping in Atomics.wait: jobs come in bursts (a window's
// matmuls), and waking a sleeping thread costs tens of microseconds.
const SPIN = 20000;

const nodeThreads = 'node:worker_threads';
const inNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';
const port = inNode ? (await import(/* @vite-ignore */ nodeThreads)).parentPort : null;
const init = inNode
  ? (await import(/* @vite-ignore */ nodeThreads)).workerData
  : await new Promise((resolve) => self.addEventListener('message', (e) => resolve(e.data), { once: true }));

const { module, memory, control, part } = init;
const { exports } = await WebAssembly.instantiate(module, { env: { memory } });
const ctl = new Int32Array(control);
if (port) port.postMessage('ready');
else self.postMessage('ready');

// Job 0 is "none": no job is dispatched before every worker has said it is ready, so the first one has
// GEN 1. (Reading GEN here instead raced with that first job when the ready message arrived first.)
let seen = 0;
for (;;) {
  let gen = Atomics.load(ctl, GEN);
  for (let i = 0; gen === seen && i < SPIN; i++) gen = Atomics.load(ctl, GEN);
  while (gen === seen) {
    Atomics.wait(ctl, GEN, seen);
    gen = Atomics.load(ctl, GEN);
  }
  seen = gen;
  const op = ctl[OP];
  if (op === OP_QUIT) break;
  try {
    if (op === OP_MATMUL) {
      const r = PARTS + 4 * part;
      exports.matmul(
        ctl[ARGS] >>> 0,
        ctl[ARGS + 1] >>> 0,
        ctl[ARGS + 2] >>> 0,
        ctl[ARGS + 3] >>> 0,
        ctl[ARGS + 4],
        ctl[ARGS + 5],
        ctl[ARGS + 6],
        ctl[ARGS + 7],
        ctl[ARGS + 8],
        ctl[r],
        ctl[r + 1],
        ctl[r + 2],
        ctl[r + 3],
      );
    }
  } catch (e) {
    Atomics.store(ctl, ERROR, 1);
    console.error(`kernel thread ${part}:`, e);
  }
  if (Atomics.sub(ctl, PENDING, 1) === 1) Atomics.notify(ctl, PENDING);
}
if (port) port.close();
else self.close();
