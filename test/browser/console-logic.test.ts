// The console's pure logic, without a browser: routes, Weir timestamps, and how view rows become the
// aligned series a time-series panel draws.
import { describe, expect, it } from 'vitest';
import { fmtDuration, parseTs } from '../../console/src/format.ts';
import { toSeries } from '../../console/src/panel-data.ts';
import { parseRoute } from '../../console/src/router.ts';

describe('console routes', () => {
  it('maps paths to pages and rejects the rest', () => {
    expect(parseRoute('/')).toEqual({ page: 'home' });
    expect(parseRoute('/jobs')).toEqual({ page: 'jobs' });
    expect(parseRoute('/jobs/abc-1')).toEqual({ page: 'job', id: 'abc-1' });
    expect(parseRoute('/views/a%20b')).toEqual({ page: 'view', name: 'a b' });
    expect(parseRoute('/dashboards/weibo/')).toEqual({ page: 'dashboard', name: 'weibo' });
    expect(parseRoute('/nope')).toBeUndefined();
    expect(parseRoute('/jobs/a/b')).toBeUndefined();
  });
});

describe('console formatting', () => {
  it('reads Weir timestamps as UTC and writes durations for people', () => {
    expect(parseTs('2026-11-25 09:01:00.000')).toBe(Date.UTC(2026, 10, 25, 9, 1, 0));
    expect(parseTs('2026-11-25T09:01:00Z')).toBe(Date.UTC(2026, 10, 25, 9, 1, 0));
    expect(fmtDuration(250)).toBe('250 ms');
    expect(fmtDuration(12_300)).toBe('12.3 s');
    expect(fmtDuration(125_000)).toBe('2 min 5 s');
    expect(fmtDuration(null)).toBe('–');
  });
});

describe('time-series panel data', () => {
  it('aligns one line per series value on the union of times, with gaps as null', () => {
    const rows = [
      ['2026-11-25 09:02:00.000', 'original', 5],
      ['2026-11-25 09:00:00.000', 'original', 3],
      ['2026-11-25 09:00:00.000', 'forward', 1],
      ['2026-11-25 09:01:00.000', 'forward', 2],
    ];
    const t = (m: number): number => Date.UTC(2026, 10, 25, 9, m) / 1000;
    expect(toSeries(rows, 0, 2, 1)).toEqual({
      xs: [t(0), t(1), t(2)],
      series: [
        { label: 'forward', values: [1, 2, null] },
        { label: 'original', values: [3, null, 5] },
      ],
    });
  });

  it('without a series column sums the measure per time', () => {
    const rows = [
      ['2026-11-25 09:00:00.000', 3],
      ['2026-11-25 09:00:00.000', 4],
    ];
    expect(toSeries(rows, 0, 1, -1)).toEqual({ xs: [Date.UTC(2026, 10, 25, 9) / 1000], series: [{ label: 'value', values: [7] }] });
  });
});
