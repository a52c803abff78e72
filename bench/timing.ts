// One way to time a CPU call for the microbenchmarks (cpu_kernels.ts, cpu_onehot.ts): after a warm-up call,
// the best of 3 runs of at least minSeconds each, so a moment of load on a shared machine is not the figure.

/** Seconds per call. */
export function secondsPerCall(run: () => void, minSeconds: number): number {
  run();
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    let calls = 0;
    const t0 = performance.now();
    let t = t0;
    do {
      run();
      calls++;
      t = performance.now();
    } while (t - t0 < minSeconds * 1000);
    best = Math.min(best, (t - t0) / 1000 / calls);
  }
  return best;
}
