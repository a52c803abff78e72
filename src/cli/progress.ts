import type { Io } from './io.ts';

// A one-line progress bar on a terminal, redrawn in place with a carriage return at most every 100 ms.
// Anything else printed first clears it (clear()), and the next update draws it again.

const WIDTH = 30;
const REDRAW_MS = 100;
const RATE_SMOOTHING = 0.3; // weight of the newest interval in the chars/s shown

export class ProgressBar {
  private shown = false;
  private lastDraw = -Infinity;
  private last: { time: number; iter: number };
  private charsPerSec = 0;

  constructor(
    private readonly io: Io,
    private readonly total: number,
    private readonly charsPerIter: number,
    startIter: number,
  ) {
    this.last = { time: performance.now(), iter: startIter };
  }

  update(iter: number): void {
    const now = performance.now();
    if (now - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = now;
    // chars/s over the intervals between draws, smoothed, so that it follows the current speed.
    const dt = (now - this.last.time) / 1000;
    if (dt >= REDRAW_MS / 2000 && iter > this.last.iter) {
      const rate = ((iter - this.last.iter) * this.charsPerIter) / dt;
      this.charsPerSec = this.charsPerSec === 0 ? rate : (1 - RATE_SMOOTHING) * this.charsPerSec + RATE_SMOOTHING * rate;
      this.last = { time: now, iter };
    }
    const filled = Math.round(Math.min(1, iter / this.total) * WIDTH);
    const bar = '#'.repeat(filled) + '.'.repeat(WIDTH - filled);
    const rate = this.charsPerSec > 0 ? `  ${Math.round(this.charsPerSec).toLocaleString('en-US')} chars/s` : '';
    this.io.out(`\r[${bar}] ${iter}/${this.total}${rate}\x1b[K`);
    this.shown = true;
  }

  /** Erases the bar; the next update draws it at once. */
  clear(): void {
    if (!this.shown) return;
    this.io.out('\r\x1b[K');
    this.shown = false;
    this.lastDraw = -Infinity;
  }
}
