/**
 * CAST and TRY_CAST: which conversions exist (checked when binding) and the converter for each pair
 * (built once when compiling). A converter returns CAST_FAIL for a value it cannot convert; the
 * compiled CAST throws a DataError for it, TRY_CAST gives NULL.
 */
import type { SqlType } from '../plan/types.ts';
import { typeToString } from '../plan/types.ts';
import { DataError } from './errors.ts';
import { MS_DAY, PARSED, parseTimestampMs } from './time.ts';
import type { Zone } from './tz.ts';
import { isNumericKind, isTemporalKind } from './typing.ts';
import { parseIntegerText, parseNumberText, roundHalfUp, truncatePrecision, valueToString } from './values.ts';

export const CAST_FAIL: unique symbol = Symbol('CAST_FAIL');

export type Converter = (v: any) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Why `from` cannot be cast to `to`, or undefined when it can. */
export function castProblem(from: SqlType, to: SqlType): string | undefined {
  if (canCast(from, to)) return undefined;
  const msg = `Cannot cast ${typeToString(from)} to ${typeToString(to)}`;
  if ((isNumericKind(from) && to.kind === 'TIMESTAMP') || (from.kind === 'TIMESTAMP' && isNumericKind(to))) {
    return `${msg}; use TO_TIMESTAMP_LTZ(epoch, 0|3) or UNIX_TIMESTAMP() for epoch conversions`;
  }
  return msg;
}

export function canCast(from: SqlType, to: SqlType): boolean {
  if (from.kind === 'NULL') return true;
  if (to.kind === 'STRING') return true;
  switch (to.kind) {
    case 'BOOLEAN':
      return from.kind === 'BOOLEAN' || from.kind === 'STRING' || isNumericKind(from);
    case 'INT':
    case 'BIGINT':
    case 'DOUBLE':
    case 'DECIMAL':
      return isNumericKind(from) || from.kind === 'BOOLEAN' || from.kind === 'STRING' || (from.kind === 'TIMESTAMP_LTZ' && to.kind !== 'INT');
    case 'TIMESTAMP':
    case 'DATE':
      return isTemporalKind(from) || from.kind === 'STRING';
    case 'TIMESTAMP_LTZ':
      return isTemporalKind(from) || from.kind === 'STRING' || from.kind === 'INT' || from.kind === 'BIGINT' || from.kind === 'DOUBLE' || from.kind === 'DECIMAL';
    case 'INTERVAL':
      return from.kind === 'INTERVAL';
    case 'ARRAY':
      return from.kind === 'ARRAY' && canCast(from.element, to.element);
    case 'ROW':
      return from.kind === 'ROW' && from.fields.length === to.fields.length && from.fields.every((f, i) => canCast(f.type, to.fields[i]!.type));
    default:
      return false;
  }
}

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;
const LONG_MAX = 9223372036854775807;

function toIntSaturating(v: number): number {
  if (Number.isNaN(v)) return 0;
  const t = Math.trunc(v);
  return t > INT_MAX ? INT_MAX : t < INT_MIN ? INT_MIN : t;
}

function toLong(v: number): number {
  if (Number.isNaN(v)) return 0;
  const t = Math.trunc(v);
  return t > LONG_MAX ? LONG_MAX : t < -LONG_MAX ? -LONG_MAX : t;
}

const TRUE_STRINGS = new Set(['t', 'true', 'y', 'yes', '1']);
const FALSE_STRINGS = new Set(['f', 'false', 'n', 'no', '0']);

function decimalConverter(from: SqlType, p: number, s: number): Converter {
  const limit = Math.pow(10, p - s);
  const fit = (n: number): unknown => {
    if (!Number.isFinite(n)) return null;
    const r = roundHalfUp(n, s);
    return Math.abs(r) < limit ? r : null;
  };
  switch (from.kind) {
    case 'STRING':
      return (v: string) => {
        const n = parseNumberText(v);
        return Number.isNaN(n) ? CAST_FAIL : fit(n);
      };
    case 'BOOLEAN':
      return (v: boolean) => fit(v ? 1 : 0);
    case 'TIMESTAMP_LTZ':
      return (v: number) => fit(v / 1000);
    default:
      return (v: number) => fit(v);
  }
}

/**
 * The converter from `from` to `to`, or null when values pass unchanged. `zone` is the session time zone
 * (TIMESTAMP <-> TIMESTAMP_LTZ, LTZ text). Values given to converters are never null.
 */
export function castConverter(from: SqlType, to: SqlType, zone: Zone): Converter | null {
  if (from.kind === 'NULL') return null;
  switch (to.kind) {
    case 'STRING':
      switch (from.kind) {
        case 'STRING':
          return null;
        case 'BOOLEAN':
          return (v: boolean) => (v ? 'TRUE' : 'FALSE');
        default:
          return (v: unknown) => valueToString(v, from, zone);
      }
    case 'BOOLEAN':
      switch (from.kind) {
        case 'BOOLEAN':
          return null;
        case 'STRING':
          return (v: string) => {
            const t = v.trim().toLowerCase();
            return TRUE_STRINGS.has(t) ? true : FALSE_STRINGS.has(t) ? false : CAST_FAIL;
          };
        default:
          return (v: number) => v !== 0;
      }
    case 'INT':
      switch (from.kind) {
        case 'INT':
          return null;
        case 'BIGINT':
          return (v: number) => v | 0;
        case 'BOOLEAN':
          return (v: boolean) => (v ? 1 : 0);
        case 'STRING':
          return (v: string) => {
            const n = parseIntegerText(v);
            return n >= INT_MIN && n <= INT_MAX ? n : CAST_FAIL;
          };
        default:
          return toIntSaturating;
      }
    case 'BIGINT':
      switch (from.kind) {
        case 'INT':
        case 'BIGINT':
          return null;
        case 'BOOLEAN':
          return (v: boolean) => (v ? 1 : 0);
        case 'STRING':
          return (v: string) => {
            const n = parseIntegerText(v);
            return n >= -LONG_MAX && n <= LONG_MAX ? n : CAST_FAIL;
          };
        case 'TIMESTAMP_LTZ':
          return (v: number) => Math.floor(v / 1000);
        default:
          return toLong;
      }
    case 'DOUBLE':
      switch (from.kind) {
        case 'STRING':
          return (v: string) => {
            const n = parseNumberText(v);
            return Number.isNaN(n) && v.trim() !== 'NaN' ? CAST_FAIL : n;
          };
        case 'BOOLEAN':
          return (v: boolean) => (v ? 1 : 0);
        case 'TIMESTAMP_LTZ':
          return (v: number) => v / 1000;
        default:
          return null;
      }
    case 'DECIMAL':
      if (from.kind === 'DECIMAL' && from.scale <= to.scale && from.precision - from.scale <= to.precision - to.scale) return null;
      if ((from.kind === 'INT' && to.precision - to.scale >= 10) || (from.kind === 'BIGINT' && to.precision - to.scale >= 19)) return null;
      return decimalConverter(from, to.precision, to.scale);
    case 'TIMESTAMP': {
      const p = to.precision;
      const trunc = p < 3 ? (n: number) => truncatePrecision(n, p) : null;
      switch (from.kind) {
        case 'TIMESTAMP':
          return trunc && from.precision > p ? trunc : null;
        case 'DATE':
          return null;
        case 'TIMESTAMP_LTZ':
          return trunc ? (v: number) => trunc(zone.toWall(v)) : (v: number) => zone.toWall(v);
        case 'STRING':
          return (v: string) => {
            const n = parseTimestampMs(v);
            if (Number.isNaN(n)) return CAST_FAIL;
            return trunc ? trunc(n) : n;
          };
        default:
          return null;
      }
    }
    case 'TIMESTAMP_LTZ': {
      const p = to.precision;
      const trunc = p < 3 ? (n: number) => truncatePrecision(n, p) : (n: number) => n;
      switch (from.kind) {
        case 'TIMESTAMP_LTZ':
          return p < 3 && from.precision > p ? trunc : null;
        case 'TIMESTAMP':
        case 'DATE':
          return (v: number) => trunc(zone.fromWall(v));
        case 'STRING':
          return (v: string) => {
            const n = parseTimestampMs(v);
            if (Number.isNaN(n)) return CAST_FAIL;
            return trunc(PARSED.hadZone ? n : zone.fromWall(n));
          };
        default:
          // numbers are epoch seconds, as in Flink
          return (v: number) => (Number.isFinite(v) ? trunc(Math.floor(v * 1000)) : CAST_FAIL);
      }
    }
    case 'DATE':
      switch (from.kind) {
        case 'DATE':
          return null;
        case 'TIMESTAMP':
          return (v: number) => Math.floor(v / MS_DAY) * MS_DAY;
        case 'TIMESTAMP_LTZ':
          return (v: number) => Math.floor(zone.toWall(v) / MS_DAY) * MS_DAY;
        case 'STRING':
          return (v: string) => {
            const n = parseTimestampMs(v);
            return Number.isNaN(n) ? CAST_FAIL : Math.floor(n / MS_DAY) * MS_DAY;
          };
        default:
          return null;
      }
    case 'ARRAY': {
      if (from.kind !== 'ARRAY') return null;
      const el = castConverter(from.element, to.element, zone);
      if (!el) return null;
      return (v: readonly unknown[]) => {
        const out = new Array(v.length);
        for (let i = 0; i < v.length; i++) {
          const x = v[i];
          if (x === null || x === undefined) {
            out[i] = null;
            continue;
          }
          const y = el(x);
          if (y === CAST_FAIL) return CAST_FAIL;
          out[i] = y;
        }
        return out;
      };
    }
    case 'ROW': {
      if (from.kind !== 'ROW') return null;
      const src = from.fields.map((f) => f.name);
      const dst = to.fields.map((f) => f.name);
      const convs = from.fields.map((f, i) => castConverter(f.type, to.fields[i]!.type, zone));
      return (v: Record<string, unknown>) => {
        const out: Record<string, unknown> = {};
        for (let i = 0; i < src.length; i++) {
          const x = v[src[i]!];
          if (x === null || x === undefined) {
            out[dst[i]!] = null;
            continue;
          }
          const c = convs[i];
          const y = c ? c(x) : x;
          if (y === CAST_FAIL) return CAST_FAIL;
          out[dst[i]!] = y;
        }
        return out;
      };
    }
    default:
      return null;
  }
}

function describe(v: unknown): string {
  if (typeof v === 'string') return `'${v.length > 60 ? v.slice(0, 57) + '...' : v}'`;
  if (Array.isArray(v) || (v !== null && typeof v === 'object')) {
    const s = JSON.stringify(v) ?? String(v);
    return s.length > 60 ? s.slice(0, 57) + '...' : s;
  }
  return String(v);
}

/** The DataError a failed CAST raises at run time. */
export function castError(v: unknown, target: string): DataError {
  return new DataError(`CAST of ${describe(v)} to ${target} failed`);
}
