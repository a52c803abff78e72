import { describe, expect, it } from 'vitest';
import { KERNEL_CASES, runKernelCase, type KernelCase } from '../../src/gpu/kernel_checks/index.ts';
import { ALL_MATMUL_VARIANTS } from '../../src/gpu/matmul_variants.ts';
import { kernelEnv } from './harness.ts';

// Every kernel against its CPU twin: one test per case of src/gpu/kernel_checks/, the list the browser's
// validation page runs too. Each case draws fresh random inputs (its seed is in any failure), poisons the
// outputs with NaN and states its tolerance; a validation error fails the case.

const groups = new Map<string, KernelCase[]>();
for (const c of KERNEL_CASES) groups.set(c.group, [...(groups.get(c.group) ?? []), c]);

for (const [group, cases] of groups) {
  describe(group, () => {
    for (const c of cases) {
      it(c.name, async () => {
        const result = await runKernelCase(await kernelEnv(), c);
        expect(result.message).toBe('');
        expect(result.ok).toBe(true);
      });
    }
  });
}

it('checks every matmul variant', () => {
  for (const variant of ALL_MATMUL_VARIANTS) expect(groups.get(variant)?.length, variant).toBeGreaterThan(0);
});
