// A job's batch latency percentiles (GET /v1/jobs/:id, the console): over the recent samples the ring
// holds, nearest-rank as the metric defines it, checked against a plain sort of the same samples.
import { describe, expect, it } from 'vitest';
import { LatencySamples } from '../../jobs/metrics.ts';

/** The same definition over a plain sorted copy: the value at floor(q * n), rounded to 0.1 ms. */
function expected(samples: readonly number[]): { p50: number; p95: number; p99: number; max: number } {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))]! * 10) / 10;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: Math.round(s[s.length - 1]! * 10) / 10 };
}

describe('LatencySamples', () => {
  it('has no percentiles before the first sample', () => {
    expect(new LatencySamples().percentiles()).toBeNull();
  });

  it('sorts numerically, not as text (10 ms after 9 ms)', () => {
    const l = new LatencySamples();
    for (const ms of [9, 10, 100, 2, 1000, 30]) l.add(ms);
    expect(l.percentiles()).toEqual({ p50: 30, p95: 1000, p99: 1000, max: 1000 });
  });

  it('gives the percentiles of the samples the ring holds, the oldest replaced once it is full', () => {
    const l = new LatencySamples(100);
    const all: number[] = [];
    let x = 7;
    for (let i = 0; i < 250; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      const ms = (x % 100000) / 1000;
      all.push(ms);
      l.add(ms);
    }
    // Only the last 100 count: the first 150 were replaced.
    expect(l.percentiles()).toEqual(expected(all.slice(150)));
  });
});
