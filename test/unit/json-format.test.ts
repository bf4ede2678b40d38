import { describe, expect, it } from 'vitest';
import { T } from '../../engine/plan/types.ts';
import type { SqlType } from '../../engine/plan/types.ts';
import {
  BadRecordError,
  createJsonDecoder,
  createJsonEncoder,
  createKeyEncoder,
  roundHalfUp,
} from '../../connectors/formats/json.ts';
import type { JsonColumn } from '../../connectors/formats/json.ts';
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
