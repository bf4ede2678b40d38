// The JSON encoder's output format per type (DESIGN §2 value formats, Flink's json format), checked
// against literal expected text and, for strings, against JSON.stringify over awkward inputs: the fast
// paths (no-escape strings, remembered timestamp texts, folded field prefixes) must not change a byte.
import { describe, expect, it } from 'vitest';
import { createJsonEncoder, createKeyEncoder } from '../../connectors/formats/json.ts';
import type { JsonColumn } from '../../connectors/formats/json.ts';
import { T } from '../../engine/plan/types.ts';
import type { SqlType } from '../../engine/plan/types.ts';

const utc = (s: string): number => Date.parse(`${s}Z`);
const one = (type: SqlType, opts: Parameters<typeof createJsonEncoder>[1] = { timestampStandard: 'SQL' }) => {
  const enc = createJsonEncoder([{ name: 'v', type }], opts);
  return (v: unknown): string => enc([v]).toString('utf8');
};

describe('JSON encoder value formats', () => {
  it('BOOLEAN, INT, BIGINT, DOUBLE, DECIMAL, INTERVAL', () => {
    expect(one(T.boolean)(true)).toBe('{"v":true}');
    expect(one(T.boolean)(false)).toBe('{"v":false}');
    expect(one(T.int)(-42)).toBe('{"v":-42}');
    expect(one(T.bigint)(9007199254740991)).toBe('{"v":9007199254740991}');
    expect(one(T.bigint)(12345678901234567890n)).toBe('{"v":12345678901234567890}');
    expect(one(T.double)(0.1 + 0.2)).toBe('{"v":0.30000000000000004}');
    expect(one(T.double)(1e21)).toBe('{"v":1e+21}');
    expect(one(T.double)(NaN)).toBe('{"v":"NaN"}');
    expect(one(T.double)(Infinity)).toBe('{"v":"Infinity"}');
    expect(one(T.double)(-Infinity)).toBe('{"v":"-Infinity"}');
    expect(one(T.decimal(10, 2))(12.5)).toBe('{"v":12.5}');
    expect(one(T.decimal(38, 2))('123456789012345678901234.55')).toBe('{"v":123456789012345678901234.55}');
    expect(one(T.interval)(60_000)).toBe('{"v":60000}');
  });

  it('STRING: plain text as is, everything JSON.stringify escapes escaped the same way', () => {
    const enc = one(T.string);
    const samples = [
      '',
      'Beijing',
      "Xi'an",
      'he said "hi"',
      'back\\slash',
      'tab\tnew\nline\r',
      '\u0000\u0001\u001f\u007f',
      'grüße',
      '🚀 rocket',
      'lone \ud800 high',
      'lone \udc00 low',
      'line sep \u2028 para \u2029',
      '</script>',
    ];
    for (const s of samples) expect(enc(s)).toBe(`{"v":${JSON.stringify(s)}}`);
    // Random strings over a nasty alphabet.
    const alphabet = ['a', '"', '\\', '\n', '\u0000', '\u001f', ' ', 'é', '\ud83d', '\ude80', '\ud83d\ude80', '\u2028'];
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    for (let i = 0; i < 2000; i++) {
      let s = '';
      for (let j = rnd(12); j > 0; j--) s += alphabet[rnd(alphabet.length)];
      expect(enc(s)).toBe(`{"v":${JSON.stringify(s)}}`);
    }
    // Non-string values in a STRING column are written as their text.
    expect(enc(12)).toBe('{"v":"12"}');
  });

  it('TIMESTAMP, TIMESTAMP_LTZ and DATE, also when equal values repeat or alternate', () => {
    const a = utc('2024-01-01T00:00:01.500');
    const b = utc('1999-12-31T23:59:59.999');
    const ts = one(T.timestamp);
    const iso = one(T.timestamp, { timestampStandard: 'ISO-8601' });
    const p0 = one({ kind: 'TIMESTAMP', precision: 0 } as SqlType);
    for (const [x, sql, isoText] of [
      [a, '2024-01-01 00:00:01.500', '2024-01-01T00:00:01.500'],
      [a, '2024-01-01 00:00:01.500', '2024-01-01T00:00:01.500'],
      [b, '1999-12-31 23:59:59.999', '1999-12-31T23:59:59.999'],
      [a, '2024-01-01 00:00:01.500', '2024-01-01T00:00:01.500'],
    ] as const) {
      expect(ts(x)).toBe(`{"v":"${sql}"}`);
      expect(iso(x)).toBe(`{"v":"${isoText}"}`);
    }
    expect(p0(a)).toBe('{"v":"2024-01-01 00:00:01"}');
    const ltzUtc = one(T.timestampLtz);
    const ltzSh = one(T.timestampLtz, { timestampStandard: 'SQL', timeZone: 'Asia/Shanghai' });
    expect(ltzUtc(a)).toBe('{"v":"2024-01-01 00:00:01.500Z"}');
    expect(ltzSh(a)).toBe('{"v":"2024-01-01 08:00:01.500+08:00"}');
    expect(ltzSh(b)).toBe('{"v":"2000-01-01 07:59:59.999+08:00"}');
    const date = one(T.date);
    expect(date(utc('2024-02-29T00:00:00.000'))).toBe('{"v":"2024-02-29"}');
    expect(date(utc('2024-02-29T00:00:00.000'))).toBe('{"v":"2024-02-29"}');
    expect(date(0)).toBe('{"v":"1970-01-01"}');
  });

  it('NULL, ARRAY and ROW', () => {
    expect(one(T.string)(null)).toBe('{"v":null}');
    expect(one(T.int)(undefined)).toBe('{"v":null}');
    expect(one(T.null)(null)).toBe('{"v":null}');
    expect(one(T.array(T.string))(['a', null, 'b"c'])).toBe('{"v":["a",null,"b\\"c"]}');
    expect(one(T.array(T.timestamp))([0, 0, 1])).toBe('{"v":["1970-01-01 00:00:00.000","1970-01-01 00:00:00.000","1970-01-01 00:00:00.001"]}');
    const row: SqlType = { kind: 'ROW', fields: [{ name: 'id', type: T.int }, { name: 'at', type: T.timestamp }] } as SqlType;
    expect(one(row)({ id: 1, at: 0 })).toBe('{"v":{"id":1,"at":"1970-01-01 00:00:00.000"}}');
    expect(one(row)([2, null])).toBe('{"v":{"id":2,"at":null}}');
  });

  it('field order, names needing escapes, ignore-null-fields, key encoder', () => {
    const cols: JsonColumn[] = [
      { name: 'a', type: T.int },
      { name: 'we"ird', type: T.string },
      { name: 'c', type: T.boolean },
    ];
    const enc = createJsonEncoder(cols, { timestampStandard: 'SQL' });
    expect(enc([1, 'x', true]).toString()).toBe('{"a":1,"we\\"ird":"x","c":true}');
    expect(enc([null, null, null]).toString()).toBe('{"a":null,"we\\"ird":null,"c":null}');
    const skip = createJsonEncoder(cols, { timestampStandard: 'SQL', ignoreNullFields: true });
    expect(skip([null, 'x', null]).toString()).toBe('{"we\\"ird":"x"}');
    expect(skip([null, null, null]).toString()).toBe('{}');
    expect(skip([1, null, false]).toString()).toBe('{"a":1,"c":false}');
    expect(createJsonEncoder([], { timestampStandard: 'SQL' })([]).toString()).toBe('{}');
    expect(createKeyEncoder(cols, [2, 0])([1, 'x', true]).toString()).toBe('{"c":true,"a":1}');
    // The output is UTF-8.
    expect(enc([1, 'grüße 🚀', false]).equals(Buffer.from('{"a":1,"we\\"ird":"grüße 🚀","c":false}', 'utf8'))).toBe(true);
  });
});
