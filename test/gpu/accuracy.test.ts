import { describe, expect, it, test } from 'vitest';
import { derivedTolerance, randomSumError, ULP, WGSL } from '../../src/gpu/kernel_checks/accuracy.ts';
import { compareClose, KERNEL_CASES, type KernelCase } from '../../src/gpu/kernel_checks/index.ts';
import { KernelComparisons } from '../../src/gpu/kernel_checks/runner.ts';
import { Rng } from '../../src/model/rng.ts';
import { kernelEnv } from './harness.ts';

// The kernel checks' tolerances come from WGSL's accuracy tables (src/gpu/kernel_checks/accuracy.ts). They
// must hold on a conformant GPU and still catch a real bug: here every tolerance that a case states is
// tried on that case's own outputs with one element made wrong by 1e-3 relative.

const WRONG = 1e-3;

test('the table: one rounding is 1 ULP, exp grows with |x|, tanh has its absolute 1e-5, sums grow like sqrt(n)', () => {
  expect(derivedTolerance({ ops: [] })).toEqual({ atol: 0, rtol: 0 });
  expect(derivedTolerance({ ops: [WGSL.rounded] })).toEqual({ atol: 0, rtol: 1.5 * ULP });
  expect(WGSL.exp(10).ulp).toBe(23);
  expect(derivedTolerance({ ops: [WGSL.tanh(0)], steps: 2 }).atol).toBe(2e-5);
  expect(randomSumError(400, 400).abs / randomSumError(100, 100).abs).toBeCloseTo(4, 1);
});

/** Compares as the case does, then checks that the same tolerance refuses the output with one element wrong. */
class WithWrongElement extends KernelComparisons {
  /** Each tolerance tried: its label, the size of the element made wrong, and whether the check caught it. */
  readonly tried: { label: string; size: number; caught: boolean }[] = [];

  override close(gpuOut: ArrayLike<number>, cpuOut: ArrayLike<number>, atol: number, rtol: number, what: string, label = what): void {
    super.close(gpuOut, cpuOut, atol, rtol, what, label);
    let i = 0;
    for (let j = 1; j < cpuOut.length; j++) if (Math.abs(cpuOut[j]) > Math.abs(cpuOut[i])) i = j;
    const size = Math.abs(cpuOut[i]);
    if (size === 0) return; // all zero: compared exactly, nothing to make relatively wrong
    const wrong = Float64Array.from(gpuOut);
    wrong[i] = cpuOut[i] * (1 + WRONG);
    let caught = false;
    try {
      compareClose(wrong, cpuOut, atol, rtol, what);
    } catch {
      caught = true;
    }
    this.tried.push({ label, size, caught });
  }
}

describe('a 1e-3 relative error in the largest output element fails every derived tolerance', () => {
  // The largest cases of each kernel, whose tolerances are the loosest (they grow with the sizes): the last
  // one, and for the cells the one at H = 257 as well (the last is the longest window, T = 4 at H = 100).
  const largest = new Map<string, KernelCase>();
  for (const c of KERNEL_CASES) largest.set(c.group, c);
  const cases = [...largest.values(), ...KERNEL_CASES.filter((c) => c.name.startsWith('T=2 B=2 H=257 per-step'))];
  for (const c of cases) {
    it(`${c.group}: ${c.name}`, async () => {
      const k = new WithWrongElement(await kernelEnv());
      await c.run(k, new Rng(0x5eed));
      // Outputs of size 0.1 and up: below, any tolerance's atol is a fair share of a 1e-3 relative error.
      const typical = k.tried.filter((t) => t.size >= 0.1);
      expect(typical.length, 'comparisons with outputs of size >= 0.1').toBeGreaterThan(0);
      expect(typical.filter((t) => !t.caught).map((t) => `${t.label} (largest element ${t.size})`)).toEqual([]);
    });
  }
});
