/**
 * Shaped scanning: records of a topic mostly share one shape — the same keys in the same order, the same
 * whitespace, values of the same kinds — and only their values differ. After the projected scanner
 * (json-scan.ts) has decoded a record, a scanner for that record's shape is generated: it compares the
 * bytes between values with the learned ones (`{"uid":`, `,"time":"` ...) instead of reading keys, hashing
 * and looking them up, and handles each value as its column needs with the scanner's own scans and
 * converters, called directly, one branch per kind of value. Anything else — another byte between values,
 * a malformed value, a value that does not convert, trailing bytes — makes it return FALLBACK, and the
 * record goes to the projected scanner, which decodes it exactly (or falls back to the full path in turn).
 * So a shaped scanner only ever returns a row for a record the projected scanner would give the same row
 * for: it accepts a subset of the records (those of its shape, plainly valid), with the same validation of
 * every value (the same scan functions) and the same conversions.
 *
 * Speed (bench/json-decode.ts, docs/benchmarks.md): 1.4–1.5x the projected scanner's records/s for the
 * 176-byte microblog events, 1.27x for the view benchmark's 85-byte ones; the generated code is per shape,
 * so V8 sees one converter per call site. A value of another kind than the learned record's (null for a
 * number, false for true) takes a branch of its own in the same code, not the projected scanner: learning
 * those as shapes of their own made records alternating them miss the shape most of the time.
 */
import { FALLBACK, K_ARRAY, K_BOOLEAN, K_NUMBER, K_OBJECT, K_STRING, scanParts, scanRegs } from './json-scan.ts';
import type { ScanColumn, ScanOptions, Scanner } from './json-scan.ts';

/** A shaped scanner, and how often it decoded a record itself (tests, benchmarks). */
export interface ShapedScanner extends Scanner {
  readonly stats: { hits: number; shapes: number };
}

/** Consecutive records the current shape missed before the next decoded record's shape replaces it. */
const RELEARN_AFTER = 16;

/** Shapes generated at most per scanner (a topic of ever-changing shapes stays on the projected scanner). */
const MAX_SHAPES = 256;

/**
 * After a record whose shape gets no scanner (one without a field that must be there), decoded records
 * skipped before trying another: doubling from the first to the last.
 */
const FIRST_WAIT = 16;
const LAST_WAIT = 4096;

/** Learned literals longer than this are compared in a loop instead of byte by byte in the code. */
const UNROLL = 24;

type Kind = 'string' | 'number' | 'boolean' | 'null' | 'object' | 'array';

interface Member {
  /** The bytes from the end of the previous value (or the record's start) to this value's start. */
  readonly lead: Uint8Array;
  /** The column the key names, or -1. */
  readonly col: number;
  readonly kind: Kind;
  /** The value's length in bytes in the learned record (a string's with its quotes). */
  readonly len: number;
}

const isWs = (c: number | undefined): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

function kindAt(c: number): Kind {
  if (c === 0x22) return 'string';
  if (c === 0x7b) return 'object';
  if (c === 0x5b) return 'array';
  if (c === 0x74 || c === 0x66) return 'boolean';
  if (c === 0x6e) return 'null';
  return 'number';
}

const KINDS: readonly Kind[] = ['string', 'number', 'boolean', 'null', 'object', 'array'];

/** A test of the first byte of a value (in `c`) for its kind. */
const KIND_TEST: Record<Kind, string> = {
  string: 'c === 34',
  number: 'c === 45 || (c >= 48 && c <= 57)',
  boolean: 'c === 116 || c === 102',
  null: 'c === 110',
  object: 'c === 123',
  array: 'c === 91',
};

/**
 * The shape of the valid record b[start, end) (the projected scanner decoded it): its members and the bytes
 * after the last value (null if it is not a plain object after all).
 */
function shapeOf(b: Buffer, start: number, end: number, byName: ReadonlyMap<string, number>): { members: Member[]; tail: Uint8Array } | null {
  let p = start;
  while (isWs(b[p])) p++;
  if (b[p] !== 0x7b) return null;
  p++;
  while (isWs(b[p])) p++;
  const members: Member[] = [];
  let from = start;
  if (b[p] !== 0x7d) {
    for (;;) {
      if (b[p] !== 0x22) return null;
      const q = scanParts.string(b, p + 1, end);
      if (q < 0) return null;
      // A key with escapes is matched as written, like any other: its text is the same in every record of the shape.
      const key = (scanRegs[0]! & 1) === 0 ? scanParts.utf8(b, p + 1, q - 1) : scanParts.parse(scanParts.utf8(b, p, q));
      if (typeof key !== 'string') return null;
      p = q;
      while (isWs(b[p])) p++;
      if (b[p] !== 0x3a) return null;
      p++;
      while (isWs(b[p])) p++;
      const valueEnd = scanParts.skip(b, p, end);
      if (valueEnd < 0) return null;
      members.push({ lead: Uint8Array.from(b.subarray(from, p)), col: byName.get(key) ?? -1, kind: kindAt(b[p]!), len: valueEnd - p });
      from = valueEnd;
      p = valueEnd;
      while (isWs(b[p])) p++;
      if (b[p] === 0x2c) {
        p++;
        while (isWs(b[p])) p++;
      } else if (b[p] === 0x7d) break;
      else return null;
    }
  }
  return { members, tail: Uint8Array.from(b.subarray(from, end)) };
}

/**
 * Code that reads the learned bytes `bytes` at p and moves past them, or returns FALLBACK. `more`: a value
 * must follow before the record's end (the scans read b[p] first).
 */
function matchCode(bytes: Uint8Array, consts: Uint8Array[], more: boolean): string {
  const n = bytes.length;
  const room = `p + ${n} ${more ? '>=' : '>'} end`;
  if (n > UNROLL) {
    consts.push(bytes);
    return `if (${room}) return F; { const k = K[${consts.length - 1}]; for (let j = 0; j < ${n}; j++) if (b[p + j] !== k[j]) return F; } p += ${n};\n`;
  }
  const tests = Array.from(bytes, (c, j) => ` || b[p${j === 0 ? '' : ` + ${j}`}] !== ${c}`).join('');
  return `if (${room}${tests}) return F; p += ${n};\n`;
}

/**
 * Code that converts the value at p, of kind `kind` (its first byte tested already), for column i into
 * `v${i}` — exactly as the projected scanner's convertAt does — or returns FALLBACK.
 */
function convertCode(i: number, kind: Kind, hasAscii: boolean, len = 0): string {
  const v = `v${i}`;
  const check = `if (${v} === INV) return F;\n`;
  switch (kind) {
    case 'string': {
      const scan = `q = S(b, p + 1, end); if (q < 0) return F;
f = R[0];
if (f === 0) { ${hasAscii ? `${v} = FA${i}(b, p + 1, q - 1); if (${v} === undefined) ` : ''}${v} = C${i}(A(b, p + 1, q - 1)); }
else if (f === 2) ${v} = C${i}(U(b, p + 1, q - 1));
else { ${v} = P(U(b, p, q)); if (${v} === F) return F; ${v} = C${i}(${v}); }
`;
      if (!hasAscii || len < 2) return `${scan}${check}p = q;\n`;
      // As long as the learned one: the shortcut reads the text up to where that one ended, and accepts
      // only bytes of its format (never a quote or a backslash), so the string ends there if it says so.
      return `${v} = undefined;
q = p + ${len - 1};
if (q < end && b[q] === 34) { ${v} = FA${i}(b, p + 1, q); if (${v} !== undefined) q++; }
if (${v} === undefined) {
${scan}}
${check}p = q;
`;
    }
    case 'number':
      return intCode(`${v} = C${i}(c === 45 ? -x : x);
`, `q = N(b, p, end); if (q < 0) return F;
d = R[1];
${v} = C${i}(d >= 0 && d <= 15 ? R[2] : Number(L(b, p, q)));
`) + `${check}p = q;
`;
    case 'boolean':
      return `${v} = C${i}(c === 116);
${check}p = LIT(b, p, end); if (p < 0) return F;
`;
    case 'null':
      return `${v} = null;\np = LIT(b, p, end); if (p < 0) return F;\n`;
    case 'object':
    case 'array':
      return `q = SK(b, p, end); if (q < 0) return F;
${v} = P(U(b, p, q)); if (${v} === F) return F;
${v} = C${i}(${v});
${check}p = q;
`;
    default: {
      const never: never = kind;
      return never;
    }
  }
}

/**
 * Code for a number at p (c its first byte): an integer of at most 15 digits is read in place, its value in
 * `x` (without the sign, c === 45 for '-'), its digit count in `d` and its end in `q`, and `simple` runs;
 * anything else (a fraction, an exponent, more digits, a leading zero, no digit) runs `general`, which
 * reads it with the number scan as the projected scanner does (and fails where it fails).
 */
function intCode(simple: string, general: string): string {
  return `q = c === 45 ? p + 1 : p; s = q; x = 0;
while (q < end && (k = b[q]) >= 48 && k <= 57) { x = x * 10 + (k - 48); q++; }
d = q - s;
if (d === 0 || d > 15 || (d > 1 && b[s] === 48) || (q < end && (k === 46 || k === 101 || k === 69))) {
${general}} else {
${simple}}
`;
}

/**
 * Code for an unread column's value of kind `kind` (its first byte tested already), when errors are not
 * ignored: accepted by its kind as the projected scanner accepts it, or converted (and thrown away) when
 * the kind alone does not tell.
 */
function checkCode(i: number, kind: Kind, col: ScanColumn): string {
  const ok = col.okKinds;
  switch (kind) {
    case 'string':
      return (ok & K_STRING) !== 0 ? `p = S(b, p + 1, end); if (p < 0) return F;\n` : convertCode(i, kind, col.fromAscii !== undefined);
    case 'number':
      // An integer of more digits than surely convert, or a fraction the type may refuse: converted to know.
      return intCode(
        `if (d > ${col.okIntDigits}) { v${i} = C${i}(c === 45 ? -x : x); if (v${i} === INV) return F; }
`,
        `q = N(b, p, end); if (q < 0) return F;
d = R[1];
if (${(ok & K_NUMBER) !== 0 ? `d >= 0 && d > ${col.okIntDigits}` : `d < 0 || d > ${col.okIntDigits}`}) {
  v${i} = C${i}(d >= 0 && d <= 15 ? R[2] : Number(L(b, p, q)));
  if (v${i} === INV) return F;
}
`,
      ) + 'p = q;\n';
    case 'null':
      return `p = LIT(b, p, end); if (p < 0) return F;\n`;
    case 'boolean':
      return (ok & K_BOOLEAN) !== 0 ? `p = LIT(b, p, end); if (p < 0) return F;\n` : convertCode(i, kind, false);
    case 'object':
    case 'array':
      return (ok & (kind === 'object' ? K_OBJECT : K_ARRAY)) !== 0 ? `p = SK(b, p, end); if (p < 0) return F;\n` : convertCode(i, kind, false);
    default: {
      const never: never = kind;
      return never;
    }
  }
}

/**
 * Code for the value at p of column i (-1: no column, or a key given again later): one branch per kind
 * of value, the kind the learned record had first, then null (the usual other value of a column).
 */
function valueCode(i: number, learned: Kind, len: number, col: ScanColumn | undefined, ignore: boolean): string {
  if (col === undefined || (!col.used && ignore)) return `p = SK(b, p, end); if (p < 0) return F;\n`;
  const order = [learned, ...KINDS.filter((k) => k !== learned).sort((a, b) => (a === 'null' ? -1 : b === 'null' ? 1 : 0))];
  const branches = order.map((k) => `if (${KIND_TEST[k]}) {\n${col.used ? convertCode(i, k, col.fromAscii !== undefined, k === learned ? len : 0) : checkCode(i, k, col)}}`);
  return `c = b[p];\n${branches.join(' else ')} else return F;\n`;
}

/**
 * The scanner of one record shape, generated as code (`new Function`). The text holds only fixed code,
 * byte values, column numbers and digit counts — never a key or value of a record as text. Null when
 * 'json.fail-on-missing-field' is set and the shape lacks a column (its records are all bad).
 */
function compileShape(shape: { members: Member[]; tail: Uint8Array }, columns: readonly ScanColumn[], opts: ScanOptions): Scanner | null {
  const consts: Uint8Array[] = [];
  const present = new Set(shape.members.map((m) => m.col).filter((c) => c >= 0));
  if (opts.failOnMissing && present.size < columns.length) return null;
  // A key given twice: the last value counts (as in JSON.parse); the ones before are only validated.
  const last = new Map(shape.members.map((m, k) => [m.col, k]));
  let body = '';
  for (const [k, m] of shape.members.entries()) {
    body += matchCode(m.lead, consts, true);
    const own = m.col >= 0 && last.get(m.col) === k;
    body += valueCode(m.col, m.kind, m.len, own ? columns[m.col] : undefined, opts.ignore);
  }
  const tail = shape.tail.length;
  body += `if (p + ${tail} !== end) return F;\n` + matchCode(shape.tail, consts, false);
  const used = columns.map((c, i) => c.used && present.has(i));
  // The row is a copy of an array of NULLs, not an array literal: V8 tracks a literal's allocation site,
  // and rows that live until their poll is processed (a view's GROUP BY) made it allocate every row in
  // the old generation (pretenuring): twice the garbage collection time, measured. The NULLs are a packed
  // array (Array.from, not new Array(n).fill): rows with holey elements made the code reading them slower
  // (the watermark's extraction per row: ~8 % of a view's time).
  const source = `'use strict';
const NULLS = Array.from({ length: ${columns.length} }, () => null);
${columns.map((_, i) => `const C${i} = C[${i}], FA${i} = FA[${i}];`).join('\n')}
return function shaped(b, p, end) {
let q = 0, f = 0, d = 0, c = 0, x = 0, s = 0, k = 0;
${columns.length > 0 ? `let ${columns.map((_, i) => `v${i}`).join(', ')};` : ''}
${body}const row = NULLS.slice();
${used.map((u, i) => (u ? `row[${i}] = v${i};` : '')).join(' ')}
return row;
};`;
  const factory = new Function('F', 'INV', 'S', 'N', 'LIT', 'SK', 'P', 'L', 'U', 'A', 'R', 'C', 'FA', 'K', source) as (...args: unknown[]) => Scanner;
  return factory(
    FALLBACK,
    opts.invalid,
    scanParts.string,
    scanParts.number,
    scanParts.literal,
    scanParts.skip,
    scanParts.parse,
    scanParts.latin1,
    scanParts.utf8,
    scanParts.ascii,
    scanRegs,
    columns.map((c) => c.convert),
    columns.map((c) => c.fromAscii),
    consts,
  );
}

/**
 * `projected` (createProjectedScanner over the same columns and options) with a scanner for the shape of
 * the records it decodes in front of it: the shape of the first record it decodes, replaced by a later
 * record's after RELEARN_AFTER misses in a row.
 */
export function createShapedScanner(projected: Scanner, columns: readonly ScanColumn[], opts: ScanOptions): ShapedScanner {
  const byName = new Map(columns.map((c, i) => [c.name, i]));
  let shaped: Scanner | null = null;
  let misses = 0;
  let wait = 0;
  let nextWait = FIRST_WAIT;
  const stats = { hits: 0, shapes: 0 };
  const scan = (b: Buffer, start = 0, end = b.length): unknown[] | typeof FALLBACK => {
    if (shaped !== null) {
      const row = shaped(b, start, end);
      if (row !== FALLBACK) {
        misses = 0;
        stats.hits++;
        return row;
      }
      misses++;
    }
    const row = projected(b, start, end);
    if (row !== FALLBACK && (shaped === null || misses >= RELEARN_AFTER) && stats.shapes < MAX_SHAPES) {
      if (wait > 0) wait--;
      else {
        const shape = shapeOf(b, start, end, byName);
        const next = shape === null ? null : compileShape(shape, columns, opts);
        if (next !== null) {
          shaped = next;
          misses = 0;
          stats.shapes++;
          nextWait = FIRST_WAIT;
        } else {
          wait = nextWait;
          nextWait = Math.min(2 * nextWait, LAST_WAIT);
        }
      }
    }
    return row;
  };
  return Object.assign(scan, { stats });
}
