/**
 * Type rules shared by the binder and the function registry: numeric widening
 * (INT < BIGINT < DECIMAL < DOUBLE, Flink's decimal precision rules), common types of CASE/COALESCE/IN
 * branches, and which types compare with which.
 */
import { T, typeToString } from '../plan/types.ts';
import type { SqlType } from '../plan/types.ts';

export const MAX_PRECISION = 38;

export function isNumericKind(t: SqlType): boolean {
  return t.kind === 'INT' || t.kind === 'BIGINT' || t.kind === 'DOUBLE' || t.kind === 'DECIMAL';
}

export function isIntegral(t: SqlType): boolean {
  return t.kind === 'INT' || t.kind === 'BIGINT';
}

export function isTimestampKind(t: SqlType): boolean {
  return t.kind === 'TIMESTAMP' || t.kind === 'TIMESTAMP_LTZ';
}

export function isTemporalKind(t: SqlType): boolean {
  return t.kind === 'TIMESTAMP' || t.kind === 'TIMESTAMP_LTZ' || t.kind === 'DATE';
}

export function isNull(t: SqlType): boolean {
  return t.kind === 'NULL';
}

/** Precision and scale of an exact numeric type seen as DECIMAL. */
export function decimalOf(t: SqlType): { p: number; s: number } {
  switch (t.kind) {
    case 'INT':
      return { p: 10, s: 0 };
    case 'BIGINT':
      return { p: 19, s: 0 };
    case 'DECIMAL':
      return { p: t.precision, s: t.scale };
    default:
      return { p: MAX_PRECISION, s: 0 };
  }
}

export function decimal(p: number, s: number): SqlType {
  const sc = Math.max(0, Math.min(s, MAX_PRECISION));
  return T.decimal(Math.max(1, Math.min(MAX_PRECISION, Math.max(p, sc))), sc);
}

const RANK: Record<string, number> = { INT: 1, BIGINT: 2, DECIMAL: 3, DOUBLE: 4 };

/** The wider of two numeric types (for comparisons, CASE branches, COALESCE). */
export function widerNumeric(a: SqlType, b: SqlType): SqlType {
  if (a.kind === 'DOUBLE' || b.kind === 'DOUBLE') return T.double;
  if (a.kind === 'DECIMAL' || b.kind === 'DECIMAL') {
    const x = decimalOf(a);
    const y = decimalOf(b);
    const s = Math.max(x.s, y.s);
    return decimal(Math.max(x.p - x.s, y.p - y.s) + s, s);
  }
  return RANK[a.kind]! >= RANK[b.kind]! ? a : b;
}

/** Result type of + and - on numbers (Flink: DECIMAL(max(p1-s1, p2-s2) + max(s1, s2) + 1, max(s1, s2))). */
export function addType(a: SqlType, b: SqlType): SqlType {
  if (a.kind === 'DOUBLE' || b.kind === 'DOUBLE') return T.double;
  if (a.kind === 'DECIMAL' || b.kind === 'DECIMAL') {
    const x = decimalOf(a);
    const y = decimalOf(b);
    const s = Math.max(x.s, y.s);
    return decimal(Math.max(x.p - x.s, y.p - y.s) + s + 1, s);
  }
  return RANK[a.kind]! >= RANK[b.kind]! ? a : b;
}

export function mulType(a: SqlType, b: SqlType): SqlType {
  if (a.kind === 'DOUBLE' || b.kind === 'DOUBLE') return T.double;
  if (a.kind === 'DECIMAL' || b.kind === 'DECIMAL') {
    const x = decimalOf(a);
    const y = decimalOf(b);
    return decimal(x.p + y.p, Math.min(x.s + y.s, MAX_PRECISION));
  }
  return RANK[a.kind]! >= RANK[b.kind]! ? a : b;
}

export function divType(a: SqlType, b: SqlType): SqlType {
  if (a.kind === 'DOUBLE' || b.kind === 'DOUBLE') return T.double;
  if (a.kind === 'DECIMAL' || b.kind === 'DECIMAL') {
    const x = decimalOf(a);
    const y = decimalOf(b);
    let s = Math.max(6, x.s + y.p + 1);
    let p = x.p - x.s + y.s + s;
    if (p > MAX_PRECISION) {
      s = Math.max(6, MAX_PRECISION - (p - s));
      p = MAX_PRECISION;
    }
    return decimal(p, Math.min(s, p));
  }
  return RANK[a.kind]! >= RANK[b.kind]! ? a : b;
}

export function modType(a: SqlType, b: SqlType): SqlType {
  if (a.kind === 'DOUBLE' || b.kind === 'DOUBLE') return T.double;
  if (a.kind === 'DECIMAL' || b.kind === 'DECIMAL') {
    const x = decimalOf(a);
    const y = decimalOf(b);
    const s = Math.max(x.s, y.s);
    return decimal(Math.min(x.p - x.s, y.p - y.s) + s, s);
  }
  return b.kind === 'INT' ? b : RANK[a.kind]! >= RANK[b.kind]! ? a : b;
}

function maxPrecision(a: SqlType, b: SqlType): number {
  const pa = 'precision' in a ? (a as { precision: number }).precision : 3;
  const pb = 'precision' in b ? (b as { precision: number }).precision : 3;
  return Math.max(pa, pb);
}

/**
 * The type both `a` and `b` convert to without loss, or undefined. NULL goes with anything;
 * numbers widen; DATE < TIMESTAMP < TIMESTAMP_LTZ.
 */
export function commonType(a: SqlType, b: SqlType): SqlType | undefined {
  if (a.kind === 'NULL') return b;
  if (b.kind === 'NULL') return a;
  if (isNumericKind(a) && isNumericKind(b)) return widerNumeric(a, b);
  if (isTemporalKind(a) && isTemporalKind(b)) {
    if (a.kind === 'DATE' && b.kind === 'DATE') return a;
    if (a.kind === 'TIMESTAMP_LTZ' || b.kind === 'TIMESTAMP_LTZ') return { kind: 'TIMESTAMP_LTZ', precision: maxPrecision(a, b) };
    return { kind: 'TIMESTAMP', precision: a.kind === 'DATE' ? maxPrecision(b, b) : b.kind === 'DATE' ? maxPrecision(a, a) : maxPrecision(a, b) };
  }
  if (a.kind !== b.kind) return undefined;
  switch (a.kind) {
    case 'ARRAY': {
      const e = commonType(a.element, (b as { element: SqlType }).element);
      return e ? T.array(e) : undefined;
    }
    case 'ROW': {
      const bf = (b as { fields: readonly { name: string; type: SqlType }[] }).fields;
      if (a.fields.length !== bf.length) return undefined;
      const fields: { name: string; type: SqlType }[] = [];
      for (let i = 0; i < a.fields.length; i++) {
        const t = commonType(a.fields[i]!.type, bf[i]!.type);
        if (!t) return undefined;
        fields.push({ name: a.fields[i]!.name, type: t });
      }
      return { kind: 'ROW', fields };
    }
    default:
      return a;
  }
}

export function commonTypeAll(types: readonly SqlType[]): SqlType | undefined {
  let t: SqlType = T.null;
  for (const x of types) {
    const c = commonType(t, x);
    if (!c) return undefined;
    t = c;
  }
  return t;
}

/** Whether = and <> apply to a pair of types (after the binder's implicit conversions). */
export function equalityComparable(a: SqlType, b: SqlType): boolean {
  return commonType(a, b) !== undefined;
}

/** Whether <, <=, >, >= apply: numbers, strings, booleans, temporal values, intervals. */
export function orderComparable(a: SqlType, b: SqlType): boolean {
  const c = commonType(a, b);
  if (!c) return false;
  return c.kind !== 'ARRAY' && c.kind !== 'ROW';
}

export function show(t: SqlType): string {
  return typeToString(t);
}

/** Whether values of type `t` are represented by JS numbers. */
export function isNumberRepr(t: SqlType): boolean {
  return isNumericKind(t) || isTemporalKind(t) || t.kind === 'INTERVAL';
}
