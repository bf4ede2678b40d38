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
