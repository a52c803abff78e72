import type { Action, ToWorker } from './protocol.ts';
import { probeAdapter } from './worker_backend.ts';
import { load, start, switchCorpus } from './worker_model.ts';
import { benchmark, download, evaluationInput, sample } from './worker_tools.ts';
import { resume } from './worker_training.ts';
import { exclusive, post, postError, postState, takeSnapshot, worker } from './worker_state.ts';

// The training worker: it owns the device, the backend and the model, so the page never freezes. This file
// takes the page's messages; every operation on the backend goes through one queue (`exclusive`) so none
// interleaves with a slice of training steps. The rest, by responsibility:
//   worker_state.ts     the shared model and run state, the queue, messages to the page
//   worker_backend.ts   the adapter, the `auto` choice, the GPU backend and its failures
//   worker_model.ts     a fresh model, a checkpoint's model, a change of corpus
//   worker_training.ts  the training loop, progress, resume
//   worker_tools.ts     download, sampling, the evaluation's input, the benchmark

const ACTION: Record<ToWorker['type'], Action> = {
  hello: 'start',
  start: 'start',
  pause: 'train',
  resume: 'resume',
  stop: 'train',
  corpus: 'corpus',
  sample: 'sample',
  'evaluation-input': 'evaluate',
  download: 'download',
  load: 'load',
  benchmark: 'benchmark',
};

async function handle(msg: ToWorker): Promise<void> {
  switch (msg.type) {
    case 'hello':
      post({ type: 'adapter', ...(await probeAdapter()) });
      postState();
      return;
    case 'start':
      return exclusive(() => start(msg.corpus, msg.settings));
    case 'pause':
      if (worker.runState !== 'training') return;
      worker.runState = 'paused';
      return exclusive(async () => {
        if (worker.model) await takeSnapshot(worker.model);
        postState();
      });
    case 'resume':
      return exclusive(async () => resume(msg.iters, msg.sampleEvery, msg.sampleLen, msg.evalEvery));
    case 'stop':
      if (worker.runState !== 'training' && worker.runState !== 'paused') return;
      worker.runState = 'stopped';
      return exclusive(async () => {
        if (worker.model) await takeSnapshot(worker.model);
        postState();
      });
    case 'corpus':
      return exclusive(async () => switchCorpus(msg.corpus));
    case 'sample':
      return exclusive(() => sample(msg.settings));
    case 'evaluation-input':
      return exclusive(() => evaluationInput(msg.text));
    case 'download':
      return exclusive(download);
    case 'load':
      if (worker.runState === 'training') worker.runState = 'stopped';
      return exclusive(() => load(msg.bytes, msg.name, msg.corpus, msg.backend));
    case 'benchmark':
      return exclusive(() => benchmark(msg.corpus, msg.settings, msg.iters));
  }
}

self.onmessage = (e: MessageEvent<ToWorker>) => {
  handle(e.data).catch((err: unknown) => {
    // A start or a load that failed half-way leaves no model behind; the state goes first, so that the page's
    // Start is enabled again when the error moves the focus to it.
    if (worker.runState === 'starting') worker.runState = 'idle';
    postState();
    postError(ACTION[e.data.type], (err as Error).message);
  });
};
