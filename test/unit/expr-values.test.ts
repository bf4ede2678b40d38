import { describe, expect, it } from 'vitest';
import {
  DataError,
  coerce,
  formatDouble,
  formatTimestamp,
  formatValue,
  makeCoercer,
  parseTimestamp,
  parseTimestampLtz,
  roundHalfUp,
  valueToString,
} from '../../engine/expr/index.ts';
import { T } from '../../engine/plan/types.ts';
import type { SqlType } from '../../engine/plan/types.ts';

const T0 = Date.UTC(2024, 0, 2, 3, 4, 5, 6);

describe('formatTimestamp / parseTimestamp', () => {
  it('formats yyyy-MM-dd HH:mm:ss.SSS', () => {
    expect(formatTimestamp(T0)).toBe('2024-01-02 03:04:05.006');
    expect(formatTimestamp(0)).toBe('1970-01-01 00:00:00.000');
    expect(formatTimestamp(-1)).toBe('1969-12-31 23:59:59.999');
    expect(formatTimestamp(T0, 0)).toBe('2024-01-02 03:04:05');
    expect(formatTimestamp(-62135596800000)).toBe('0001-01-01 00:00:00.000');
  });

  it('round-trips across many instants', () => {
    for (let ms = Date.UTC(1900, 0, 1); ms < Date.UTC(2100, 0, 1); ms += 86_399_999 * 37 + 12345) {
      expect(parseTimestamp(formatTimestamp(ms))).toBe(ms);
      expect(formatTimestamp(ms)).toBe(new Date(ms).toISOString().replace('T', ' ').replace('Z', ''));
    }
  });

  it('TIMESTAMP_LTZ text without a zone is read in the given zone', () => {
    expect(parseTimestampLtz('2024-01-01 08:00:00', 'Asia/Shanghai')).toBe(Date.UTC(2024, 0, 1));
    expect(parseTimestampLtz('2024-01-01T00:00:00Z', 'Asia/Shanghai')).toBe(Date.UTC(2024, 0, 1));
    expect(parseTimestampLtz('nope', 'UTC')).toBe(null);
  });
});

describe('numbers', () => {
  it('roundHalfUp rounds half away from zero', () => {
    expect(roundHalfUp(2.5, 0)).toBe(3);
    expect(roundHalfUp(-2.5, 0)).toBe(-3);
    expect(roundHalfUp(1.005, 2)).toBe(1.01);
    expect(roundHalfUp(1.004, 2)).toBe(1);
    expect(roundHalfUp(1234.5, -2)).toBe(1200);
    expect(Object.is(roundHalfUp(-0.001, 2), 0)).toBe(true);
  });

  it('formatDouble prints like Java', () => {
    expect(formatDouble(1)).toBe('1.0');
    expect(formatDouble(1.5)).toBe('1.5');
    expect(formatDouble(0.001)).toBe('0.001');
    expect(formatDouble(0.0001)).toBe('1.0E-4');
    expect(formatDouble(12345678)).toBe('1.2345678E7');
    expect(formatDouble(-1e21)).toBe('-1.0E21');
    expect(formatDouble(Number.NaN)).toBe('NaN');
    expect(formatDouble(-Infinity)).toBe('-Infinity');
  });
});

describe('valueToString (CAST to STRING)', () => {
  it.each<[unknown, SqlType, string | null]>([
    [true, T.boolean, 'TRUE'],
    [42, T.int, '42'],
    [9007199254740993, T.bigint, '9007199254740992'],
    [2, T.double, '2.0'],
    [1.5, T.decimal(10, 3), '1.500'],
    [T0, T.timestamp, '2024-01-02 03:04:05.006'],
    [Date.UTC(2024, 0, 2), T.date, '2024-01-02'],
    [5000, T.interval, '+0 00:00:05.000'],
    [['a', null], T.array(T.string), '[a, NULL]'],
    [{ x: 1, y: 'b' }, { kind: 'ROW', fields: [{ name: 'x', type: T.int }, { name: 'y', type: T.string }] }, '(1, b)'],
    [null, T.int, null],
  ])('%j as %j', (v, type, expected) => {
    expect(valueToString(v, type)).toBe(expected);
  });

  it('TIMESTAMP_LTZ in a zone', () => {
    expect(valueToString(Date.UTC(2024, 0, 1), T.timestampLtz, 'Asia/Shanghai')).toBe('2024-01-01 08:00:00.000');
  });
});

describe('formatValue (JSON and display)', () => {
  it('keeps JSON types and formats time', () => {
    expect(formatValue(true, T.boolean)).toBe(true);
    expect(formatValue(12, T.int)).toBe(12);
    expect(formatValue(2 ** 60, T.bigint)).toBe('1152921504606846976');
    expect(formatValue(12.5, T.decimal(5, 1))).toBe(12.5);
    expect(formatValue(Number.NaN, T.double)).toBe('NaN');
    expect(formatValue(T0, T.timestamp)).toBe('2024-01-02 03:04:05.006');
    expect(formatValue(T0, T.timestamp, 'UTC', { timestampFormat: 'ISO-8601' })).toBe('2024-01-02T03:04:05.006');
    expect(formatValue(Date.UTC(2024, 0, 1), T.timestampLtz, 'Asia/Shanghai')).toBe('2024-01-01 08:00:00.000');
    expect(formatValue(Date.UTC(2024, 0, 1), T.timestampLtz, 'Asia/Shanghai', { timestampFormat: 'ISO-8601' })).toBe('2024-01-01T08:00:00.000+08:00');
    expect(formatValue(Date.UTC(2024, 0, 1), T.timestampLtz, 'UTC', { timestampFormat: 'ISO-8601' })).toBe('2024-01-01T00:00:00.000Z');
    expect(formatValue(Date.UTC(2024, 0, 1), T.date)).toBe('2024-01-01');
    expect(formatValue([T0, null], T.array(T.timestamp))).toEqual(['2024-01-02 03:04:05.006', null]);
    expect(formatValue({ t: T0 }, { kind: 'ROW', fields: [{ name: 't', type: T.timestamp }] })).toEqual({ t: '2024-01-02 03:04:05.006' });
    expect(formatValue(undefined, T.string)).toBe(null);
  });
});

describe('coerce (JSON decoding)', () => {
  it('numbers from numbers and numeric strings, as Flink JSON does', () => {
    expect(coerce(5, T.int)).toBe(5);
    expect(coerce('5', T.int)).toBe(5);
    expect(coerce(' 5 ', T.bigint)).toBe(5);
    expect(coerce(5.9, T.int)).toBe(5);
    expect(coerce('1.5', T.double)).toBe(1.5);
    expect(coerce('1e3', T.double)).toBe(1000);
    expect(coerce(1.005, T.decimal(10, 2))).toBe(1.01);
    expect(coerce('12.345', T.decimal(10, 2))).toBe(12.35);
  });

  it('strings from anything', () => {
    expect(coerce(5, T.string)).toBe('5');
    expect(coerce(true, T.string)).toBe('true');
    expect(coerce({ a: [1] }, T.string)).toBe('{"a":[1]}');
  });

  it('booleans, timestamps, dates, arrays, rows', () => {
    expect(coerce('true', T.boolean)).toBe(true);
    expect(coerce(false, T.boolean)).toBe(false);
    expect(coerce('2024-01-02 03:04:05.006', T.timestamp)).toBe(T0);
    expect(coerce('2024-01-02T03:04:05.006Z', T.timestamp)).toBe(T0);
    expect(coerce('2024-01-02 03:04:05', T.timestamp)).toBe(T0 - 6);
    expect(coerce(T0, T.timestamp)).toBe(T0);
    expect(coerce('2024-01-01 08:00:00', T.timestampLtz, 'Asia/Shanghai')).toBe(Date.UTC(2024, 0, 1));
    expect(coerce('2024-01-02', T.date)).toBe(Date.UTC(2024, 0, 2));
    expect(coerce(['1', 2, null], T.array(T.int))).toEqual([1, 2, null]);
    const row: SqlType = { kind: 'ROW', fields: [{ name: 'a', type: T.int }, { name: 'b', type: T.string }] };
    expect(coerce({ a: '1', c: 3 }, row)).toEqual({ a: 1, b: null });
  });

  it('NULL and missing values are NULL, never an error', () => {
    for (const t of [T.int, T.string, T.timestamp, T.boolean, T.array(T.int)]) {
      expect(coerce(null, t)).toBe(null);
      expect(coerce(undefined, t)).toBe(null);
    }
  });

  it('throws DataError for values that cannot be converted', () => {
    const bad: [unknown, SqlType][] = [
      ['abc', T.int],
      ['1x', T.bigint],
      [3e10, T.int],
      ['maybe', T.boolean],
      [1, T.boolean],
      ['yesterday', T.timestamp],
      ['2024-02-30 00:00:00', T.timestamp],
      [{}, T.double],
      ['x', T.array(T.int)],
      [[1], { kind: 'ROW', fields: [] }],
      [123456.7, T.decimal(5, 2)],
    ];
    for (const [v, t] of bad) expect(() => coerce(v, t), `${JSON.stringify(v)}`).toThrow(DataError);
    expect(() => coerce('abc', T.int)).toThrow("Cannot convert 'abc' to INT");
  });

  it('makeCoercer compiles one converter per type', () => {
    const c = makeCoercer(T.timestamp);
    expect(c('2024-01-02 03:04:05.006')).toBe(T0);
    expect(c(null)).toBe(null);
  });
});
