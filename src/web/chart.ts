import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

// The loss chart: raw loss (one window's, noisy) and min-char-rnn's smoothed loss against the iteration, both
// in nats per character. A missing reading (null) is a gap, never a zero.

export class LossChart {
  private readonly iters: number[] = [];
  private readonly loss: (number | null)[] = [];
  private readonly smooth: (number | null)[] = [];
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
        ],
        legend: { show: true, live: false },
      },
      [[], [], []],
      container,
    );
    new ResizeObserver(() => this.plot.setSize({ width: this.width(), height: this.height() })).observe(container);
  }

  add(iter: number, loss: number | null, smoothLoss: number | null): void {
    this.iters.push(iter);
    this.loss.push(loss);
    this.smooth.push(smoothLoss);
  }

  draw(): void {
    this.plot.setData([this.iters, this.loss, this.smooth]);
  }

  /** The points drawn, for the tests and the text summary. */
  points(): { iters: readonly number[]; loss: readonly (number | null)[]; smooth: readonly (number | null)[] } {
    return { iters: this.iters, loss: this.loss, smooth: this.smooth };
  }

  clear(): void {
    this.iters.length = this.loss.length = this.smooth.length = 0;
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
