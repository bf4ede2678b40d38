import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../engine/time/duration.ts';

describe('parseDuration (Flink duration syntax)', () => {
  it('reads numbers with units, with or without a space', () => {
    expect(parseDuration('5 s')).toBe(5000);
    expect(parseDuration('5s')).toBe(5000);
    expect(parseDuration('500 ms')).toBe(500);
    expect(parseDuration('1 min')).toBe(60_000);
    expect(parseDuration('2 h')).toBe(7_200_000);
    expect(parseDuration('1.5 s')).toBe(1500);
  });

  it('counts a bare number in the caller’s unit (Flink: milliseconds)', () => {
    expect(parseDuration('250')).toBe(250);
    expect(parseDuration('3', 1000)).toBe(3000);
  });

  it('answers undefined for anything else', () => {
    expect(parseDuration(undefined)).toBeUndefined();
    expect(parseDuration('5 parsecs')).toBeUndefined();
    expect(parseDuration('-1 s')).toBeUndefined();
    expect(parseDuration('soon')).toBeUndefined();
  });
});
