import { LossChart } from './chart.ts';
import type { BestVal, LossPoint } from './protocol.ts';

// What the page shows of a training run: the figures, the chart with its text summary, and a polite live
// region for screen readers. Every loss is per character (nats, with bits beside); the window sum appears
// only where min-char-rnn's printout is mirrored.

const $ = (id: string): HTMLElement => document.getElementById(id)!;
const LIVE_MS = 10_000; // a screen reader hears the figures at most every ten seconds while training

export const fmtLoss = (x: number): string => x.toFixed(4);
export const bits = (nats: number): number => nats / Math.LN2;

export class ProgressView {
  private readonly chart = new LossChart($('chart'));
  private first: LossPoint | null = null;
  private last: LossPoint | null = null;
  private lastVal: { iter: number; loss: number } | null = null;
  private lastLive = 0;

  /** seq of the model being shown, for min-char-rnn's window sum. */
  seq = 25;

  reset(): void {
    this.chart.clear();
    this.first = this.last = this.lastVal = null;
    this.lastLive = 0;
    for (const id of ['loss', 'smooth-loss', 'chars-per-s', 'iter', 'val-loss', 'best-val']) $(id).textContent = '–';
    $('smooth-bits').textContent = $('val-bits').textContent = '';
    const trend = $('loss-trend');
    trend.textContent = 'Loss per character (nats) against the iteration: the window’s loss, the smoothed one and the held-out text’s.';
    for (const id of ['loss-trend', 'chars-per-s', 'val-loss']) {
      const data = $(id).dataset;
      for (const key of Object.keys(data)) delete data[key];
    }
    $('chart').setAttribute('aria-label', 'Loss chart: no training yet.');
  }

  add(points: LossPoint[], iter: number, charsPerSec: number): void {
    for (const p of points) {
      // The first point that has a smoothed loss anchors the summary ("from ... to ...").
      if (!this.first || this.first.smoothLoss === null) this.first = p;
      this.chart.add(p.iter, p.loss, p.smoothLoss);
      this.last = p;
    }
    this.chart.draw();
    $('iter').textContent = iter.toLocaleString('en-US');
    if (charsPerSec > 0) {
      $('chars-per-s').textContent = Math.round(charsPerSec).toLocaleString('en-US');
      $('chars-per-s').dataset.value = String(charsPerSec);
    }
    const last = this.last;
    if (!last) return;
    $('loss').textContent = last.loss === null ? '–' : fmtLoss(last.loss);
    $('smooth-loss').textContent = last.smoothLoss === null ? '–' : fmtLoss(last.smoothLoss);
    $('smooth-bits').textContent = last.smoothLoss === null ? '' : `${bits(last.smoothLoss).toFixed(3)} bits`;
    this.summarise();
  }

  /** A validation at `iter` iterations trained, and the best so far. */
  addValidation(iter: number, lossPerChar: number, best: BestVal | null): void {
    this.chart.addValidation(iter, lossPerChar);
    this.chart.draw();
    this.lastVal = { iter, loss: lossPerChar };
    const el = $('val-loss');
    el.textContent = fmtLoss(lossPerChar);
    Object.assign(el.dataset, { value: String(lossPerChar), iter: String(iter) });
    $('val-bits').textContent = `${bits(lossPerChar).toFixed(3)} bits`;
    this.showBest(best);
    this.summarise();
  }

  /** The lowest validation loss so far, from this run or the loaded checkpoint. */
  showBest(best: BestVal | null): void {
    $('best-val').textContent = best ? `${fmtLoss(best.loss)} at ${best.iter.toLocaleString('en-US')}` : '–';
  }

  /** The chart's text equivalent, in the caption and the chart's accessible name. */
  private summarise(): void {
    const first = this.first;
    const last = this.last;
    if (!first || !last) return;
    const trend = $('loss-trend');
    const data: Record<string, string> = { firstIter: String(first.iter), lastIter: String(last.iter) };
    if (first.loss !== null) data.firstLoss = String(first.loss);
    if (last.loss !== null) data.lastLoss = String(last.loss);
    if (first.smoothLoss !== null) data.firstSmoothLoss = String(first.smoothLoss);
    if (last.smoothLoss !== null) data.lastSmoothLoss = String(last.smoothLoss);
    Object.assign(trend.dataset, data);
    if (first.smoothLoss === null || last.smoothLoss === null) {
      trend.textContent = `Iteration ${last.iter}: no loss reading yet.`;
    } else {
      const T = this.seq;
      trend.textContent =
        `Smooth loss ${fmtLoss(first.smoothLoss)} nats per character (${bits(first.smoothLoss).toFixed(3)} bits) at iteration ${first.iter}` +
        ` → ${fmtLoss(last.smoothLoss)} (${bits(last.smoothLoss).toFixed(3)} bits) at ${last.iter}. ` +
        `min-char-rnn would print smooth_loss ${(first.smoothLoss * T).toFixed(2)} → ${(last.smoothLoss * T).toFixed(2)}, its sum over the ${T}-character window.`;
    }
    const v = this.lastVal;
    if (v) {
      const count = this.chart.points().val.filter((x) => x !== null).length;
      trend.dataset.valPoints = String(count);
      trend.textContent += ` Validation loss ${fmtLoss(v.loss)} nats per character (${bits(v.loss).toFixed(3)} bits) at ${v.iter}, ${count} point${count === 1 ? '' : 's'} on the chart.`;
    }
    $('chart').setAttribute('aria-label', `Loss chart. ${trend.textContent}`);
  }

  /** Tells a screen reader the figures now and then, and at every change of state. */
  announce(state: string, force: boolean): void {
    const now = performance.now();
    if (!force && now - this.lastLive < LIVE_MS) return;
    this.lastLive = now;
    const last = this.last;
    const loss =
      last?.smoothLoss != null
        ? `, smooth loss ${last.smoothLoss.toFixed(2)} nats per character (${bits(last.smoothLoss).toFixed(2)} bits)`
        : '';
    const v = this.lastVal;
    const val = v ? `, validation loss ${v.loss.toFixed(2)} nats per character (${bits(v.loss).toFixed(2)} bits)` : '';
    $('live').textContent = `${state[0].toUpperCase()}${state.slice(1)} at iteration ${$('iter').textContent}${loss}${val}.`;
  }
}
