import { divergence, type Backend, type LossReading, type TrainingState } from '../model/backend.ts';
import type { Checkpoint } from '../model/checkpoint.ts';
import { saveCheckpoint } from '../model/checkpoint_file.ts';
import type { RngState } from '../model/rng.ts';
import { firstNonFinite } from '../model/safetensors.ts';
import { DivergedError } from './errors.ts';

// What `train` writes and keeps: checkpoints that are never non-finite, the checkpoint of the best validation
// loss (--save-best), and a host copy of the last state known to be good (taken at every log point and save
// on the GPU), written when the device is lost. Every checkpoint records the best validation loss so far, so
// a resumed run keeps comparing against it.

/** Where the loop stood when the state was read. */
export interface LoopPosition {
  iter: number;
  pointer: number;
  rng: RngState;
}

export interface BestVal {
  loss: number; // nats per character
  iter: number;
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
    /** --save-best, if given. */
    readonly bestPath: string | undefined,
    /** The best validation loss so far (from the resumed checkpoint). */
    public best: BestVal | null,
  ) {}

  /**
   * Records a validation loss; when it is the best so far, writes --save-best from the current state.
   * Returns whether it was the best.
   */
  async validated(pos: LoopPosition, loss: number): Promise<boolean> {
    if (!Number.isFinite(loss) || (this.best && this.best.loss <= loss)) return false;
    this.best = { loss, iter: pos.iter };
    if (this.bestPath !== undefined) {
      const state = await this.capture(pos);
      await saveCheckpoint(this.bestPath, this.checkpoint(state, pos));
    }
    return true;
  }

  private checkpoint(state: TrainingState, pos: LoopPosition): Checkpoint {
    return { ...this.toCheckpoint(state, pos), bestVal: this.best ?? undefined };
  }

  /** Stops training with exit code 3 when a reading at a log point says the loss or a parameter is NaN or infinite. */
  checkLoss(iter: number, r: LossReading): void {
    const what = divergence(r);
    if (what) throw this.diverged(iter, what);
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
    await saveCheckpoint(this.path!, this.checkpoint(state, pos));
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
      await saveCheckpoint(this.path, this.checkpoint(s.state, s.pos));
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
    ['the optimizer state', s.optimizerState],
    ['the hidden state', s.hidden],
  ] as const) {
    const i = firstNonFinite(data);
    if (i >= 0) return `${name} is ${data[i]} (flat index ${i})`;
  }
  return null;
}
