import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { explainText } from '../../engine/plan/explain.ts';
import { expectError, planGolden, readGolden, runGolden } from '../support/golden.ts';

const dir = join(import.meta.dirname, '..', 'sql');
const files = readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();

describe('golden SQL cases (test/sql)', () => {
  for (const f of files) {
    const c = readGolden(join(dir, f));
    if (c.error) {
      it(`${f}: fails with '${c.error.fragment}'`, () => {
        const e = expectError(c);
        expect(e, 'expected a planning error').toBeDefined();
        expect(e!.message).toContain(c.error!.fragment);
        if (c.error!.line !== undefined) expect([e!.pos?.line, e!.pos?.column]).toEqual([c.error!.line, c.error!.column]);
      });
      continue;
    }
    if (c.plan !== undefined) {
      it(`${f}: EXPLAIN`, () => {
        expect(explainText({ root: planGolden(c) })).toBe(c.plan);
      });
    }
    const sortIf = (rows: string[]) => (c.expected!.rowsort ? [...rows].sort() : rows);
    it(`${f}: straight run`, () => {
      expect(sortIf(runGolden(c).rows)).toEqual(sortIf(c.expected!.rows));
    });
    if (c.inputs.length > 1) {
      for (let k = 1; k < c.inputs.length; k++) {
        it(`${f}: snapshot + restore before input block ${k + 1} gives the same output`, () => {
          expect(sortIf(runGolden(c, k).rows)).toEqual(sortIf(c.expected!.rows));
        });
      }
    }
  }
});
