import { SqlError, posAt } from './errors.ts';
import type { Pos } from './errors.ts';
import { identOf, isPunct, isWord } from './tokens.ts';
import type { Token } from './tokens.ts';

/** A read position over a statement's tokens, with errors that point into the original text. */
export class Cursor {
  i = 0;
  constructor(
    readonly text: string,
    readonly tokens: readonly Token[],
    /** Offset used for "unexpected end" errors. */
    readonly endOffset: number,
  ) {}

  peek(k = 0): Token | undefined {
    return this.tokens[this.i + k];
  }

  next(): Token {
    const t = this.tokens[this.i];
    if (!t) throw this.error('Unexpected end of statement');
    this.i++;
    return t;
  }

  done(): boolean {
    return this.i >= this.tokens.length;
  }

  pos(t: Token | undefined = this.peek()): Pos {
    return posAt(this.text, t ? t.start : this.endOffset);
  }

  error(message: string, t: Token | undefined = this.peek()): SqlError {
    return new SqlError('syntax', message, this.pos(t));
  }

  isWord(...words: string[]): boolean {
    return isWord(this.peek(), ...words);
  }

  acceptWord(...words: string[]): boolean {
    if (this.isWord(...words)) {
      this.i++;
      return true;
    }
    return false;
  }

  expectWord(word: string): Token {
    const t = this.peek();
    if (!isWord(t, word)) throw this.error(`Expected ${word} but found ${describe(t)}`);
    return this.next();
  }

  acceptPunct(p: string): boolean {
    if (isPunct(this.peek(), p)) {
      this.i++;
      return true;
    }
    return false;
  }

  expectPunct(p: string): Token {
    const t = this.peek();
    if (!isPunct(t, p)) throw this.error(`Expected '${p}' but found ${describe(t)}`);
    return this.next();
  }

  ident(what = 'a name'): string {
    const t = this.peek();
    const v = identOf(t);
    if (v === undefined) throw this.error(`Expected ${what} but found ${describe(t)}`);
    this.i++;
    return v;
  }

  string(what = 'a string literal'): string {
    const t = this.peek();
    if (!t || t.type !== 'string') throw this.error(`Expected ${what} but found ${describe(t)}`);
    this.i++;
    return t.value;
  }

  expectEnd(): void {
    if (!this.done()) throw this.error(`Unexpected ${describe(this.peek())} after the end of the statement`);
  }

  /** Index of the token closing the parenthesis opened at token index `open`. */
  matching(open: number): number {
    let depth = 0;
    for (let j = open; j < this.tokens.length; j++) {
      const t = this.tokens[j]!;
      if (isPunct(t, '(')) depth++;
      else if (isPunct(t, ')')) {
        depth--;
        if (depth === 0) return j;
      }
    }
    throw new SqlError('syntax', "Missing ')'", posAt(this.text, this.tokens[open]!.start));
  }
}

export function describe(t: Token | undefined): string {
  if (!t) return 'the end of the statement';
  switch (t.type) {
    case 'string':
      return `string '${t.value}'`;
    case 'quoted':
      return `\`${t.value}\``;
    default:
      return `'${t.value}'`;
  }
}
