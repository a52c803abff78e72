// Characters are Unicode code points, not UTF-16 units, so a Korean or emoji corpus gets one id per character.

export class Vocabulary {
  readonly chars: readonly string[];
  private readonly index: Map<string, number>;

  constructor(chars: readonly string[]) {
    this.chars = chars;
    this.index = new Map(chars.map((c, i) => [c, i]));
    if (this.index.size !== chars.length) throw new Error('vocabulary has a repeated character');
    for (const c of chars) {
      if ([...c].length !== 1) throw new Error(`vocabulary entry ${JSON.stringify(c)} is not one character`);
    }
  }

  /** Sorted distinct code points of the text: the same text always gives the same ids. */
  static fromText(text: string): Vocabulary {
    const set = new Set<number>();
    for (const ch of text) set.add(ch.codePointAt(0)!);
    return new Vocabulary([...set].sort((a, b) => a - b).map((cp) => String.fromCodePoint(cp)));
  }

  get size(): number {
    return this.chars.length;
  }

  has(ch: string): boolean {
    return this.index.has(ch);
  }

  /** Says which characters of `text` are not in the vocabulary (the first ten, with their code points), or null. */
  missing(text: string): string | null {
    const chars = [...new Set(text)].filter((ch) => !this.index.has(ch));
    if (chars.length === 0) return null;
    const shown = chars.slice(0, 10).map((ch) => `${JSON.stringify(ch)} (U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')})`);
    const more = chars.length > 10 ? ', ...' : '';
    return `${chars.length} character${chars.length > 1 ? 's are' : ' is'} not in the model's vocabulary: ${shown.join(', ')}${more}`;
  }

  /** Throws naming the first character that is not in the vocabulary. */
  encode(text: string): Uint32Array {
    const ids: number[] = [];
    for (const ch of text) {
      const id = this.index.get(ch);
      if (id === undefined) {
        throw new Error(
          `character ${JSON.stringify(ch)} (U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}) is not in the model's vocabulary`,
        );
      }
      ids.push(id);
    }
    return Uint32Array.from(ids);
  }

  decode(ids: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) s += this.chars[ids[i]];
    return s;
  }
}
