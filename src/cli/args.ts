import { parseArgs } from 'node:util';

// node:util parseArgs in strict mode finds the flags; the functions below check their values, so that every
// mistake on the command line is one UsageError line naming the flag.

export class UsageError extends Error {}

export type OptionTypes = Record<string, { type: 'string' | 'boolean' }>;
export type ParsedOptions = Record<string, string | boolean | undefined>;

export function parseCommandArgs(command: string, argv: string[], options: OptionTypes): ParsedOptions {
  try {
    const { values } = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    });
    return values as ParsedOptions;
  } catch (e) {
    throw new UsageError(`${command}: ${describeParseError(e as Error & { code?: string })} (see char-rnn ${command} --help)`);
  }
}

function describeParseError(e: Error & { code?: string }): string {
  const flag = /'(-[^' ]*)/.exec(e.message)?.[1] ?? '';
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${flag}`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${/'([^']*)'/.exec(e.message)?.[1] ?? ''}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/ambiguous/.test(e.message)) return `${flag}: write a value that starts with '-' as ${flag}=VALUE`;
      if (/does not take an argument/.test(e.message)) return `${flag} takes no value`;
      return `${flag} needs a value`;
    default:
      return e.message;
  }
}

export function str(o: ParsedOptions, name: string): string | undefined {
  const v = o[name];
  return typeof v === 'string' ? v : undefined;
}

export function requireStr(o: ParsedOptions, command: string, name: string): string {
  const v = str(o, name);
  if (v === undefined) throw new UsageError(`${command}: --${name} is required (see char-rnn ${command} --help)`);
  return v;
}

/** A whole number in [min, max], written in plain decimal digits. */
export function intOption(o: ParsedOptions, name: string, fallback: number, min: number, max: number): number {
  const raw = str(o, name);
  if (raw === undefined) return fallback;
  const what = min === 0 ? 'a non-negative integer' : min === 1 ? 'a positive integer' : `an integer >= ${min}`;
  if (!/^[+]?[0-9]+$/.test(raw.trim())) throw new UsageError(`--${name} must be ${what}, got ${JSON.stringify(raw)}`);
  const v = Number(raw);
  if (v < min) throw new UsageError(`--${name} must be ${what}, got ${raw}`);
  if (v > max) throw new UsageError(`--${name} must be at most ${max}, got ${raw}`);
  return v;
}

/** A finite decimal number greater than zero. */
export function positiveNumberOption(o: ParsedOptions, name: string, fallback: number): number {
  const raw = str(o, name);
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!/^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(raw.trim()) || !Number.isFinite(v) || v <= 0) {
    throw new UsageError(`--${name} must be a positive number, got ${JSON.stringify(raw)}`);
  }
  return v;
}

/** A decimal number in [0, 1). */
export function fractionOption(o: ParsedOptions, name: string, fallback: number): number {
  const raw = str(o, name);
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!/^[+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(raw.trim()) || !(v >= 0 && v < 1)) {
    throw new UsageError(`--${name} must be a number with 0 <= ${name} < 1, got ${JSON.stringify(raw)}`);
  }
  return v;
}

export function choiceOption<T extends string>(o: ParsedOptions, name: string, fallback: T, choices: readonly T[]): T {
  const raw = str(o, name);
  if (raw === undefined) return fallback;
  if (!(choices as readonly string[]).includes(raw)) {
    throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(raw)}`);
  }
  return raw as T;
}

export const MAX_U32 = 0xffffffff;

/** A decimal number in [min, max]; `open` excludes an end. */
export function rangeOption(
  o: ParsedOptions,
  name: string,
  fallback: number,
  min: number,
  max: number,
  open: { min?: boolean; max?: boolean } = {},
): number {
  const raw = str(o, name);
  if (raw === undefined) return fallback;
  const v = Number(raw);
  const inRange = (open.min ? v > min : v >= min) && (open.max ? v < max : v <= max);
  if (!/^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(raw.trim()) || !Number.isFinite(v) || !inRange) {
    const range = `${open.min ? '(' : '['}${min}, ${max === Infinity ? 'infinity' : max}${open.max || max === Infinity ? ')' : ']'}`;
    throw new UsageError(`--${name} must be a number in ${range}, got ${JSON.stringify(raw)}`);
  }
  return v;
}
