// The WGSL matmul variants: one contract (see shaders/matmul.wgsl), several implementations, each a shader
// of its own name. Every variant is checked against src/cpu/matmul.ts by the kernel tests and the browser's
// validation page; which one a backend uses is chosen per adapter.

export const MATMUL_VARIANTS = ['matmul', 'matmul_naive'] as const;

export type MatmulVariant = (typeof MATMUL_VARIANTS)[number];
