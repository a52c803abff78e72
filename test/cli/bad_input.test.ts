import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { encodeCheckpoint, type Checkpoint } from '../../src/model/checkpoint.ts';
import { view } from '../../src/model/layout.ts';
import { Rng } from '../../src/model/rng.ts';
import { modelLayout } from '../../src/model/model_tensors.ts';
import { reportError } from '../../src/cli/errors.ts';
import { runCli } from '../helpers/cli.ts';
import { editHeader } from '../helpers/safetensors_edit.ts';
import { modelConfig, trainConfig } from '../../src/model/config.ts';

// Every bad input: exactly one line `char-rnn: <message>` on stderr, nothing on stdout, exit code 2.

let dir: string;
const p = (name: string) => join(dir, name);

// A small valid checkpoint over the vocabulary of 'abc\n', hidden 4, from which the broken ones are made.
function goodCheckpoint(): Checkpoint {
  const model = modelConfig({ vocabSize: 4, hiddenSize: 4 });
  const layout = modelLayout(model);
  const rng = new Rng(1);
  const params = new Float32Array(layout.totalFloats);
  for (const t of layout.tensors) view(params, t).forEach((_, i, a) => (a[i] = rng.normal() * 0.1));
  return {
    vocab: ['\n', 'a', 'b', 'c'],
    model,
    train: trainConfig({ seqLength: 5, batchSize: 1, learningRate: 0.1, clip: 5 }),
    seed: 1,
    iter: 10,
    params,
    training: {
      optimizerState: new Float32Array(layout.totalFloats),
      step: 0,
      learningRate: 0.1,
      hidden: new Float32Array(4),
      cell: null,
      pointer: 0,
      smoothLoss: 7,
      rng: rng.state(),
    },
  };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'char-rnn-bad-'));
  writeFileSync(p('empty.txt'), '');
  writeFileSync(p('one-char.txt'), 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');
  writeFileSync(p('short.txt'), 'abcabcabc\n');
  writeFileSync(p('eight.txt'), 'abcdefgh');
  writeFileSync(p('bad-utf8.txt'), Buffer.from([0x61, 0x62, 0x0a, 0xe2, 0x82, 0x61, 0x62]));
  writeFileSync(p('text.txt'), 'abc\nabc\ncab\n');
  writeFileSync(p('other.txt'), 'abc\nxyz\n');
  writeFileSync(p('single.txt'), 'a');
  mkdirSync(p('a-directory'));
  const good = encodeCheckpoint(goodCheckpoint());
  writeFileSync(p('good.safetensors'), good);
  writeFileSync(p('weights-only.safetensors'), encodeCheckpoint({ ...goodCheckpoint(), training: null }));
  writeFileSync(p('truncated.safetensors'), good.subarray(0, good.length - 10));
  writeFileSync(p('tiny.safetensors'), good.subarray(0, 6));
  const notJson = good.slice();
  notJson[8] = 0x78; // 'x' where the header's '{' was
  writeFileSync(p('not-json.safetensors'), notJson);
  writeFileSync(
    p('wrong-name.safetensors'),
    editHeader(good, (h) => {
      h['encoder.weight'] = h['rnn.weight_ih_l0'];
      delete h['rnn.weight_ih_l0'];
    }),
  );
  writeFileSync(
    p('wrong-shape.safetensors'),
    editHeader(good, (h) => (h['rnn.weight_hh_l0'].shape = [2, 8])),
  );
  writeFileSync(
    p('wrong-dtype.safetensors'),
    editHeader(good, (h) => (h['decoder.weight'].dtype = 'F64')),
  );
  writeFileSync(
    p('vocab-mismatch.safetensors'),
    editHeader(good, (h) => {
      h.__metadata__.vocab = JSON.stringify(['a', 'b', 'c']);
      h.__metadata__.config = JSON.stringify({ ...JSON.parse(h.__metadata__.config), vocab_size: 3 });
    }),
  );
  writeFileSync(
    p('vocab-config.safetensors'),
    editHeader(good, (h) => (h.__metadata__.vocab = JSON.stringify(['a', 'b', 'c']))),
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function expectBadInput(args: string[], message: string | RegExp, env: Record<string, string> = {}): Promise<void> {
  const r = await runCli(
    args.map((a) => a.replace(/^@/, dir + '/')),
    { env },
  );
  const lines = r.stderr.split('\n').filter((l) => l.length > 0);
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^char-rnn: /);
  if (typeof message === 'string') expect(lines[0]).toContain(message);
  else expect(lines[0]).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stdout).toBe('');
  expect(r.code).toBe(2);
}

// '@name' stands for a file in the fixture directory.
describe.concurrent('files and corpora', () => {
  test('missing file', () => expectBadInput(['train', '--data', '@nope.txt'], 'nope.txt: no such file or directory'));
  test('directory given as the corpus', () =>
    expectBadInput(['train', '--data', '@a-directory'], 'a-directory: is a directory, not a file'));
  test('unreadable file', () => {
    // Tests run as root here, which reads a mode-000 file anyway, so the mapping is checked on the error
    // object Node raises for it.
    const e = Object.assign(new Error("EACCES: permission denied, open 'secret.txt'"), { code: 'EACCES', path: 'secret.txt' });
    expect(reportError(e)).toEqual({ line: 'secret.txt: permission denied', exitCode: 2 });
  });
  test('empty corpus', () => expectBadInput(['train', '--data', '@empty.txt'], 'empty.txt: the corpus is empty'));
  test('one distinct character', () => expectBadInput(['train', '--data', '@one-char.txt'], 'fewer than 2 distinct characters'));
  test('shorter than seq + 1', () =>
    expectBadInput(['train', '--data', '@short.txt', '--seq', '25'], 'short.txt: the corpus has 10 characters, fewer than seq + 1 = 26'));
  test('too short for the batch', () =>
    expectBadInput(
      ['train', '--data', '@eight.txt', '--seq', '2', '--batch', '3'],
      'the corpus has 8 characters, fewer than batch * (seq + 1) = 9',
    ));
  test('invalid UTF-8 names the byte offset', () =>
    expectBadInput(['train', '--data', '@bad-utf8.txt'], 'bad-utf8.txt: invalid UTF-8 at byte offset 3'));
  test('--save into a missing directory', () =>
    expectBadInput(['train', '--data', '@text.txt', '--seq', '3', '--save', '@no/such/dir/x.safetensors'], 'no such file or directory'));
  test('--save to a directory', () => expectBadInput(['train', '--data', '@text.txt', '--save', '@a-directory'], 'is a directory'));
  test('eval text with a character outside the vocabulary', () =>
    expectBadInput(
      ['eval', '--checkpoint', '@good.safetensors', '--data', '@other.txt'],
      'character "x" (U+0078) is not in the model\'s vocabulary',
    ));
  test('eval text of one character', () =>
    expectBadInput(['eval', '--checkpoint', '@good.safetensors', '--data', '@single.txt'], 'evaluation needs at least 2'));
  test('eval of an empty text', () =>
    expectBadInput(['eval', '--checkpoint', '@good.safetensors', '--data', '@empty.txt'], 'the corpus is empty'));
});

describe.concurrent('flags and values', () => {
  test('no command', () => expectBadInput([], 'missing command'));
  test('unknown command', () => expectBadInput(['fly'], 'unknown command "fly"'));
  test('unknown flag', () => expectBadInput(['train', '--hiden', '10'], 'train: unknown option --hiden'));
  test('unknown flag on sample', () =>
    expectBadInput(['sample', '--checkpoint', '@good.safetensors', '--bogus'], 'sample: unknown option --bogus'));
  test('unknown flag on eval', () => expectBadInput(['eval', '-x'], 'eval: unknown option -x'));
  test('positional argument', () => expectBadInput(['train', 'input.txt'], 'unexpected argument input.txt'));
  test('missing value', () => expectBadInput(['train', '--hidden'], '--hidden needs a value'));
  test('value to a boolean flag', () => expectBadInput(['train', '--json=yes'], '--json takes no value'));
  test('zero hidden size', () => expectBadInput(['train', '--hidden', '0'], '--hidden must be a positive integer, got 0'));
  test('negative hidden size', () => expectBadInput(['train', '--hidden=-3'], '--hidden must be a positive integer, got "-3"'));
  test('non-numeric hidden size', () => expectBadInput(['train', '--hidden', 'big'], '--hidden must be a positive integer, got "big"'));
  test('fractional seq', () => expectBadInput(['train', '--seq', '2.5'], '--seq must be a positive integer, got "2.5"'));
  test('zero batch', () => expectBadInput(['train', '--batch', '0'], '--batch must be a positive integer'));
  test('huge hidden size', () => expectBadInput(['train', '--hidden', '100000000'], '--hidden must be at most 4096'));
  test('zero learning rate', () => expectBadInput(['train', '--lr', '0'], '--lr must be a positive number, got "0"'));
  test('non-numeric learning rate', () => expectBadInput(['train', '--lr', 'fast'], '--lr must be a positive number, got "fast"'));
  test('zero iterations', () => expectBadInput(['train', '--iters', '0'], '--iters must be a positive integer'));
  test('negative seed', () => expectBadInput(['train', '--seed=-1'], '--seed must be a non-negative integer'));
  test('seed beyond 32 bits', () => expectBadInput(['train', '--seed', '4294967296'], '--seed must be at most 4294967295'));
  test('zero sample length', () => expectBadInput(['train', '--sample-len', '0'], '--sample-len must be a positive integer'));
  test('unknown backend', () => expectBadInput(['train', '--backend', 'tpu'], '--backend must be one of auto, cpu, gpu, got "tpu"'));
  test('unknown adapter', () => expectBadInput(['train', '--adapter', 'metal'], '--adapter must be one of auto, gpu, swiftshader'));
  test('unknown adapter in CHAR_RNN_ADAPTER', () =>
    expectBadInput(['train', '--backend', 'gpu'], 'CHAR_RNN_ADAPTER must be one of auto, gpu, swiftshader', { CHAR_RNN_ADAPTER: 'metal' }));
  test('bench --quality with an unknown configuration', () =>
    expectBadInput(
      ['bench', '--quality', '--config', 'min-char-rnn,huge'],
      '--config must list names from min-char-rnn, lstm-adam, best, got "huge"',
    ));
  test('bench --quality for 0 seconds', () =>
    expectBadInput(['bench', '--quality', '--seconds', '0'], '--seconds must be a positive number, got "0"'));
  test('bench --quality with a throughput flag', () =>
    expectBadInput(['bench', '--quality', '--hidden', '100'], '--hidden is a throughput bench flag: it does not go with --quality'));
  test('bench --seconds without --quality', () => expectBadInput(['bench', '--seconds', '10'], '--seconds needs --quality'));
  test('--save-every without --save', () => expectBadInput(['train', '--save-every', '10'], '--save-every needs --save FILE'));
  test('sample without --checkpoint', () => expectBadInput(['sample'], 'sample: --checkpoint is required'));
  test('eval without --data', () => expectBadInput(['eval', '--checkpoint', '@good.safetensors'], 'eval: --data is required'));
  test('zero sample --length', () =>
    expectBadInput(['sample', '--checkpoint', '@good.safetensors', '--length', '0'], '--length must be a positive integer'));
  test('zero temperature', () =>
    expectBadInput(['sample', '--checkpoint', '@good.safetensors', '--temperature', '0'], '--temperature must be a positive number'));
  test('prime outside the vocabulary', () =>
    expectBadInput(
      ['sample', '--checkpoint', '@good.safetensors', '--prime', 'abz'],
      '--prime: 1 character is not in the model\'s vocabulary: "z" (U+007A)',
    ));
  test('empty prime', () => expectBadInput(['sample', '--checkpoint', '@good.safetensors', '--prime', ''], '--prime is empty'));
  test('resume with a different hidden size', () =>
    expectBadInput(
      ['train', '--resume', '@good.safetensors', '--data', '@text.txt', '--hidden', '8'],
      "--hidden 8 differs from the resumed checkpoint's hidden 4",
    ));
});

describe.concurrent('checkpoints', () => {
  const sample = (name: string) => ['sample', '--checkpoint', `@${name}`];
  test('missing checkpoint', () => expectBadInput(sample('absent.safetensors'), 'absent.safetensors: no such file or directory'));
  test('directory as checkpoint', () => expectBadInput(sample('a-directory'), 'is a directory'));
  test('truncated data', () =>
    expectBadInput(sample('truncated.safetensors'), /truncated\.safetensors: tensor .* out of range.*truncated/));
  test('truncated before the header', () => expectBadInput(sample('tiny.safetensors'), 'tiny.safetensors: the file is truncated: 6 bytes'));
  test('header not JSON', () => expectBadInput(sample('not-json.safetensors'), 'not-json.safetensors: the header is not valid JSON'));
  test('wrong tensor name', () => expectBadInput(sample('wrong-name.safetensors'), 'unexpected tensor encoder.weight'));
  test('wrong shape', () => expectBadInput(sample('wrong-shape.safetensors'), 'tensor rnn.weight_hh_l0 has shape [2, 8], expected [4, 4]'));
  test('wrong dtype', () =>
    expectBadInput(sample('wrong-dtype.safetensors'), 'tensor decoder.weight has dtype F64; only F32 is supported'));
  test('vocabulary not matching the tensors', () =>
    expectBadInput(
      sample('vocab-mismatch.safetensors'),
      'tensor rnn.weight_ih_l0 has shape [4, 4], expected [4, 3] for a 1-layer rnn with hidden size 4, one-hot input and a vocabulary of 3',
    ));
  test('vocabulary not matching the config', () =>
    expectBadInput(sample('vocab-config.safetensors'), 'the vocabulary has 3 characters but config.vocab_size is 4'));
  test('eval of a bad checkpoint', () =>
    expectBadInput(['eval', '--checkpoint', '@wrong-dtype.safetensors', '--data', '@text.txt'], 'only F32'));
  test('resume of a bad checkpoint', () => expectBadInput(['train', '--resume', '@not-json.safetensors'], 'the header is not valid JSON'));
  test('resume of a weights-only checkpoint', () =>
    expectBadInput(['train', '--resume', '@weights-only.safetensors', '--data', '@text.txt'], 'holds weights only, no training state'));
});
