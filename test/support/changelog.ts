// Checking an operator's changelog: a keyed table the changes are applied to, with the consistency each
// change must have.
import { expect } from 'vitest';
import type { Change } from '../../engine/ops/changelog.ts';
import type { Row } from '../../engine/ops/operator.ts';

/** Applies a changelog to a keyed table, checking that it is consistent with what the table holds. */
export function applyChanges(view: Map<unknown, Row>, changes: readonly Change[]): void {
  for (let i = 0; i < changes.length; i++) {
    const c = changes[i]!;
    const k = c.row[0];
    switch (c.op) {
      case '+I':
        expect(view.has(k), `+I of a key the view holds: ${JSON.stringify(c.row)}`).toBe(false);
        view.set(k, c.row);
        break;
      case '-U':
        expect(view.get(k), '-U carries the row the view holds').toEqual(c.row);
        expect(changes[i + 1]?.op, '-U is followed by its +U').toBe('+U');
        expect(changes[i + 1]?.row[0]).toBe(k);
        break;
      case '+U':
        expect(changes[i - 1]?.op).toBe('-U');
        view.set(k, c.row);
        break;
      case '-D':
        expect(view.get(k), '-D carries the row the view holds').toEqual(c.row);
        view.delete(k);
        break;
    }
  }
}
