import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

// The loss chart: raw loss (one window's, noisy) and min-char-rnn's smoothed loss against the iteration.

export class LossChart {
  private readonly iters: number[] = [];
  private readonly loss: number[] = [];
  private readonly smooth: number[] = [];
  private readonly plot: uPlot;

  constructor(private readonly container: HTMLElement) {
    this.plot = new uPlot(
      {
        width: this.width(),
        height: 260,
        scales: { x: { time: false } },
        axes: [{ label: 'iteration' }, { label: 'loss (nats per window)', size: 60 }],
        series: [
          { label: 'iteration' },
          { label: 'loss', stroke: 'rgba(90, 130, 200, 0.55)', width: 1 },
          { label: 'smooth loss', stroke: '#d0542b', width: 2.5 },
        ],
        legend: { show: true, live: false },
      },
      [[], [], []],
      container,
    );
    new ResizeObserver(() => this.plot.setSize({ width: this.width(), height: 260 })).observe(container);
  }

  add(iter: number, loss: number, smoothLoss: number): void {
    this.iters.push(iter);
    this.loss.push(loss);
    this.smooth.push(smoothLoss);
  }

  draw(): void {
    this.plot.setData([this.iters, this.loss, this.smooth]);
  }

  clear(): void {
    this.iters.length = this.loss.length = this.smooth.length = 0;
    this.draw();
  }

  private width(): number {
    return Math.max(200, this.container.clientWidth);
  }
}
