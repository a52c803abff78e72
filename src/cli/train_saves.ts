import type { Backend, TrainingState } from '../model/backend.ts';
import type { Checkpoint } from '../model/checkpoint.ts';
import { saveCheckpoint } from '../model/checkpoint_file.ts';
import type { RngState } from '../model/rng.ts';
import { firstNonFinite } from '../model/safetensors.ts';
import { DivergedError } from './errors.ts';

// What `train` writes and keeps: checkpoints that are never non-finite, and a host copy of the last state
// known to be good (taken at every log point and save on the GPU), written when the device is lost.

/** Where the loop stood when the state was read. */
export interface LoopPosition {
  iter: number;
  pointer: number;
  rng: RngState;
}

interface Snapshot {
  state: TrainingState;
  pos: LoopPosition;
}

export class TrainSaves {
  /** The iteration of the last checkpoint written, -1 before the first. */
  savedAt = -1;
  private snapshot: Snapshot | null = null;

  constructor(
    private readonly backend: Backend,
    /** --save, if given. */
    readonly path: string | undefined,
    private readonly toCheckpoint: (state: TrainingState, pos: LoopPosition) => Checkpoint,
  ) {}

  /** Stops training with exit code 3 when a loss read at a log point is NaN or infinite. */
  checkLoss(iter: number, loss: number, smoothLoss: number): void {
    if (!Number.isFinite(loss) || !Number.isFinite(smoothLoss)) {
      const which = Number.isFinite(loss) ? `the smoothed loss is ${smoothLoss}` : `the loss is ${loss}`;
      throw this.diverged(iter, which);
    }
  }

  /** Reads the backend's state, refusing a non-finite one, and keeps it as the last good state. */
  async capture(pos: LoopPosition): Promise<TrainingState> {
    const state = await this.backend.getState();
    const bad = nonFinite(state);
    if (bad) throw this.diverged(pos.iter, bad);
    this.snapshot = { state, pos };
    return state;
  }

  /** Writes a checkpoint of the current state (temporary file, fsync, rename): never a non-finite one. */
  async save(pos: LoopPosition): Promise<void> {
    const state = await this.capture(pos);
    await saveCheckpoint(this.path!, this.toCheckpoint(state, pos));
    this.savedAt = pos.iter;
  }

  /**
   * After the device is lost: writes the host copy of the last good state when it is newer than the last
   * checkpoint. Returns what the one-line message should say about it.
   */
  async saveSnapshot(): Promise<string> {
    if (this.path === undefined) return 'nothing saved (no --save)';
    const s = this.snapshot;
    if (s && s.pos.iter > this.savedAt) {
      await saveCheckpoint(this.path, this.toCheckpoint(s.state, s.pos));
      this.savedAt = s.pos.iter;
    }
    return this.savedAt >= 0 ? `the last good state is in ${this.path} (iteration ${this.savedAt})` : 'no good state was saved yet';
  }

  private diverged(iter: number, what: string): DivergedError {
    const last =
      this.savedAt >= 0
        ? `the last good checkpoint is ${this.path} (iteration ${this.savedAt})`
        : this.path !== undefined
          ? 'no checkpoint was written'
          : 'nothing was saved (no --save)';
    return new DivergedError(`training diverged at iteration ${iter}: ${what}; ${last}; try a lower --lr`);
  }
}

/** What is not finite in a state, or null. */
function nonFinite(s: TrainingState): string | null {
  if (!Number.isFinite(s.smoothLoss)) return `the smoothed loss is ${s.smoothLoss}`;
  for (const [name, data] of [
    ['a parameter', s.params],
    ['the AdaGrad memory', s.mem],
    ['the hidden state', s.hidden],
  ] as const) {
    const i = firstNonFinite(data);
    if (i >= 0) return `${name} is ${data[i]} (flat index ${i})`;
  }
  return null;
}
