import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

// The loss chart: raw loss (one window's, noisy), min-char-rnn's smoothed loss and the validation loss (the
// held-out text's, every eval-every iterations) against the iteration, all in nats per character. A missing
// reading (null) is a gap, never a zero; a validation lands on the row of its iteration, or a row of its own.

export class LossChart {
  private readonly iters: number[] = [];
  private readonly loss: (number | null)[] = [];
  private readonly smooth: (number | null)[] = [];
  private readonly val: (number | null)[] = [];
  private readonly plot: uPlot;

  constructor(private readonly container: HTMLElement) {
    this.plot = new uPlot(
      {
        width: this.width(),
        height: this.height(),
        scales: { x: { time: false } },
        axes: [{ label: 'iteration' }, { label: 'loss (nats per character)', size: 60 }],
        series: [
          { label: 'iteration' },
          { label: 'loss', stroke: 'rgba(90, 130, 200, 0.55)', width: 1, spanGaps: true },
          { label: 'smooth loss', stroke: '#d0542b', width: 2.5, spanGaps: true },
          // Sparse (one point per eval-every iterations): points as well as the line between them.
          { label: 'validation loss', stroke: '#1d7a3e', width: 2, spanGaps: true, points: { show: true, size: 7, fill: '#1d7a3e' } },
        ],
        legend: { show: true, live: false },
      },
      [[], [], [], []],
      container,
    );
    new ResizeObserver(() => this.plot.setSize({ width: this.width(), height: this.height() })).observe(container);
  }

  add(iter: number, loss: number | null, smoothLoss: number | null): void {
    const i = this.row(iter);
    this.loss[i] = loss;
    this.smooth[i] = smoothLoss;
  }

  addValidation(iter: number, lossPerChar: number): void {
    this.val[this.row(iter)] = lossPerChar;
  }

  /** The last row when it is at `iter` (readings arrive in iteration order), else a new one of gaps. */
  private row(iter: number): number {
    const last = this.iters.length - 1;
    if (last >= 0 && this.iters[last] === iter) return last;
    this.iters.push(iter);
    this.loss.push(null);
    this.smooth.push(null);
    this.val.push(null);
    return last + 1;
  }

  draw(): void {
    this.plot.setData([this.iters, this.loss, this.smooth, this.val]);
  }

  /** The points drawn, for the tests and the text summary. */
  points(): {
    iters: readonly number[];
    loss: readonly (number | null)[];
    smooth: readonly (number | null)[];
    val: readonly (number | null)[];
  } {
    return { iters: this.iters, loss: this.loss, smooth: this.smooth, val: this.val };
  }

  clear(): void {
    this.iters.length = this.loss.length = this.smooth.length = this.val.length = 0;
    this.draw();
  }

  /** Shorter on a phone, so the chart and the controls fit on one screen. */
  private height(): number {
    return this.container.clientWidth < 500 ? 190 : 250;
  }

  private width(): number {
    return Math.max(200, this.container.clientWidth);
  }
}
