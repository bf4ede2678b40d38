import { describe, expect, it } from 'vitest';
import { E } from '../../engine/expr/build.ts';
import { DataError, bindExpr, compileExpr } from '../../engine/expr/index.ts';
import type { Scope } from '../../engine/expr/index.ts';
import type { Expr } from '../../engine/sql/ast.ts';
import { T } from '../../engine/plan/types.ts';
import type { SqlType } from '../../engine/plan/types.ts';

const COLS: Record<string, SqlType> = {
  i: T.int,
  j: T.int,
  big: T.bigint,
  d: T.double,
  dec: T.decimal(10, 2),
  s: T.string,
  s2: T.string,
  b: T.boolean,
  b2: T.boolean,
  ts: T.timestamp,
  arr: T.array(T.string),
  r: { kind: 'ROW', fields: [{ name: 'x', type: T.int }, { name: 'name', type: T.string }] },
};
const NAMES = Object.keys(COLS);
const SCOPE: Scope = { columns: NAMES.map((name) => ({ name, tables: ['t'], type: COLS[name]! })), timeZone: 'UTC' };

function ev(e: Expr, row: Record<string, unknown> = {}): unknown {
  const f = compileExpr(bindExpr(e, SCOPE), { timeZone: 'UTC' });
  return f(NAMES.map((n) => (n in row ? row[n] : null)));
}

function typeOf(e: Expr): SqlType {
  return bindExpr(e, SCOPE).type;
}

const { col, lit, bin } = E;
const i = col('i');
const j = col('j');
const s = col('s');
const b = col('b');
const b2 = col('b2');

describe('three-valued logic and NULL propagation', () => {
  const truth: [boolean | null, boolean | null, boolean | null, boolean | null][] = [
    // a, b, a AND b, a OR b
    [true, true, true, true],
    [true, false, false, true],
    [true, null, null, true],
    [false, true, false, true],
    [false, false, false, false],
    [false, null, false, null],
    [null, true, null, true],
    [null, false, false, null],
    [null, null, null, null],
  ];
  it.each(truth)('%s AND/OR %s', (x, y, and, or) => {
    expect(ev(E.and(b, b2), { b: x, b2: y })).toBe(and);
    expect(ev(E.or(b, b2), { b: x, b2: y })).toBe(or);
  });

  it('NOT NULL is NULL', () => {
    expect(ev(E.not(b), { b: null })).toBe(null);
    expect(ev(E.not(b), { b: true })).toBe(false);
  });

  it('undefined row values count as NULL', () => {
    const f = compileExpr(bindExpr(E.isNull(i), SCOPE), { timeZone: 'UTC' });
    expect(f([])).toBe(true);
    const g = compileExpr(bindExpr(i, SCOPE), { timeZone: 'UTC' });
    expect(g([])).toBe(null);
  });

  it('IS [NOT] NULL / TRUE / FALSE never return NULL', () => {
    expect(ev(E.isNull(i), { i: null })).toBe(true);
    expect(ev(E.isNull(i, true), { i: 1 })).toBe(true);
    expect(ev(E.isBool(b, true), { b: null })).toBe(false);
    expect(ev(E.isBool(b, true, true), { b: null })).toBe(true);
    expect(ev(E.isBool(b, false), { b: false })).toBe(true);
    expect(ev(E.isBool(b, false, true), { b: null })).toBe(true);
  });

  it('operators propagate NULL', () => {
    expect(ev(bin('+', i, j), { i: 1, j: null })).toBe(null);
    expect(ev(bin('=', s, lit('a')), { s: null })).toBe(null);
    expect(ev(E.call('UPPER', s), {})).toBe(null);
    expect(ev(bin('+', i, lit(null)), { i: 1 })).toBe(null);
  });

  it('comparisons in a WHERE-style AND with NULL short-circuit correctly', () => {
    // (i > 1) AND (j > 1) with i NULL and j 0 -> FALSE
    expect(ev(E.and(bin('>', i, lit(1)), bin('>', j, lit(1))), { i: null, j: 0 })).toBe(false);
  });
});

describe('arithmetic', () => {
  it('INT / INT truncates toward zero and stays INT', () => {
    expect(typeOf(bin('/', i, j))).toEqual(T.int);
    expect(ev(bin('/', i, j), { i: 7, j: 2 })).toBe(3);
    expect(ev(bin('/', i, j), { i: -7, j: 2 })).toBe(-3);
    expect(ev(bin('/', i, j), { i: 7, j: -2 })).toBe(-3);
  });

  it('division and modulo by zero give NULL instead of failing the job', () => {
    expect(ev(bin('/', i, j), { i: 7, j: 0 })).toBe(null);
    expect(ev(bin('%', i, j), { i: 7, j: 0 })).toBe(null);
    expect(ev(bin('/', col('dec'), lit(0)), { dec: 1.5 })).toBe(null);
    // DOUBLE follows IEEE 754 as Java does
    expect(ev(bin('/', col('d'), lit(0)), { d: 1.5 })).toBe(Infinity);
  });

  it('INT arithmetic wraps like Java int; BIGINT widens', () => {
    expect(ev(bin('+', i, j), { i: 2147483647, j: 1 })).toBe(-2147483648);
    expect(ev(bin('*', i, j), { i: 65536, j: 65536 })).toBe(0);
    expect(typeOf(bin('+', i, col('big')))).toEqual(T.bigint);
    expect(ev(bin('+', i, col('big')), { i: 2147483647, big: 1 })).toBe(2147483648);
  });

  it('modulo keeps the sign of the dividend', () => {
    expect(ev(bin('%', i, j), { i: -7, j: 3 })).toBe(-1);
    expect(ev(E.call('MOD', i, j), { i: 7, j: 3 })).toBe(1);
    expect(Object.is(ev(bin('%', i, j), { i: -6, j: 3 }), 0)).toBe(true);
  });

  it('numeric widening INT < BIGINT < DECIMAL < DOUBLE', () => {
    expect(typeOf(bin('+', i, col('dec')))).toEqual(T.decimal(13, 2));
    expect(typeOf(bin('*', col('dec'), col('d')))).toEqual(T.double);
    expect(typeOf(bin('+', i, lit(1.5)))).toEqual(T.decimal(12, 1));
    expect(typeOf(lit(1.5))).toEqual(T.decimal(2, 1));
    expect(typeOf(lit(3000000000))).toEqual(T.bigint);
    expect(typeOf(lit(7))).toEqual(T.int);
  });

  it('DECIMAL results are rounded to their scale', () => {
    expect(ev(bin('+', col('dec'), lit(0.1)), { dec: 0.2 })).toBe(0.3);
    expect(ev(bin('*', col('dec'), col('dec')), { dec: 1.05 })).toBe(1.1025);
  });

  it('unary minus', () => {
    expect(ev(E.neg(i), { i: 5 })).toBe(-5);
    expect(ev(E.neg(lit(2)))).toBe(-2);
    expect(typeOf(E.neg(lit(2147483648)))).toEqual(T.int);
  });

  it('ABS, ROUND (half away from zero), FLOOR, CEIL, TRUNCATE, POWER', () => {
    expect(ev(E.call('ABS', i), { i: -3 })).toBe(3);
    expect(ev(E.call('ROUND', col('d')), { d: 2.5 })).toBe(3);
    expect(ev(E.call('ROUND', col('d')), { d: -2.5 })).toBe(-3);
    expect(ev(E.call('ROUND', col('d'), lit(2)), { d: 1.005 })).toBe(1.01);
    expect(ev(E.call('ROUND', i, lit(-2)), { i: 1250 })).toBe(1300);
    expect(ev(E.floor(col('d')), { d: -1.5 })).toBe(-2);
    expect(ev(E.ceil(col('d')), { d: 1.2 })).toBe(2);
    expect(ev(E.call('TRUNCATE', col('d'), lit(1)), { d: -1.29 })).toBe(-1.2);
    expect(ev(E.call('POWER', i, lit(2)), { i: 3 })).toBe(9);
  });

  it('rejects arithmetic on strings with a type error', () => {
    expect(() => bindExpr(bin('+', s, lit(1)), SCOPE)).toThrow(/Cannot apply '\+' to arguments of type STRING and INT/);
  });
});

describe('comparisons', () => {
  it('numbers of different types', () => {
    expect(ev(bin('=', i, col('d')), { i: 2, d: 2.0 })).toBe(true);
    expect(ev(bin('<', col('dec'), col('big')), { dec: 1.5, big: 2 })).toBe(true);
  });

  it('strings, booleans and timestamps', () => {
    expect(ev(bin('<', s, col('s2')), { s: 'abc', s2: 'abd' })).toBe(true);
    expect(ev(bin('<>', s, lit('x')), { s: 'x' })).toBe(false);
    expect(ev(bin('<', b, b2), { b: false, b2: true })).toBe(true);
    expect(ev(bin('>=', col('ts'), E.ts('2024-01-01 00:00:00')), { ts: Date.UTC(2024, 0, 1) })).toBe(true);
  });

  it('a string literal compared with a timestamp is read as a timestamp', () => {
    expect(ev(bin('>', col('ts'), lit('2024-01-01 00:00:00')), { ts: Date.UTC(2024, 0, 1, 0, 0, 1) })).toBe(true);
    expect(() => bindExpr(bin('>', col('ts'), lit('yesterday')), SCOPE)).toThrow(/Cannot convert 'yesterday' to TIMESTAMP/);
  });

  it('incompatible types are a type error', () => {
    expect(() => bindExpr(bin('=', i, s), SCOPE)).toThrow(/Cannot compare INT with STRING/);
  });

  it('IN with literals, NULLs in the list, and expressions', () => {
    expect(ev(E.in(i, [lit(1), lit(2)]), { i: 2 })).toBe(true);
    expect(ev(E.in(i, [lit(1), lit(2)]), { i: 3 })).toBe(false);
    expect(ev(E.in(i, [lit(1), lit(null)]), { i: 3 })).toBe(null);
    expect(ev(E.in(i, [lit(1), lit(null)]), { i: 1 })).toBe(true);
    expect(ev(E.in(i, [lit(1)]), { i: null })).toBe(null);
    expect(ev(E.in(i, [lit(1), lit(2)], true), { i: 3 })).toBe(true);
    expect(ev(E.in(i, [j, lit(5)]), { i: 4, j: 4 })).toBe(true);
    expect(ev(E.in(i, [j, lit(5)]), { i: 4, j: null })).toBe(null);
    expect(ev(E.in(s, [lit('a'), lit('b')]), { s: 'b' })).toBe(true);
  });

  it('BETWEEN and NOT BETWEEN with NULL bounds', () => {
    expect(ev(E.between(i, lit(1), lit(3)), { i: 3 })).toBe(true);
    expect(ev(E.between(i, lit(1), lit(3)), { i: 4 })).toBe(false);
    expect(ev(E.between(i, lit(1), lit(3), true), { i: 4 })).toBe(true);
    expect(ev(E.between(i, j, lit(3)), { i: 2, j: null })).toBe(null);
    expect(ev(E.between(i, j, lit(3)), { i: 5, j: null })).toBe(false);
    expect(ev(E.between(i, lit(1), lit(3)), { i: null })).toBe(null);
  });
});

describe('LIKE', () => {
  const like = (v: string | null, p: string, escape?: string) => ev(E.like(s, lit(p), { escape: escape === undefined ? undefined : lit(escape) }), { s: v });
  it('% and _', () => {
    expect(like('hello', 'he%')).toBe(true);
    expect(like('hello', '%llo')).toBe(true);
    expect(like('hello', '%ell%')).toBe(true);
    expect(like('hello', 'h_llo')).toBe(true);
    expect(like('hello', 'h_lo')).toBe(false);
    expect(like('hello', 'hello')).toBe(true);
    expect(like('hello', 'Hello')).toBe(false);
    expect(like('hello', '%')).toBe(true);
    expect(like('a.c', 'a.c')).toBe(true);
    expect(like('abc', 'a.c')).toBe(false);
    expect(like('line1\nline2', 'line1%')).toBe(true);
    expect(like('话题一', '话_一')).toBe(true);
    expect(like('😀x', '_x')).toBe(true);
    expect(like(null, '%')).toBe(null);
  });

  it('ESCAPE', () => {
    expect(like('100%', '100!%', '!')).toBe(true);
    expect(like('1000', '100!%', '!')).toBe(false);
    expect(like('a_b', 'a!_b', '!')).toBe(true);
    expect(like('axb', 'a!_b', '!')).toBe(false);
    expect(() => bindExpr(E.like(s, lit('a!b'), { escape: lit('!') }), SCOPE)).toThrow(/Invalid escape sequence/);
  });

  it('NOT LIKE and patterns from columns', () => {
    expect(ev(E.like(s, lit('a%'), { negated: true }), { s: 'bc' })).toBe(true);
    expect(ev(E.like(s, col('s2')), { s: 'abc', s2: 'a%' })).toBe(true);
    expect(ev(E.like(s, col('s2')), { s: 'abc', s2: '_' })).toBe(false);
    expect(ev(E.like(s, col('s2')), { s: 'abc', s2: null })).toBe(null);
  });
});

describe('CASE, IF, COALESCE, NULLIF', () => {
  it('searched CASE, with and without ELSE', () => {
    const e = E.case([[bin('>', i, lit(10)), lit('big')], [bin('>', i, lit(0)), lit('small')]], lit('none'));
    expect(ev(e, { i: 11 })).toBe('big');
    expect(ev(e, { i: 1 })).toBe('small');
    expect(ev(e, { i: -1 })).toBe('none');
    expect(ev(e, { i: null })).toBe('none');
    const noElse = E.case([[bin('>', i, lit(10)), lit('big')]]);
    expect(ev(noElse, { i: 1 })).toBe(null);
  });

  it('simple CASE', () => {
    const e = E.case([[lit(1), lit('one')], [lit(2), lit('two')]], lit('many'), i);
    expect(ev(e, { i: 2 })).toBe('two');
    expect(ev(e, { i: 5 })).toBe('many');
    expect(ev(e, { i: null })).toBe('many');
  });

  it('CASE result type is the common type of the branches', () => {
    expect(typeOf(E.case([[b, lit(1)]], lit(2.5)))).toEqual(T.decimal(11, 1));
    expect(() => bindExpr(E.case([[b, lit(1)]], lit('x')), SCOPE)).toThrow(/CASE branches have incompatible types: INT, STRING/);
    expect(() => bindExpr(E.case([[i, lit(1)]]), SCOPE)).toThrow(/CASE WHEN condition must be BOOLEAN but is INT/);
  });

  it('IF, COALESCE, NULLIF, IFNULL, GREATEST, LEAST', () => {
    expect(ev(E.call('IF', bin('>', i, lit(1)), lit('y'), lit('n')), { i: 2 })).toBe('y');
    expect(ev(E.call('IF', bin('>', i, lit(1)), lit('y'), lit('n')), { i: null })).toBe('n');
    expect(ev(E.call('COALESCE', s, col('s2'), lit('z')), { s: null, s2: 'b' })).toBe('b');
    expect(ev(E.call('COALESCE', s, col('s2')), {})).toBe(null);
    expect(ev(E.call('NULLIF', i, lit(0)), { i: 0 })).toBe(null);
    expect(ev(E.call('NULLIF', i, lit(0)), { i: 3 })).toBe(3);
    expect(ev(E.call('IFNULL', i, lit(0)), { i: null })).toBe(0);
    expect(ev(E.call('GREATEST', i, j, lit(5)), { i: 7, j: 1 })).toBe(7);
    expect(ev(E.call('LEAST', s, col('s2')), { s: 'b', s2: 'a' })).toBe('a');
    expect(ev(E.call('GREATEST', i, j), { i: 7, j: null })).toBe(null);
  });
});

describe('strings', () => {
  it('CONCAT is NULL when any argument is NULL; CONCAT_WS skips NULLs', () => {
    expect(ev(E.call('CONCAT', s, lit('-'), col('s2')), { s: 'a', s2: 'b' })).toBe('a-b');
    expect(ev(E.call('CONCAT', s, lit('-'), col('s2')), { s: 'a', s2: null })).toBe(null);
    expect(ev(bin('||', s, col('s2')), { s: 'a', s2: null })).toBe(null);
    expect(ev(bin('||', s, i), { s: 'n=', i: 5 })).toBe('n=5');
    expect(ev(E.call('CONCAT_WS', lit(','), s, col('s2'), lit('c')), { s: 'a', s2: null })).toBe('a,c');
    expect(ev(E.call('CONCAT_WS', col('s2'), s, lit('c')), { s: 'a', s2: null })).toBe(null);
    expect(ev(E.call('CONCAT_WS', lit(','), s), { s: null })).toBe('');
  });

  it('SUBSTRING: 1-based, start 0 and negative starts, lengths', () => {
    const sub = (v: string, ...args: number[]) => ev(E.call('SUBSTRING', s, ...args.map((n) => lit(n))), { s: v });
    expect(sub('hello', 2)).toBe('ello');
    expect(sub('hello', 2, 3)).toBe('ell');
    expect(sub('hello', 0, 2)).toBe('he');
    expect(sub('hello', 1, 100)).toBe('hello');
    expect(sub('hello', 6)).toBe('');
    expect(sub('hello', -3)).toBe('llo');
    expect(sub('hello', -3, 2)).toBe('ll');
    expect(sub('hello', -10)).toBe('');
    expect(sub('hello', 2, 0)).toBe('');
    expect(sub('hello', 2, -1)).toBe(null);
    expect(sub('', 1, 2)).toBe('');
    expect(sub('😀ab', 2, 1)).toBe('a');
    expect(sub('今天天气', 3)).toBe('天气');
    expect(ev(E.call('SUBSTR', s, lit(2), lit(2)), { s: 'abcd' })).toBe('bc');
    expect(ev(E.call('SUBSTRING', s, i), { s: 'abc', i: null })).toBe(null);
  });

  it('CHAR_LENGTH counts characters (code points)', () => {
    expect(ev(E.call('CHAR_LENGTH', s), { s: '今天 #天气#' })).toBe(7);
    expect(ev(E.call('CHARACTER_LENGTH', s), { s: 'a😀b' })).toBe(3);
  });

  it('UPPER, LOWER, TRIM (spaces only), LTRIM, RTRIM', () => {
    expect(ev(E.call('UPPER', s), { s: 'abC' })).toBe('ABC');
    expect(ev(E.call('LOWER', s), { s: 'AbC' })).toBe('abc');
    expect(ev(E.call('TRIM', s), { s: '  a b  ' })).toBe('a b');
    expect(ev(E.call('TRIM', s), { s: '\ta\t' })).toBe('\ta\t');
    expect(ev(E.call('LTRIM', s), { s: '  a ' })).toBe('a ');
    expect(ev(E.call('RTRIM', s), { s: '  a ' })).toBe('  a');
  });

  it('REPLACE, POSITION, LOCATE, INSTR, SPLIT_INDEX, LPAD, RPAD, REPEAT, REVERSE, INITCAP, LEFT, RIGHT', () => {
    expect(ev(E.call('REPLACE', s, lit('a'), lit('$1')), { s: 'banana' })).toBe('b$1n$1n$1');
    expect(ev(E.call('POSITION', lit('天'), s), { s: '今天天气' })).toBe(2);
    expect(ev(E.call('POSITION', lit('x'), s), { s: 'abc' })).toBe(0);
    expect(ev(E.call('LOCATE', lit('a'), s, lit(3)), { s: 'banana' })).toBe(4);
    expect(ev(E.call('INSTR', s, lit('n')), { s: 'banana' })).toBe(3);
    expect(ev(E.call('SPLIT_INDEX', s, lit(','), lit(1)), { s: 'a,b,,c' })).toBe('b');
    expect(ev(E.call('SPLIT_INDEX', s, lit(','), lit(2)), { s: 'a,b,,c' })).toBe('');
    expect(ev(E.call('SPLIT_INDEX', s, lit(','), lit(4)), { s: 'a,b,,c' })).toBe(null);
    expect(ev(E.call('SPLIT_INDEX', s, lit('::'), lit(1)), { s: 'x::y::z' })).toBe('y');
    expect(ev(E.call('SPLIT_INDEX', s, lit(','), lit(-1)), { s: 'a' })).toBe(null);
    expect(ev(E.call('LPAD', s, lit(5), lit('xy')), { s: 'ab' })).toBe('xyxab');
    expect(ev(E.call('RPAD', s, lit(1), lit('x')), { s: 'ab' })).toBe('a');
    expect(ev(E.call('REPEAT', s, lit(3)), { s: 'ab' })).toBe('ababab');
    expect(ev(E.call('REVERSE', s), { s: 'a😀b' })).toBe('b😀a');
    expect(ev(E.call('INITCAP', s), { s: 'hello wORLD' })).toBe('Hello World');
    expect(ev(E.call('LEFT', s, lit(2)), { s: 'hello' })).toBe('he');
    expect(ev(E.call('RIGHT', s, lit(2)), { s: 'hello' })).toBe('lo');
  });

  it('string functions reject non-strings', () => {
    expect(() => bindExpr(E.call('UPPER', i), SCOPE)).toThrow(/UPPER expects STRING as argument 1 but got INT/);
  });
});

describe('regular expressions', () => {
  const text = '#话题一#今天 #天气#';
  it('REGEXP_EXTRACT with Chinese text (group defaults to 0, the whole match)', () => {
    expect(ev(E.call('REGEXP_EXTRACT', s, lit('#([^#]+)#'), lit(1)), { s: text })).toBe('话题一');
    expect(ev(E.call('REGEXP_EXTRACT', s, lit('#([^#]+)#')), { s: text })).toBe('#话题一#');
    expect(ev(E.call('REGEXP_EXTRACT', s, lit('#([^#]+)#'), lit(0)), { s: text })).toBe('#话题一#');
    expect(ev(E.call('REGEXP_EXTRACT', s, lit('#([^#]+)#'), lit(1)), { s: 'no topics' })).toBe(null);
    expect(ev(E.call('REGEXP_EXTRACT', s, lit('foo(.*?)(bar)'), lit(2)), { s: 'foothebar' })).toBe('bar');
  });

  it('REGEXP_EXTRACT_ALL returns ARRAY<STRING> (group defaults to 1)', () => {
    expect(typeOf(E.call('REGEXP_EXTRACT_ALL', s, lit('#([^#]+)#')))).toEqual(T.array(T.string));
    expect(ev(E.call('REGEXP_EXTRACT_ALL', s, lit('#([^#]+)#')), { s: text })).toEqual(['话题一', '天气']);
    expect(ev(E.call('REGEXP_EXTRACT_ALL', s, lit('#([^#]+)#'), lit(1)), { s: text })).toEqual(['话题一', '天气']);
    expect(ev(E.call('REGEXP_EXTRACT_ALL', s, lit('#([^#]+)#'), lit(0)), { s: text })).toEqual(['#话题一#', '#天气#']);
    expect(ev(E.call('REGEXP_EXTRACT_ALL', s, lit('(\\d+)-(\\d+)'), lit(2)), { s: '100-200, 300-400' })).toEqual(['200', '400']);
    expect(ev(E.call('REGEXP_EXTRACT_ALL', s, lit('#([^#]+)#')), { s: 'none' })).toEqual([]);
    // evaluating twice must not carry regex state between rows
    const f = compileExpr(bindExpr(E.call('REGEXP_EXTRACT_ALL', s, lit('#([^#]+)#')), SCOPE), { timeZone: 'UTC' });
    const row = NAMES.map((n) => (n === 's' ? text : null));
    expect(f(row)).toEqual(['话题一', '天气']);
    expect(f(row)).toEqual(['话题一', '天气']);
  });

  it('patterns from columns, invalid patterns and group indexes', () => {
    expect(ev(E.call('REGEXP_EXTRACT', s, col('s2'), lit(1)), { s: 'a1b22', s2: '(\\d+)' })).toBe('1');
    expect(ev(E.call('REGEXP_EXTRACT', s, col('s2'), lit(1)), { s: 'a1b22', s2: '(' })).toBe(null);
    expect(() => bindExpr(E.call('REGEXP_EXTRACT', s, lit('(')), SCOPE)).toThrow(/Invalid regular expression/);
    expect(() => bindExpr(E.call('REGEXP_EXTRACT', s, lit('(a)'), lit(2)), SCOPE)).toThrow(/group index 2 is out of range \[0, 1\]/);
  });

  it('REGEXP_REPLACE replaces every match literally; REGEXP tests', () => {
    expect(ev(E.call('REGEXP_REPLACE', s, lit('oo|ar'), lit('')), { s: 'foobar' })).toBe('fb');
    expect(ev(E.call('REGEXP_REPLACE', s, lit('#[^#]+#'), lit('[$0]')), { s: text })).toBe('[$0]今天 [$0]');
    expect(ev(E.call('REGEXP', s, lit('天气')), { s: text })).toBe(true);
    expect(ev(E.call('REGEXP', s, lit('(?i)ABC')), { s: 'xabcx' })).toBe(true);
    expect(ev(E.call('REGEXP_EXTRACT', s, lit('\\p{IsHan}+')), { s: 'abc中文def' })).toBe('中文');
  });
});

describe('CAST and TRY_CAST', () => {
  const cast = (v: unknown, from: string, to: SqlType, safe = false) => ev(E.cast(col(from), to, safe), { [from]: v });

  it('numbers and strings', () => {
    expect(cast('42', 's', T.int)).toBe(42);
    expect(cast(' 42 ', 's', T.int)).toBe(42);
    expect(cast('1.9', 's', T.int)).toBe(1);
    expect(cast('-7', 's', T.bigint)).toBe(-7);
    expect(cast('1.5e3', 's', T.double)).toBe(1500);
    expect(cast('3.14159', 's', T.decimal(5, 2))).toBe(3.14);
    expect(cast(42, 'i', T.string)).toBe('42');
    expect(cast(1.5, 'd', T.string)).toBe('1.5');
    expect(cast(100, 'd', T.string)).toBe('100.0');
    expect(cast(1e10, 'd', T.string)).toBe('1.0E10');
    expect(cast(1.5, 'dec', T.string)).toBe('1.50');
    expect(cast(2.7, 'd', T.int)).toBe(2);
    expect(cast(-2.7, 'd', T.int)).toBe(-2);
    expect(cast(123.456, 'd', T.decimal(5, 2))).toBe(123.46);
    expect(cast(12345.6, 'd', T.decimal(5, 2))).toBe(null); // overflow is NULL, as in Flink
  });

  it('BOOLEAN', () => {
    expect(cast(true, 'b', T.string)).toBe('TRUE');
    expect(cast('true', 's', T.boolean)).toBe(true);
    expect(cast('FALSE', 's', T.boolean)).toBe(false);
    expect(cast('yes', 's', T.boolean)).toBe(true);
    expect(cast(0, 'i', T.boolean)).toBe(false);
    expect(cast(true, 'b', T.int)).toBe(1);
  });

  it('STRING <-> TIMESTAMP', () => {
    expect(cast('2024-01-02 03:04:05.678', 's', T.timestamp)).toBe(Date.UTC(2024, 0, 2, 3, 4, 5, 678));
    expect(cast('2024-01-02T03:04:05Z', 's', T.timestamp)).toBe(Date.UTC(2024, 0, 2, 3, 4, 5));
    expect(cast(Date.UTC(2024, 0, 2, 3, 4, 5, 6), 'ts', T.string)).toBe('2024-01-02 03:04:05.006');
    expect(cast(Date.UTC(2024, 0, 2, 3, 4, 5, 6), 'ts', { kind: 'TIMESTAMP', precision: 0 })).toBe(Date.UTC(2024, 0, 2, 3, 4, 5));
    expect(cast(Date.UTC(2024, 0, 2, 3, 4, 5, 6), 'ts', T.date)).toBe(Date.UTC(2024, 0, 2));
  });

  it('a failed CAST throws DataError; TRY_CAST gives NULL', () => {
    expect(() => cast('abc', 's', T.int)).toThrow(DataError);
    expect(() => cast('abc', 's', T.int)).toThrow(/CAST of 'abc' to INT failed/);
    expect(() => cast('99999999999', 's', T.int)).toThrow(DataError);
    expect(() => cast('2024-13-01', 's', T.timestamp)).toThrow(DataError);
    expect(() => cast('maybe', 's', T.boolean)).toThrow(DataError);
    expect(cast('abc', 's', T.int, true)).toBe(null);
    expect(cast('2024-13-01', 's', T.timestamp, true)).toBe(null);
    expect(cast(null, 's', T.int)).toBe(null);
  });

  it('a literal that cannot be cast is a type error when binding', () => {
    expect(() => bindExpr(E.cast(lit('abc'), T.int), SCOPE)).toThrow(/Cannot cast 'abc' to INT/);
    expect(ev(E.cast(lit('abc'), T.int, true))).toBe(null);
  });

  it('unsupported casts are type errors', () => {
    expect(() => bindExpr(E.cast(i, T.timestamp), SCOPE)).toThrow(/Cannot cast INT to TIMESTAMP\(3\); use TO_TIMESTAMP_LTZ/);
    expect(() => bindExpr(E.cast(b, T.interval), SCOPE)).toThrow(/Cannot cast BOOLEAN to INTERVAL/);
  });

  it('arrays and rows', () => {
    expect(ev(E.cast(col('arr'), T.array(T.int)), { arr: ['1', null, '3'] })).toEqual([1, null, 3]);
    expect(() => ev(E.cast(col('arr'), T.array(T.int)), { arr: ['1', 'x'] })).toThrow(DataError);
    expect(ev(E.cast(col('arr'), T.string), { arr: ['a', null] })).toBe('[a, NULL]');
  });
});

describe('arrays and rows', () => {
  it('array access is 1-based and NULL when out of range', () => {
    expect(ev(E.index(col('arr'), lit(1)), { arr: ['a', 'b'] })).toBe('a');
    expect(ev(E.index(col('arr'), lit(2)), { arr: ['a', 'b'] })).toBe('b');
    expect(ev(E.index(col('arr'), lit(3)), { arr: ['a', 'b'] })).toBe(null);
    expect(ev(E.index(col('arr'), lit(0)), { arr: ['a', 'b'] })).toBe(null);
    expect(ev(E.index(col('arr'), i), { arr: ['a'], i: null })).toBe(null);
    expect(ev(E.index(E.call('REGEXP_EXTRACT_ALL', s, lit('#([^#]+)#')), lit(2)), { s: '#话题一#今天 #天气#' })).toBe('天气');
  });

  it('CARDINALITY, ARRAY_CONTAINS, ARRAY_JOIN, ARRAY(...)', () => {
    expect(ev(E.call('CARDINALITY', col('arr')), { arr: ['a', 'b'] })).toBe(2);
    expect(ev(E.call('ARRAY_CONTAINS', col('arr'), lit('b')), { arr: ['a', 'b'] })).toBe(true);
    expect(ev(E.call('ARRAY_JOIN', col('arr'), lit('|')), { arr: ['a', null, 'b'] })).toBe('a|b');
    expect(ev(E.call('ARRAY', i, lit(2)), { i: 1 })).toEqual([1, 2]);
  });

  it('ROW field access, by qualified name and through the field node', () => {
    expect(ev(E.field(col('r'), 'x'), { r: { x: 5, name: 'n' } })).toBe(5);
    expect(ev(col('name', 'r'), { r: { x: 5, name: 'n' } })).toBe('n');
    expect(ev(E.field(col('r'), 'x'), { r: null })).toBe(null);
    expect(typeOf(E.field(col('r'), 'name'))).toEqual(T.string);
    expect(() => bindExpr(E.field(col('r'), 'nope'), SCOPE)).toThrow(/Field 'nope' not found; available: x, name/);
  });
});
