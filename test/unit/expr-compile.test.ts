import { describe, expect, it } from 'vitest';
import { E } from '../../engine/expr/build.ts';
import { bindExpr, compileExpr, compilePredicate, compileProjection, generatedSource } from '../../engine/expr/index.ts';
import type { BoundExpr, Scope } from '../../engine/expr/index.ts';
import { T } from '../../engine/plan/types.ts';

const SCOPE: Scope = {
  columns: [
    { name: 'a', tables: ['t'], type: T.int },
    { name: 's', tables: ['t'], type: T.string },
    { name: 'ts', tables: ['t'], type: T.timestamp },
  ],
  timeZone: 'UTC',
};
const ctx = { timeZone: 'UTC' };
const bind = (e: Parameters<typeof bindExpr>[0]): BoundExpr => bindExpr(e, SCOPE);
const { col, lit } = E;

describe('compiled code', () => {
  it('folds constant sub-expressions once', () => {
    const src = generatedSource(bind(E.bin('+', col('a'), E.bin('*', lit(6), lit(7)))), ctx);
    expect(src).toContain('r[0] + 42');
    const upper = generatedSource(bind(E.call('UPPER', lit('abc'))), ctx);
    expect(upper).toContain('return "ABC"');
    const cast = generatedSource(bind(E.cast(lit('2024-01-01 00:00:00'), T.timestamp)), ctx);
    expect(cast).toContain(`return ${Date.UTC(2024, 0, 1)}`);
  });

  it('checks NULL only where a value can be NULL, and never interprets the tree', () => {
    const src = generatedSource(bind(E.bin('+', lit(1), lit(2))), ctx);
    expect(src).not.toContain('!= null');
    const col2 = generatedSource(bind(E.bin('>', col('a'), lit(1))), ctx);
    expect(col2).toContain('r[0] != null');
    expect(col2).not.toMatch(/switch|try/);
  });

  it('only casts from text carry a failure check, and no try/catch', () => {
    const src = generatedSource(bind(E.cast(col('s'), T.int)), ctx);
    expect(src).toContain('throw');
    expect(src).not.toContain('try');
  });

  it('compilePredicate is true only for TRUE', () => {
    const p = compilePredicate(bind(E.bin('>', col('a'), lit(1))), ctx);
    expect(p([2, null, null])).toBe(true);
    expect(p([0, null, null])).toBe(false);
    expect(p([null, null, null])).toBe(false);
  });

  it('compileProjection evaluates several expressions into one row', () => {
    const f = compileProjection(
      [bind(E.bin('+', col('a'), lit(1))), bind(E.call('UPPER', col('s'))), bind(E.floor(col('ts'), 'HOUR')), bind(col('s'))],
      ctx,
    );
    expect(f([1, 'x', Date.UTC(2024, 0, 1, 5, 30)])).toEqual([2, 'X', Date.UTC(2024, 0, 1, 5), 'x']);
    expect(f([null, undefined, null])).toEqual([null, null, null, null]);
    expect(f([])).toEqual([null, null, null, null]);
  });

  it('compiled functions are independent and reusable', () => {
    const e = bind(E.call('REGEXP_EXTRACT', col('s'), lit('(\\d+)'), lit(1)));
    const f = compileExpr(e, ctx);
    const g = compileExpr(e, ctx);
    expect(f([0, 'a1', 0])).toBe('1');
    expect(g([0, 'b22', 0])).toBe('22');
    expect(f([0, 'c333', 0])).toBe('333');
  });

  it('handles a million rows quickly', () => {
    const f = compileProjection(
      [
        bind(E.bin('+', col('a'), lit(1))),
        bind(E.and(E.isNull(col('s'), true), E.bin('>', col('a'), lit(10)))),
        bind(E.call('DATE_FORMAT', col('ts'), lit('yyyy-MM-dd HH:mm'))),
        bind(E.case([[E.bin('>', col('a'), lit(50)), lit('hot')]], lit('cold'))),
      ],
      ctx,
    );
    const rows = Array.from({ length: 1000 }, (_, i) => [i, i % 5 === 0 ? null : `row ${i}`, 1704067200000 + i * 1000]);
    const t0 = performance.now();
    let n = 0;
    for (let i = 0; i < 1_000_000; i++) n += (f(rows[i % 1000]!)[0] as number) > 0 ? 1 : 0;
    const ms = performance.now() - t0;
    expect(n).toBeGreaterThan(0);
    expect(ms).toBeLessThan(3000);
  });
});
