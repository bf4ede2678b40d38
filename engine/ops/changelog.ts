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
