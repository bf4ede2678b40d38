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
  /** Converts the accumulator to JSON-able data and back (Sets of DISTINCT become arrays). */
  save(acc: unknown): unknown;
  load(data: unknown): unknown;
}

const identity = (x: unknown) => x;

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
      return { init: () => 0, add: (a) => (a as number) + 1, result: identity, save: identity, load: identity };
    case 'COUNT':
      return { init: () => 0, add: (a, v) => (v === null || v === undefined ? a : (a as number) + 1), result: identity, save: identity, load: identity };
    case 'SUM': {
      const r = round(call.type);
      const int32 = call.type.kind === 'INT';
      return {
        init: () => null,
        add: (a, v) => (v === null || v === undefined ? a : a === null ? (v as number) : (a as number) + (v as number)),
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
        add: (a, v) => (v === null || v === undefined ? a : a === null || compare(v, a) * sign > 0 ? v : a),
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
    result: (a) => {
      let acc = inner.init();
      for (const v of a as Set<unknown>) acc = inner.add(acc, v);
      return inner.result(acc);
    },
    save: (a) => [...(a as Set<unknown>)],
    load: (d) => new Set(d as unknown[]),
  };
}
