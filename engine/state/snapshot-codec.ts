/**
 * Operator snapshots as text, for checkpoints. Plain JSON would turn Infinity, -Infinity and NaN
 * (a DOUBLE SUM that overflowed, MAX over such sums) into null and -0 into 0, so a restored job
 * would answer differently from one that never stopped. Those numbers are written as a tagged
 * object instead; the tag's key starts with a NUL character, which no state of ours uses.
 */
const TAG = '\u0000num';

export function encodeSnapshot(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0)) ? { [TAG]: Object.is(v, -0) ? '-0' : String(v) } : v));
}

export function decodeSnapshot(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) => (v !== null && typeof v === 'object' && !Array.isArray(v) && TAG in v ? Number((v as Record<string, string>)[TAG]) : v));
}
