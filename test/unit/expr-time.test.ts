import { describe, expect, it } from 'vitest';
import { E } from '../../engine/expr/build.ts';
import { bindExpr, compileExpr, generatedSource, parseTimestamp } from '../../engine/expr/index.ts';
import type { Scope } from '../../engine/expr/index.ts';
import type { Expr } from '../../engine/sql/ast.ts';
import { T } from '../../engine/plan/types.ts';
import type { SqlType } from '../../engine/plan/types.ts';

const COLS: Record<string, SqlType> = {
  ts: T.timestamp,
  ltz: T.timestampLtz,
  dt: T.date,
  s: T.string,
  n: T.bigint,
};
const NAMES = Object.keys(COLS);

function scope(timeZone: string): Scope {
  return { columns: NAMES.map((name) => ({ name, tables: ['t'], type: COLS[name]! })), timeZone };
}

function ev(e: Expr, row: Record<string, unknown> = {}, timeZone = 'UTC'): unknown {
  const f = compileExpr(bindExpr(e, scope(timeZone)), { timeZone });
  return f(NAMES.map((n) => (n in row ? row[n] : null)));
}

const { col, lit } = E;
const ts = col('ts');
const ltz = col('ltz');
const T0 = Date.UTC(2024, 0, 2, 3, 4, 5, 678); // Tuesday 2024-01-02 03:04:05.678

describe('parsing timestamps', () => {
  it.each([
    ['2024-01-02 03:04:05.678', T0],
    ['2024-01-02 03:04:05', Date.UTC(2024, 0, 2, 3, 4, 5)],
    ['2024-01-02 03:04', Date.UTC(2024, 0, 2, 3, 4)],
    ['2024-01-02', Date.UTC(2024, 0, 2)],
    ['2024-01-02 03:04:05.6', Date.UTC(2024, 0, 2, 3, 4, 5, 600)],
    ['2024-01-02 03:04:05.67', Date.UTC(2024, 0, 2, 3, 4, 5, 670)],
    ['2024-01-02 03:04:05.123456789', Date.UTC(2024, 0, 2, 3, 4, 5, 123)],
    ['2024-01-02T03:04:05.678', T0],
    ['2024-01-02T03:04:05.678Z', T0],
    ['2024-01-02T11:04:05.678+08:00', T0],
    ['2024-01-02T11:04:05.678+0800', T0],
    ['2024-01-01T22:04:05.678-05:00', T0],
    ['  2024-01-02 03:04:05.678  ', T0],
    ['2024-1-2 3:04:05', Date.UTC(2024, 0, 2, 3, 4, 5)],
    ['2024-02-29 00:00:00', Date.UTC(2024, 1, 29)],
  ])('%s', (text, expected) => {
    expect(parseTimestamp(text)).toBe(expected);
  });

  it.each(['', 'abc', '2024-02-30', '2023-02-29', '2024-13-01', '2024-01-01 24:00:00', '2024-01-01 10:60:00', '2024-01-01 10:00:00.1234567890', '24-01-01', '2024-01-01 10:00:00 junk', '1704164645678'])(
    'rejects %j',
    (text) => {
      expect(parseTimestamp(text)).toBe(null);
    },
  );
});

describe('DATE_FORMAT', () => {
  const fmt = (pattern: string, v: number = T0) => ev(E.call('DATE_FORMAT', ts, lit(pattern)), { ts: v });
  it('formats with Java pattern letters', () => {
    expect(fmt('yyyy-MM-dd HH:mm')).toBe('2024-01-02 03:04');
    expect(fmt('yyyy-MM-dd HH:mm:ss.SSS')).toBe('2024-01-02 03:04:05.678');
    expect(fmt('yyyy-MM-dd')).toBe('2024-01-02');
    expect(fmt('yyyyMMddHH')).toBe('2024010203');
    expect(fmt("yyyy-MM-dd'T'HH:mm:ss")).toBe('2024-01-02T03:04:05');
    expect(fmt("'at' HH 'o''clock'")).toBe("at 03 o'clock");
    expect(fmt('EEE, MMM d yy')).toBe('Tue, Jan 2 24');
    expect(fmt('EEEE MMMM')).toBe('Tuesday January');
    expect(fmt('hh:mm a', Date.UTC(2024, 0, 2, 15, 4))).toBe('03:04 PM');
    expect(fmt('D')).toBe('2');
    expect(fmt('S')).toBe('6');
  });

  it('formats TIMESTAMP_LTZ in the session time zone and strings by parsing them', () => {
    const instant = Date.UTC(2024, 0, 1, 0, 0);
    expect(ev(E.call('DATE_FORMAT', ltz, lit('yyyy-MM-dd HH:mm')), { ltz: instant }, 'Asia/Shanghai')).toBe('2024-01-01 08:00');
    expect(ev(E.call('DATE_FORMAT', ltz, lit('yyyy-MM-dd HH:mm XXX')), { ltz: instant }, 'Asia/Shanghai')).toBe('2024-01-01 08:00 +08:00');
    expect(ev(E.call('DATE_FORMAT', ts, lit('yyyy-MM-dd HH:mm')), { ts: instant }, 'Asia/Shanghai')).toBe('2024-01-01 00:00');
    expect(ev(E.call('DATE_FORMAT', E.col('s'), lit('yyyy/MM/dd')), { s: '2024-05-06 07:08:09' })).toBe('2024/05/06');
    expect(ev(E.call('DATE_FORMAT', E.col('s'), lit('yyyy/MM/dd')), { s: 'garbage' })).toBe(null);
    expect(ev(E.call('DATE_FORMAT', ts, E.col('s')), { ts: T0, s: 'HH' })).toBe('03');
  });

  it('rejects unknown pattern letters when binding', () => {
    expect(() => bindExpr(E.call('DATE_FORMAT', ts, lit('yyyy-MM-dd bb')), scope('UTC'))).toThrow(/Unsupported letter 'b'/);
  });
});

describe('FLOOR / CEIL to a unit', () => {
  const floor = (unit: Parameters<typeof E.floor>[1], v: number = T0) => ev(E.floor(ts, unit), { ts: v });
  const ceil = (unit: Parameters<typeof E.ceil>[1], v: number = T0) => ev(E.ceil(ts, unit), { ts: v });
  it('FLOOR', () => {
    expect(floor('SECOND')).toBe(Date.UTC(2024, 0, 2, 3, 4, 5));
    expect(floor('MINUTE')).toBe(Date.UTC(2024, 0, 2, 3, 4));
    expect(floor('HOUR')).toBe(Date.UTC(2024, 0, 2, 3));
    expect(floor('DAY')).toBe(Date.UTC(2024, 0, 2));
    expect(floor('WEEK')).toBe(Date.UTC(2023, 11, 31)); // Sunday
    expect(floor('MONTH')).toBe(Date.UTC(2024, 0, 1));
    expect(floor('QUARTER', Date.UTC(2024, 4, 17))).toBe(Date.UTC(2024, 3, 1));
    expect(floor('YEAR')).toBe(Date.UTC(2024, 0, 1));
    expect(floor('MINUTE', Date.UTC(1969, 11, 31, 23, 59, 30))).toBe(Date.UTC(1969, 11, 31, 23, 59));
  });

  it('CEIL', () => {
    expect(ceil('MINUTE')).toBe(Date.UTC(2024, 0, 2, 3, 5));
    expect(ceil('MINUTE', Date.UTC(2024, 0, 2, 3, 5))).toBe(Date.UTC(2024, 0, 2, 3, 5));
    expect(ceil('MONTH', Date.UTC(2024, 11, 2))).toBe(Date.UTC(2025, 0, 1));
    expect(ceil('DAY')).toBe(Date.UTC(2024, 0, 3));
  });

  it('TIMESTAMP_LTZ floors on the wall clock of the session zone', () => {
    const instant = Date.UTC(2024, 0, 1, 20, 30); // 04:30 on Jan 2 in Shanghai
    expect(ev(E.floor(ltz, 'DAY'), { ltz: instant }, 'Asia/Shanghai')).toBe(Date.UTC(2024, 0, 1, 16, 0));
    expect(ev(E.floor(ltz, 'DAY'), { ltz: instant }, 'UTC')).toBe(Date.UTC(2024, 0, 1));
  });

  it('keeps the type and rejects non-temporal operands', () => {
    expect(bindExpr(E.floor(ts, 'MINUTE'), scope('UTC')).type).toEqual(T.timestamp);
    expect(() => bindExpr(E.floor(E.col('s'), 'MINUTE'), scope('UTC'))).toThrow(/FLOOR\(... TO MINUTE\) expects a TIMESTAMP/);
  });
});

describe('timestamp functions', () => {
  it('TO_TIMESTAMP with and without a format; NULL when the text does not parse', () => {
    expect(ev(E.call('TO_TIMESTAMP', E.col('s')), { s: '2024-01-02 03:04:05' })).toBe(Date.UTC(2024, 0, 2, 3, 4, 5));
    expect(ev(E.call('TO_TIMESTAMP', E.col('s')), { s: '2024-01-02 03:04:05.678' })).toBe(T0);
    expect(ev(E.call('TO_TIMESTAMP', E.col('s'), lit('dd/MM/yyyy HH:mm')), { s: '02/01/2024 03:04' })).toBe(Date.UTC(2024, 0, 2, 3, 4));
    expect(ev(E.call('TO_TIMESTAMP', E.col('s'), lit('yyyyMMddHHmmss')), { s: '20240102030405' })).toBe(Date.UTC(2024, 0, 2, 3, 4, 5));
    expect(ev(E.call('TO_TIMESTAMP', E.col('s'), lit('yyyy-MM-dd HH:mm:ss.SSS')), { s: '2024-01-02 03:04:05.678' })).toBe(T0);
    expect(ev(E.call('TO_TIMESTAMP', E.col('s')), { s: 'not a time' })).toBe(null);
    expect(ev(E.call('TO_TIMESTAMP', E.col('s'), lit('yyyy-MM-dd')), { s: '2024-02-31' })).toBe(null);
    expect(bindExpr(E.call('TO_TIMESTAMP', E.col('s')), scope('UTC')).type).toEqual(T.timestamp);
  });

  it('TO_TIMESTAMP_LTZ from epoch seconds or millis', () => {
    expect(ev(E.call('TO_TIMESTAMP_LTZ', E.col('n'), lit(0)), { n: 1704067200 })).toBe(1704067200000);
    expect(ev(E.call('TO_TIMESTAMP_LTZ', E.col('n'), lit(3)), { n: 1704067200123 })).toBe(1704067200123);
    expect(bindExpr(E.call('TO_TIMESTAMP_LTZ', E.col('n'), lit(3)), scope('UTC')).type).toEqual(T.timestampLtz);
    expect(() => bindExpr(E.call('TO_TIMESTAMP_LTZ', E.col('n'), lit(6)), scope('UTC'))).toThrow(/precision must be 0 \(seconds\) or 3/);
    expect(ev(E.call('TO_TIMESTAMP_LTZ', E.col('s')), { s: '2024-01-01 08:00:00' }, 'Asia/Shanghai')).toBe(Date.UTC(2024, 0, 1));
  });

  it('UNIX_TIMESTAMP and FROM_UNIXTIME use the session zone', () => {
    expect(ev(E.call('UNIX_TIMESTAMP', E.col('s')), { s: '2024-01-01 08:00:00' }, 'Asia/Shanghai')).toBe(1704067200);
    expect(ev(E.call('UNIX_TIMESTAMP', E.col('s')), { s: '2024-01-01 00:00:00' })).toBe(1704067200);
    expect(ev(E.call('UNIX_TIMESTAMP', E.col('s'), lit('yyyy/MM/dd')), { s: '2024/01/01' })).toBe(1704067200);
    expect(ev(E.call('FROM_UNIXTIME', E.col('n')), { n: 0 })).toBe('1970-01-01 00:00:00');
    expect(ev(E.call('FROM_UNIXTIME', E.col('n'), lit('yyyy-MM-dd HH')), { n: 0 }, 'Asia/Shanghai')).toBe('1970-01-01 08');
    const now = ev(E.call('UNIX_TIMESTAMP')) as number;
    expect(Math.abs(now - Date.now() / 1000)).toBeLessThan(5);
  });

  it('extracts fields', () => {
    const f = (name: string, v: number = T0, col = ts) => ev(E.call(name, col), { ts: v, ltz: v });
    expect(f('YEAR')).toBe(2024);
    expect(f('QUARTER')).toBe(1);
    expect(f('MONTH')).toBe(1);
    expect(f('DAYOFMONTH')).toBe(2);
    expect(f('DAYOFWEEK')).toBe(3); // Tuesday; 1 = Sunday
    expect(f('DAYOFYEAR', Date.UTC(2024, 11, 31))).toBe(366);
    expect(f('WEEK', Date.UTC(2024, 0, 1))).toBe(1);
    expect(f('WEEK', Date.UTC(2021, 0, 3))).toBe(53);
    expect(f('HOUR')).toBe(3);
    expect(f('MINUTE')).toBe(4);
    expect(f('SECOND')).toBe(5);
    expect(ev(E.call('HOUR', ltz), { ltz: T0 }, 'Asia/Shanghai')).toBe(11);
  });

  it('timestamp +/- interval', () => {
    expect(ev(E.bin('+', ts, E.interval(5000)), { ts: T0 })).toBe(T0 + 5000);
    expect(ev(E.bin('-', ts, E.interval(60_000)), { ts: T0 })).toBe(T0 - 60_000);
    expect(ev(E.bin('+', E.interval(1000), ts), { ts: T0 })).toBe(T0 + 1000);
    expect(bindExpr(E.bin('-', ts, E.interval(5000)), scope('UTC')).type).toEqual(T.timestamp);
    expect(bindExpr(E.bin('+', ltz, E.interval(5000)), scope('UTC')).type).toEqual(T.timestampLtz);
    expect(ev(E.bin('+', E.col('dt'), E.interval(86_400_000)), { dt: Date.UTC(2024, 0, 1) })).toBe(Date.UTC(2024, 0, 2));
    expect(() => bindExpr(E.bin('-', ts, ts), scope('UTC'))).toThrow(/Cannot apply '-' to arguments of type TIMESTAMP\(3\) and TIMESTAMP\(3\)/);
  });

  it('TIMESTAMP literals, comparisons across TIMESTAMP and TIMESTAMP_LTZ', () => {
    expect(bindExpr(E.ts('2024-01-02 03:04:05'), scope('UTC'))).toMatchObject({ kind: 'literal', value: Date.UTC(2024, 0, 2, 3, 4, 5), type: { kind: 'TIMESTAMP', precision: 0 } });
    expect(() => bindExpr(E.ts('2024-99-02'), scope('UTC'))).toThrow(/Invalid TIMESTAMP literal '2024-99-02'/);
    // 08:00 wall clock in Shanghai is 00:00 UTC
    const cmp = E.bin('=', ts, ltz);
    expect(ev(cmp, { ts: Date.UTC(2024, 0, 1, 8), ltz: Date.UTC(2024, 0, 1) }, 'Asia/Shanghai')).toBe(true);
    expect(ev(cmp, { ts: Date.UTC(2024, 0, 1, 8), ltz: Date.UTC(2024, 0, 1) }, 'UTC')).toBe(false);
  });

  it('casts between TIMESTAMP, TIMESTAMP_LTZ and STRING use the session zone', () => {
    expect(ev(E.cast(ts, T.timestampLtz), { ts: Date.UTC(2024, 0, 1, 8) }, 'Asia/Shanghai')).toBe(Date.UTC(2024, 0, 1));
    expect(ev(E.cast(ltz, T.timestamp), { ltz: Date.UTC(2024, 0, 1) }, 'Asia/Shanghai')).toBe(Date.UTC(2024, 0, 1, 8));
    expect(ev(E.cast(ltz, T.string), { ltz: Date.UTC(2024, 0, 1) }, 'Asia/Shanghai')).toBe('2024-01-01 08:00:00.000');
    expect(ev(E.cast(E.col('s'), T.timestampLtz), { s: '2024-01-01 08:00:00' }, 'Asia/Shanghai')).toBe(Date.UTC(2024, 0, 1));
    expect(ev(E.cast(E.col('s'), T.timestampLtz), { s: '2024-01-01T00:00:00Z' }, 'Asia/Shanghai')).toBe(Date.UTC(2024, 0, 1));
    expect(ev(E.cast(E.col('dt'), T.string), { dt: Date.UTC(2024, 0, 1) })).toBe('2024-01-01');
  });

  it('daylight saving time transitions', () => {
    const fmt = (v: number) => ev(E.call('DATE_FORMAT', ltz, lit('yyyy-MM-dd HH:mm:ss')), { ltz: v }, 'America/New_York');
    expect(fmt(Date.UTC(2024, 2, 10, 6, 59, 59))).toBe('2024-03-10 01:59:59');
    expect(fmt(Date.UTC(2024, 2, 10, 7, 0, 0))).toBe('2024-03-10 03:00:00');
    expect(fmt(Date.UTC(2024, 10, 3, 5, 30))).toBe('2024-11-03 01:30:00');
    expect(fmt(Date.UTC(2024, 10, 3, 6, 30))).toBe('2024-11-03 01:30:00');
    expect(ev(E.cast(ts, T.timestampLtz), { ts: Date.UTC(2024, 6, 1, 12) }, 'America/New_York')).toBe(Date.UTC(2024, 6, 1, 16));
    expect(ev(E.cast(ts, T.timestampLtz), { ts: Date.UTC(2024, 0, 1, 12) }, 'America/New_York')).toBe(Date.UTC(2024, 0, 1, 17));
    // a wall time in the spring-forward gap moves later (02:30 -> 03:30 EDT); in the fall-back overlap the earlier instant wins
    expect(ev(E.cast(ts, T.timestampLtz), { ts: Date.UTC(2024, 2, 10, 2, 30) }, 'America/New_York')).toBe(Date.UTC(2024, 2, 10, 7, 30));
    expect(ev(E.cast(ts, T.timestampLtz), { ts: Date.UTC(2024, 10, 3, 1, 30) }, 'America/New_York')).toBe(Date.UTC(2024, 10, 3, 5, 30));
    expect(ev(E.cast(ts, T.timestampLtz), { ts: Date.UTC(2024, 2, 31, 2, 30) }, 'Europe/Berlin')).toBe(Date.UTC(2024, 2, 31, 1, 30));
  });

  it('processing-time functions are evaluated per row, never folded', () => {
    const src = generatedSource(bindExpr(E.call('CURRENT_TIMESTAMP'), scope('UTC')), { timeZone: 'UTC' });
    expect(src).toContain('Date.now()');
    const now = ev(E.col('CURRENT_TIMESTAMP')) as number;
    expect(Math.abs(now - Date.now())).toBeLessThan(5000);
    const local = ev(E.col('LOCALTIMESTAMP'), {}, 'Asia/Shanghai') as number;
    expect(Math.abs(local - (Date.now() + 8 * 3600_000))).toBeLessThan(5000);
    expect(bindExpr(E.col('CURRENT_DATE'), scope('UTC')).type).toEqual(T.date);
  });

  it('an unknown session time zone is an error', () => {
    expect(() => compileExpr(bindExpr(ts, scope('UTC')), { timeZone: 'Mars/Olympus' })).toThrow(/Unknown time zone 'Mars\/Olympus'/);
  });
});
