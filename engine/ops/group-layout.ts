import { compileFold } from './accumulators.ts';
import type { Accumulator, RetractableAccumulator, Step } from './accumulators.ts';
import type { Row } from './operator.ts';

/**
 * One group of a non-windowed GROUP BY (GroupAggregateOp). Its accumulators are fields of its own,
 * `a0`, `a1`, ... (GroupLayout), not an array beside it: updating a row then touches the group object
 * alone, one cache miss less per row, which with 100,000 groups visited in random key order halves the
 * time of folding rows into them (measured: 131 against 53 ms per 1M rows, docs/benchmarks.md).
 */
export interface Group {
  /**
   * The batch that last touched the group (a stamp instead of a per-batch Map lookup on every row), its
   * result before that batch (null: the key did not exist), its place in the batch's list of touched
   * groups, and whether it was dropped from state since.
   */
  batch: number;
  /** Input rows currently counted in the group (accumulated minus retracted): at 0 the key is gone. */
  rows: number;
  /** Keyed state: whether it changed since the last checkpoint, whether the store holds it, its entry key once computed. */
  dirty: boolean;
  /**
   * Processing time of the last update, for the state TTL: without a TTL it is not kept up to date (the
   * GROUP BY's fast path leaves it, one cache line less per row), and it is not stored either.
   */
  touched: number;
  readonly key: readonly unknown[];
  /** The result row last emitted for this key (the -U of its next update), when known. */
  last: Row | undefined;
  entry: string | undefined;
  stored: boolean;
  before: Row | null;
  slot: number;
  gone: boolean;
  /** Accumulator i (see GroupLayout). */
  [acc: `a${number}`]: unknown;
}

/** Folds values into a group's accumulators: accumulator i takes vals[at + i]. */
export type GroupFold = (g: Group, vals: readonly unknown[], at: number) => void;

/** The generated code that lays out and updates the groups of one aggregate list. */
export interface GroupLayout {
  /** A new group; every group of the list gets its fields in the same order (one hidden class). */
  create(key: readonly unknown[], accs: readonly unknown[], rows: number, touched: number, stored: boolean): Group;
  /** The group's accumulators, as an array (a copy). */
  accsOf(g: Group): unknown[];
  /** add: the simple accumulators' steps written out (Accumulator.addSource), the others called. */
  readonly add: GroupFold;
  readonly retract: GroupFold;
  readonly merge: GroupFold;
}

/**
 * The layout of an aggregate list's groups, as functions generated for it (`new Function`): field names
 * cannot be indexes in JavaScript without becoming array elements, out of the object. The generated text
 * holds only fixed code, field numbers and the accumulators' fixed add sources, never anything of a query.
 */
export function groupLayout(accumulators: readonly RetractableAccumulator[]): GroupLayout {
  const { fields, init, accsOf, add, merge, fold } = accumulatorFields<Group>(accumulators);
  const create = new Function(
    'key',
    'accs',
    'rows',
    'touched',
    'stored',
    `'use strict'; return { batch: 0, rows, dirty: false, touched, ${init}${fields.length > 0 ? ', ' : ''}key, last: undefined, entry: undefined, stored, before: null, slot: -1, gone: false };`,
  ) as GroupLayout['create'];
  const retract = fold(
    accumulators.map((a) => a.retract),
    [],
  );
  return { create, accsOf, add, retract, merge };
}

/** Folds values into an object's accumulator fields: field i takes vals[at + i]. */
export type FieldFold<G> = (g: G, vals: readonly unknown[], at: number) => void;

/**
 * The accumulator fields `a0`, `a1`, ... of an object that holds its aggregates' accumulators itself (a
 * GROUP BY's groups, a window's groups), as generated code: `init`, the text of the fields in an object
 * literal, each from `accs[i]`; a copy of them as an array; the folds of a row's values (add) and of
 * another group's partial accumulators (merge) into them; and `fold`, for other steps (retract).
 */
export function accumulatorFields<G>(accumulators: readonly Accumulator[]): {
  readonly fields: readonly string[];
  readonly init: string;
  readonly accsOf: (g: G) => unknown[];
  readonly add: FieldFold<G>;
  readonly merge: FieldFold<G>;
  readonly fold: (steps: readonly Step[], sources: readonly (string | undefined)[]) => FieldFold<G>;
} {
  const fields = accumulators.map((_, i) => `a${i}`);
  const fold = (steps: readonly Step[], sources: readonly (string | undefined)[]): FieldFold<G> =>
    compileFold(
      'g, vals, at',
      steps,
      sources,
      (i) => `g.${fields[i]}`,
      (i) => `vals[at + ${i}]`,
    ) as FieldFold<G>;
  return {
    fields,
    init: fields.map((f, i) => `${f}: accs[${i}]`).join(', '),
    accsOf: new Function('g', `'use strict'; return [${fields.map((f) => `g.${f}`).join(', ')}];`) as (g: G) => unknown[],
    add: fold(
      accumulators.map((a) => a.add),
      accumulators.map((a) => a.addSource),
    ),
    merge: fold(
      accumulators.map((a) => a.merge),
      [],
    ),
    fold,
  };
}
