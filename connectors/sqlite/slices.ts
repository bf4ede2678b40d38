/**
 * Long SQLite work cut into slices, so that a thread that also serves HTTP is never held for a whole
 * checkpoint. The work is a generator that yields between units (a row, a few statements) and keeps its
 * SQLite transaction open across the yields: WAL readers keep seeing the last committed snapshot until
 * the generator's COMMIT, so slicing changes when the work runs, never what a reader can see.
 */
export type Steps<T> = Generator<void, T, void>;

/** How long one slice may run before the event loop gets a turn (a few ms keeps lookups under 20 ms). */
export const DEFAULT_SLICE_MS = 4;

/**
 * Runs `steps` to the end, giving the event loop a turn after every `sliceMs` of work (`Infinity`: in
 * one go, as a synchronous call would). Resolves with the generator's result; rejects with what it threw.
 */
export async function runSliced<T>(steps: Steps<T>, sliceMs: number): Promise<T> {
  for (;;) {
    const end = performance.now() + sliceMs;
    // A unit is at least one SQLite statement (microseconds), so reading the clock after each costs little.
    for (;;) {
      const r = steps.next();
      if (r.done) return r.value;
      if (performance.now() >= end) break;
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** Runs `steps` to the end synchronously. */
export function runToEnd<T>(steps: Steps<T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * Wraps `body` (which does its work between an explicit BEGIN and COMMIT) so that a failure anywhere rolls
 * the transaction back before the error goes on; the connection is then ready for the next transaction.
 */
export function* inTransaction<T>(db: { exec(sql: string): unknown; readonly inTransaction: boolean }, body: Steps<T>): Steps<T> {
  // IMMEDIATE: take the write lock now, so a slice never finds it taken half-way (one writer per file anyway).
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = yield* body;
    db.exec('COMMIT');
    return result;
  } catch (e) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw e;
  }
}

/** Elements sorted or merged per step of sortedSteps (~1 ms). */
const SORT_PER_STEP = 4096;

/**
 * A sorted copy of `items` (stable), as steps: a bottom-up merge sort whose runs and merges yield every
 * SORT_PER_STEP elements, so sorting 100,000 entries (~40 ms) does not stall a sliced write.
 */
export function* sortedSteps<T>(items: readonly T[], cmp: (a: T, b: T) => number): Steps<T[]> {
  const n = items.length;
  let a = items.slice();
  if (n <= SORT_PER_STEP) return a.sort(cmp);
  for (let lo = 0; lo < n; lo += SORT_PER_STEP) {
    const run = a.slice(lo, lo + SORT_PER_STEP).sort(cmp);
    for (let j = 0; j < run.length; j++) a[lo + j] = run[j]!;
    yield;
  }
  let b: T[] = new Array<T>(n);
  for (let width = SORT_PER_STEP; width < n; width *= 2) {
    let moved = 0;
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n);
      const hi = Math.min(lo + 2 * width, n);
      let i = lo;
      let j = mid;
      let o = lo;
      while (i < mid && j < hi) {
        // <= 0: on ties the left run first, which keeps the sort stable.
        if (cmp(a[i]!, a[j]!) <= 0) b[o++] = a[i++]!;
        else b[o++] = a[j++]!;
        if (++moved === SORT_PER_STEP) {
          moved = 0;
          yield;
        }
      }
      while (i < mid) b[o++] = a[i++]!;
      while (j < hi) b[o++] = a[j++]!;
    }
    [a, b] = [b, a];
    yield;
  }
  return a;
}
