/**
 * JSON row codec by declared schema, following Flink's `json` format (JsonRowDataDeserializationSchema /
 * JsonToRowDataConverters and their serializing twins). See docs/kafka-client.md § JSON format.
 *
 * Decoding: `JSON.parse`, then one precompiled converter per column (built once per schema; nothing but
 * the row array and nested values is allocated per record). A converter returns the value, or the
 * INVALID sentinel when the JSON value cannot be converted; only then is an error message built.
 * Projection pushdown (option `fields`): when the query reads only some columns, a single-pass scanner
 * over the record's bytes (json-scan.ts) validates the whole record but converts only those columns,
 * leaving NULL in the others; it hands every record it is not sure about to the JSON.parse path, so the
 * outcome — row, skip or bad record — is always the same as without pushdown.
 *
 * The decoder's result:
 *   - a row array in column order;
 *   - `null`: skip the record silently (not an error): a Kafka tombstone (null value), an empty value, the
 *     JSON literal `null`, and — with ignoreParseErrors — a record that is not valid JSON or not a JSON
 *     object (Flink's deserializer returns null for these and the source drops them);
 *   - throws BadRecordError (without ignoreParseErrors) when the record is not valid JSON, not a JSON
 *     object, or a field cannot be converted. The caller counts it and keeps/dead-letters it (DESIGN §2).
 *
 * Conversions (Flink's, with the noted differences):
 *   BOOLEAN    true/false; a string or number is true iff its text is "true" in any case (Flink's
 *              Boolean.parseBoolean: "yes", "1" and 1 are false). Objects and arrays are errors (Flink: false).
 *   INT        integral numbers (fractions truncated, as Jackson's asInt) within 32 bits; strings of an
 *              optional sign and digits (trimmed).
 *   BIGINT     the same within 64 bits, as a JS number (exact up to 2^53; JSON.parse already rounds
 *              longer integer literals).
 *   DOUBLE     numbers; numeric strings, also "NaN", "Infinity", "-Infinity" (Java's parseDouble).
 *   DECIMAL    numbers and numeric strings, rounded HALF_UP to the scale on the shortest decimal text of
 *              the number (as Flink's BigDecimal path does); a value beyond the precision is NULL (Flink's
 *              DecimalData.fromBigDecimal returns null), not an error.
 *   STRING     strings; other values as their JSON text (numbers as JS prints them: 1.0 reads "1").
 *   TIMESTAMP  'yyyy-MM-dd HH:mm:ss[.fff]' and ISO-8601 ('T', optional zone designator, which is ignored:
 *              the wall clock is kept) whatever the standard option; also a number = epoch millis
 *              (an extension: Flink refuses numbers).
 *   TIMESTAMP_LTZ  the same text, read as UTC unless it carries 'Z' or an offset; or epoch millis.
 *   DATE       'yyyy-MM-dd'.
 *   INTERVAL   a number of millis (Flink's JSON format has no intervals).
 *   ARRAY      a JSON array, elements converted recursively.
 *   ROW        a JSON object → plain object keyed by field name, converted recursively.
 * A missing field or JSON null is NULL. Keys match column names case-sensitively (as in Flink). With
 * ignoreParseErrors every unconvertible value — top-level field, nested field, array element — becomes NULL.
 */
import type { SqlType } from '../../engine/plan/types.ts';
import { typeToString } from '../../engine/plan/types.ts';
import { daysFromCivil, formatDate, formatInstant, formatTimestamp, parseDate, parseTimestamp, zoneOffsetFn } from './timestamp.ts';
import type { ZoneOffsetFn } from './timestamp.ts';
import { createProjectedScanner, FALLBACK, K_ALL, K_BOOLEAN, K_NUMBER, K_STRING } from './json-scan.ts';
import type { ScanColumn } from './json-scan.ts';
import { createShapedScanner } from './json-template.ts';

export interface JsonColumn {
  readonly name: string;
  readonly type: SqlType;
}

export type TimestampStandard = 'SQL' | 'ISO-8601';

export interface JsonDecoderOptions {
  /** 'json.ignore-parse-errors': unconvertible values become NULL; unparsable records are skipped. */
  readonly ignoreParseErrors: boolean;
  /** 'json.timestamp-format.standard'. Parsing accepts both forms whatever it says (DESIGN §2). */
  readonly timestampStandard: TimestampStandard;
  /** 'json.fail-on-missing-field' (default false): a missing field is a bad record instead of NULL. */
  readonly failOnMissingField?: boolean;
  /**
   * Projection pushdown: one flag per column (same length as the columns); false = the query does not
   * read that column, and the decoder puts NULL there instead of its value. Which records are skipped or
   * bad does not change (an unread field that JSON.parse or its converter would reject still makes the
   * record bad); only the work of building unread values is saved. Default: every column is read.
   */
  readonly fields?: readonly boolean[];
}

export interface JsonEncoderOptions {
  /** 'json.timestamp-format.standard': 'SQL' writes 'yyyy-MM-dd HH:mm:ss.SSS', 'ISO-8601' uses 'T'. */
  readonly timestampStandard: TimestampStandard;
  /**
   * 'table.local-time-zone' for TIMESTAMP_LTZ values, written as that zone's wall clock followed by its
   * offset ('2024-01-01 20:00:00.000+08:00'). The default 'UTC' writes '...Z', exactly as Flink does.
   */
  readonly timeZone?: string;
  /** 'json.encode.ignore-null-fields' (default false): leave out fields whose value is NULL. */
  readonly ignoreNullFields?: boolean;
}

/** A record that is not valid JSON, not a JSON object, or has a field that cannot be converted. */
export class BadRecordError extends Error {
  /** Path of the offending field ('att', 'user.name', 'tags[2]'), or undefined for the whole record. */
  readonly field: string | undefined;

  constructor(message: string, field?: string) {
    super(message);
    this.name = 'BadRecordError';
    this.field = field;
  }
}

/**
 * Row array in column order, or null for "skip this record silently". `at`, when there: the same for the
 * record in b[start, end), without a Buffer view of it (KafkaRecord.bytes).
 */
export type JsonDecoder = ((bytes: Buffer | Uint8Array | string | null) => unknown[] | null) & {
  readonly at?: (b: Buffer, start: number, end: number) => unknown[] | null;
  /** Projected decoders: records decoded by a scanner of their shape, and shapes learned (json-template.ts). */
  readonly shapes?: { readonly hits: number; readonly shapes: number };
};
export type JsonEncoder = (row: readonly unknown[]) => Buffer;

// ------------------------------------------------------------------------------------------- decoding

const INVALID: unique symbol = Symbol('invalid');
type Converted = unknown | typeof INVALID;
type Converter = (v: unknown) => Converted;

const INT_RE = /^\s*[+-]?\d+\s*$/;
const DOUBLE_RE = /^\s*[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|NaN|Infinity)\s*$/;
const DECIMAL_RE = /^\s*[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)\s*$/;
const INT_MIN = -2147483648;
const INT_MAX = 2147483647;
const LONG_LIMIT = 2 ** 63;

/** Flink: a JSON boolean, else Boolean.parseBoolean(text.trim()) — "true" in any case is true, any other scalar false. */
function toBoolean(v: unknown): Converted {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    const t = v.length === 4 ? v : v.trim();
    return t === 'true' || (t.length === 4 && t.toLowerCase() === 'true');
  }
  if (typeof v === 'number') return false;
  return INVALID; // objects and arrays (Flink: false; we call that a bad record)
}

function toInt(v: unknown): Converted {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return INVALID;
    const n = Math.trunc(v);
    return n >= INT_MIN && n <= INT_MAX ? n + 0 : INVALID; // + 0 turns -0 into 0
  }
  if (typeof v === 'string' && INT_RE.test(v)) {
    const n = Number(v);
    return n >= INT_MIN && n <= INT_MAX ? n : INVALID;
  }
  return INVALID;
}

function toBigint(v: unknown): Converted {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return INVALID;
    const n = Math.trunc(v);
    return n >= -LONG_LIMIT && n < LONG_LIMIT ? n + 0 : INVALID;
  }
  if (typeof v === 'string' && INT_RE.test(v)) {
    const n = Number(v);
    return n >= -LONG_LIMIT && n < LONG_LIMIT ? n : INVALID;
  }
  return INVALID;
}

function toDouble(v: unknown): Converted {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && DOUBLE_RE.test(v)) return Number(v);
  return INVALID;
}

function toString_(v: unknown): Converted {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/**
 * Rounds HALF_UP (away from zero, Java's RoundingMode.HALF_UP) to `scale` digits after the point, working
 * on the shortest decimal text of x so that 1.005 rounds to 1.01 as BigDecimal("1.005") does.
 */
export function roundHalfUp(x: number, scale: number): number {
  if (Number.isInteger(x) || !Number.isFinite(x)) return x;
  const text = String(x);
  const e = text.indexOf('e');
  const mantissa = e < 0 ? text : text.slice(0, e);
  const exp = e < 0 ? 0 : Number(text.slice(e + 1));
  const shifted = Number(`${mantissa}e${exp + scale}`);
  const r = shifted < 0 ? -Math.round(-shifted) : Math.round(shifted);
  return Number(`${r}e${-scale}`) + 0;
}

function decimalConverter(precision: number, scale: number): Converter {
  const limit = 10 ** (precision - scale);
  return (v: unknown): Converted => {
    let n: number;
    if (typeof v === 'number') n = v;
    else if (typeof v === 'string' && DECIMAL_RE.test(v)) n = Number(v);
    else return INVALID;
    if (!Number.isFinite(n)) return INVALID;
    const r = roundHalfUp(n, scale);
    return Math.abs(r) >= limit ? null : r; // Flink: a value beyond the precision is NULL
  };
}

function toTimestamp(v: unknown): Converted {
  if (typeof v === 'string') {
    const ms = parseTimestamp(v, 'wall');
    return ms === ms ? ms : INVALID;
  }
  if (typeof v === 'number' && Number.isFinite(v)) return Math.trunc(v);
  return INVALID;
}

function toTimestampLtz(v: unknown): Converted {
  if (typeof v === 'string') {
    const ms = parseTimestamp(v, 'instant');
    return ms === ms ? ms : INVALID;
  }
  if (typeof v === 'number' && Number.isFinite(v)) return Math.trunc(v);
  return INVALID;
}

function toDate(v: unknown): Converted {
  if (typeof v === 'string') {
    const ms = parseDate(v);
    return ms === ms ? ms : INVALID;
  }
  return INVALID;
}

function toInterval(v: unknown): Converted {
  return typeof v === 'number' && Number.isFinite(v) ? v : INVALID;
}

const toNull: Converter = () => null;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function compileConverter(type: SqlType, ignore: boolean, failOnMissing: boolean): Converter {
  switch (type.kind) {
    case 'BOOLEAN':
      return toBoolean;
    case 'INT':
      return toInt;
    case 'BIGINT':
      return toBigint;
    case 'DOUBLE':
      return toDouble;
    case 'DECIMAL':
      return decimalConverter(type.precision, type.scale);
    case 'STRING':
      return toString_;
    case 'TIMESTAMP':
      return toTimestamp;
    case 'TIMESTAMP_LTZ':
      return toTimestampLtz;
    case 'DATE':
      return toDate;
    case 'INTERVAL':
      return toInterval;
    case 'NULL':
      return toNull;
    case 'ARRAY': {
      const elem = compileConverter(type.element, ignore, failOnMissing);
      return (v: unknown): Converted => {
        if (!Array.isArray(v)) return INVALID;
        const n = v.length;
        const out = new Array<unknown>(n);
        for (let i = 0; i < n; i++) {
          const x = v[i];
          if (x === null || x === undefined) {
            out[i] = null;
            continue;
          }
          const c = elem(x);
          if (c === INVALID) {
            if (!ignore) return INVALID;
            out[i] = null;
          } else out[i] = c;
        }
        return out;
      };
    }
    case 'ROW': {
      const names = type.fields.map((f) => f.name);
      const convs = type.fields.map((f) => compileConverter(f.type, ignore, failOnMissing));
      const n = names.length;
      return (v: unknown): Converted => {
        if (!isPlainObject(v)) return INVALID;
        const out: Record<string, unknown> = {};
        for (let i = 0; i < n; i++) {
          const name = names[i]!;
          const x = v[name];
          if (x === null || x === undefined) {
            if (x === undefined && failOnMissing) return INVALID;
            out[name] = null;
            continue;
          }
          const c = convs[i]!(x);
          if (c === INVALID) {
            if (!ignore) return INVALID;
            out[name] = null;
          } else out[name] = c;
        }
        return out;
      };
    }
    default: {
      const never: never = type;
      throw new Error(`json format: unsupported type ${JSON.stringify(never)}`);
    }
  }
}

function preview(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** Finds the innermost failing value under `path` and says what was wrong (only called on failure). */
function explain(type: SqlType, v: unknown, path: string, failOnMissing: boolean): BadRecordError {
  if (type.kind === 'ROW' && isPlainObject(v)) {
    for (const f of type.fields) {
      const x = v[f.name];
      const sub = `${path}.${f.name}`;
      if (x === undefined && failOnMissing) return new BadRecordError(`field '${sub}' is missing`, sub);
      if (x === null || x === undefined) continue;
      if (compileConverter(f.type, false, failOnMissing)(x) === INVALID) return explain(f.type, x, sub, failOnMissing);
    }
  } else if (type.kind === 'ARRAY' && Array.isArray(v)) {
    const elem = compileConverter(type.element, false, failOnMissing);
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (x !== null && x !== undefined && elem(x) === INVALID) return explain(type.element, x, `${path}[${i}]`, failOnMissing);
    }
  }
  return new BadRecordError(`field '${path}': cannot convert ${preview(v)} to ${typeToString(type)}`, path);
}

function recordPreview(text: string): string {
  const t = text.length > 120 ? `${text.slice(0, 117)}...` : text;
  return JSON.stringify(t);
}

/**
 * For an unread column: which JSON token kinds convert whatever their value (JSON null always does), and
 * up to how many digits an integer literal (no fraction or exponent) surely converts. Any other value is
 * converted to learn whether the record is bad. Must never claim more than the converter accepts.
 */
function scanAcceptance(type: SqlType): { okKinds: number; okIntDigits: number } {
  switch (type.kind) {
    case 'STRING':
    case 'NULL':
      return { okKinds: K_ALL, okIntDigits: Infinity };
    case 'BOOLEAN':
      return { okKinds: K_STRING | K_NUMBER | K_BOOLEAN, okIntDigits: Infinity };
    case 'DOUBLE':
      return { okKinds: K_NUMBER, okIntDigits: Infinity };
    case 'INT':
      return { okKinds: 0, okIntDigits: 9 }; // |n| < 10^9 < 2^31
    case 'BIGINT':
      return { okKinds: 0, okIntDigits: 18 }; // |n| < 10^18 < 2^63
    case 'DECIMAL': // any finite number (out of precision is NULL, not an error)
    case 'TIMESTAMP': // finite numbers are epoch millis
    case 'TIMESTAMP_LTZ':
    case 'INTERVAL':
      return { okKinds: 0, okIntDigits: 300 }; // finite (10^300 < MAX_VALUE)
    default:
      return { okKinds: 0, okIntDigits: -1 };
  }
}

/** Two ASCII digits at b[i], b[i + 1] (both before e) as a number, else -1. */
function digits2(b: Buffer, i: number, e: number): number {
  if (i + 1 >= e) return -1;
  const x = b[i]! - 48;
  const y = b[i + 1]! - 48;
  return x >= 0 && x <= 9 && y >= 0 && y <= 9 ? x * 10 + y : -1;
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/**
 * The last valid date asciiTimestamp converted, as yyyyMMdd, and its epoch millis: a topic's timestamps
 * mostly fall on the day of the one before, so the day count and the date's check are mostly skipped
 * (decoding the views benchmark's events, uid, time and att: 257–264 → 236–241 ms per 3M).
 */
let lastDate = -1;
let lastDateMs = 0;

/**
 * parseTimestamp on the ASCII bytes b[s, e) for the usual shapes — 'yyyy-MM-dd', then optionally
 * ' HH:mm' or 'THH:mm', ':ss', '.f{1,9}' and 'Z' — without building the string: the same epoch millis for
 * TIMESTAMP and TIMESTAMP_LTZ (no offset), or undefined for anything else (the text path decides).
 */
function asciiTimestamp(b: Buffer, s: number, e: number): number | undefined {
  if (e - s < 10 || b[s + 4] !== 45 || b[s + 7] !== 45) return undefined;
  const y1 = digits2(b, s, e);
  const y2 = digits2(b, s + 2, e);
  const month = digits2(b, s + 5, e);
  const day = digits2(b, s + 8, e);
  if (y1 < 0 || y2 < 0 || month < 1 || month > 12 || day < 1) return undefined;
  const year = y1 * 100 + y2;
  const date = (year * 100 + month) * 100 + day;
  let ms: number;
  if (date === lastDate) ms = lastDateMs;
  else {
    if (day > daysInMonth(year, month)) return undefined;
    ms = daysFromCivil(year, month, day) * 86_400_000;
    lastDate = date;
    lastDateMs = ms;
  }
  let i = s + 10;
  if (i === e) return ms;
  const sep = b[i];
  if (sep !== 32 && sep !== 84) return undefined;
  const hour = digits2(b, i + 1, e);
  const minute = digits2(b, i + 4, e);
  if (hour < 0 || hour > 23 || b[i + 3] !== 58 || minute < 0 || minute > 59) return undefined;
  ms += hour * 3_600_000 + minute * 60_000;
  i += 6;
  if (i < e && b[i] === 58) {
    const second = digits2(b, i + 1, e);
    if (second < 0 || second > 59) return undefined;
    ms += second * 1000;
    i += 3;
    if (i < e && b[i] === 46) {
      i++;
      let n = 0;
      let frac = 0;
      for (; i < e; i++, n++) {
        const d = b[i]! - 48;
        if (d < 0 || d > 9) break;
        if (n < 3) frac = frac * 10 + d;
      }
      if (n === 0 || n > 9) return undefined;
      for (let k = n; k < 3; k++) frac *= 10;
      ms += frac;
    }
  }
  if (i === e || (i + 1 === e && b[i] === 90)) return ms;
  return undefined;
}

/** parseDate on the ASCII bytes b[s, e) of exactly 'yyyy-MM-dd'; undefined for anything else. */
function asciiDate(b: Buffer, s: number, e: number): number | undefined {
  return e - s === 10 ? asciiTimestamp(b, s, e) : undefined;
}

/** A shortcut converting the ASCII text of a value without building a string (see ScanColumn.fromAscii). */
function asciiConverter(type: SqlType): ((b: Buffer, s: number, e: number) => unknown) | undefined {
  switch (type.kind) {
    case 'TIMESTAMP':
    case 'TIMESTAMP_LTZ':
      return asciiTimestamp;
    case 'DATE':
      return asciiDate;
    default:
      return undefined;
  }
}

/**
 * Builds a decoder for a row of `columns` (see the file comment for the conversions and the meaning of a
 * null result). Records are decoded by a scanner of their shape (json-template.ts) or a single-pass scanner
 * over their bytes (json-scan.ts) that converts only the columns read (`opts.fields`; default all);
 * whatever those are not sure about goes to the full path (createJsonParseDecoder), so the result is
 * always the full path's with unread columns NULL.
 */
export function createJsonDecoder(columns: readonly JsonColumn[], opts: JsonDecoderOptions): JsonDecoder {
  const full = createJsonParseDecoder(columns, opts);
  // Every column read: the scanners too (they convert what JSON.parse's path converts, ~2.5x as fast).
  const fields = opts.fields ?? columns.map(() => true);
  if (fields.length !== columns.length) {
    throw new Error(`json format: ${fields.length} field flags for ${columns.length} columns`);
  }
  const unread: number[] = [];
  for (let i = 0; i < fields.length; i++) if (!fields[i]) unread.push(i);
  const projected =
    unread.length === 0
      ? full
      : (bytes: Buffer | Uint8Array | string | null): unknown[] | null => {
          const row = full(bytes);
          if (row !== null) for (const i of unread) row[i] = null;
          return row;
        };
  const ignore = opts.ignoreParseErrors;
  const failOnMissing = opts.failOnMissingField === true;
  const scanColumns: ScanColumn[] = columns.map((c, i) => ({
    name: c.name,
    used: fields[i] === true,
    convert: compileConverter(c.type, ignore, failOnMissing),
    fromAscii: asciiConverter(c.type),
    ...scanAcceptance(c.type),
  }));
  const scanOpts = { ignore, failOnMissing, invalid: INVALID };
  const generic = createProjectedScanner(scanColumns, scanOpts);
  if (generic === null) return projected;
  // WEIR_JSON_SHAPES=off: the projected scanner alone (benchmarks compare).
  const shaped = process.env['WEIR_JSON_SHAPES'] === 'off' ? null : createShapedScanner(generic, scanColumns, scanOpts);
  const scan = shaped ?? generic;
  const at = (b: Buffer, start: number, end: number): unknown[] | null => {
    if (end === start) return null;
    const row = scan(b, start, end);
    return row === FALLBACK ? projected(start === 0 && end === b.length ? b : b.subarray(start, end)) : row;
  };
  const decode = (bytes: Buffer | Uint8Array | string | null): unknown[] | null => {
    if (bytes === null) return null;
    if (typeof bytes === 'string') return bytes.length === 0 ? null : projected(bytes); // the scanner reads UTF-8 bytes
    const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return at(b, 0, b.length);
  };
  return Object.assign(decode, { at }, shaped ? { shapes: shaped.stats } : {});
}

/**
 * The decoder of every column by JSON.parse, then one converter per column: what every decoder gives (the
 * scanners are faster ways to the same rows and errors), and where they send what they are unsure of.
 */
export function createJsonParseDecoder(columns: readonly JsonColumn[], opts: JsonDecoderOptions): JsonDecoder {
  const ignore = opts.ignoreParseErrors;
  const failOnMissing = opts.failOnMissingField === true;
  if (ignore && failOnMissing) {
    throw new Error("json format: 'json.ignore-parse-errors' and 'json.fail-on-missing-field' cannot both be true");
  }
  const n = columns.length;
  const names = columns.map((c) => c.name);
  const convs = columns.map((c) => compileConverter(c.type, ignore, failOnMissing));

  const fail = (v: unknown, i: number): never => {
    throw explain(columns[i]!.type, v, names[i]!, failOnMissing);
  };

  return (bytes: Buffer | Uint8Array | string | null): unknown[] | null => {
    if (bytes === null || bytes.length === 0) return null;
    const text = typeof bytes === 'string' ? bytes : Buffer.isBuffer(bytes) ? bytes.toString('utf8') : Buffer.from(bytes).toString('utf8');
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch (err) {
      if (ignore) return null;
      const why = err instanceof Error ? err.message : String(err);
      throw new BadRecordError(`not valid JSON (${why}): ${recordPreview(text)}`);
    }
    if (obj === null) return null;
    if (typeof obj !== 'object' || Array.isArray(obj)) {
      if (ignore) return null;
      throw new BadRecordError(`not a JSON object: ${recordPreview(text)}`);
    }
    const rec = obj as Record<string, unknown>;
    const row = new Array<unknown>(n);
    for (let i = 0; i < n; i++) {
      const v = rec[names[i]!];
      if (v === null || v === undefined) {
        if (v === undefined && failOnMissing) throw new BadRecordError(`field '${names[i]}' is missing`, names[i]);
        row[i] = null;
        continue;
      }
      const c = convs[i]!(v);
      if (c === INVALID) {
        if (ignore) row[i] = null;
        else fail(v, i);
      } else row[i] = c;
    }
    return row;
  };
}

// ------------------------------------------------------------------------------------------- encoding

type Writer = (v: unknown) => string;

function numberText(v: unknown): string {
  if (typeof v === 'number') {
    if (Number.isFinite(v)) return String(v);
    // Jackson's default (QUOTE_NON_NUMERIC_NUMBERS): "NaN", "Infinity", "-Infinity" as strings.
    return v !== v ? '"NaN"' : v > 0 ? '"Infinity"' : '"-Infinity"';
  }
  if (typeof v === 'bigint') return String(v);
  if (typeof v === 'string') return v; // already a number's text (e.g. a DECIMAL kept as text)
  return String(Number(v));
}

/** Characters JSON.stringify escapes: '"', '\\', controls, and surrogates (lone ones become \\uXXXX). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * A string as JSON text. Most values (names, cities, ids) need no escaping: a native regex test and a
 * concatenation instead of JSON.stringify's general path; anything else (including valid surrogate pairs,
 * which the test cannot tell from lone ones) goes through JSON.stringify, so the output is identical.
 */
function stringText(v: unknown): string {
  const s = typeof v === 'string' ? v : String(v);
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

/**
 * Remembers the last value and its text: rows of one window share window_start/window_end, and event
 * times repeat, so the calendar arithmetic runs once per distinct value in a run of equal ones.
 */
function lastValueMemo(write: Writer): Writer {
  let last: unknown = undefined;
  let text = '';
  return (v) => {
    if (v !== last) {
      text = write(v);
      last = v;
    }
    return text;
  };
}

function compileWriter(type: SqlType, o: { iso: boolean; offsetOf: ZoneOffsetFn; ignoreNull: boolean }): Writer {
  switch (type.kind) {
    case 'BOOLEAN':
      return (v) => (v ? 'true' : 'false');
    case 'INT':
    case 'BIGINT':
    case 'DOUBLE':
    case 'DECIMAL':
    case 'INTERVAL':
      return numberText;
    case 'STRING':
      return stringText;
    case 'TIMESTAMP': {
      const digits = Math.min(type.precision, 3);
      const iso = o.iso;
      return lastValueMemo((v) => `"${formatTimestamp(v as number, iso, digits)}"`);
    }
    case 'TIMESTAMP_LTZ': {
      const digits = Math.min(type.precision, 3);
      const { iso, offsetOf } = o;
      return lastValueMemo((v) => `"${formatInstant(v as number, offsetOf, iso, digits)}"`);
    }
    case 'DATE':
      return lastValueMemo((v) => `"${formatDate(v as number)}"`);
    case 'NULL':
      return () => 'null';
    case 'ARRAY': {
      const elem = compileWriter(type.element, o);
      return (v) => {
        const a = v as readonly unknown[];
        let s = '[';
        for (let i = 0; i < a.length; i++) {
          if (i > 0) s += ',';
          const x = a[i];
          s += x === null || x === undefined ? 'null' : elem(x);
        }
        return `${s}]`;
      };
    }
    case 'ROW': {
      const names = type.fields.map((f) => f.name);
      const keys = names.map((n) => `${JSON.stringify(n)}:`);
      const writers = type.fields.map((f) => compileWriter(f.type, o));
      const ignoreNull = o.ignoreNull;
      return (v) => {
        const positional = Array.isArray(v);
        const rec = v as Record<string, unknown> & readonly unknown[];
        let s = '{';
        let first = true;
        for (let i = 0; i < names.length; i++) {
          const x = positional ? rec[i] : rec[names[i]!];
          const isNull = x === null || x === undefined;
          if (isNull && ignoreNull) continue;
          if (!first) s += ',';
          first = false;
          s += keys[i]! + (isNull ? 'null' : writers[i]!(x));
        }
        return `${s}}`;
      };
    }
    default: {
      const never: never = type;
      throw new Error(`json format: unsupported type ${JSON.stringify(never)}`);
    }
  }
}

function compileObjectWriter(
  columns: readonly JsonColumn[],
  indexes: readonly number[],
  opts: JsonEncoderOptions,
): (row: readonly unknown[]) => string {
  const o = {
    iso: opts.timestampStandard === 'ISO-8601',
    offsetOf: zoneOffsetFn(opts.timeZone ?? 'UTC'),
    ignoreNull: opts.ignoreNullFields === true,
  };
  const keys = indexes.map((i) => `${JSON.stringify(columns[i]!.name)}:`);
  const writers = indexes.map((i) => compileWriter(columns[i]!.type, o));
  const n = indexes.length;
  const ignoreNull = o.ignoreNull;
  if (!ignoreNull) {
    // Every field is written: '{' and the separating commas fold into constant per-field prefixes.
    if (n === 0) return () => '{}';
    const prefixes = keys.map((k, i) => (i === 0 ? '{' : ',') + k);
    return (row) => {
      let s = '';
      for (let k = 0; k < n; k++) {
        const x = row[indexes[k]!];
        s += prefixes[k]! + (x === null || x === undefined ? 'null' : writers[k]!(x));
      }
      return `${s}}`;
    };
  }
  return (row) => {
    let s = '{';
    let first = true;
    for (let k = 0; k < n; k++) {
      const x = row[indexes[k]!];
      const isNull = x === null || x === undefined;
      if (isNull && ignoreNull) continue;
      if (!first) s += ',';
      first = false;
      s += keys[k]! + (isNull ? 'null' : writers[k]!(x));
    }
    return `${s}}`;
  };
}

/** Builds an encoder writing a row (array in column order) as one JSON object. */
export function createJsonEncoder(columns: readonly JsonColumn[], opts: JsonEncoderOptions): JsonEncoder {
  const write = createJsonTextEncoder(columns, opts);
  return (row) => Buffer.from(write(row), 'utf8');
}

/** createJsonEncoder's text, before it becomes bytes (for writing many rows into one buffer). */
export function createJsonTextEncoder(columns: readonly JsonColumn[], opts: JsonEncoderOptions): (row: readonly unknown[]) => string {
  return compileObjectWriter(
    columns,
    columns.map((_, i) => i),
    opts,
  );
}

/**
 * Encoder of the Kafka message key for `'key.format' = 'json'` with `'key.fields' = 'a;b'`: a JSON object
 * of the key fields, taken from the full row by index (in keyFieldIndexes order).
 */
export function createKeyEncoder(
  columns: readonly JsonColumn[],
  keyFieldIndexes: readonly number[],
  opts: JsonEncoderOptions = { timestampStandard: 'SQL' },
): JsonEncoder {
  const write = createKeyTextEncoder(columns, keyFieldIndexes, opts);
  return (row) => Buffer.from(write(row), 'utf8');
}

/** createKeyEncoder's text, before it becomes bytes. */
export function createKeyTextEncoder(
  columns: readonly JsonColumn[],
  keyFieldIndexes: readonly number[],
  opts: JsonEncoderOptions = { timestampStandard: 'SQL' },
): (row: readonly unknown[]) => string {
  for (const i of keyFieldIndexes) {
    if (!Number.isInteger(i) || i < 0 || i >= columns.length) throw new Error(`json key format: no column at index ${i}`);
  }
  return compileObjectWriter(columns, keyFieldIndexes, opts);
}
