import { describe, expect, test } from 'vitest';
import { BatchLoader } from '../../src/data/batches.ts';
import { corpusFromBytes, corpusFromText, CorpusError } from '../../src/data/corpus.ts';
import { decodeUtf8, firstInvalidUtf8, Utf8Error } from '../../src/data/utf8.ts';
import { Vocabulary } from '../../src/data/vocabulary.ts';

const bytes = (...b: number[]) => Uint8Array.from(b);

describe('utf8', () => {
  test('valid text, Korean and emoji included', () => {
    const enc = new TextEncoder().encode('a한😀\n');
    expect(firstInvalidUtf8(enc)).toBe(-1);
    expect(decodeUtf8(enc)).toBe('a한😀\n');
  });

  test('the offset of the first invalid sequence', () => {
    expect(firstInvalidUtf8(bytes(0x61, 0xff))).toBe(1); // never valid
    expect(firstInvalidUtf8(bytes(0x61, 0x62, 0xe2, 0x82))).toBe(2); // truncated at the end
    expect(firstInvalidUtf8(bytes(0x61, 0xe2, 0x28, 0xa1))).toBe(1); // bad continuation
    expect(firstInvalidUtf8(bytes(0xc0, 0x80))).toBe(0); // overlong NUL
    expect(firstInvalidUtf8(bytes(0x41, 0xed, 0xa0, 0x80))).toBe(1); // UTF-16 surrogate
    expect(firstInvalidUtf8(bytes(0xf4, 0x90, 0x80, 0x80))).toBe(0); // above U+10FFFF
    expect(firstInvalidUtf8(bytes(0x80))).toBe(0); // lone continuation
  });

  test('decodeUtf8 names the byte offset', () => {
    expect(() => decodeUtf8(bytes(0x61, 0x62, 0x63, 0xfe))).toThrow(Utf8Error);
    expect(() => decodeUtf8(bytes(0x61, 0x62, 0x63, 0xfe))).toThrow('invalid UTF-8 at byte offset 3');
  });
});

describe('vocabulary', () => {
  test('sorted distinct code points, not UTF-16 units', () => {
    // '！' (U+FF01) sorts before '😀' (U+1F600) by code point, after it by UTF-16 unit (0xD83D).
    const v = Vocabulary.fromText('😀b한！a😀a');
    expect(v.chars).toEqual(['a', 'b', '한', '！', '😀']);
    expect(v.size).toBe(5);
    const ids = v.encode('a😀한');
    expect([...ids]).toEqual([0, 4, 2]);
    expect(v.decode(ids)).toBe('a😀한');
  });

  test('an unknown character is named', () => {
    expect(() => Vocabulary.fromText('ab').encode('abc')).toThrow('character "c" (U+0063) is not in the model\'s vocabulary');
  });
});

describe('corpus', () => {
  test('ids follow the vocabulary', () => {
    const c = corpusFromText('hello', 'x');
    expect(c.vocab.chars).toEqual(['e', 'h', 'l', 'o']);
    expect([...c.ids]).toEqual([1, 0, 2, 2, 3]);
  });

  test('bad corpora', () => {
    expect(() => corpusFromText('', 'f')).toThrow(CorpusError);
    expect(() => corpusFromText('', 'f')).toThrow('f: the corpus is empty');
    expect(() => corpusFromText('aaaa', 'f')).toThrow('fewer than 2 distinct characters');
    expect(() => corpusFromBytes(bytes(0x61, 0x62, 0xc3), 'f')).toThrow('f: invalid UTF-8 at byte offset 2');
  });
});

describe('batch loader', () => {
  // 21 ids, B = 2, T = 3: streams of L = 10, ids 0..9 and 10..19 (id 20 is left over).
  const ids = Uint32Array.from({ length: 21 }, (_, i) => i);

  test('B contiguous streams, time-major', () => {
    const loader = new BatchLoader(ids, 2, 3);
    expect(loader.streamLength).toBe(10);
    const w = loader.next(true);
    expect(w.reset).toBe(true);
    expect([...w.inputs]).toEqual([0, 10, 1, 11, 2, 12]);
    expect([...w.targets]).toEqual([1, 11, 2, 12, 3, 13]);
    expect(loader.pointer).toBe(3);
  });

  test('wraps and resets when p + T + 1 >= L', () => {
    const loader = new BatchLoader(ids, 2, 3);
    loader.next(true);
    const w2 = loader.next(false); // p = 3: 3 + 4 < 10
    expect(w2.reset).toBe(false);
    expect([...w2.inputs]).toEqual([3, 13, 4, 14, 5, 15]);
    const w3 = loader.next(false); // p = 6: 6 + 4 >= 10, back to 0 (as min-char-rnn, even though 6..9 would fit)
    expect(w3.reset).toBe(true);
    expect([...w3.inputs]).toEqual([0, 10, 1, 11, 2, 12]);
    expect(loader.pointer).toBe(3);
  });

  test("B = 1 is min-char-rnn's pointer", () => {
    const loader = new BatchLoader(ids, 1, 5);
    const w = loader.next(true);
    expect([...w.inputs]).toEqual([0, 1, 2, 3, 4]);
    expect([...w.targets]).toEqual([1, 2, 3, 4, 5]);
    expect([...loader.next(false).inputs]).toEqual([5, 6, 7, 8, 9]);
  });

  test('too short for the streams', () => {
    expect(() => new BatchLoader(ids, 4, 5)).toThrow('too short');
  });
});
