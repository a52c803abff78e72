// The WGSL matmul variants: one contract (see shaders/matmul.wgsl), several implementations, each a shader
// of its own name. Every variant covers one 16x16 tile of c per workgroup, so all share one dispatch size
// (matmulWorkgroups). Every variant is checked against src/cpu/matmul.ts by the shared kernel checks
// (src/gpu/kernel_checks/, run by the Node tests and the browser's validation page); the start-up probe and
// bench/matmul.ts check again before timing. Which one a backend uses is chosen per
// adapter and shape (kernel_choice.ts).

/** The variants that run any call. */
export const MATMUL_VARIANTS = ['matmul', 'matmul_naive', 'matmul_blocked', 'matmul_blocked8'] as const;

/** Variants with preconditions (MATMUL_PRECONDITIONS): checked, probed and used only on calls that meet them. */
export const MATMUL_ALIGNED_VARIANTS = ['matmul_blocked_vec4'] as const;

export const ALL_MATMUL_VARIANTS = [...MATMUL_VARIANTS, ...MATMUL_ALIGNED_VARIANTS] as const;

export type MatmulVariant = (typeof ALL_MATMUL_VARIANTS)[number];

/** The side of the tile of c that one workgroup of every variant computes. */
export const MATMUL_TILE = 16;

/** One matmul as encoded: the shape, the transpositions and the element offsets into the bound buffers. */
export interface MatmulCall {
  batch: number;
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
  aOffset: number;
  bOffset: number;
}

/**
 * What a variant needs of a call beyond the contract, as data: the chooser never picks a variant for a
 * call that fails one, and the tests only run it on calls that meet them. A variant without an entry
 * runs any call.
 */
export interface MatmulPrecondition {
  /** Each named dimension (or offset, in elements) must be a multiple of `multipleOf`. */
  multipleOf: number;
  of: (call: MatmulCall) => number;
  what: string;
}

export const MATMUL_PRECONDITIONS: Partial<Record<MatmulVariant, MatmulPrecondition[]>> = {
  // vec4 loads need each operand's contiguous dimension, and its start, on a 16-byte boundary.
  matmul_blocked_vec4: [
    { multipleOf: 4, of: (c) => c.aOffset, what: 'the offset of a' },
    { multipleOf: 4, of: (c) => c.bOffset, what: 'the offset of b' },
    { multipleOf: 4, of: (c) => (c.transA ? c.M : c.K), what: "a's contiguous dimension (K, or M when transA)" },
    { multipleOf: 4, of: (c) => (c.transB ? c.K : c.N), what: "b's contiguous dimension (N, or K when transB)" },
  ],
};

/** The first precondition of `variant` that `call` breaks, or null when the variant can run it. */
export function matmulUnmet(variant: MatmulVariant, call: MatmulCall): string | null {
  for (const p of MATMUL_PRECONDITIONS[variant] ?? []) {
    if (p.of(call) % p.multipleOf !== 0) return `${variant} needs ${p.what} to be a multiple of ${p.multipleOf}`;
  }
  return null;
}

export function matmulWorkgroups(call: Pick<MatmulCall, 'M' | 'N' | 'batch'>): [number, number, number] {
  return [Math.ceil(call.N / MATMUL_TILE), Math.ceil(call.M / MATMUL_TILE), call.batch];
}
