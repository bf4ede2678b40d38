/**
 * Projection-pushdown JSON scanner: a single pass over a record's UTF-8 bytes that walks the top-level
 * object, materializes and converts only the values of the columns the query reads, and skips every
 * other value without allocating — while still validating it strictly (RFC 8259, as JSON.parse reads
 * it), so that exactly the records JSON.parse rejects are rejected.
 *
 * The scanner never reports an error itself: whenever a record is not plainly valid, a value does not
 * convert, or anything is unusual (deep nesting), it returns FALLBACK and the caller decodes the record
 * with the full JSON.parse path, which gives the exact result — row, skip (null) or BadRecordError with
 * its usual message. The scanner is thus only a faster way to compute what the full path computes, for
 * the records it is sure about (in practice: every valid record whose values convert).
 *
 * Equivalence with `JSON.parse(bytes.toString('utf8'))` and the converters (the full path):
 *   - keys and string values are decoded from their byte range: UTF-8 decoding restarts at every ASCII
 *     byte (a quote), so decoding a range gives the same text as decoding the whole record (malformed
 *     sequences included: U+FFFD the same way); strings with escapes go to JSON.parse on their quoted
 *     text, and so do keys with escapes;
 *   - numbers: integers of up to 15 digits are accumulated exactly; any other number is read by Number()
 *     on its text, which rounds as JSON.parse does;
 *   - nested objects and arrays of read columns go to JSON.parse on their text;
 *   - duplicate keys: the last one wins (each occurrence overwrites the previous one, and a value that
 *     does not convert only matters if no later occurrence replaces it);
 *   - non-ASCII bytes outside strings, control characters inside strings, bad escapes, leading zeros,
 *     trailing garbage etc. are rejected (then the full path rejects them with its message).
 * Unread columns must also fail exactly when the full path fails (bad-record counts do not depend on
 * the projection): unless errors are ignored, an unread value is accepted without materializing it only
 * when its token kind always converts (any string for STRING, a short integer for BIGINT, ...);
 * otherwise it is converted and the result thrown away.
 *
 * Speed (bench/json-decode.ts): working on the bytes beats scanning a string made of them — a latin1
 * or utf8 string costs a copy up front and charCodeAt is no faster than indexing a Buffer. Keys are
 * first compared with the key at the same position in the previous record (topics mostly keep one key
 * order), short ASCII strings are built without calling into the runtime, and converters may read
 * ASCII bytes directly (ScanColumn.fromAscii: timestamps).
 */

/** Returned by a scanner when the record must be decoded by the full path instead. */
export const FALLBACK: unique symbol = Symbol('fallback');

/** Token kinds, as bits of ScanColumn.okKinds. */
export const K_STRING = 1;
export const K_NUMBER = 2; // any number (simple integers are also judged by okIntDigits)
export const K_BOOLEAN = 4;
export const K_OBJECT = 8;
export const K_ARRAY = 16;
export const K_ALL = 31;

export interface ScanColumn {
  readonly name: string;
  /** The query reads this column: its value is converted into the row. */
  readonly used: boolean;
  /** The full path's converter; returns `invalid` when the value does not convert. */
  readonly convert: (v: unknown) => unknown;
  /** Unread columns: token kinds every value of which converts (JSON null always does). */
  readonly okKinds: number;
  /** Unread columns: integers without fraction or exponent of at most this many digits convert. */
  readonly okIntDigits: number;
  /**
   * Optional shortcut for a string value of ASCII bytes without escapes, b[s, e): the converted value,
   * exactly what `convert` gives for that text, or undefined when unsure (then `convert` is called). It
   * must read only b[s, e) and give a value only when every byte there belongs to its format (never a
   * quote, a backslash, a control or a non-ASCII byte): shaped scanners (json-template.ts) call it on the
   * bytes up to where the learned record's string ended, before they know the string ends there.
   */
  readonly fromAscii?: ((b: Buffer, s: number, e: number) => unknown) | undefined;
}

export interface ScanOptions {
  /** 'json.ignore-parse-errors': unconvertible values are NULL (then unread values need no check). */
  readonly ignore: boolean;
  readonly failOnMissing: boolean;
  /** The converters' INVALID sentinel. */
  readonly invalid: unknown;
}

/** Scans the record in b[start, end) (default: all of b). */
export type Scanner = (b: Buffer, start?: number, end?: number) => unknown[] | typeof FALLBACK;

// ------------------------------------------------------------------------------------ byte scanning

interface FastBuffer extends Buffer {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}

const hasSlices =
  typeof (Buffer.prototype as Partial<FastBuffer>).latin1Slice === 'function' &&
  typeof (Buffer.prototype as Partial<FastBuffer>).utf8Slice === 'function';

/** ASCII text of b[s, e) (only called on ASCII bytes, or number text). */
const latin1 = hasSlices
  ? (b: Buffer, s: number, e: number): string => (b as FastBuffer).latin1Slice(s, e)
  : (b: Buffer, s: number, e: number): string => b.toString('latin1', s, e);

const utf8 = hasSlices
  ? (b: Buffer, s: number, e: number): string => (b as FastBuffer).utf8Slice(s, e)
  : (b: Buffer, s: number, e: number): string => b.toString('utf8', s, e);

const fcc = String.fromCharCode;

/**
 * The string of the ASCII bytes b[s, e). Short strings are built in JavaScript, which is cheaper than
 * a call into the runtime to slice the buffer.
 */
export function asciiString(b: Buffer, s: number, e: number): string {
  switch (e - s) {
    case 0:
      return '';
    case 1:
      return fcc(b[s]!);
    case 2:
      return fcc(b[s]!, b[s + 1]!);
    case 3:
      return fcc(b[s]!, b[s + 1]!, b[s + 2]!);
    case 4:
      return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!);
    case 5:
      return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!);
    case 6:
      return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!);
    case 7:
      return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!);
    case 8:
      return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!);
    case 9:
      return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!);
    case 10:
      return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!, b[s + 9]!);
    case 11:
      return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!, b[s + 9]!, b[s + 10]!);
    case 12:
      return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!, b[s + 9]!, b[s + 10]!, b[s + 11]!);
    case 13:
      return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!, b[s + 9]!, b[s + 10]!, b[s + 11]!, b[s + 12]!);
    case 14:
      return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!, b[s + 9]!, b[s + 10]!, b[s + 11]!, b[s + 12]!, b[s + 13]!);
    case 15:
      return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!, b[s + 9]!, b[s + 10]!, b[s + 11]!, b[s + 12]!, b[s + 13]!, b[s + 14]!);
    case 16:
      return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!, b[s + 9]!, b[s + 10]!, b[s + 11]!, b[s + 12]!, b[s + 13]!, b[s + 14]!, b[s + 15]!);
    case 17:
      return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!, b[s + 9]!, b[s + 10]!, b[s + 11]!, b[s + 12]!, b[s + 13]!, b[s + 14]!, b[s + 15]!, b[s + 16]!);
    case 18:
      return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!, b[s + 9]!, b[s + 10]!, b[s + 11]!, b[s + 12]!, b[s + 13]!, b[s + 14]!, b[s + 15]!, b[s + 16]!, b[s + 17]!);
    case 19:
      return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!, b[s + 9]!, b[s + 10]!, b[s + 11]!, b[s + 12]!, b[s + 13]!, b[s + 14]!, b[s + 15]!, b[s + 16]!, b[s + 17]!, b[s + 18]!);
    case 20:
      return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!, b[s + 9]!, b[s + 10]!, b[s + 11]!, b[s + 12]!, b[s + 13]!, b[s + 14]!, b[s + 15]!, b[s + 16]!, b[s + 17]!, b[s + 18]!, b[s + 19]!);
    case 21:
      return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!, b[s + 9]!, b[s + 10]!, b[s + 11]!, b[s + 12]!, b[s + 13]!, b[s + 14]!, b[s + 15]!, b[s + 16]!, b[s + 17]!, b[s + 18]!, b[s + 19]!, b[s + 20]!);
    case 22:
      return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!, b[s + 9]!, b[s + 10]!, b[s + 11]!, b[s + 12]!, b[s + 13]!, b[s + 14]!, b[s + 15]!, b[s + 16]!, b[s + 17]!, b[s + 18]!, b[s + 19]!, b[s + 20]!, b[s + 21]!);
    case 23:
      return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!, b[s + 9]!, b[s + 10]!, b[s + 11]!, b[s + 12]!, b[s + 13]!, b[s + 14]!, b[s + 15]!, b[s + 16]!, b[s + 17]!, b[s + 18]!, b[s + 19]!, b[s + 20]!, b[s + 21]!, b[s + 22]!);
    case 24:
      return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!, b[s + 9]!, b[s + 10]!, b[s + 11]!, b[s + 12]!, b[s + 13]!, b[s + 14]!, b[s + 15]!, b[s + 16]!, b[s + 17]!, b[s + 18]!, b[s + 19]!, b[s + 20]!, b[s + 21]!, b[s + 22]!, b[s + 23]!);
    default:
      return latin1(b, s, e);
  }
}

/** String byte classes: 0 plain ASCII, 1 quote, 2 backslash, 3 control (rejected), 4 non-ASCII. */
const STR = new Uint8Array(256);
for (let c = 0; c < 0x20; c++) STR[c] = 3;
STR[0x22] = 1;
STR[0x5c] = 2;
for (let c = 0x80; c < 0x100; c++) STR[c] = 4;

/** After a backslash: 1 a one-character escape, 2 'u'. */
const ESC = new Uint8Array(256);
for (const ch of '"\\/bfnrt') ESC[ch.charCodeAt(0)] = 1;
ESC[0x75] = 2;

const HEX = new Uint8Array(256);
for (const ch of '0123456789abcdefABCDEF') HEX[ch.charCodeAt(0)] = 1;

/** Nesting deeper than this is left to JSON.parse (the skipper recurses). */
const MAX_DEPTH = 400;

/** Set by scanString: bit 1 the string has escapes, bit 2 it has non-ASCII bytes. */
let sFlags = 0;
/** Set by scanNumber: digit count of a number without fraction or exponent, else -1. */
let nDigits = 0;
/** Set by scanNumber: the value when 0 <= nDigits <= 15 (exact). */
let nValue = 0;
/** Set by readNonString and parseText: the value as JSON.parse gives it. */
let rValue: unknown = null;

function ws(b: Buffer, p: number, end: number): number {
  while (p < end) {
    const c = b[p]!;
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) p++;
    else break;
  }
  return p;
}

/** p is just after the opening quote; returns the position after the closing quote, or -1. */
function scanString(b: Buffer, p: number, end: number): number {
  let flags = 0;
  while (p < end) {
    // Plain ASCII, the bulk of most strings, in a loop of its own.
    while (p < end && STR[b[p]!] === 0) p++;
    if (p >= end) break;
    const k = STR[b[p]!]!;
    if (k === 1) {
      sFlags = flags;
      return p + 1;
    } else if (k === 4) {
      flags |= 2;
      p++;
    } else if (k === 2) {
      flags |= 1;
      if (p + 1 >= end) return -1;
      const e = ESC[b[p + 1]!]!;
      if (e === 1) p += 2;
      else if (e === 2) {
        if (p + 5 >= end || !HEX[b[p + 2]!] || !HEX[b[p + 3]!] || !HEX[b[p + 4]!] || !HEX[b[p + 5]!]) return -1;
        p += 6;
      } else return -1;
    } else return -1; // control character
  }
  return -1;
}

/** p is at '-' or a digit; returns the position after the number, or -1. Sets nDigits and nValue. */
function scanNumber(b: Buffer, p: number, end: number): number {
  let neg = false;
  if (b[p] === 0x2d) {
    neg = true;
    if (++p >= end) return -1;
  }
  let c = b[p]!;
  const start = p;
  let acc = 0;
  if (c === 0x30) p++;
  else if (c >= 0x31 && c <= 0x39) {
    acc = c - 0x30;
    p++;
    while (p < end && (c = b[p]!) >= 0x30 && c <= 0x39) {
      acc = acc * 10 + (c - 0x30);
      p++;
    }
  } else return -1;
  const digits = p - start;
  let simple = true;
  if (p < end && b[p] === 0x2e) {
    simple = false;
    p++;
    if (p >= end || (c = b[p]!) < 0x30 || c > 0x39) return -1;
    p++;
    while (p < end && (c = b[p]!) >= 0x30 && c <= 0x39) p++;
  }
  if (p < end && (b[p]! | 0x20) === 0x65) {
    simple = false;
    p++;
    if (p < end && ((c = b[p]!) === 0x2b || c === 0x2d)) p++;
    if (p >= end || (c = b[p]!) < 0x30 || c > 0x39) return -1;
    p++;
    while (p < end && (c = b[p]!) >= 0x30 && c <= 0x39) p++;
  }
  if (simple) {
    nDigits = digits;
    nValue = neg ? -acc : acc;
  } else nDigits = -1;
  return p;
}

function scanLiteral(b: Buffer, p: number, end: number): number {
  const c = b[p];
  if (c === 0x74) {
    // true
    return p + 3 < end && b[p + 1] === 0x72 && b[p + 2] === 0x75 && b[p + 3] === 0x65 ? p + 4 : -1;
  }
  if (c === 0x66) {
    // false
    return p + 4 < end && b[p + 1] === 0x61 && b[p + 2] === 0x6c && b[p + 3] === 0x73 && b[p + 4] === 0x65 ? p + 5 : -1;
  }
  if (c === 0x6e) {
    // null
    return p + 3 < end && b[p + 1] === 0x75 && b[p + 2] === 0x6c && b[p + 3] === 0x6c ? p + 4 : -1;
  }
  return -1;
}

/** Validates the value at p (not whitespace) without allocating; returns the position after it, or -1. */
function skipValue(b: Buffer, p: number, end: number, depth: number): number {
  const c = b[p]!;
  if (c === 0x22) return scanString(b, p + 1, end);
  if (c === 0x7b) return skipObject(b, p + 1, end, depth + 1);
  if (c === 0x5b) return skipArray(b, p + 1, end, depth + 1);
  if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return scanNumber(b, p, end);
  return scanLiteral(b, p, end);
}

/** p is just after '{'. */
function skipObject(b: Buffer, p: number, end: number, depth: number): number {
  if (depth > MAX_DEPTH) return -1;
  p = ws(b, p, end);
  if (p < end && b[p] === 0x7d) return p + 1;
  for (;;) {
    if (p >= end || b[p] !== 0x22) return -1;
    p = scanString(b, p + 1, end);
    if (p < 0) return -1;
    p = ws(b, p, end);
    if (p >= end || b[p] !== 0x3a) return -1;
    p = ws(b, p + 1, end);
    if (p >= end) return -1;
    p = skipValue(b, p, end, depth);
    if (p < 0) return -1;
    p = ws(b, p, end);
    if (p >= end) return -1;
    const c = b[p];
    if (c === 0x2c) p = ws(b, p + 1, end);
    else if (c === 0x7d) return p + 1;
    else return -1;
  }
}

/** p is just after '['. */
function skipArray(b: Buffer, p: number, end: number, depth: number): number {
  if (depth > MAX_DEPTH) return -1;
  p = ws(b, p, end);
  if (p < end && b[p] === 0x5d) return p + 1;
  for (;;) {
    if (p >= end) return -1;
    p = skipValue(b, p, end, depth);
    if (p < 0) return -1;
    p = ws(b, p, end);
    if (p >= end) return -1;
    const c = b[p];
    if (c === 0x2c) p = ws(b, p + 1, end);
    else if (c === 0x5d) return p + 1;
    else return -1;
  }
}

/** JSON.parse of a text the scanner has validated; -1 (fall back) should it disagree. */
function parseText(text: string): boolean {
  try {
    rValue = JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Reads the value at p (not whitespace, not a string: strings are read by a scanner's convertAt) into
 * rValue; returns the position after it, or -1.
 */
function readNonString(b: Buffer, p: number, end: number): number {
  const c = b[p]!;
  if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
    const q = scanNumber(b, p, end);
    if (q < 0) return -1;
    rValue = nDigits >= 0 && nDigits <= 15 ? nValue : Number(latin1(b, p, q));
    return q;
  }
  if (c === 0x7b || c === 0x5b) {
    const q = skipValue(b, p, end, 0);
    if (q < 0 || !parseText(utf8(b, p, q))) return -1;
    return q;
  }
  const q = scanLiteral(b, p, end);
  rValue = c === 0x74 ? true : c === 0x66 ? false : null;
  return q;
}

/**
 * The scans above for code outside this module (the shaped scanners of json-template.ts, generated per
 * record shape), with what they found in `scanRegs` instead of this module's variables: [0] a string's
 * flags (bit 1 escapes, bit 2 non-ASCII), [1] a number's digit count (-1: fraction or exponent), [2] its
 * value when it has at most 15 digits.
 */
export const scanRegs = new Float64Array(3);

export const scanParts = {
  /** p is just after the opening quote; the position after the closing one, or -1. */
  string(b: Buffer, p: number, end: number): number {
    const q = scanString(b, p, end);
    scanRegs[0] = sFlags;
    return q;
  },
  /** p is at '-' or a digit; the position after the number, or -1. */
  number(b: Buffer, p: number, end: number): number {
    const q = scanNumber(b, p, end);
    scanRegs[1] = nDigits;
    scanRegs[2] = nValue;
    return q;
  },
  literal: scanLiteral,
  /** Any value, validated and skipped. */
  skip: (b: Buffer, p: number, end: number): number => skipValue(b, p, end, 0),
  /** JSON.parse of a text the scans validated, or FALLBACK should it disagree. */
  parse: (text: string): unknown => (parseText(text) ? rValue : FALLBACK),
  latin1,
  utf8,
  ascii: asciiString,
};

// ----------------------------------------------------------------------------------------- scanner

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;

function fnv(bytes: Uint8Array): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, FNV_PRIME);
  return h;
}

const MODE_SKIP = 0;
const MODE_USE = 1;
const MODE_CHECK = 2;

/** Set by a scanner's convertAt: the converted value (or the invalid sentinel). */
let cValue: unknown = null;

/**
 * Builds the scanner for a row of `columns`, or returns null when the full path must always be used
 * (column names that JSON.parse's result would not look up plainly: duplicates, names of
 * Object.prototype properties, names that are not well-formed UTF-16).
 */
export function createProjectedScanner(columns: readonly ScanColumn[], opts: ScanOptions): Scanner | null {
  const n = columns.length;
  const names = columns.map((c) => c.name);
  if (new Set(names).size !== n) return null;
  for (const name of names) {
    if (name in Object.prototype || Buffer.from(name, 'utf8').toString('utf8') !== name) return null;
  }
  const ignore = opts.ignore;
  const failOnMissing = opts.failOnMissing;
  const invalid = opts.invalid;
  const convs = columns.map((c) => c.convert);
  const fromAscii = columns.map((c) => c.fromAscii ?? null);
  const okKinds = Int32Array.from(columns, (c) => c.okKinds);
  const okIntDigits = Int32Array.from(columns, (c) => Math.min(c.okIntDigits, 1 << 30));
  const mode = Uint8Array.from(columns, (c) => (c.used ? MODE_USE : ignore ? MODE_SKIP : MODE_CHECK));

  // Key lookup: open addressing on the FNV-1a hash of the key's bytes, then a byte comparison.
  const nameBytes = names.map((s) => Buffer.from(s, 'utf8'));
  const hashes = Int32Array.from(nameBytes, fnv);
  let size = 16;
  while (size < n * 4) size *= 2;
  const mask = size - 1;
  const slots = new Int32Array(size).fill(-1);
  for (let i = 0; i < n; i++) {
    let s = hashes[i]! & mask;
    while (slots[s]! >= 0) s = (s + 1) & mask;
    slots[s] = i;
  }
  const byName = new Map(names.map((s, i) => [s, i]));
  // Key order prediction: records of a topic mostly list their keys in the same order, so the k-th key
  // is first compared with the column the k-th key named in the previous record (-1: none predicted).
  // Only names whose raw bytes are a valid JSON string body can be predicted.
  const predictable = nameBytes.map((nb) => nb.every((c) => STR[c] === 0 || STR[c] === 4));
  const MAX_ORDER = 64;
  const order = new Int32Array(MAX_ORDER).fill(-1);

  const nullRow: unknown[] = Array.from({ length: n }, () => null);
  // Per record (numbered by gen): which columns were seen (fail-on-missing-field) and which have a last
  // value that does not convert so far (a later duplicate key may still replace it, as in JSON.parse).
  const seen = new Int32Array(n);
  const badAt = new Int32Array(n);
  let gen = 0;

  /** Finds the column of the key whose bytes are b[s, e) with hash h, or -1. */
  const lookup = (b: Buffer, s: number, e: number, h: number): number => {
    const len = e - s;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const i = slots[slot]!;
      if (i < 0) return -1;
      if (hashes[i] !== h) continue;
      const nb = nameBytes[i]!;
      if (nb.length !== len) continue;
      let k = 0;
      while (k < len && nb[k] === b[s + k]) k++;
      if (k === len) return i;
    }
  };

  /**
   * Reads the value at p and converts it for column i into cValue (the invalid sentinel when it does
   * not convert); returns the position after the value, or -1.
   */
  const convertAt = (b: Buffer, p: number, end: number, i: number): number => {
    if (b[p] === 0x22) {
      const q = scanString(b, p + 1, end);
      if (q < 0) return -1;
      let text: string;
      if (sFlags === 0) {
        const fa = fromAscii[i];
        if (fa !== null) {
          const v = fa(b, p + 1, q - 1);
          if (v !== undefined) {
            cValue = v;
            return q;
          }
        }
        text = asciiString(b, p + 1, q - 1);
      } else if (sFlags === 2) text = utf8(b, p + 1, q - 1);
      else {
        if (!parseText(utf8(b, p, q))) return -1;
        text = rValue as string;
      }
      cValue = convs[i]!(text);
      return q;
    }
    const q = readNonString(b, p, end);
    if (q < 0) return -1;
    cValue = rValue === null ? null : convs[i]!(rValue);
    return q;
  };

  return (b: Buffer, start = 0, end = b.length): unknown[] | typeof FALLBACK => {
    let p = start;
    let c = 0;
    while (p < end && ((c = b[p]!) === 0x20 || c === 0x0a || c === 0x0d || c === 0x09)) p++;
    if (p >= end || c !== 0x7b) return FALLBACK; // not an object (or the literal null): full path
    const row = nullRow.slice();
    if (++gen === 0x7fffffff) {
      seen.fill(0);
      badAt.fill(0);
      gen = 1;
    }
    let pending = 0; // columns whose value does not convert (the full path throws its message)
    p = ws(b, p + 1, end);
    if (p < end && b[p] === 0x7d) p++;
    else {
      for (let k = 0; ; k++) {
        if (p >= end || b[p] !== 0x22) return FALLBACK;
        const ks = p + 1;
        let q = -1;
        let i = k < MAX_ORDER ? order[k]! : -1;
        if (i >= 0) {
          // The predicted key: its bytes, then the closing quote.
          const nb = nameBytes[i]!;
          const len = nb.length;
          if (ks + len < end && b[ks + len] === 0x22) {
            let j = 0;
            while (j < len && nb[j] === b[ks + j]) j++;
            if (j === len) q = ks + len + 1;
          }
        }
        if (q < 0) {
          // Any key: hash plain ASCII bytes on the way; anything else takes the slow path.
          q = ks;
          let h = FNV_OFFSET;
          let plain = true;
          for (;;) {
            if (q >= end) return FALLBACK;
            c = b[q]!;
            if (c === 0x22) break;
            if (STR[c] !== 0) {
              plain = false;
              break;
            }
            h = Math.imul(h ^ c, FNV_PRIME);
            q++;
          }
          if (plain) {
            i = lookup(b, ks, q, h);
            q++;
          } else {
            q = scanString(b, ks, end);
            if (q < 0) return FALLBACK;
            let key: string;
            if (sFlags & 1) {
              if (!parseText(utf8(b, p, q))) return FALLBACK;
              key = rValue as string;
            } else key = utf8(b, ks, q - 1);
            i = byName.get(key) ?? -1;
          }
          if (k < MAX_ORDER) order[k] = i >= 0 && predictable[i] ? i : -1;
        }
        // ':' and the value.
        if (q < end && b[q] === 0x3a) p = q + 1;
        else {
          p = ws(b, q, end);
          if (p >= end || b[p] !== 0x3a) return FALLBACK;
          p++;
        }
        p = ws(b, p, end);
        if (p >= end) return FALLBACK;
        c = b[p]!;
        if (i < 0) p = skipValue(b, p, end, 0);
        else {
          if (failOnMissing) seen[i] = gen;
          const m = mode[i];
          let converts = true;
          if (m === MODE_USE) {
            p = convertAt(b, p, end, i);
            if (p < 0) return FALLBACK;
            if (cValue === invalid) {
              row[i] = null;
              converts = ignore;
            } else row[i] = cValue;
          } else if (m === MODE_CHECK) {
            // Accepted by its token kind, else converted (and thrown away) to learn whether it converts.
            const ok = okKinds[i]!;
            if (c === 0x22 && (ok & K_STRING) !== 0) p = scanString(b, p + 1, end);
            else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
              const q2 = scanNumber(b, p, end);
              if (q2 < 0) return FALLBACK;
              if (nDigits >= 0 ? nDigits <= okIntDigits[i]! : (ok & K_NUMBER) !== 0) p = q2;
              else {
                p = convertAt(b, p, end, i);
                converts = cValue !== invalid;
              }
            } else if (c === 0x6e || ((c === 0x74 || c === 0x66) && (ok & K_BOOLEAN) !== 0)) p = scanLiteral(b, p, end);
            else if ((c === 0x7b && (ok & K_OBJECT) !== 0) || (c === 0x5b && (ok & K_ARRAY) !== 0)) p = skipValue(b, p, end, 0);
            else {
              p = convertAt(b, p, end, i);
              converts = cValue !== invalid;
            }
          } else p = skipValue(b, p, end, 0);
          if (!converts) {
            if (badAt[i] !== gen) {
              badAt[i] = gen;
              pending++;
            }
          } else if (pending !== 0 && badAt[i] === gen) {
            badAt[i] = 0;
            pending--;
          }
        }
        if (p < 0) return FALLBACK;
        // ',' or '}'.
        if (p >= end) return FALLBACK;
        c = b[p]!;
        if (c !== 0x2c && c !== 0x7d) {
          p = ws(b, p, end);
          if (p >= end) return FALLBACK;
          c = b[p]!;
        }
        if (c === 0x2c) {
          p++;
          if (p < end && b[p] !== 0x22) p = ws(b, p, end);
        } else if (c === 0x7d) {
          p++;
          break;
        } else return FALLBACK;
      }
    }
    if (p !== end && ws(b, p, end) !== end) return FALLBACK; // trailing garbage
    if (pending !== 0) return FALLBACK; // a value does not convert: the full path throws its message
    if (failOnMissing) {
      for (let i = 0; i < n; i++) if (seen[i] !== gen) return FALLBACK; // the full path says which is missing
    }
    return row;
  };
}
