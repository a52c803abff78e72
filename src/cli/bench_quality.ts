import { relative, resolve } from 'node:path';
import { QUALITY_CONFIGS, runQuality, type QualityConfig } from '../../bench/quality.ts';
import {
  qualityCurveTable,
  qualitySummaryTable,
  describeMachine,
  describeQualityMethod,
  writeQualityResults,
} from '../../bench/quality_report.ts';
import { renderText } from '../../bench/report.ts';
import { BackendUnavailableError, type BackendKind } from '../create_backend.ts';
import { splitCorpus } from '../data/split.ts';
import { choiceOption, intOption, positiveNumberOption, str, UsageError, type ParsedOptions } from './args.ts';
import { adapterOption, checkCorpusLength, DEFAULT_CORPUS, readCorpus } from './common.ts';
import type { Io } from './io.ts';
import { DEFAULT_SEED } from './train_flags.ts';

// `char-rnn bench --quality`: the time-to-quality benchmark (bench/quality.ts). It shares --backend,
// --adapter, --data, --seed, --out and --json with the throughput bench; the grid's flags mean nothing here.

export const DEFAULT_QUALITY_SECONDS = 300;
const THROUGHPUT_ONLY = ['quick', 'cell', 'layers', 'hidden', 'batch', 'seq', 'windows', 'window-seconds', 'budget'];
export const BACKEND_SETS = ['both', 'gpu', 'cpu'] as const;

export async function runQualityBench(o: ParsedOptions, io: Io, repo: string, defaultOut: string): Promise<number> {
  const stray = THROUGHPUT_ONLY.find((f) => o[f] !== undefined);
  if (stray !== undefined) throw new UsageError(`--${stray} is a throughput bench flag: it does not go with --quality`);
  const seconds = positiveNumberOption(o, 'seconds', DEFAULT_QUALITY_SECONDS);
  const configs = configList(str(o, 'config'));
  const which = choiceOption(o, 'backend', 'both', BACKEND_SETS);
  const adapter = adapterOption(o);
  const seed = intOption(o, 'seed', DEFAULT_SEED, 0, 0xffffffff);
  const outDir = resolve(str(o, 'out') ?? defaultOut);
  const dataPath = str(o, 'data') ?? DEFAULT_CORPUS;
  const corpus = await readCorpus(dataPath);
  for (const c of configs) {
    const { train } = splitCorpus(corpus, c.train.valFrac, c.train.seqLength, dataPath);
    checkCorpusLength(train, dataPath, c.train.seqLength, c.train.batchSize);
  }

  const rel = relative(repo, resolve(dataPath));
  const result = await runQuality({
    configs,
    backends: which === 'both' ? ['gpu', 'cpu'] : [which as BackendKind],
    corpus,
    corpusName: rel.startsWith('..') ? resolve(dataPath) : rel,
    seconds,
    seed,
    adapter,
    log: (line) => io.err(line + '\n'),
  });
  // Asked for the GPU alone and there is none: nothing was measured, so it is an error, not a result.
  const noGpu = result.runs.find((r) => r.backend === 'gpu' && r.status === 'unavailable');
  if (which === 'gpu' && noGpu) throw new BackendUnavailableError(noGpu.note ?? 'no GPU adapter');
  const tables = [qualitySummaryTable(result), qualityCurveTable(result)];
  const files = await writeQualityResults(outDir, result, tables);
  if (o.json === true) io.out(JSON.stringify(result, null, 2) + '\n');
  else io.out(`${describeMachine(result)}\nMethod: ${describeQualityMethod(result)}\n\n${renderText(tables)}`);
  io.err(`wrote ${files.json}, ${files.markdown}, ${files.svg}\n`);
  return 0;
}

/** --config: names from QUALITY_CONFIGS, comma-separated (default all), in the table's order. */
function configList(raw: string | undefined): QualityConfig[] {
  if (raw === undefined) return QUALITY_CONFIGS;
  const names = raw.split(',').map((n) => n.trim());
  const known = QUALITY_CONFIGS.map((c) => c.name);
  const bad = names.find((n) => !known.includes(n));
  if (bad !== undefined) throw new UsageError(`--config must list names from ${known.join(', ')}, got ${JSON.stringify(bad)}`);
  return QUALITY_CONFIGS.filter((c) => names.includes(c.name));
}
