import type { WindowSpec } from '../plan/plan.ts';

function floorMod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

/** Start of the last window (the one with the greatest start) that contains `ts`. */
export function lastWindowStart(ts: number, spec: WindowSpec): number {
  const step = spec.kind === 'TUMBLE' ? spec.size : spec.slide;
  return ts - floorMod(ts - spec.offset, step);
}

/** Calls `f(start)` for every window containing `ts`, latest first. Windows are [start, start + size). */
export function forEachWindow(ts: number, spec: WindowSpec, f: (start: number) => void): void {
  const last = lastWindowStart(ts, spec);
  if (spec.kind === 'TUMBLE') {
    f(last);
    return;
  }
  for (let s = last; s > ts - spec.size; s -= spec.slide) f(s);
}

export function windowSize(spec: WindowSpec): number {
  return spec.size;
}

/** Writes the starts of every window containing `ts` into `out` (latest first); returns how many. No allocation. */
export function windowStarts(ts: number, spec: WindowSpec, out: number[]): number {
  const last = lastWindowStart(ts, spec);
  if (spec.kind === 'TUMBLE') {
    out[0] = last;
    return 1;
  }
  let n = 0;
  for (let s = last; s > ts - spec.size; s -= spec.slide) out[n++] = s;
  return n;
}

/**
 * The event times that fall in exactly the windows `starts[0..n)` (latest first, as windowStarts wrote
 * them): `[lo, hi)`, written into `range`. Rows come mostly in event-time order, so an aggregate that
 * remembers this range skips the window arithmetic (and its window lookups) for most rows. Windows are
 * `[start, start + size)` on a grid of `step` (TUMBLE: size, HOP: slide); the set stays the same while a
 * time is in all of them (>= the latest start, < the earliest end) and neither the next later grid
 * window (starting at latest + step) nor the next earlier one (ending at earliest - step + size) takes
 * it in. An empty set (n = 0) has the empty range.
 */
export function sameWindowsRange(starts: readonly number[], n: number, spec: WindowSpec, range: { lo: number; hi: number }): void {
  if (n === 0) {
    range.lo = Infinity;
    range.hi = -Infinity;
    return;
  }
  const step = spec.kind === 'TUMBLE' ? spec.size : spec.slide;
  const latest = starts[0]!;
  const earliest = starts[n - 1]!;
  range.lo = Math.max(latest, earliest - step + spec.size);
  range.hi = Math.min(latest + step, earliest + spec.size);
}
