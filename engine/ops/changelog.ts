import type { Row } from './operator.ts';

/**
 * One row of an updating result (DESIGN §2): +I a new key, -U/+U the before/after of an updated key
 * (always adjacent, -U first), -D a removed key. Append-only plans never build these: their operators
 * exchange plain row arrays, which are +I by definition.
 */
export type Change =
  | { readonly op: '+I'; readonly row: Row }
  | { readonly op: '-U'; readonly row: Row }
  | { readonly op: '+U'; readonly row: Row }
  | { readonly op: '-D'; readonly row: Row };

export type ChangeOp = Change['op'];

/** Whether a change adds its row to the result (+I, +U) rather than removing it (-U, -D). */
export function isAccumulate(c: Change): boolean {
  switch (c.op) {
    case '+I':
    case '+U':
      return true;
    case '-U':
    case '-D':
      return false;
    default: {
      const never: never = c;
      throw new Error(`unknown change ${String(never)}`);
    }
  }
}

/**
 * Where an operator of an updating plan sends its output: changes and watermarks, in order. Operators
 * above a non-windowed aggregate (and the job's terminal for an updating plan) implement it; the
 * append-only path keeps `Downstream.push(rows)`.
 */
export interface ChangeDownstream {
  pushChanges(changes: Change[]): void;
  watermark(wm: number): void;
}

/** Whether `out` takes changes; an updating plan's operators must only be wired to such downstreams. */
export function takesChanges(out: object): out is ChangeDownstream {
  return typeof (out as Partial<ChangeDownstream>).pushChanges === 'function';
}

/** Same values in the same places (Object.is, so NaN equals NaN and -0 differs from 0 as a result would). */
export function sameRow(a: Row, b: Row): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}
