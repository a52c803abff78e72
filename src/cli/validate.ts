import { BackendUnavailableError } from '../create_backend.ts';
import { openDevice } from '../gpu/device.ts';
import { KERNEL_CASES, runKernelCase, type KernelCase, type KernelCheckResult } from '../gpu/kernel_checks/index.ts';
import { freshSeed } from '../gpu/kernel_checks/runner.ts';
import { KernelLibrary } from '../gpu/kernels.ts';
import { intOption, MAX_U32, parseCommandArgs, str, UsageError } from './args.ts';
import { adapterOption } from './common.ts';
import { jsonLine, type Io } from './io.ts';

export const VALIDATE_HELP = `Usage: char-rnn validate [options]

Runs every WGSL kernel against its CPU twin on this machine's WebGPU adapter: the cases of
src/gpu/kernel_checks/, the list that validate.html runs in the browser and the tests run in Node. Each
case draws fresh random inputs at awkward sizes, poisons the outputs with NaN and compares within its
stated tolerance. Prints a table (kernel, case, worst error, tolerance, pass); a failure names the seed
that reproduces it (--seed). Exit code 1 when any case fails.

Options:
  --adapter auto|gpu|swiftshader
                       the adapter to validate (default auto: a real GPU, else SwiftShader)
  --seed S             the seed of every case's inputs, 0 to 4294967295 (default: a fresh one)
  --filter TEXT        only the cases whose kernel or case name contains TEXT
  --json               print JSON Lines: {type:"device"}, one {type:"case", kernel, case, ok,
                       worst_error, tolerance, seed, message, ms} per case, then {type:"summary"}
  -h, --help           show this help
`;

const OPTIONS = {
  adapter: { type: 'string' },
  seed: { type: 'string' },
  filter: { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** `cases` is for tests (a case made to fail); the command runs KERNEL_CASES. */
export async function runValidate(argv: string[], io: Io, all: readonly KernelCase[] = KERNEL_CASES): Promise<number> {
  const o = parseCommandArgs('validate', argv, OPTIONS);
  if (o.help) {
    io.out(VALIDATE_HELP);
    return 0;
  }
  const adapterChoice = adapterOption(o);
  const seed = str(o, 'seed') === undefined ? freshSeed() : intOption(o, 'seed', 0, 0, MAX_U32);
  const filter = str(o, 'filter');
  const json = o.json === true;
  const cases = selectCases(all, filter);

  // Loaded only here, so that the other commands start without dawn.node.
  const { acquireNodeAdapter, NoAdapterError } = await import('../gpu/adapter_node.ts');
  const { nodeShaderSource } = await import('../gpu/shaders_node.ts');
  let ctx;
  try {
    ctx = await openDevice(await acquireNodeAdapter(adapterChoice));
  } catch (e) {
    if (e instanceof NoAdapterError) throw new BackendUnavailableError(e.message);
    throw e;
  }
  try {
    if (json) jsonLine(io, { type: 'device', device: ctx.adapterName, seed, cases: cases.length });
    else io.err(`adapter: ${ctx.adapterName}; ${cases.length} cases, seed ${seed}\n`);
    const env = { device: ctx.device, lib: new KernelLibrary(ctx.device, nodeShaderSource) };
    const results: KernelCheckResult[] = [];
    for (const c of cases) {
      const r = await runKernelCase(env, c, seed);
      results.push(r);
      if (json) {
        jsonLine(io, {
          type: 'case',
          kernel: r.group,
          case: r.name,
          ok: r.ok,
          over_limit: r.overLimit,
          worst_error: r.worstError,
          tolerance: r.tolerance,
          seed: r.seed,
          message: r.message,
          ms: Math.round(r.ms),
        });
      }
    }
    const failed = results.filter((r) => !r.ok && !r.overLimit);
    const overLimit = results.filter((r) => r.overLimit);
    const passed = results.length - failed.length - overLimit.length;
    if (json) jsonLine(io, { type: 'summary', cases: results.length, passed, failed: failed.length, over_limit: overLimit.length, seed });
    else {
      io.out(formatTable(results));
      for (const r of failed) io.out(`FAIL ${r.group} ${r.name}: ${r.message}\n`);
      for (const m of new Set(overLimit.map((r) => r.message))) io.out(`n/a: ${m}\n`);
      const notRun = overLimit.length > 0 ? `; ${overLimit.length} need more than this device offers (never used on it)` : '';
      io.out(
        failed.length === 0
          ? `${overLimit.length === 0 ? 'all ' : ''}${passed} cases passed${notRun}\n`
          : `${failed.length} of ${results.length} cases failed${notRun}; rerun with --seed ${seed} to reproduce\n`,
      );
    }
    return failed.length === 0 ? 0 : 1;
  } finally {
    ctx.device.destroy();
  }
}

export function selectCases(cases: readonly KernelCase[], filter: string | undefined): KernelCase[] {
  if (filter === undefined) return [...cases];
  const picked = cases.filter((c) => c.group.includes(filter) || c.name.includes(filter));
  if (picked.length === 0) {
    const groups = [...new Set(cases.map((c) => c.group))].join(', ');
    throw new UsageError(`--filter ${JSON.stringify(filter)} matches no case (kernels: ${groups})`);
  }
  return picked;
}

/** The results as an aligned text table: kernel, case, worst error, tolerance, pass. */
export function formatTable(results: readonly KernelCheckResult[]): string {
  const rows = [
    ['kernel', 'case', 'worst error', 'tolerance', 'pass'],
    ...results.map((r) => [
      r.group,
      r.name,
      r.worstError === 0 ? '0' : r.worstError.toExponential(2),
      r.tolerance,
      r.ok ? 'pass' : r.overLimit ? 'n/a (over a limit)' : `FAIL (seed ${r.seed})`,
    ]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')).join('\n') + '\n';
}
