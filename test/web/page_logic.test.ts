import { describe, expect, it } from 'vitest';
import { isCpuAdapter } from '../../src/web/adapter_browser.ts';
import { CHECKS, DEFAULTS, readTrainSettings } from '../../src/web/fields.ts';

// The page's decisions that need no browser: which adapters count as CPU ones (what `auto` avoids), and
// the settings' checks (the CLI's ranges, and issue 8's model options).

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
      lr: '0.1',
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
});
