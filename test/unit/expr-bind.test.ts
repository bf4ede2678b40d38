import { describe, expect, it } from 'vitest';
import { E, at } from '../../engine/expr/build.ts';
import { bindExpr, compileExpr, functionNames, isAggregateFunction, lookupFunction } from '../../engine/expr/index.ts';
import type { BoundExpr, Scope } from '../../engine/expr/index.ts';
import type { Expr } from '../../engine/sql/ast.ts';
import { SqlError } from '../../engine/sql/errors.ts';
import { parseScript } from '../../engine/sql/parse.ts';
import { T } from '../../engine/plan/types.ts';

const SCOPE: Scope = {
  columns: [
    { name: 'uid', tables: ['weibo', 'w'], type: T.bigint },
    { name: 'text', tables: ['weibo', 'w'], type: T.string },
    { name: 'ret', tables: ['weibo', 'w'], type: T.int },
    { name: 'time', tables: ['weibo', 'w'], type: T.timestamp },
    { name: 'uid', tables: ['users', 'u'], type: T.bigint },
    { name: 'Name', tables: ['users', 'u'], type: T.string },
    { name: 'geo', tables: ['users', 'u'], type: { kind: 'ROW', fields: [{ name: 'lat', type: T.double }, { name: 'lon', type: T.double }] } },
  ],
  timeZone: 'UTC',
};

function bindError(e: Expr, scope: Scope = SCOPE): SqlError {
  try {
    bindExpr(e, scope);
  } catch (err) {
    if (err instanceof SqlError) return err;
    throw err;
  }
  throw new Error('expected a SqlError');
}

/** The first SELECT item of `sql`, parsed by the real front end (real positions). */
function parsed(sql: string): Expr {
  const st = parseScript(sql)[0]!.statement as unknown as { kind: 'query'; query: { items: { expr: Expr }[] } };
  return st.query.items[0]!.expr;
}

describe('column resolution', () => {
  it('finds columns case-insensitively and by qualifier', () => {
    expect(bindExpr(E.col('TEXT'), SCOPE)).toEqual({ kind: 'input', index: 1, name: 'text', type: T.string });
    expect(bindExpr(E.col('name'), SCOPE)).toMatchObject({ kind: 'input', index: 5, name: 'Name' });
    expect(bindExpr(E.col('uid', 'u'), SCOPE)).toMatchObject({ kind: 'input', index: 4 });
    expect(bindExpr(E.col('uid', 'WEIBO'), SCOPE)).toMatchObject({ kind: 'input', index: 0 });
  });

  it('an unknown column names the available ones, at the column', () => {
    const err = bindError(E.col('nope', undefined, at(3, 7)));
    expect(err.kind).toBe('binding');
    expect(err.message).toBe("Column 'nope' not found; available: uid, text, ret, time, uid, Name, geo");
    expect(err.pos).toEqual(at(3, 7));
    expect(bindError(E.col('text', 'u')).message).toMatch(/^Column 'u.text' not found; available: /);
  });

  it('an ambiguous column is an error that lists the candidates', () => {
    const err = bindError(E.col('uid', undefined, at(1, 8)));
    expect(err.kind).toBe('binding');
    expect(err.message).toBe("Column 'uid' is ambiguous; it could be weibo.uid, users.uid. Qualify it with a table name or alias");
    expect(err.pos).toEqual(at(1, 8));
  });

  it('ROW fields through a qualified name or the field node', () => {
    const b = bindExpr(E.col('lat', 'geo'), SCOPE);
    expect(b).toMatchObject({ kind: 'call', fn: 'FIELD', type: T.double });
    expect(bindExpr(E.field(E.col('geo', 'u'), 'LON'), SCOPE)).toMatchObject({ kind: 'call', fn: 'FIELD', args: [{ kind: 'input', index: 6 }, { value: 'lon' }] });
    expect(compileExpr(b, { timeZone: 'UTC' })([1, 'x', 1, 0, 1, 'n', { lat: 1.5, lon: 2 }])).toBe(1.5);
  });

  it('* is not an expression', () => {
    const err = bindError(E.star());
    expect(err.kind).toBe('binding');
    expect(err.message).toMatch(/'\*' is not allowed here/);
  });
});

describe('functions', () => {
  it('an unknown function is a binding error at the call', () => {
    const err = bindError(E.callAt(at(2, 3), 'FOO', E.lit(1)));
    expect(err.kind).toBe('binding');
    expect(err.message).toBe("Unknown function 'FOO'");
    expect(err.pos).toEqual(at(2, 3));
  });

  it('aggregate functions reaching the binder are not allowed', () => {
    const err = bindError(E.countStar(at(1, 8)));
    expect(err.kind).toBe('binding');
    expect(err.message).toBe('Aggregate function COUNT is not allowed here');
    expect(err.pos).toEqual(at(1, 8));
    expect(bindError(E.call('sum', E.col('ret'))).message).toBe('Aggregate function SUM is not allowed here');
    expect(isAggregateFunction('avg')).toBe(true);
  });

  it('the wrong number of arguments is a binding error', () => {
    const err = bindError(E.callAt(at(1, 1), 'SUBSTRING', E.col('text')));
    expect(err.message).toBe('Function SUBSTRING takes 2 to 3 arguments but got 1');
  });

  it('argument type errors point at the argument', () => {
    const e: Expr = { kind: 'call', name: 'UPPER', args: [E.col('ret', undefined, at(4, 12))], distinct: false, star: false, pos: at(4, 6) };
    const err = bindError(e);
    expect(err.kind).toBe('type');
    expect(err.message).toBe('UPPER expects STRING as argument 1 but got INT');
    expect(err.pos).toEqual(at(4, 12));
  });

  it('maps operators and aliases to canonical names', () => {
    const b = bindExpr(E.and(E.bin('>', E.col('ret'), E.lit(1)), E.not(E.isNull(E.col('text')))), SCOPE) as Extract<BoundExpr, { kind: 'call' }>;
    expect(b.fn).toBe('AND');
    expect(b.args.map((a) => (a as { fn: string }).fn)).toEqual(['>', 'NOT']);
    expect((bindExpr(E.call('substr', E.col('text'), E.lit(1)), SCOPE) as { fn: string }).fn).toBe('SUBSTRING');
    expect((bindExpr(E.like(E.col('text'), E.lit('a%'), { negated: true }), SCOPE) as { fn: string }).fn).toBe('NOT');
    expect((bindExpr(E.neg(E.col('ret')), SCOPE) as { fn: string }).fn).toBe('NEGATE');
    expect(bindExpr(E.neg(E.lit(5)), SCOPE)).toEqual({ kind: 'literal', value: -5, type: T.int });
  });

  it('IF becomes a CASE; DISTINCT in a scalar call is rejected', () => {
    expect(bindExpr(E.call('IF', E.lit(true), E.lit(1), E.lit(2)), SCOPE).kind).toBe('case');
    const e: Expr = { kind: 'call', name: 'UPPER', args: [E.col('text')], distinct: true, star: false, pos: at(1, 1) };
    expect(bindError(e).message).toMatch(/DISTINCT is only allowed in aggregate functions/);
  });

  it('functionNames lists the registry', () => {
    const names = functionNames();
    for (const n of ['REGEXP_EXTRACT', 'REGEXP_EXTRACT_ALL', 'DATE_FORMAT', 'SUBSTR', 'CONCAT_WS', 'TO_TIMESTAMP_LTZ', 'MOD', 'FLOOR', 'CARDINALITY']) {
      expect(names).toContain(n);
    }
    expect(names).not.toContain('+');
    expect(lookupFunction('CHARACTER_LENGTH')?.name).toBe('CHAR_LENGTH');
  });
});

describe('intercept', () => {
  it('is asked about every node before binding and can replace any of them', () => {
    const seen: string[] = [];
    const scope: Scope = {
      ...SCOPE,
      intercept: (e) => {
        seen.push(e.kind === 'call' ? `call:${e.name}` : e.kind);
        if (e.kind === 'call' && e.name === 'COUNT') return { kind: 'input', index: 9, name: 'EXPR$1', type: T.bigint };
        return undefined;
      },
    };
    const b = bindExpr(E.bin('+', E.countStar(), E.col('ret', 'w')), scope);
    expect(b).toMatchObject({ kind: 'call', fn: '+', type: T.bigint, args: [{ kind: 'input', index: 9 }, { kind: 'input', index: 2 }] });
    expect(seen).toEqual(['binary', 'call:COUNT', 'column']);
  });
});

describe('positions from the real parser', () => {
  it('an unknown column in the second line', () => {
    const err = bindError(parsed('SELECT ret\n  + nope FROM weibo'));
    expect(err.message).toMatch(/^Column 'nope' not found/);
    expect(err.pos).toMatchObject({ line: 2, column: 5 });
  });

  it('a type error in a function argument', () => {
    const err = bindError(parsed('SELECT UPPER(ret) FROM weibo'));
    expect(err.kind).toBe('type');
    expect(err.pos).toMatchObject({ line: 1, column: 14 });
  });

  it('an aggregate in a scalar context', () => {
    const err = bindError(parsed('SELECT  COUNT(*) FROM weibo'));
    expect(err.message).toBe('Aggregate function COUNT is not allowed here');
    expect(err.pos).toMatchObject({ line: 1, column: 9 });
  });

  it('binds and runs a Weibo-style projection', () => {
    const e = parsed("SELECT REGEXP_EXTRACT(w.text, '#([^#]+)#', 1) FROM weibo w");
    const f = compileExpr(bindExpr(e, SCOPE), { timeZone: 'UTC' });
    expect(f([1, '#话题一#今天 #天气#', 0, 0, 2, 'n', null])).toBe('话题一');
    const g = parsed("SELECT DATE_FORMAT(`time`, 'yyyy-MM-dd') FROM weibo");
    expect(compileExpr(bindExpr(g, SCOPE), { timeZone: 'UTC' })([1, '', 0, Date.UTC(2024, 4, 6, 23), 2, 'n', null])).toBe('2024-05-06');
    const h = parsed('SELECT FLOOR(`time` TO MINUTE) FROM weibo');
    expect(compileExpr(bindExpr(h, SCOPE), { timeZone: 'UTC' })([1, '', 0, Date.UTC(2024, 4, 6, 23, 1, 59), 2, 'n', null])).toBe(Date.UTC(2024, 4, 6, 23, 1));
  });
});
