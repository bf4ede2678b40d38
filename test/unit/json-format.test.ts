import { describe, expect, it, vi } from 'vitest';
import { T } from '../../engine/plan/types.ts';
import type { SqlType } from '../../engine/plan/types.ts';
import {
  BadRecordError,
  createJsonDecoder,
  createJsonEncoder,
  createJsonParseDecoder,
  createKeyEncoder,
  roundHalfUp,
} from '../../connectors/formats/json.ts';
import type { JsonColumn, JsonDecoder, JsonDecoderOptions } from '../../connectors/formats/json.ts';
import { microblogEvent } from '../../bench/util.ts';
import {
  formatDate,
  formatInstant,
  formatTimestamp,
  parseDate,
  parseTimestamp,
  zoneOffsetFn,
} from '../../connectors/formats/timestamp.ts';

const utc = (s: string): number => Date.parse(`${s}Z`);
const buf = (v: unknown): Buffer => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

const weibo: JsonColumn[] = [
  { name: 'uid', type: T.bigint },
  { name: 'time', type: T.timestamp },
  { name: 'text', type: T.string },
  { name: 'rt', type: T.boolean },
  { name: 'att', type: T.int },
];

describe('timestamp text', () => {
  it('parses the SQL form with and without fraction, and ISO-8601', () => {
    expect(parseTimestamp('2024-03-05 12:34:56.789')).toBe(utc('2024-03-05T12:34:56.789'));
    expect(parseTimestamp('2024-03-05 12:34:56')).toBe(utc('2024-03-05T12:34:56.000'));
    expect(parseTimestamp('2024-03-05 12:34:56.7')).toBe(utc('2024-03-05T12:34:56.700'));
    expect(parseTimestamp('2024-03-05 12:34:56.123456789')).toBe(utc('2024-03-05T12:34:56.123'));
    expect(parseTimestamp('2024-03-05T12:34:56.789')).toBe(utc('2024-03-05T12:34:56.789'));
    expect(parseTimestamp('2024-03-05T12:34:56.789Z')).toBe(utc('2024-03-05T12:34:56.789'));
    expect(parseTimestamp('2024-03-05T12:34')).toBe(utc('2024-03-05T12:34:00.000'));
    expect(parseTimestamp('2024-03-05')).toBe(utc('2024-03-05T00:00:00.000'));
    expect(parseTimestamp(' 2024-03-05 01:02:03 ')).toBe(utc('2024-03-05T01:02:03.000'));
    expect(parseTimestamp('1969-12-31 23:59:59.999')).toBe(-1);
    expect(parseTimestamp('1600-02-29 00:00:00')).toBe(utc('1600-02-29T00:00:00.000'));
  });

  it('keeps the wall clock for TIMESTAMP and applies offsets for instants', () => {
    expect(parseTimestamp('2024-03-05T12:00:00+08:00', 'wall')).toBe(utc('2024-03-05T12:00:00.000'));
    expect(parseTimestamp('2024-03-05T12:00:00+08:00', 'instant')).toBe(utc('2024-03-05T04:00:00.000'));
    expect(parseTimestamp('2024-03-05 12:00:00.000-0330', 'instant')).toBe(utc('2024-03-05T15:30:00.000'));
    expect(parseTimestamp('2024-03-05 12:00:00Z', 'instant')).toBe(utc('2024-03-05T12:00:00.000'));
    expect(parseTimestamp('2024-03-05 12:00:00', 'instant')).toBe(utc('2024-03-05T12:00:00.000'));
  });

  it('rejects malformed and out-of-range text', () => {
    for (const bad of [
      '',
      'abc',
      '2024-13-01 00:00:00',
      '2023-02-29 00:00:00',
      '2024-01-01 24:00:00',
      '2024-01-01 12:60:00',
      '2024-01-01 12:00:60',
      '2024-01-01 12:00:00.',
      '2024-01-01 12:00:00.1234567890',
      '2024-01-01X12:00:00',
      '2024/01/01 12:00:00',
      '2024-01-01 12:00:00 junk',
      '2024-1-01',
    ]) {
      expect(parseTimestamp(bad), bad).toBeNaN();
    }
  });

  it('formats with fixed digits, SQL and ISO, round trips', () => {
    const ms = utc('2024-03-05T01:02:03.004');
    expect(formatTimestamp(ms)).toBe('2024-03-05 01:02:03.004');
    expect(formatTimestamp(ms, true)).toBe('2024-03-05T01:02:03.004');
    expect(formatTimestamp(ms, false, 0)).toBe('2024-03-05 01:02:03');
    expect(formatTimestamp(-1)).toBe('1969-12-31 23:59:59.999');
    expect(formatTimestamp(utc('0999-01-01T00:00:00.000'))).toBe('0999-01-01 00:00:00.000');
    expect(formatDate(ms)).toBe('2024-03-05');
    expect(parseDate('2024-03-05')).toBe(utc('2024-03-05T00:00:00.000'));
    expect(parseDate('2024-03-05 00:00:00')).toBeNaN();
    // Random round trips against Date.
    let x = 12345;
    for (let i = 0; i < 2000; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      const t = Math.floor((x / 2147483648) * 8e12) - 3e12; // 1874..2223
      const text = formatTimestamp(t);
      expect(text).toBe(new Date(t).toISOString().replace('T', ' ').slice(0, 23));
      expect(parseTimestamp(text)).toBe(t);
    }
  });

  it('knows time zone offsets (fixed and IANA, with DST)', () => {
    expect(zoneOffsetFn('UTC')(0)).toBe(0);
    expect(zoneOffsetFn('+08:00')(0)).toBe(8 * 3600_000);
    expect(zoneOffsetFn('GMT-3:30')(0)).toBe(-(3 * 60 + 30) * 60_000);
    const shanghai = zoneOffsetFn('Asia/Shanghai');
    expect(shanghai(utc('2024-06-01T00:00:00.000'))).toBe(8 * 3600_000);
    const berlin = zoneOffsetFn('Europe/Berlin');
    expect(berlin(utc('2024-01-15T12:00:00.000'))).toBe(3600_000);
    expect(berlin(utc('2024-07-15T12:00:00.000'))).toBe(2 * 3600_000);
    // DST starts 2024-03-31 01:00 UTC.
    expect(berlin(utc('2024-03-31T00:59:59.999'))).toBe(3600_000);
    expect(berlin(utc('2024-03-31T01:00:00.000'))).toBe(2 * 3600_000);
    expect(formatInstant(utc('2024-01-01T12:00:00.000'), shanghai)).toBe('2024-01-01 20:00:00.000+08:00');
    expect(formatInstant(utc('2024-01-01T12:00:00.000'), zoneOffsetFn('UTC'), true)).toBe('2024-01-01T12:00:00.000Z');
    expect(() => zoneOffsetFn('Mars/Olympus')).toThrow(RangeError);
  });
});

describe('JSON decoder', () => {
  const dec = createJsonDecoder(weibo, { ignoreParseErrors: false, timestampStandard: 'SQL' });

  it('decodes a row in column order, missing fields and nulls as NULL, extra keys ignored', () => {
    expect(
      dec(buf({ att: 3, uid: 42, time: '2024-01-01 00:00:01.500', text: 'hi', rt: false, extra: { a: 1 } })),
    ).toEqual([42, utc('2024-01-01T00:00:01.500'), 'hi', false, 3]);
    expect(dec(buf({ uid: 1, text: null }))).toEqual([1, null, null, null, null]);
    expect(dec(buf({}))).toEqual([null, null, null, null, null]);
  });

  it('matches keys case-sensitively', () => {
    expect(dec(buf({ UID: 1, Text: 'x' }))).toEqual([null, null, null, null, null]);
  });

  it('skips tombstones, empty values and JSON null (returns null, no error)', () => {
    expect(dec(null)).toBeNull();
    expect(dec(Buffer.alloc(0))).toBeNull();
    expect(dec(buf('null'))).toBeNull();
  });

  it('converts numbers from strings and strings from numbers as Flink does', () => {
    const d = createJsonDecoder(
      [
        { name: 'i', type: T.int },
        { name: 'b', type: T.bigint },
        { name: 'd', type: T.double },
        { name: 's', type: T.string },
        { name: 'o', type: T.string },
        { name: 'f', type: T.boolean },
      ],
      { ignoreParseErrors: false, timestampStandard: 'SQL' },
    );
    expect(d(buf({ i: ' 12 ', b: '-9007199254740991', d: '1.5e3', s: 12.5, o: { a: [1, 'x'] }, f: 'TRUE' }))).toEqual([
      12,
      -9007199254740991,
      1500,
      '12.5',
      '{"a":[1,"x"]}',
      true,
    ]);
    expect(d(buf({ i: 7.9, b: -3.7, d: 3, s: true, o: [1, 2], f: ' false ' }))).toEqual([7, -3, 3, 'true', '[1,2]', false]);
    // BOOLEAN as Flink's Boolean.parseBoolean: only "true" (any case) is true.
    expect([' True ', 'yes', '1', 1, 0].map((f) => d(buf({ f }))![5])).toEqual([true, false, false, false, false]);
    expect(d(buf({ d: 'NaN' }))![2]).toBeNaN();
    expect(d(buf({ d: '-Infinity' }))![2]).toBe(-Infinity);
    expect(d(buf({ i: -0.5 }))![0]).toBe(0);
    expect(Object.is(d(buf({ i: -0.5 }))![0], -0)).toBe(false);
  });

  it('throws a BadRecordError naming the field and the problem', () => {
    const cases: [unknown, string][] = [
      [{ att: 'abc' }, `field 'att': cannot convert "abc" to INT`],
      [{ att: 1.5e10 }, `field 'att': cannot convert 15000000000 to INT`],
      [{ att: '1.5' }, `field 'att': cannot convert "1.5" to INT`],
      [{ att: true }, `field 'att': cannot convert true to INT`],
      [{ uid: '12x' }, `field 'uid': cannot convert "12x" to BIGINT`],
      [{ uid: '99999999999999999999' }, `field 'uid': cannot convert "99999999999999999999" to BIGINT`],
      [{ rt: { a: 1 } }, `field 'rt': cannot convert {"a":1} to BOOLEAN`],
      [{ rt: [true] }, `field 'rt': cannot convert [true] to BOOLEAN`],
      [{ time: '2024-02-30 00:00:00' }, `field 'time': cannot convert "2024-02-30 00:00:00" to TIMESTAMP(3)`],
      [{ time: true }, `field 'time': cannot convert true to TIMESTAMP(3)`],
    ];
    for (const [rec, msg] of cases) {
      let err: unknown;
      try {
        dec(buf(rec));
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(rec)).toBeInstanceOf(BadRecordError);
      expect((err as Error).message).toBe(msg);
    }
    expect((() => { try { dec(buf({ att: 'x' })); } catch (e) { return (e as BadRecordError).field; } })()).toBe('att'); // prettier-ignore
  });

  it('throws on records that are not JSON objects', () => {
    expect(() => dec(buf('{"uid": 1,'))).toThrow(/not valid JSON/);
    expect(() => dec(buf('[1,2]'))).toThrow(/not a JSON object/);
    expect(() => dec(buf('42'))).toThrow(/not a JSON object: "42"/);
    expect(() => dec(buf('"s"'))).toThrow(BadRecordError);
  });

  it('with ignoreParseErrors: bad fields become NULL, non-objects are skipped', () => {
    const d = createJsonDecoder(weibo, { ignoreParseErrors: true, timestampStandard: 'SQL' });
    expect(d(buf({ uid: 'x', time: 'nope', text: 'ok', rt: {}, att: '5' }))).toEqual([null, null, 'ok', null, 5]);
    expect(d(buf('not json'))).toBeNull();
    expect(d(buf('[1]'))).toBeNull();
  });

  it('fail-on-missing-field', () => {
    const d = createJsonDecoder([{ name: 'a', type: T.int }], {
      ignoreParseErrors: false,
      timestampStandard: 'SQL',
      failOnMissingField: true,
    });
    expect(d(buf({ a: null }))).toEqual([null]);
    expect(() => d(buf({}))).toThrow(`field 'a' is missing`);
    expect(() =>
      createJsonDecoder([], { ignoreParseErrors: true, timestampStandard: 'SQL', failOnMissingField: true }),
    ).toThrow(/cannot both be true/);
  });

  it('reads TIMESTAMP in SQL and ISO forms whatever the standard option, and epoch millis', () => {
    const d = createJsonDecoder(
      [
        { name: 't', type: T.timestamp },
        { name: 'l', type: T.timestampLtz },
        { name: 'd', type: T.date },
      ],
      { ignoreParseErrors: false, timestampStandard: 'ISO-8601' },
    );
    expect(d(buf({ t: '2024-01-01T10:00:00Z', l: '2024-01-01T10:00:00+02:00', d: '2024-01-02' }))).toEqual([
      utc('2024-01-01T10:00:00.000'),
      utc('2024-01-01T08:00:00.000'),
      utc('2024-01-02T00:00:00.000'),
    ]);
    expect(d(buf({ t: '2024-01-01 10:00:00', l: 1700000000123 }))).toEqual([utc('2024-01-01T10:00:00.000'), 1700000000123, null]);
    expect(d(buf({ t: 1700000000123, l: '2024-01-01 10:00:00.5' }))).toEqual([1700000000123, utc('2024-01-01T10:00:00.500'), null]);
    expect(() => d(buf({ d: '2024-01-02 10:00:00' }))).toThrow(`field 'd': cannot convert "2024-01-02 10:00:00" to DATE`);
  });

  it('DECIMAL: numbers and numeric strings rounded HALF_UP to scale, overflow is NULL', () => {
    const d = createJsonDecoder([{ name: 'p', type: T.decimal(5, 2) }], { ignoreParseErrors: false, timestampStandard: 'SQL' });
    expect(d(buf({ p: 1.005 }))).toEqual([1.01]);
    expect(d(buf({ p: '2.345' }))).toEqual([2.35]);
    expect(d(buf({ p: -2.345 }))).toEqual([-2.35]);
    expect(d(buf({ p: 12 }))).toEqual([12]);
    expect(d(buf({ p: '999.994' }))).toEqual([999.99]);
    expect(d(buf({ p: 999.995 }))).toEqual([null]);
    expect(d(buf({ p: 1e-7 }))).toEqual([0]);
    expect(() => d(buf({ p: 'NaN' }))).toThrow(`cannot convert "NaN" to DECIMAL(5, 2)`);
    expect(() => d(buf({ p: 'abc' }))).toThrow(BadRecordError);
    expect(roundHalfUp(0.125, 2)).toBe(0.13);
    expect(roundHalfUp(-0.125, 2)).toBe(-0.13);
    expect(roundHalfUp(1.23456789e-5, 7)).toBe(0.0000123);
    expect(roundHalfUp(123.456, 0)).toBe(123);
  });

  it('ARRAY and ROW recursively, with paths in errors', () => {
    const rowT: SqlType = {
      kind: 'ROW',
      fields: [
        { name: 'name', type: T.string },
        { name: 'level', type: T.int },
        { name: 'tags', type: T.array(T.int) },
      ],
    };
    const cols: JsonColumn[] = [
      { name: 'user', type: rowT },
      { name: 'ids', type: T.array(T.bigint) },
      { name: 'nested', type: T.array(T.array(T.string)) },
    ];
    const d = createJsonDecoder(cols, { ignoreParseErrors: false, timestampStandard: 'SQL' });
    expect(d(buf({ user: { name: 'a', level: '3', tags: [1, null, '2'] }, ids: ['1', 2], nested: [['x'], [1, true]] }))).toEqual([
      { name: 'a', level: 3, tags: [1, null, 2] },
      [1, 2],
      [['x'], ['1', 'true']],
    ]);
    expect(d(buf({ user: { level: 1 } }))).toEqual([{ name: null, level: 1, tags: null }, null, null]);
    expect(() => d(buf({ user: { name: 'a', tags: [1, 'z'] } }))).toThrow(`field 'user.tags[1]': cannot convert "z" to INT`);
    expect(() => d(buf({ user: 'x' }))).toThrow(/field 'user': cannot convert "x" to ROW<name STRING/);
    expect(() => d(buf({ ids: 5 }))).toThrow(`field 'ids': cannot convert 5 to ARRAY<BIGINT>`);
    const lenient = createJsonDecoder(cols, { ignoreParseErrors: true, timestampStandard: 'SQL' });
    expect(lenient(buf({ user: { name: 'a', level: 'x', tags: [1, 'z'] }, ids: 5 }))).toEqual([
      { name: 'a', level: null, tags: [1, null] },
      null,
      null,
    ]);
  });

  it('is fast enough: >= 100k records/s for a weibo-like record even on a loaded machine', () => {
    const d = createJsonDecoder(
      [
        { name: 'uid', type: T.bigint },
        { name: 'tid', type: T.bigint },
        { name: 'time', type: T.timestamp },
        { name: 'text', type: T.string },
        { name: 'loc', type: T.string },
        { name: 'type', type: T.string },
        { name: 'rt', type: T.boolean },
        { name: 'rtid', type: T.bigint },
        { name: 'ret', type: T.int },
        { name: 'mre', type: T.int },
        { name: 'att', type: T.int },
      ],
      { ignoreParseErrors: false, timestampStandard: 'SQL' },
    );
    const recs: Buffer[] = [];
    for (let i = 0; i < 1000; i++) {
      recs.push(
        buf({
          uid: 1000 + (i % 97),
          tid: 5_000_000 + i,
          time: formatTimestamp(1_700_000_000_000 + i * 1000),
          text: `post number ${i} #topic${i % 13}#`,
          loc: 'Beijing',
          type: 'original',
          rt: i % 2 === 0,
          rtid: null,
          ret: i % 7,
          mre: i % 5,
          att: i % 11,
        }),
      );
    }
    let sink = 0;
    const N = 200_000;
    const t0 = performance.now();
    for (let i = 0; i < N; i++) sink += (d(recs[i % 1000]!)![8] as number) ?? 0;
    const rate = N / ((performance.now() - t0) / 1000);
    expect(sink).toBeGreaterThan(0);
    expect(rate).toBeGreaterThan(100_000); // ~1M/s on the 2-core dev machine; a wide margin for loaded CI
  });
});

// ------------------------------------------------------------------------------ projection pushdown

/** A small seeded PRNG (mulberry32), so that a failure can be reproduced. */
function prng(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Outcome = { row: unknown[] | null } | { error: string; field: string | undefined };

function outcome(d: JsonDecoder, rec: Buffer | Uint8Array | string | null): Outcome {
  try {
    return { row: d(rec) };
  } catch (e) {
    if (!(e instanceof BadRecordError)) throw e; // only BadRecordError is an expected failure
    return { error: e.message, field: e.field };
  }
}

/** Deep equality where 0 and -0 differ and NaN equals NaN (as toStrictEqual), but quick. */
function same(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k)) return false;
    if (!same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

/** What a decoder with `fields` must give: the full decoder's outcome with unread columns NULL. */
function expected(full: JsonDecoder, fields: readonly boolean[], rec: Buffer | Uint8Array | string | null): Outcome {
  const o = outcome(full, rec);
  if ('row' in o && o.row !== null) return { row: o.row.map((v, i) => (fields[i] ? v : null)) };
  return o;
}

const pushdownColumns: JsonColumn[] = [
  { name: 'uid', type: T.bigint },
  { name: 'tid', type: T.bigint },
  { name: 'time', type: T.timestamp },
  { name: 'text', type: T.string },
  { name: 'loc', type: T.string },
  { name: 'rt', type: T.boolean },
  { name: 'att', type: T.int },
  { name: 'd', type: T.double },
  { name: 'p', type: T.decimal(5, 2) },
  { name: 'l', type: T.timestampLtz },
  { name: 'day', type: T.date },
  { name: 'iv', type: T.interval },
  { name: 'tags', type: T.array(T.int) },
  { name: 'user', type: { kind: 'ROW', fields: [{ name: 'name', type: T.string }, { name: 'level', type: T.int }] } },
  { name: '名字', type: T.string },
  { name: 'a"b', type: T.string },
  { name: 'n', type: T.null },
];

/**
 * Generates JSON records (as bytes): valid, tricky and malformed, all from one seed. `shaped`: runs of
 * records that share a shape (keys, their order and spelling, whitespace) and differ in their values, as
 * the records of a topic do, fewer of them damaged.
 */
function recordGenerator(seed: number, shaped = false): () => Buffer {
  const rnd = prng(seed);
  const pick = <V>(a: readonly V[]): V => a[Math.floor(rnd() * a.length)]!;
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
  const ws = (): string => (rnd() < 0.85 ? '' : pick([' ', '  ', '\n', '\t', '\r\n ', ' \t ']));

  const PIECES = ['post', ' ', '#topic1#', 'a', 'Z', '0', '42', 'é', 'ü', '中文', '微博', '😀', '"', '\\', '/', '\n', '\t', '\b', '\f', '\r',
    '\u0000', '\u001f', '\u007f', '\u2028', '\ufeff', '\ud800', '\udfff', 'true', 'null', '{', ']', ':', ','];
  const rString = (): string => {
    let s = '';
    const n = rnd() < 0.3 ? 0 : int(1, 6);
    for (let i = 0; i < n; i++) s += pick(PIECES);
    return s;
  };
  /** A JSON string literal for s, escaping randomly (\uXXXX, \/, surrogate pairs) beyond what is needed. */
  const strLit = (s: string): string => {
    const extra = rnd() < 0.3; // escape more than needed
    let out = '"';
    for (let i = 0; i < s.length; i++) {
      const ch = s[i]!;
      const c = s.charCodeAt(i);
      const hex = `\\u${c.toString(16).padStart(4, '0')}`;
      if (ch === '"') out += rnd() < 0.8 ? '\\"' : '\\u0022';
      else if (ch === '\\') out += rnd() < 0.8 ? '\\\\' : '\\u005C';
      else if (c < 0x20) out += ({ 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r' } as Record<number, string>)[c] ?? hex;
      else if (c >= 0xd800 && c <= 0xdfff) {
        const pair = c <= 0xdbff && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff;
        if (pair && rnd() < 0.5) out += s[i++]! + s[i]!; // the raw pair (UTF-8 of the astral character)
        else out += rnd() < 0.5 ? hex : hex.toUpperCase().replace('\\U', '\\u');
      } else if (ch === '/' && extra && rnd() < 0.5) out += '\\/';
      else if (extra && rnd() < 0.1) out += hex;
      else out += ch;
    }
    return `${out}"`;
  };
  const NUMBERS = ['0', '-0', '1', '-1', '7', '42', '-42', '123456', '2147483647', '2147483648', '-2147483648', '-2147483649',
    '4000000000', '9007199254740993', '12345678901234567890', '-99999999999999999999', '1e400', '-1e400', '1e-400', '3.14', '-0.5',
    '0.1', '1.005', '999.995', '1e5', '1E-3', '2.5e+10', '1.0', '10.50', '0e0', '-0.0e-0', '5e-324', '1.7976931348623157e308',
    '9223372036854775807', '9223372036854775295', '-9223372036854775808', '-9223372036854777856', `1${'0'.repeat(308)}`, `1${'0'.repeat(309)}`,
    // Not JSON numbers (leading zeros, a sign or a dot alone, no digits after '.' or 'e'): the record is bad.
    '01', '-01', '00', '007', '-00', '01.5', '-', '1.', '.5', '-.5', '1e', '1e+', '2.e3'];
  const digits = (n: number): string => Array.from({ length: n }, (_, i) => String(int(i === 0 && n > 1 ? 1 : 0, 9))).join('');
  const rNumber = (): string => {
    const r = rnd();
    if (r < 0.4) return pick(NUMBERS);
    if (r < 0.7) return String(rnd() < 0.5 ? int(-1e6, 1e6) : int(0, 1e9) * 10 ** int(0, 9));
    // Any length of digits (exact and rounded integers), fractions, exponents.
    let t = (rnd() < 0.3 ? '-' : '') + digits(int(1, 25));
    if (rnd() < 0.3) t += `.${digits(int(1, 20)).split('').reverse().join('')}`;
    if (rnd() < 0.2) t += `${pick(['e', 'E'])}${pick(['', '+', '-'])}${int(0, 400)}`;
    return t;
  };
  const rTimestamp = (): string => {
    const ms = int(-2e12, 4e12);
    let t = formatTimestamp(ms);
    const r = rnd();
    if (r < 0.1) t = t.slice(0, 19);
    else if (r < 0.2) t = t.slice(0, 16);
    else if (r < 0.3) t = t.slice(0, 10);
    else if (r < 0.4) t = `${t.slice(0, 19)}.${String(int(0, 999999999)).padStart(int(1, 9), '0').slice(0, int(1, 10))}`;
    if (rnd() < 0.2) t = t.replace(' ', 'T');
    if (rnd() < 0.25) t += pick(['Z', 'z', '+08:00', '-0330', '+05', ' ', 'x', 'ZZ', '0', '.', ':']);
    if (rnd() < 0.05) t = ` ${t}`;
    if (rnd() < 0.1) t = pick(['2023-02-29 00:00:00', '2024-02-29 23:59:59.999', '2024-13-01 00:00:00', '2024-01-01 24:00:00', '2024-01-01 12:60',
      '2024-01-01 12:00:60', '2024-01-01 12:00:00.', '0000-01-01 00:00:00', '9999-12-31 23:59:59.999', '2024-1-01', '2024-01-01T12:00:00,5']);
    return t;
  };
  const rNumericText = (): string => pick([' 12 ', '12', '-7', '+7', '12x', '1.5', '1e3', 'NaN', 'Infinity', '-Infinity', '99999999999999999999',
    'true', 'TRUE', ' false ', 'yes', '', ' ', '0x10', '.5', '5.', '2024-01-02']);
  const rScalar = (): string => {
    const r = rnd();
    if (r < 0.3) return strLit(rString());
    if (r < 0.55) return rNumber();
    if (r < 0.65) return strLit(rNumericText());
    if (r < 0.75) return pick(['true', 'false', 'null']);
    return strLit(rTimestamp());
  };
  const rValue = (depth: number): string => {
    const r = rnd();
    if (depth < 4 && r < 0.12) {
      const n = int(0, 4);
      const items = Array.from({ length: n }, () => ws() + rValue(depth + 1) + ws());
      return `[${items.join(',') || ws()}]`;
    }
    if (depth < 4 && r < 0.22) {
      const n = int(0, 4);
      const items = Array.from({ length: n }, () => `${ws()}${strLit(pick(['name', 'level', 'x', 'uid', '']))}${ws()}:${ws()}${rValue(depth + 1)}${ws()}`);
      return `{${items.join(',') || ws()}}`;
    }
    return rScalar();
  };
  /** A value of the kind the column expects (mostly convertible), else anything. */
  const valueFor = (name: string, anyKind = 0.25): string => {
    if (rnd() < anyKind) return rValue(0);
    switch (name) {
      case 'uid':
      case 'tid':
      case 'att':
      case 'iv':
        return rnd() < 0.8 ? String(int(-1e6, 1e10)) : rNumber();
      case 'd':
      case 'p':
        return rNumber();
      case 'time':
      case 'l':
        return rnd() < 0.1 ? String(int(0, 2e12)) : strLit(rTimestamp());
      case 'day':
        return strLit(rTimestamp().slice(0, 10));
      case 'rt':
        return pick(['true', 'false', '"true"', '"False"', '1', '0']);
      case 'tags':
        return `[${Array.from({ length: int(0, 4) }, () => pick(['1', '-2', '"3"', 'null', '4.5', '2147483648'])).join(',')}]`;
      case 'user':
        return `{"name":${strLit(rString())},"level":${pick(['1', '"2"', 'null', '"x"'])}${rnd() < 0.3 ? ',"extra":[1,{"a":null}]' : ''}}`;
      default:
        return strLit(rString());
    }
  };
  const KEYS = [...pushdownColumns.map((c) => c.name), 'extra', 'UID', 'tim', 'time ', 'nested', '', '名', '__proto__', 'constructor'];
  const rObject = (): string => {
    const members: string[] = [];
    const n = int(0, 14);
    for (let i = 0; i < n; i++) {
      const key = pick(KEYS);
      members.push(`${ws()}${strLit(key)}${ws()}:${ws()}${valueFor(key)}${ws()}`);
      if (rnd() < 0.1) members.push(`${ws()}${strLit(key)}${ws()}:${ws()}${valueFor(key)}${ws()}`); // duplicate key
    }
    return `${ws()}{${members.join(',') || ws()}}${ws()}`;
  };
  /** A value the column converts (the bulk of a topic's records), of one kind per column. */
  const cleanValueFor = (name: string): string => {
    switch (name) {
      // Now and then a number just out of the type's range: as many digits as the ones in range.
      case 'uid':
      case 'tid':
        return rnd() < 0.9 ? String(int(-1e12, 1e12)) : pick(['9223372036854775807', '9223372036854775808', '-9223372036854775809', '999999999999999999', '1000000000000000000']);
      case 'att':
        return rnd() < 0.9 ? String(int(-2147483648, 2147483647)) : String(int(2147483648, 9999999999) * (rnd() < 0.5 ? -1 : 1));
      case 'iv':
        return String(int(-1e6, 1e6));
      case 'd':
      case 'p':
        return (rnd() * 1e4 - 5e3).toFixed(int(0, 3));
      case 'time':
      case 'l':
        return strLit(formatTimestamp(int(0, 4e12)));
      case 'day':
        return strLit(formatTimestamp(int(0, 4e12)).slice(0, 10));
      case 'rt':
        return pick(['true', 'false']);
      case 'tags':
        return `[${Array.from({ length: int(0, 4) }, () => String(int(-9, 99))).join(',')}]`;
      case 'user':
        return `{"name":${strLit(rString())},"level":${int(0, 9)}}`;
      default:
        return pushdownColumns.some((c) => c.name === name) ? strLit(rString()) : rValue(0);
    }
  };
  // A shape: each member's key as written and the whitespace around it, fixed for a run of records.
  let shape: { key: string; lit: string; ws: string[] }[] = [];
  let around: string[] = [];
  let runLeft = 0;
  const shapedObject = (): string => {
    if (runLeft-- <= 0) {
      runLeft = int(10, 120);
      shape = [];
      const keys = KEYS.filter(() => rnd() < 0.5);
      for (let i = int(0, Math.min(14, keys.length)); i > 0; i--) {
        const key = keys.splice(int(0, keys.length - 1), 1)[0]!;
        const member = { key, lit: strLit(key), ws: [ws(), ws(), ws(), ws()] };
        shape.push(member);
        if (rnd() < 0.05) shape.push({ ...member, ws: [ws(), ws(), ws(), ws()] }); // duplicate key
      }
      around = [ws(), ws(), ws()];
    }
    // Mostly a value the column converts; sometimes another kind (null, a string for a number, ...).
    const members = shape.map((m) => `${m.ws[0]}${m.lit}${m.ws[1]}:${m.ws[2]}${rnd() < 0.97 ? cleanValueFor(m.key) : rnd() < 0.5 ? valueFor(m.key, 0) : rValue(0)}${m.ws[3]}`);
    return `${around[0]}{${members.join(',') || around[1]}}${around[2]}`;
  };
  const TOP = ['null', ' null ', 'null x', '[1,2]', '[]', '42', '"s"', 'true', '', '   ', '{}', '{ }', 'nul', '{"uid":1}{"uid":2}'];
  const GARBAGE = [...'"\\{}[],:x 0-.eE+\t'].map((c) => Buffer.from(c))
    .concat([Buffer.from([0x01]), Buffer.from([0x00]), Buffer.from([0xff]), Buffer.from([0xc3]), Buffer.from([0xe4, 0xb8]),
      Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('é'), Buffer.from('tru'), Buffer.from('null')]);

  return (): Buffer => {
    let b = Buffer.from(rnd() < 0.04 ? pick(TOP) : shaped ? shapedObject() : rObject(), 'utf8');
    const m = rnd();
    if (m < (shaped ? 0.9 : 0.7) || b.length === 0) return b;
    const at = int(0, b.length - 1);
    if (m < 0.76) return b.subarray(0, at); // truncated
    if (m < 0.82) return Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]); // a byte dropped
    if (m < 0.9) return Buffer.concat([b.subarray(0, at), pick(GARBAGE), b.subarray(at)]); // something inserted
    if (m < 0.96) return Buffer.concat([b.subarray(0, at), pick(GARBAGE), b.subarray(at + 1)]); // a byte replaced
    b = Buffer.concat(rnd() < 0.5 ? [b, pick(GARBAGE)] : [pick(GARBAGE), b]);
    return b;
  };
}

describe('JSON decoder with projection pushdown (fields)', () => {
  const optionSets: JsonDecoderOptions[] = [
    { ignoreParseErrors: false, timestampStandard: 'SQL' },
    { ignoreParseErrors: true, timestampStandard: 'SQL' },
    { ignoreParseErrors: false, timestampStandard: 'ISO-8601', failOnMissingField: true },
  ];

  /** Which columns a query reads: none, all, all but the first, `named`, and `random` more (each column read with probability `p`). */
  const masksOf = (named: boolean[][], random: number, p: number, rnd: () => number): boolean[][] => [
    pushdownColumns.map(() => false),
    pushdownColumns.map(() => true),
    pushdownColumns.map((_, i) => i !== 0),
    ...named,
    ...Array.from({ length: random }, () => pushdownColumns.map(() => rnd() < p)),
  ];

  /** Per option set and mask: the decoder under test and the JSON.parse path it must agree with. */
  const decodersFor = (masks: readonly boolean[][]) =>
    optionSets.flatMap((o) =>
      masks.map((fields) => ({ o, fields, full: createJsonParseDecoder(pushdownColumns, o), dec: createJsonDecoder(pushdownColumns, { ...o, fields }) })),
    );

  it('gives the full decoder result with unread columns NULL, and fails exactly when it fails (random records, read alone or in a larger buffer)', () => {
    const next = recordGenerator(20240601);
    const masks = masksOf(
      [
        pushdownColumns.map((c) => c.name === 'time' || c.name === 'loc'),
        pushdownColumns.map((c) => c.name === 'tags' || c.name === 'user' || c.name === 'a"b' || c.name === '名字'),
      ],
      8,
      0.3,
      prng(7),
    );
    const decoders = decodersFor(masks);
    const parse = vi.spyOn(JSON, 'parse');
    let total = 0;
    let bad = 0;
    let fellBack = 0; // rows decoded by the full path instead of the scanner
    let rows = 0;
    try {
      for (let r = 0; r < 4000; r++) {
        const rec = next();
        for (const { o, fields, full, dec } of decoders) {
          const want = expected(full, fields, rec);
          parse.mockClear();
          const got = outcome(dec, rec);
          if (!same(got, want)) expect({ rec: rec.toString('latin1'), o, fields, got }).toStrictEqual({ rec: rec.toString('latin1'), o, fields, got: want });
          // The same record where it lies in a larger buffer (a fetched batch), read there by `at`.
          const pad = r % 7;
          const around = Buffer.concat([Buffer.from('}"x'.repeat(pad)), rec, Buffer.from('{"'.repeat(pad))]);
          const gotAt = outcome(() => dec.at!(around, 3 * pad, 3 * pad + rec.length), rec);
          if (!same(gotAt, want)) expect({ rec: rec.toString('latin1'), o, fields, at: true, got: gotAt }).toStrictEqual({ rec: rec.toString('latin1'), o, fields, at: true, got: want });
          total++;
          if ('error' in got) bad++;
          else if (got.row !== null) {
            rows++;
            const text = rec.toString('utf8');
            if (parse.mock.calls.some((c) => c[0] === text)) fellBack++; // JSON.parse of the whole record
          }
        }
      }
    } finally {
      parse.mockRestore();
    }
    // The generator must produce plenty of both, and the scanner must decode every row itself (it leaves
    // valid records to the full path only for nesting deeper than it follows).
    expect(bad).toBeGreaterThan(total * 0.2);
    expect(rows).toBeGreaterThan(total * 0.2);
    expect(fellBack).toBe(0);
  });

  it('a scanner of the records\' shape decodes what the projected scanner would, and nothing it would not (runs of records of one shape)', () => {
    const next = recordGenerator(20261126, true);
    const masks = masksOf(
      [
        pushdownColumns.map((c) => c.name === 'uid' || c.name === 'time' || c.name === 'att'),
        pushdownColumns.map((c) => c.name === 'tags' || c.name === 'user' || c.name === 'a"b' || c.name === '名字' || c.name === 'rt'),
      ],
      6,
      0.4,
      prng(11),
    );
    const decoders = decodersFor(masks);
    let rows = 0;
    let bad = 0;
    for (let r = 0; r < 6000; r++) {
      const rec = next();
      for (const { o, fields, full, dec } of decoders) {
        const want = expected(full, fields, rec);
        // Read where it lies in a larger buffer (a fetched batch): the bytes beyond its end must not count.
        const pad = r % 5;
        const around = Buffer.concat([Buffer.from('}"1'.repeat(pad)), rec, Buffer.from(r % 2 ? ' ' : '0,"x":1}'.repeat(pad))]);
        const got = outcome(() => dec.at!(around, 3 * pad, 3 * pad + rec.length), rec);
        if (!same(got, want)) expect({ rec: rec.toString('latin1'), o, fields, got }).toStrictEqual({ rec: rec.toString('latin1'), o, fields, got: want });
        if ('error' in got) bad++;
        else if (got.row !== null) rows++;
      }
    }
    const hits = decoders.reduce((s, d) => s + d.dec.shapes!.hits, 0);
    const shapes = decoders.reduce((s, d) => s + d.dec.shapes!.shapes, 0);
    expect(bad).toBeGreaterThan(0);
    expect(shapes).toBeGreaterThan(decoders.length * 5);
    // Most rows come from shaped scanners (those of a shape they do not handle go to the projected scanner).
    expect(hits).toBeGreaterThan(rows * 0.4);
  });

  it('hand-written tricky and malformed records', () => {
    const cases = [
      '{"uid": 1, "text": "abc',
      '{"a": tru}',
      '{"a":1} x',
      '[1,2]',
      'null',
      '  null  ',
      '42',
      '"just a string"',
      '',
      ' ',
      '{}',
      '{"uid":1,}',
      '{,"uid":1}',
      '{"uid" 1}',
      '{"uid":01}',
      '{"uid":-}',
      '{"uid":1.}',
      '{"uid":.5}',
      '{"uid":+1}',
      '{"uid":1e}',
      '{"uid":0x10}',
      '{"uid":-+1}',
      '{"uid":--1}',
      '{"rt":trux}',
      '{"rt":tru,"uid":1}',
      '{"rt":truE}',
      '{"rt":fals}',
      '{"rt":falsy}',
      '{"rt":nul}',
      '{"rt":nulll}',
      '{"rt":True}',
      '{"uid":12345678901234567}',
      '{"uid":92295304600332754,"text":92295304600332754,"d":-92295304600332754}', // accumulating digits would round twice
      '{"uid":-9007199254740993}',
      '{"d":0.1e1,"p":123.456e-2}',
      '{"uid":NaN}',
      "{'uid':1}",
      '{"uid":1 "tid":2}',
      '{"text":"tab\there"}',
      '{"text":"bad \\x escape"}',
      '{"text":"bad \\u12G4 escape"}',
      '{"text":"\\ud83d\\ude00 \\u00e9 \\"q\\" \\\\ \\/ 中文"}',
      '{"text":"\\ud800 lone"}',
      '{"x":{"text":"nested"},"text":"top"}',
      '{"text":"first","text":"last"}',
      '{"text":"first","text":null}',
      '{"att":"x","att":5}',
      '{"att":5,"att":"x"}',
      '{"u\\u0069d":7}',
      '{"uid":1,"extra":[1,{"a":[true,false,null,"s",-1.5e-3]}],"time":"2024-01-01 00:00:00.123"}',
      '{"extra":[1,2}',
      '{"extra":[1,2},"uid":1}',
      '{"extra":{"a":1],"uid":1}',
      '{"extra":{1:2},"uid":1}',
      '{"extra":{a:2},"uid":1}',
      '{"extra":[1 2],"uid":1}',
      '{"extra":{"a":1 "b":2},"uid":1}',
      '{"extra":{"a":1]}',
      '{"extra":{"a"}}',
      '{"extra":[1,2,]}',
      '{"extra":{"a":1,}}',
      ' \t\r\n{ \t\r\n"uid" \t\r\n: \t\r\n1 \t\r\n, "loc" : "x" \n} \t\r\n',
      '{"uid":12345678901234567890}',
      '{"uid":"12345678901234567890"}',
      '{"uid":"9007199254740993"}',
      '{"att":2147483648}',
      '{"att":-2147483648}',
      '{"att":1e2}',
      '{"d":1e400}',
      '{"iv":1e400}',
      '{"time":1e400}',
      '{"time":"2024-02-30 00:00:00"}',
      '{"time":"2024-01-01T10:00:00Z","l":"2024-01-01T10:00:00+02:00","day":"2024-01-02"}',
      '{"time":"2024-01-01 10:00:00.123456789","l":"2024-01-01 10:00","day":"2024-01-02 10:00:00"}',
      '{"time":"2024-01-01 10:00:00.1234567890"}',
      '{"time":"2024-01-01 10:00:00x"}',
      '{"time":"2024-01-01 10:00:00.5x"}',
      '{"time":"2024-01-01 10:00x"}',
      '{"time":"2024-01-01x"}',
      '{"time":"2024-01-01 10:00:00z"}',
      '{"time":"2024-01-01 10:00:00ZZ"}',
      '{"time":"2024-01-01 10:00:00+08:00","l":"2024-01-01 10:00:00-0330"}',
      '{"time":"2024-01-01t10:00:00","l":"2024-01-01x10:00:00"}',
      '{"time":"2024-01-01 10:00:00,5"}',
      '{"time":"2024-01-01 10:0","l":"2024-01-01 10:00:0"}',
      '{"time":" 2024-01-01 10:00:00 "}',
      '{"time":"2024-02-29 10:00:00","l":"2023-02-29 10:00:00","day":"2000-02-29"}',
      '{"time":"1900-02-29 10:00:00","day":"1900-02-29"}',
      '{"time":"0000-01-01 00:00:00","l":"9999-12-31T23:59:59.999999999Z"}',
      '{"time":"2024-01-01 24:00:00","l":"2024-01-01 23:60:00"}',
      '{"time":"2024-01-01 23:59:60","l":"2024-00-01 00:00:00"}',
      '{"day":"2024-01-01 ","l":"2024-01-32"}',
      '{"tags":[1,"2",null],"user":{"name":"a","level":"3"}}',
      '{"tags":[1,"z"]}',
      '{"user":"x"}',
      '{"名字":"值","a\\"b":"q"}',
      '{"rt":"yes","p":"1.005"}',
      '{"n":{"deep":[[[[]]]]}}',
      `{"extra":${'['.repeat(600)}${']'.repeat(600)},"uid":1}`,
      `{"extra":${'['.repeat(600)}${']'.repeat(599)},"uid":1}`,
    ];
    const bytes = cases.map((c) => Buffer.from(c, 'utf8'));
    bytes.push(Buffer.from([0xef, 0xbb, 0xbf, ...Buffer.from('{"uid":1}')])); // BOM: not JSON
    bytes.push(Buffer.from([...Buffer.from('{"loc":"'), 0xff, 0xc3, 0x41, 0xe4, 0xb8, ...Buffer.from('"}')])); // bad UTF-8 in a string
    bytes.push(Buffer.from([...Buffer.from('{"lo'), 0xff, ...Buffer.from('c":"x","loc":"y"}')])); // bad UTF-8 in a key
    bytes.push(Buffer.from([...Buffer.from('{"uid":1'), 0xc3, 0xa9, ...Buffer.from('}')])); // non-ASCII outside strings
    const all = pushdownColumns.map(() => true);
    for (const o of optionSets) {
      const full = createJsonParseDecoder(pushdownColumns, o);
      for (const fields of [pushdownColumns.map(() => false), pushdownColumns.map((c) => c.name === 'text' || c.name === 'loc'), all.map((_, i) => i % 2 === 0), all]) {
        const dec = createJsonDecoder(pushdownColumns, { ...o, fields });
        for (const rec of bytes) expect(outcome(dec, rec), rec.toString()).toStrictEqual(expected(full, fields, rec));
      }
    }
    // The records of the brief are bad records with and without pushdown, and null stays a skip.
    const text = createJsonDecoder(pushdownColumns, { ...optionSets[0]!, fields: pushdownColumns.map((c) => c.name === 'time') });
    for (const c of ['{"uid": 1, "text": "abc', '{"a": tru}', '{"a":1} x']) expect(() => text(Buffer.from(c))).toThrow(/not valid JSON/);
    expect(() => text(Buffer.from('[1,2]'))).toThrow(/not a JSON object/);
    expect(text(Buffer.from('null'))).toBeNull();
    expect(text(Buffer.from('{"text":"\\ud83d\\ude00 \\u00e9 中文","time":"2024-01-01 00:00:00"}'))![2]).toBe(utc('2024-01-01T00:00:00.000'));
    // An unread field that does not convert is still a bad record (the counts do not depend on the query).
    expect(() => text(Buffer.from('{"att":"x","time":"2024-01-01 00:00:00"}'))).toThrow(`field 'att': cannot convert "x" to INT`);
  });

  it('converts timestamps of one day after another, across days, months, leap days and invalid dates, as the full decoder does', () => {
    // The scanners remember the last date they converted: a run of one day, a change of day and back, and
    // invalid dates between valid ones of the same digits must still convert (or fail) each on its own.
    const cols: JsonColumn[] = [{ name: 'time', type: T.timestamp }, { name: 'day', type: T.date }];
    const o = { ignoreParseErrors: false, timestampStandard: 'SQL' } as const;
    const full = createJsonParseDecoder(cols, o);
    const dec = createJsonDecoder(cols, o);
    const times = [
      '2024-02-28 23:59:59.999', '2024-02-28 10:00', '2024-02-29 00:00:00', '2024-02-29 12:34:56.7', '2023-02-29 00:00:00',
      '2024-02-29 23:59:59.999', '2024-02-30 00:00:00', '2024-02-29', '2024-03-01 00:00:00.001', '2025-02-29 01:00:00',
      '2025-03-01 01:00:00', '1999-12-31 23:59:59', '2000-01-01 00:00:00', '1999-12-31 00:00:01', '2024-13-01 00:00:00',
      '2024-02-29 24:00:00', '2024-02-29 01:00:00',
    ];
    const recs = times.flatMap((t) => [`{"time":"${t}"}`, `{"day":"${t.slice(0, 10)}"}`, `{"time":"${t}","day":"${t.slice(0, 10)}"}`]);
    const outcome = (d: (b: Buffer) => unknown, r: string): unknown => {
      try {
        return d(Buffer.from(r));
      } catch (e) {
        return (e as Error).message;
      }
    };
    for (let round = 0; round < 3; round++) for (const r of recs) expect(outcome(dec, r), r).toStrictEqual(outcome(full, r));
    expect(dec(Buffer.from('{"time":"2024-02-29 12:34:56.7"}'))![0]).toBe(utc('2024-02-29T12:34:56.700'));
    expect(() => dec(Buffer.from('{"time":"2023-02-29 12:34:56.7"}'))).toThrow(/2023-02-29/);
  });

  it('decodes microblog events without JSON.parse, as the full decoder does, from Buffer, Uint8Array and string', () => {
    const cols: JsonColumn[] = [
      { name: 'uid', type: T.bigint },
      { name: 'tid', type: T.bigint },
      { name: 'time', type: T.timestamp },
      { name: 'text', type: T.string },
      { name: 'loc', type: T.string },
      { name: 'type', type: T.string },
      { name: 'rt', type: T.boolean },
      { name: 'rtid', type: T.bigint },
      { name: 'ret', type: T.int },
      { name: 'mre', type: T.int },
      { name: 'att', type: T.int },
    ];
    const o = { ignoreParseErrors: false, timestampStandard: 'SQL' } as const;
    const full = createJsonParseDecoder(cols, o);
    const sets = [['time', 'loc'], ['uid', 'text', 'att'], [], cols.map((c) => c.name).filter((c) => c !== 'rtid'), cols.map((c) => c.name)];
    const parse = vi.spyOn(JSON, 'parse');
    try {
      for (const names of sets) {
        const fields = cols.map((c) => names.includes(c.name));
        const dec = createJsonDecoder(cols, { ...o, fields });
        for (let i = 0; i < 3000; i++) {
          const text = microblogEvent(i * 7 + 3);
          const b = Buffer.from(text);
          const want = expected(full, fields, b);
          parse.mockClear();
          expect(outcome(dec, b)).toStrictEqual(want);
          expect(parse).not.toHaveBeenCalled();
          const u8 = new Uint8Array(b.length + 4);
          u8.set(b, 2);
          expect(outcome(dec, u8.subarray(2, 2 + b.length))).toStrictEqual(want);
          expect(outcome(dec, text)).toStrictEqual(want);
        }
      }
    } finally {
      parse.mockRestore();
    }
  });

  it('checks the fields option', () => {
    expect(() => createJsonDecoder(weibo, { ignoreParseErrors: false, timestampStandard: 'SQL', fields: [true] })).toThrow(/1 field flags for 5 columns/);
    const d = createJsonDecoder(weibo, { ignoreParseErrors: false, timestampStandard: 'SQL', fields: [true, true, true, true, true] });
    expect(d(buf({ uid: 1, att: 2 }))).toEqual([1, null, null, null, 2]);
    // Column names JSON.parse's object would not look up plainly: the full path, still with NULLs.
    const odd = createJsonDecoder(
      [
        { name: 'constructor', type: T.string },
        { name: 'x', type: T.int },
      ],
      { ignoreParseErrors: false, timestampStandard: 'SQL', fields: [false, true] },
    );
    expect(odd(buf({ constructor: 'c', x: 1 }))).toEqual([null, 1]);
  });
});

describe('JSON encoder', () => {
  it('writes TIMESTAMP as SQL text, nulls as null, numbers as numbers, and round trips', () => {
    const cols: JsonColumn[] = [
      ...weibo,
      { name: 'price', type: T.decimal(10, 2) },
      { name: 'd', type: T.date },
      { name: 'tags', type: T.array(T.string) },
      { name: 'x', type: T.double },
    ];
    const enc = createJsonEncoder(cols, { timestampStandard: 'SQL' });
    const row = [42, utc('2024-01-01T00:00:01.500'), 'he said "hi"\n', true, null, 12.5, utc('2024-01-02T00:00:00.000'), ['a', null], NaN];
    const text = enc(row).toString();
    expect(text).toBe(
      '{"uid":42,"time":"2024-01-01 00:00:01.500","text":"he said \\"hi\\"\\n","rt":true,"att":null,"price":12.5,"d":"2024-01-02","tags":["a",null],"x":"NaN"}',
    );
    expect(JSON.parse(text).uid).toBe(42);
    const back = createJsonDecoder(cols, { ignoreParseErrors: false, timestampStandard: 'SQL' })(enc(row));
    expect(back!.slice(0, 8)).toEqual(row.slice(0, 8));
    expect(back![8]).toBeNaN();
  });

  it('writes ISO-8601 when asked, TIMESTAMP_LTZ in the time zone, and can drop null fields', () => {
    const cols: JsonColumn[] = [
      { name: 't', type: T.timestamp },
      { name: 'l', type: T.timestampLtz },
      { name: 'n', type: T.string },
    ];
    const ms = utc('2024-01-01T12:00:00.000');
    expect(createJsonEncoder(cols, { timestampStandard: 'ISO-8601' })([ms, ms, null]).toString()).toBe(
      '{"t":"2024-01-01T12:00:00.000","l":"2024-01-01T12:00:00.000Z","n":null}',
    );
    expect(createJsonEncoder(cols, { timestampStandard: 'SQL', timeZone: 'Asia/Shanghai', ignoreNullFields: true })([ms, ms, null]).toString()).toBe(
      '{"t":"2024-01-01 12:00:00.000","l":"2024-01-01 20:00:00.000+08:00"}',
    );
    // The decoder reads LTZ text with an offset back to the same instant.
    const dec = createJsonDecoder(cols, { ignoreParseErrors: false, timestampStandard: 'SQL' });
    expect(dec(Buffer.from('{"l":"2024-01-01 20:00:00.000+08:00"}'))).toEqual([null, ms, null]);
  });

  it('writes nested ROW values from plain objects', () => {
    const cols: JsonColumn[] = [
      {
        name: 'u',
        type: { kind: 'ROW', fields: [{ name: 'id', type: T.int }, { name: 'at', type: T.timestamp }] },
      },
    ];
    const enc = createJsonEncoder(cols, { timestampStandard: 'SQL' });
    expect(enc([{ id: 1, at: 0 }]).toString()).toBe('{"u":{"id":1,"at":"1970-01-01 00:00:00.000"}}');
    expect(enc([null]).toString()).toBe('{"u":null}');
  });

  it('key encoder writes a JSON object of the key fields', () => {
    const enc = createKeyEncoder(weibo, [4, 0]);
    expect(enc([7, 0, 'x', true, 3]).toString()).toBe('{"att":3,"uid":7}');
    expect(() => createKeyEncoder(weibo, [9])).toThrow(/no column at index 9/);
  });
});
