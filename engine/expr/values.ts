/**
 * Runtime values (engine/plan/types.ts): formatting for display and JSON, parsing of timestamps, and
 * coerce(), the conversion of decoded JSON to a declared column type as Flink's JSON format does it.
 */
import type { SqlType } from '../plan/types.ts';
import { typeToString } from '../plan/types.ts';
import { DataError } from './errors.ts';
import { MS_DAY, PARSED, formatDate, formatInterval, formatTimestamp as formatTs, parseTimestampMs } from './time.ts';
import { getZone, UTC } from './tz.ts';
import type { Zone } from './tz.ts';

export { formatDate, formatInterval } from './time.ts';

/** 'yyyy-MM-dd HH:mm:ss.SSS' of a TIMESTAMP value (wall clock as UTC millis); `precision` fraction digits. */
export function formatTimestamp(ms: number, precision = 3): string {
  return formatTs(ms, precision);
}

/**
 * Parses a TIMESTAMP text: 'yyyy-MM-dd HH:mm:ss.SSS', without fraction or with 1 to 9 fraction digits,
 * date only, ISO-8601 with 'T' and optional 'Z'/offset (converted to UTC). Null when not a timestamp.
 */
export function parseTimestamp(s: string): number | null {
  const v = parseTimestampMs(s);
  return Number.isNaN(v) ? null : v;
}

/** Parses a TIMESTAMP_LTZ text: with a zone suffix it is that instant, without one a wall clock in `timeZone`. */
export function parseTimestampLtz(s: string, timeZone: string | Zone = 'UTC'): number | null {
  const v = parseTimestampMs(s);
  if (Number.isNaN(v)) return null;
  if (PARSED.hadZone) return v;
  return (typeof timeZone === 'string' ? getZone(timeZone) : timeZone).fromWall(v);
}

/** Parses 'yyyy-MM-dd' (a timestamp text is accepted and truncated to its day). */
export function parseDate(s: string): number | null {
  const v = parseTimestampMs(s);
  if (Number.isNaN(v)) return null;
  return Math.floor(v / MS_DAY) * MS_DAY;
}

const POW10: number[] = [];
for (let i = 0; i <= 22; i++) POW10.push(Math.pow(10, i));
const NUDGE = 1 + 2 * Number.EPSILON;

/**
 * Rounds half away from zero (Java's HALF_UP) to `digits` decimal places (negative: tens, hundreds, ...).
 * A 2-ulp nudge makes 1.005 (stored as 1.00499999999999989...) round to 1.01 as its decimal text does.
 */
export function roundHalfUp(v: number, digits: number): number {
  if (!Number.isFinite(v)) return v;
  if (digits >= 0) {
    if (digits > 22) return v;
    const f = POW10[digits]!;
    const x = Math.abs(v) * f;
    if (x >= 4503599627370496) return v;
    const r = Math.round(x * NUDGE) / f;
    return v < 0 && r !== 0 ? -r : r;
  }
  const f = Math.pow(10, -digits);
  const x = Math.abs(v) / f;
  const r = Math.round(x * NUDGE) * f;
  return v < 0 && r !== 0 ? -r : r;
}

/** Java's Double.toString: '1.0', '0.001', '1.0E-4', '1.5E10', 'NaN', 'Infinity'. */
export function formatDouble(v: number): string {
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e7) {
    const s = String(v);
    return s.includes('.') ? s : s + '.0';
  }
  const e = v.toExponential();
  const at = e.indexOf('e');
  let mant = e.slice(0, at);
  if (!mant.includes('.')) mant += '.0';
  const exp = e.slice(at + 1);
  return mant + 'E' + (exp[0] === '+' ? exp.slice(1) : exp);
}

/** Integer text without exponent notation, also beyond 2^53. */
export function formatInteger(v: number): string {
  if (Number.isSafeInteger(v) || !Number.isInteger(v)) return String(v);
  return BigInt(v).toString();
}

export function formatDecimal(v: number, scale: number): string {
  if (Math.abs(v) >= 1e21) return scale > 0 ? BigInt(Math.trunc(v)).toString() + '.' + '0'.repeat(scale) : BigInt(Math.trunc(v)).toString();
  const s = v.toFixed(Math.min(scale, 100));
  return s.startsWith('-') && /^-0\.?0*$/.test(s) ? s.slice(1) : s;
}

function zoneOf(timeZone: string | Zone | undefined): Zone {
  if (timeZone === undefined) return UTC;
  return typeof timeZone === 'string' ? getZone(timeZone) : timeZone;
}

/**
 * The text of a value as CAST(v AS STRING) gives it (Flink's formats): BOOLEAN 'TRUE'/'FALSE', DOUBLE as
 * Java prints it, DECIMAL with its scale, TIMESTAMP with its precision, TIMESTAMP_LTZ in `timeZone`,
 * ARRAY '[a, b]', ROW '(a, b)'. Null for null.
 */
export function valueToString(v: unknown, type: SqlType, timeZone?: string | Zone): string | null {
  if (v === null || v === undefined) return null;
  switch (type.kind) {
    case 'BOOLEAN':
      return v ? 'TRUE' : 'FALSE';
    case 'INT':
    case 'BIGINT':
      return formatInteger(v as number);
    case 'DOUBLE':
      return formatDouble(v as number);
    case 'DECIMAL':
      return formatDecimal(v as number, type.scale);
    case 'STRING':
      return String(v);
    case 'TIMESTAMP':
      return formatTs(v as number, type.precision);
    case 'TIMESTAMP_LTZ':
      return formatTs(zoneOf(timeZone).toWall(v as number), type.precision);
    case 'DATE':
      return formatDate(v as number);
    case 'INTERVAL':
      return formatInterval(v as number);
    case 'ARRAY': {
      const arr = v as readonly unknown[];
      let out = '[';
      for (let i = 0; i < arr.length; i++) {
        if (i > 0) out += ', ';
        out += valueToString(arr[i], type.element, timeZone) ?? 'NULL';
      }
      return out + ']';
    }
    case 'ROW': {
      const o = v as Record<string, unknown>;
      return '(' + type.fields.map((f) => valueToString(o[f.name], f.type, timeZone) ?? 'NULL').join(', ') + ')';
    }
    case 'NULL':
      return null;
    default:
      return String(v);
  }
}

export interface FormatOptions {
  /** 'SQL' (default): 'yyyy-MM-dd HH:mm:ss.SSS'; 'ISO-8601': 'yyyy-MM-ddTHH:mm:ss.SSS', LTZ with offset ('Z'). */
  readonly timestampFormat?: 'SQL' | 'ISO-8601';
}

function isoOffset(off: number): string {
  if (off === 0) return 'Z';
  const a = Math.abs(off);
  const h = Math.floor(a / 3_600_000);
  const m = Math.floor((a % 3_600_000) / 60_000);
  return (off < 0 ? '-' : '+') + (h < 10 ? '0' : '') + h + ':' + (m < 10 ? '0' : '') + m;
}

/**
 * A value as JSON for REST answers, the console and JSON sinks (DESIGN §2): BOOLEAN true/false, numbers as
 * numbers except BIGINT/DECIMAL beyond 2^53 (strings) and non-finite DOUBLEs ('NaN', 'Infinity'),
 * TIMESTAMP as 'yyyy-MM-dd HH:mm:ss.SSS', TIMESTAMP_LTZ as the wall clock in `timeZone`, DATE
 * 'yyyy-MM-dd', INTERVAL as Flink's text, ARRAY as an array and ROW as an object.
 */
export function formatValue(v: unknown, type: SqlType, timeZone: string | Zone = 'UTC', options?: FormatOptions): unknown {
  if (v === null || v === undefined) return null;
  const iso = options?.timestampFormat === 'ISO-8601';
  switch (type.kind) {
    case 'BOOLEAN':
      return Boolean(v);
    case 'INT':
      return v;
    case 'BIGINT':
      return Number.isSafeInteger(v) ? v : formatInteger(v as number);
    case 'DOUBLE':
      return Number.isFinite(v) ? v : formatDouble(v as number);
    case 'DECIMAL':
      return Math.abs(v as number) <= Number.MAX_SAFE_INTEGER ? v : formatDecimal(v as number, type.scale);
    case 'STRING':
      return v;
    case 'TIMESTAMP': {
      const s = formatTs(v as number, type.precision);
      return iso ? s.replace(' ', 'T') : s;
    }
    case 'TIMESTAMP_LTZ': {
      const z = zoneOf(timeZone);
      const off = z.offset(v as number);
      const s = formatTs((v as number) + off, type.precision);
      return iso ? s.replace(' ', 'T') + isoOffset(off) : s;
    }
    case 'DATE':
      return formatDate(v as number);
    case 'INTERVAL':
      return formatInterval(v as number);
    case 'ARRAY':
      return (v as readonly unknown[]).map((x) => formatValue(x, type.element, timeZone, options));
    case 'ROW': {
      const o = v as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const f of type.fields) out[f.name] = formatValue(o[f.name], f.type, timeZone, options);
      return out;
    }
    case 'NULL':
      return null;
    default:
      return v;
  }
}

// ---------------------------------------------------------------------------------------------
// coerce: decoded JSON -> declared type

const INT_RE = /^[+-]?\d+(?:\.\d*)?$/;
const NUM_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function describeValue(v: unknown): string {
  if (typeof v === 'string') return `'${v.length > 60 ? v.slice(0, 57) + '...' : v}'`;
  if (typeof v === 'object') {
    const s = JSON.stringify(v) ?? String(v);
    return s.length > 60 ? s.slice(0, 57) + '...' : s;
  }
  return String(v);
}

function fail(v: unknown, type: SqlType): never {
  throw new DataError(`Cannot convert ${describeValue(v)} to ${typeToString(type)}`);
}

/** Parses an integer text, Flink style: trimmed, a fraction is allowed and truncated. NaN when invalid. */
export function parseIntegerText(s: string): number {
  const t = s.trim();
  if (!INT_RE.test(t)) return Number.NaN;
  return Math.trunc(Number(t));
}

/** Parses a floating-point text like Java's Double.parseDouble (trimmed; NaN, Infinity). NaN when invalid. */
export function parseNumberText(s: string): number {
  const t = s.trim();
  if (NUM_RE.test(t)) return Number(t);
  if (t === 'NaN') return Number.NaN;
  if (t === 'Infinity' || t === '+Infinity') return Infinity;
  if (t === '-Infinity') return -Infinity;
  return Number.NaN;
}

function isNumText(s: string): boolean {
  const t = s.trim();
  return t === 'NaN' || t === 'Infinity' || t === '+Infinity' || t === '-Infinity' || NUM_RE.test(t);
}

export type Coercer = (v: unknown) => unknown;

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;
const LONG_LIMIT = 9223372036854775807;

/**
 * A converter from decoded JSON to `type` (compile once per column, call per record). Follows Flink's JSON
 * format: numbers from numeric strings and the reverse, INT/BIGINT truncate a fractional number, STRING
 * takes the text of numbers/booleans and the JSON of objects/arrays. Lenient beyond Flink: TIMESTAMP and
 * TIMESTAMP_LTZ also take epoch millis numbers, DATE takes epoch days. Missing/null is null; anything not
 * convertible throws DataError.
 */
export function makeCoercer(type: SqlType, timeZone: string | Zone = 'UTC'): Coercer {
  switch (type.kind) {
    case 'BOOLEAN':
      return (v) => {
        if (v === null || v === undefined) return null;
        if (typeof v === 'boolean') return v;
        if (typeof v === 'string') {
          const t = v.trim().toLowerCase();
          if (t === 'true') return true;
          if (t === 'false') return false;
        }
        return fail(v, type);
      };
    case 'INT':
      return (v) => {
        if (v === null || v === undefined) return null;
        let n: number;
        if (typeof v === 'number') n = Math.trunc(v);
        else if (typeof v === 'string') n = parseIntegerText(v);
        else if (typeof v === 'bigint') n = Number(v);
        else return fail(v, type);
        if (!(n >= INT_MIN && n <= INT_MAX)) return fail(v, type);
        return n;
      };
    case 'BIGINT':
      return (v) => {
        if (v === null || v === undefined) return null;
        let n: number;
        if (typeof v === 'number') n = Math.trunc(v);
        else if (typeof v === 'string') n = parseIntegerText(v);
        else if (typeof v === 'bigint') n = Number(v);
        else return fail(v, type);
        if (!(n >= -LONG_LIMIT && n <= LONG_LIMIT)) return fail(v, type);
        return n;
      };
    case 'DOUBLE':
      return (v) => {
        if (v === null || v === undefined) return null;
        if (typeof v === 'number') return v;
        if (typeof v === 'string' && isNumText(v)) return parseNumberText(v);
        if (typeof v === 'bigint') return Number(v);
        return fail(v, type);
      };
    case 'DECIMAL': {
      const limit = Math.pow(10, type.precision - type.scale);
      const scale = type.scale;
      return (v) => {
        if (v === null || v === undefined) return null;
        let n: number;
        if (typeof v === 'number') n = v;
        else if (typeof v === 'string' && NUM_RE.test(v.trim())) n = Number(v.trim());
        else if (typeof v === 'bigint') n = Number(v);
        else return fail(v, type);
        const r = roundHalfUp(n, scale);
        if (!(Math.abs(r) < limit)) return fail(v, type);
        return r;
      };
    }
    case 'STRING':
      return (v) => {
        if (v === null || v === undefined) return null;
        if (typeof v === 'string') return v;
        if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
        return JSON.stringify(v);
      };
    case 'TIMESTAMP': {
      const p = type.precision;
      return (v) => {
        if (v === null || v === undefined) return null;
        let n: number;
        if (typeof v === 'string') n = parseTimestampMs(v);
        else if (typeof v === 'number' && Number.isFinite(v)) n = Math.floor(v);
        else return fail(v, type);
        if (Number.isNaN(n)) return fail(v, type);
        return p >= 3 ? n : truncatePrecision(n, p);
      };
    }
    case 'TIMESTAMP_LTZ': {
      const z = zoneOf(timeZone);
      const p = type.precision;
      return (v) => {
        if (v === null || v === undefined) return null;
        let n: number;
        if (typeof v === 'string') {
          n = parseTimestampMs(v);
          if (Number.isNaN(n)) return fail(v, type);
          if (!PARSED.hadZone) n = z.fromWall(n);
        } else if (typeof v === 'number' && Number.isFinite(v)) n = Math.floor(v);
        else return fail(v, type);
        return p >= 3 ? n : truncatePrecision(n, p);
      };
    }
    case 'DATE':
      return (v) => {
        if (v === null || v === undefined) return null;
        if (typeof v === 'string') {
          const n = parseTimestampMs(v);
          if (Number.isNaN(n)) return fail(v, type);
          return Math.floor(n / MS_DAY) * MS_DAY;
        }
        if (typeof v === 'number' && Number.isInteger(v)) return v * MS_DAY;
        return fail(v, type);
      };
    case 'INTERVAL':
      return (v) => {
        if (v === null || v === undefined) return null;
        if (typeof v === 'number') return v;
        return fail(v, type);
      };
    case 'ARRAY': {
      const el = makeCoercer(type.element, timeZone);
      return (v) => {
        if (v === null || v === undefined) return null;
        if (!Array.isArray(v)) return fail(v, type);
        const out = new Array(v.length);
        for (let i = 0; i < v.length; i++) out[i] = el(v[i]);
        return out;
      };
    }
    case 'ROW': {
      const names = type.fields.map((f) => f.name);
      const fs = type.fields.map((f) => makeCoercer(f.type, timeZone));
      return (v) => {
        if (v === null || v === undefined) return null;
        if (typeof v !== 'object' || Array.isArray(v)) return fail(v, type);
        const o = v as Record<string, unknown>;
        const out: Record<string, unknown> = {};
        for (let i = 0; i < names.length; i++) out[names[i]!] = fs[i]!(o[names[i]!]);
        return out;
      };
    }
    case 'NULL':
      return () => null;
    default:
      return (v) => v;
  }
}

const coercers = new WeakMap<SqlType, Map<string, Coercer>>();

/** Converts one decoded JSON value to `type` (see makeCoercer; prefer makeCoercer in loops). */
export function coerce(value: unknown, type: SqlType, timeZone: string = 'UTC'): unknown {
  let byZone = coercers.get(type);
  if (!byZone) {
    byZone = new Map();
    coercers.set(type, byZone);
  }
  let c = byZone.get(timeZone);
  if (!c) {
    c = makeCoercer(type, timeZone);
    byZone.set(timeZone, c);
  }
  return c(value);
}

/** Truncates epoch millis to `precision` fraction digits (0, 1 or 2; 3 and more keep millis). */
export function truncatePrecision(ms: number, precision: number): number {
  if (precision >= 3) return ms;
  const unit = precision <= 0 ? 1000 : precision === 1 ? 100 : 10;
  return ms - (((ms % unit) + unit) % unit);
}
