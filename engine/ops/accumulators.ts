import type { AggCall } from '../plan/plan.ts';
import type { SqlType } from '../plan/types.ts';

/**
 * One aggregate function's accumulator, as three functions over a plain value (JSON-able, so
 * window state snapshots without custom code). NULL inputs are ignored, as SQL says.
 */
export interface Accumulator {
  init(): unknown;
  add(acc: unknown, v: unknown): unknown;
  result(acc: unknown): unknown;
  /**
   * Folds `b` (a partial accumulator over other rows) into `a` and returns the result, so that
   * merge(accumulate(xs), accumulate(ys)) has the result of accumulate(xs ++ ys): the global half of a
   * two-phase (local-global) aggregation. May reuse `a`; `b` is not used afterwards.
   */
  merge(a: unknown, b: unknown): unknown;
  /** Converts the accumulator to JSON-able data and back (Sets of DISTINCT become arrays). */
  save(acc: unknown): unknown;
  load(data: unknown): unknown;
  /**
   * For the simple accumulators, `add` as the text of a JavaScript expression over `a` (the accumulator)
   * and `v` (the value): addAllOf() writes it into the function that adds a row to all of an aggregate's
   * accumulators instead of calling `add`. `add` is built from the same text (stepFrom), so they agree.
   */
  readonly addSource?: string;
}

/** One accumulator step: add, retract or merge. */
export type Step = (acc: unknown, v: unknown) => unknown;

/** An add step from its source text (Accumulator.addSource). */
function stepFrom(source: string): Step {
  let step = STEPS.get(source);
  if (!step) STEPS.set(source, (step = new Function('a', 'v', `'use strict'; return ${source};`) as Step));
  return step;
}

/** Compiled once per source for the process, not per aggregate of every planned query. */
const STEPS = new Map<string, Step>();

/** add of the simple accumulators, as text (see Accumulator.addSource): NULL inputs are ignored. */
const ADD_SOURCE = {
  COUNT_STAR: 'a + 1',
  COUNT: 'v === null || v === undefined ? a : a + 1',
  SUM: 'v === null || v === undefined ? a : a === null ? v : a + v',
  MIN: 'v === null || v === undefined ? a : a === null || v < a ? v : a',
  MAX: 'v === null || v === undefined ? a : a === null || v > a ? v : a',
} as const;

/** Adds one row's argument values `vals` to the accumulators accs[at], accs[at + 1], ... of one group. */
export type AddAll = (accs: unknown[], vals: readonly unknown[], at: number) => void;

/**
 * The add steps of an aggregate list as one generated function over an array of accumulators (window
 * aggregates, the parallel instances' local halves; a GROUP BY's groups hold theirs as fields, see
 * group-layout.ts), the simple steps (addSource) written out in it and the others called from a place of
 * their own. Calling every accumulator's add from one loop cost ~100 ns more per row for COUNT(*) and SUM
 * over 100,000 groups (docs/benchmarks.md, 2026-11-26): V8 does not inline calls whose target varies by
 * operator. The generated text holds only the fixed sources above and indexes, never anything of a query.
 */
export function addAllOf(accumulators: readonly Accumulator[]): AddAll {
  return compileFold(
    'accs, vals, at',
    accumulators.map((a) => a.add),
    accumulators.map((a) => a.addSource),
    (i) => `accs[at + ${i}]`,
    (i) => `vals[${i}]`,
  ) as AddAll;
}

/**
 * A generated fold over `params`: for each step i, the accumulator at `slot(i)` takes the value at
 * `value(i)`, the step written out where `sources[i]` gives its text (Accumulator.addSource), else
 * called as steps[i] from a place of its own. Shared by addAllOf and a GROUP BY's group layout.
 */
export function compileFold(params: string, steps: readonly Step[], sources: readonly (string | undefined)[], slot: (i: number) => string, value: (i: number) => string): unknown {
  const body = steps
    .map((_, i) => {
      const source = sources[i];
      return source !== undefined
        ? `{ const a = ${slot(i)}, v = ${value(i)}; ${slot(i)} = ${source}; }`
        : `${slot(i)} = steps[${i}](${slot(i)}, ${value(i)});`;
    })
    .join('\n');
  return (new Function('steps', `'use strict'; return function fold(${params}) {\n${body}\n};`) as (steps: readonly Step[]) => unknown)(steps);
}

const identity = (x: unknown) => x;
const addNumbers = (a: unknown, b: unknown): unknown => (a as number) + (b as number);
/** [sum, count] pairs (AVG, and SUM of an updating aggregate). */
const addPairs = (a: unknown, b: unknown): unknown => {
  const s = a as [number, number];
  const t = b as [number, number];
  s[0] += t[0];
  s[1] += t[1];
  return s;
};

function compare(a: unknown, b: unknown): number {
  return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
}

function integral(t: SqlType): boolean {
  return t.kind === 'INT' || t.kind === 'BIGINT';
}

function round(t: SqlType): (v: number) => number {
  if (t.kind === 'DECIMAL') {
    const f = 10 ** t.scale;
    return (v) => Math.round(v * f) / f;
  }
  return (v) => v;
}

function base(call: AggCall): Accumulator {
  switch (call.fn) {
    case 'COUNT_STAR':
    case 'COUNT':
      return { init: () => 0, add: stepFrom(ADD_SOURCE[call.fn]), addSource: ADD_SOURCE[call.fn], merge: addNumbers, result: identity, save: identity, load: identity };
    case 'SUM': {
      const r = round(call.type);
      const int32 = call.type.kind === 'INT';
      return {
        init: () => null,
        add: stepFrom(ADD_SOURCE.SUM),
        addSource: ADD_SOURCE.SUM,
        // NULL is the sum of no values: the other side then stands alone.
        merge: (a, b) => (b === null ? a : a === null ? b : (a as number) + (b as number)),
        // Flink keeps SUM(INT) an INT: it wraps around on overflow like Java's int.
        result: (a) => (a === null ? null : int32 ? (a as number) | 0 : r(a as number)),
        save: identity,
        load: identity,
      };
    }
    case 'AVG': {
      const t = call.type;
      const r = round(t);
      return {
        init: () => [0, 0],
        add: (a, v) => {
          if (v === null || v === undefined) return a;
          const s = a as [number, number];
          s[0] += v as number;
          s[1] += 1;
          return s;
        },
        merge: addPairs,
        result: (a) => {
          const [sum, n] = a as [number, number];
          if (n === 0) return null;
          // AVG of an integer type stays integral (Flink): truncate toward zero.
          return integral(t) ? Math.trunc(sum / n) : r(sum / n);
        },
        save: (a) => [...(a as number[])],
        load: (d) => [...(d as number[])],
      };
    }
    case 'MIN':
    case 'MAX': {
      const sign = call.fn === 'MIN' ? -1 : 1;
      return {
        init: () => null,
        add: stepFrom(ADD_SOURCE[call.fn]),
        addSource: ADD_SOURCE[call.fn],
        merge: (a, b) => (b === null ? a : a === null || compare(b, a) * sign > 0 ? b : a),
        result: identity,
        save: identity,
        load: identity,
      };
    }
    default: {
      const never: never = call.fn;
      return never;
    }
  }
}

export function accumulatorFor(call: AggCall): Accumulator {
  const inner = base(call);
  if (!call.distinct) return inner;
  return {
    init: () => new Set<unknown>(),
    add: (a, v) => {
      if (v !== null && v !== undefined) (a as Set<unknown>).add(v);
      return a;
    },
    // DISTINCT: the union of the values seen on both sides.
    merge: (a, b) => {
      for (const v of b as Set<unknown>) (a as Set<unknown>).add(v);
      return a;
    },
    result: (a) => {
      let acc = inner.init();
      for (const v of a as Set<unknown>) acc = inner.add(acc, v);
      return inner.result(acc);
    },
    save: (a) => [...(a as Set<unknown>)],
    load: (d) => new Set(d as unknown[]),
  };
}

/**
 * An accumulator that can also take a value back out (updating aggregates consume -U/-D). Its state is
 * its own (not the window accumulators'): SUM keeps a count of non-NULL values so that retracting the
 * last one gives NULL again, MIN/MAX keep a value→count multiset so the extremum survives retracting it.
 */
export interface RetractableAccumulator extends Accumulator {
  retract(acc: unknown, v: unknown): unknown;
}

/** A multiset of values (value → how many times); MIN/MAX also cache the current extremum. */
interface Multiset {
  readonly counts: Map<unknown, number>;
  best: unknown;
}

function msAdd(m: Multiset, v: unknown, sign: number): void {
  m.counts.set(v, (m.counts.get(v) ?? 0) + 1);
  if (sign !== 0 && (m.best === null || compare(v, m.best) * sign > 0)) m.best = v;
}

/** False when the value was not in the multiset (a retraction of state TTL already dropped). */
function msRemove(m: Multiset, v: unknown, sign: number): boolean {
  const c = m.counts.get(v);
  if (c === undefined) return false;
  if (c > 1) {
    m.counts.set(v, c - 1);
    return true;
  }
  m.counts.delete(v);
  // Lazy recompute: only retracting the last copy of the current extremum costs a scan.
  if (sign !== 0 && m.best === v) m.best = extremum(m.counts, sign);
  return true;
}

function msMerge(a: Multiset, b: Multiset, sign: number): Multiset {
  for (const [v, c] of b.counts) a.counts.set(v, (a.counts.get(v) ?? 0) + c);
  if (sign !== 0 && b.best !== null && (a.best === null || compare(b.best, a.best) * sign > 0)) a.best = b.best;
  return a;
}

function extremum(counts: Map<unknown, number>, sign: number): unknown {
  let best: unknown = null;
  for (const v of counts.keys()) if (best === null || compare(v, best) * sign > 0) best = v;
  return best;
}

function msSave(m: Multiset): unknown {
  return [...m.counts];
}

function msLoad(d: unknown, sign: number): Multiset {
  const counts = new Map(d as [unknown, number][]);
  return { counts, best: sign === 0 ? null : extremum(counts, sign) };
}

const isNull = (v: unknown): boolean => v === null || v === undefined;

function retractableBase(call: AggCall): RetractableAccumulator {
  switch (call.fn) {
    case 'COUNT_STAR':
      return { init: () => 0, add: (a) => (a as number) + 1, retract: (a) => (a as number) - 1, merge: addNumbers, result: identity, save: identity, load: identity };
    case 'COUNT':
      return {
        init: () => 0,
        add: (a, v) => (isNull(v) ? a : (a as number) + 1),
        retract: (a, v) => (isNull(v) ? a : (a as number) - 1),
        merge: addNumbers,
        result: identity,
        save: identity,
        load: identity,
      };
    case 'SUM':
    case 'AVG': {
      const t = call.type;
      const r = round(t);
      const avg = call.fn === 'AVG';
      const int32 = t.kind === 'INT';
      // [sum, number of non-NULL values]: the sum is NULL (AVG too) when no value is left.
      return {
        init: () => [0, 0],
        add: (a, v) => {
          if (isNull(v)) return a;
          const s = a as [number, number];
          s[0] += v as number;
          s[1] += 1;
          return s;
        },
        retract: (a, v) => {
          if (isNull(v)) return a;
          const s = a as [number, number];
          s[0] -= v as number;
          s[1] -= 1;
          if (s[1] === 0) s[0] = 0; // no drift carried into the next value
          return s;
        },
        merge: addPairs,
        result: (a) => {
          const [sum, n] = a as [number, number];
          if (n <= 0) return null;
          if (avg) return integral(t) ? Math.trunc(sum / n) : r(sum / n);
          return int32 ? sum | 0 : r(sum);
        },
        save: (a) => [...(a as number[])],
        load: (d) => [...(d as number[])],
      };
    }
    case 'MIN':
    case 'MAX': {
      const sign = call.fn === 'MIN' ? -1 : 1;
      return {
        init: (): Multiset => ({ counts: new Map(), best: null }),
        add: (a, v) => {
          if (!isNull(v)) msAdd(a as Multiset, v, sign);
          return a;
        },
        retract: (a, v) => {
          if (!isNull(v)) msRemove(a as Multiset, v, sign);
          return a;
        },
        merge: (a, b) => msMerge(a as Multiset, b as Multiset, sign),
        result: (a) => (a as Multiset).best,
        save: (a) => msSave(a as Multiset),
        load: (d) => msLoad(d, sign),
      };
    }
    default: {
      const never: never = call.fn;
      return never;
    }
  }
}

/** The accumulator of an updating (non-windowed) aggregate: add and retract. */
export function retractableAccumulatorFor(call: AggCall): RetractableAccumulator {
  const inner = retractableBase(call);
  if (!call.distinct) return inner;
  // DISTINCT: a multiset of the values seen; the aggregate runs over its distinct values.
  const plain = base(call);
  return {
    init: (): Multiset => ({ counts: new Map(), best: null }),
    add: (a, v) => {
      if (!isNull(v)) msAdd(a as Multiset, v, 0);
      return a;
    },
    retract: (a, v) => {
      if (!isNull(v)) msRemove(a as Multiset, v, 0);
      return a;
    },
    merge: (a, b) => msMerge(a as Multiset, b as Multiset, 0),
    result: (a) => {
      const counts = (a as Multiset).counts;
      if (call.fn === 'COUNT') return counts.size;
      let acc = plain.init();
      for (const v of counts.keys()) acc = plain.add(acc, v);
      return plain.result(acc);
    },
    save: (a) => msSave(a as Multiset),
    load: (d) => msLoad(d, 0),
  };
}

/**
 * The accumulator of an updating aggregate whose input is insert-only (plain rows: nothing is ever taken
 * back): the window aggregates' cheaper state (a number for SUM, a single value for MIN/MAX), with a
 * retract that cannot happen.
 */
export function insertOnlyAccumulatorFor(call: AggCall): RetractableAccumulator {
  const inner = accumulatorFor(call);
  return {
    ...inner,
    retract: () => {
      throw new Error(`${call.text}: a retraction reached an aggregate planned for insert-only input`);
    },
  };
}
