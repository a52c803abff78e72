import { describe, expect, it } from 'vitest';
import { DEFAULT_EVAL_EVERY as CLI_EVAL_EVERY, DEFAULT_VAL_FRAC as CLI_VAL_FRAC, trainFlags } from '../../src/cli/train_flags.ts';
import { isCpuAdapter } from '../../src/web/adapter_browser.ts';
import {
  CHECKS,
  DEFAULT_EVAL_EVERY,
  DEFAULT_VAL_FRAC,
  DEFAULTS,
  followDefaults,
  inactiveFields,
  readTrainSettings,
  trainConfigFor,
} from '../../src/web/fields.ts';

// The page's decisions that need no browser: which adapters count as CPU ones (what `auto` avoids), and
// the settings' checks (the CLI's ranges, issue 8's model options, issue 9's optimizer and validation).

const adapter = (info: Partial<GPUAdapterInfo> & { isFallbackAdapter?: boolean }, own: { isFallbackAdapter?: boolean } = {}) =>
  ({ info: { vendor: '', architecture: '', device: '', description: '', ...info }, ...own }) as unknown as GPUAdapter;

describe('isCpuAdapter', () => {
  it('takes the adapter at its word when it says it is a fallback one, on its info or on itself', () => {
    expect(isCpuAdapter(adapter({ vendor: 'acme', isFallbackAdapter: true }))).toBe(true);
    expect(isCpuAdapter(adapter({ vendor: 'acme' }, { isFallbackAdapter: true }))).toBe(true);
  });

  it('knows the software implementations by name', () => {
    expect(isCpuAdapter(adapter({ vendor: 'google', architecture: 'swiftshader' }))).toBe(true);
    expect(isCpuAdapter(adapter({ vendor: 'mesa', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' }))).toBe(true);
    expect(isCpuAdapter(adapter({ vendor: 'microsoft', description: 'Microsoft Basic Render Driver' }))).toBe(true);
  });

  it('leaves hardware adapters to the GPU', () => {
    expect(isCpuAdapter(adapter({ vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H200' }))).toBe(false);
    expect(isCpuAdapter(adapter({ vendor: 'apple', architecture: 'metal-3' }))).toBe(false);
    expect(isCpuAdapter(adapter({ vendor: 'intel', architecture: 'gen-12lp', isFallbackAdapter: false }))).toBe(false);
  });
});

describe('the settings form', () => {
  const form = (over: Record<string, string>) => {
    const values: Record<string, string> = {
      cell: DEFAULTS.cell,
      hidden: '100',
      layers: '1',
      embed: '0',
      dropout: '0',
      seq: '25',
      batch: '1',
      optimizer: 'adagrad',
      lr: '0.1',
      'weight-decay': '0',
      'clip-mode': 'value',
      clip: '5',
      'lr-decay': '1',
      'lr-decay-after': '0',
      'val-frac': '0',
      'eval-every': '1000',
      seed: '42',
      iters: '10000',
      'sample-every': '100',
      'sample-len': '200',
      ...over,
    };
    return readTrainSettings((id) => values[id], 'auto');
  };

  it("reads min-char-rnn's defaults as the CLI's flags", () => {
    expect(form({})).toEqual({ settings: DEFAULTS, errors: {} });
  });

  it('checks the model options of issue 8 like --cell, --layers, --dropout and --embed', () => {
    expect(form({ cell: 'lstm', layers: '4', dropout: '0.25', embed: '64' }).settings).toMatchObject({
      cell: 'lstm',
      layers: 4,
      dropout: 0.25,
      embed: 64,
    });
    expect(form({ cell: 'transformer', layers: '0', dropout: '1', embed: '-1' })).toEqual({
      settings: null,
      errors: { cell: 'rnn, lstm or gru', layers: 'from 1 to 4', dropout: 'from 0 up to (not including) 1', embed: 'a whole number' },
    });
    expect(CHECKS.layers('5').error).toBe('from 1 to 4');
    expect(CHECKS.dropout('-0.1').error).toBe('from 0 up to (not including) 1');
    expect(CHECKS.dropout('0.999').error).toBeUndefined();
  });

  it("turns the defaults into the CLI's default training config, with the CLI's eval-every and val-frac defaults", () => {
    expect(trainConfigFor(DEFAULTS)).toEqual(trainFlags({}).train);
    expect([DEFAULT_EVAL_EVERY, DEFAULT_VAL_FRAC]).toEqual([CLI_EVAL_EVERY, CLI_VAL_FRAC]);
    const lstmAdam = form({ cell: 'lstm', optimizer: 'adam', lr: '0.002', 'val-frac': '0.1' }).settings!;
    expect(trainConfigFor(lstmAdam)).toEqual(trainFlags({ cell: 'lstm', optimizer: 'adam' }).train);
  });

  it('moves the learning rate and val-frac with the optimizer and cell, unless the user changed them', () => {
    const values = (v: Record<string, string>) => (id: string) => v[id];
    const minCharRnn = { cell: 'rnn', optimizer: 'adagrad' };
    expect(followDefaults(minCharRnn, values({ cell: 'rnn', optimizer: 'adam', lr: '0.1', 'val-frac': '0' }))).toEqual({
      lr: '0.002',
      'val-frac': '0.1',
    });
    // The CLI's: val-frac 0 only for the rnn cell with adagrad, so an LSTM with adagrad holds out 0.1.
    expect(followDefaults(minCharRnn, values({ cell: 'lstm', optimizer: 'adagrad', lr: '0.1', 'val-frac': '0' }))).toEqual({
      lr: '0.1',
      'val-frac': '0.1',
    });
    expect(
      followDefaults({ cell: 'lstm', optimizer: 'adam' }, values({ cell: 'lstm', optimizer: 'rmsprop', lr: '0.002', 'val-frac': '0.1' })),
    ).toEqual({
      lr: '0.002',
      'val-frac': '0.1',
    });
    // Values the user typed stay.
    expect(followDefaults(minCharRnn, values({ cell: 'gru', optimizer: 'rmsprop', lr: '0.05', 'val-frac': '0.2' }))).toEqual({});
  });

  it('clips element-wise or by the global norm, never both, as --clip and --clip-norm', () => {
    const byValue = form({ 'clip-mode': 'value', clip: '2' }).settings!;
    expect(trainConfigFor(byValue)).toMatchObject({ clip: 2, clipNorm: 0 });
    const byNorm = form({ 'clip-mode': 'norm', clip: '1' }).settings!;
    expect(trainConfigFor(byNorm)).toEqual(trainFlags({ 'clip-norm': '1' }).train);
    expect(trainConfigFor(byNorm)).toMatchObject({ clip: 0, clipNorm: 1 });
    expect(form({ 'clip-mode': 'both', clip: '0' }).errors).toEqual({ 'clip-mode': 'value or norm', clip: 'a number above 0' });
  });

  it("leaves weight decay out with adagrad (min-char-rnn's has none) and checks it with rmsprop and adam", () => {
    const value = (optimizer: string) => (id: string) => ({ optimizer, 'val-frac': '0.1' })[id] ?? '';
    expect(inactiveFields(value('adagrad'))).toEqual(new Set(['weight-decay']));
    expect(inactiveFields(value('adam'))).toEqual(new Set());
    expect(form({ optimizer: 'adagrad', 'weight-decay': 'lots' })).toMatchObject({ settings: { weightDecay: 0 }, errors: {} });
    expect(form({ optimizer: 'adam', lr: '0.002', 'weight-decay': 'lots' }).errors).toEqual({ 'weight-decay': 'a number, 0 or above' });
    expect(form({ optimizer: 'rmsprop', lr: '0.002', 'weight-decay': '0.01' }).settings).toMatchObject({
      optimizer: 'rmsprop',
      weightDecay: 0.01,
    });
    expect(trainFlags({ optimizer: 'rmsprop', 'weight-decay': '0.01' }).train).toEqual(
      trainConfigFor(form({ optimizer: 'rmsprop', lr: '0.002', 'weight-decay': '0.01', 'val-frac': '0.1' }).settings!),
    );
  });

  it('checks val-frac in [0, 0.5], lr decay in (0, 1] and eval-every from 1, and ignores eval-every with nothing held out', () => {
    for (const bad of ['0.6', '-0.1', '', 'a tenth']) expect(CHECKS['val-frac'](bad).error).toBe('from 0 to 0.5');
    for (const good of ['0', '0.05', '0.5']) expect(CHECKS['val-frac'](good).error).toBeUndefined();
    expect(CHECKS['lr-decay']('0').error).toBe('above 0, up to 1 (1: no decay)');
    expect(CHECKS['lr-decay']('1.01').error).toBe('above 0, up to 1 (1: no decay)');
    expect(CHECKS['lr-decay']('0.97').error).toBeUndefined();
    expect(CHECKS['lr-decay-after']('-1').error).toBe('a whole number');
    expect(form({ 'val-frac': '0.1', 'eval-every': '0' }).errors).toEqual({ 'eval-every': 'from 1 to 9,007,199,254,740,991' });
    expect(form({ 'val-frac': '0', 'eval-every': '0' })).toMatchObject({ settings: { evalEvery: DEFAULT_EVAL_EVERY }, errors: {} });
    expect(form({ 'val-frac': '0.7' }).errors).toEqual({ 'val-frac': 'from 0 to 0.5' });
  });
});
