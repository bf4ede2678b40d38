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

/** Ranges at most this long are finished by insertion sort instead of another counting pass. */
const SMALL_RANGE = 24;

/**
 * The order of `keys` (indexes into it, JavaScript string order, stable), as steps like sortedSteps: a
 * most-significant-character radix sort, which for short keys with common prefixes (a keyed operator's
 * JSON keys) is several times faster than comparing them (~10-20 ms against ~50-100 ms for 100,000 keys).
 * Characters are counted one byte wide; a range whose next character is wider (non-Latin-1 text) is
 * merge-sorted instead.
 */
export function* keyOrderSteps(keys: readonly string[]): Steps<Int32Array> {
  const n = keys.length;
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  const tmp = new Int32Array(n);
  // Bucket 0: the key ends before the character looked at; c + 1 for character c.
  const counts = new Int32Array(257);
  // Pending ranges as [lo, hi, depth] triples: idx[lo..hi) share their first `depth` characters.
  const stack: number[] = [0, n, 0];
  let work = 0;
  while (stack.length > 0) {
    const d = stack.pop()!;
    const hi = stack.pop()!;
    const lo = stack.pop()!;
    if (hi - lo <= SMALL_RANGE) {
      // Stable insertion sort: only a strictly smaller key moves left.
      for (let i = lo + 1; i < hi; i++) {
        const x = idx[i]!;
        const k = keys[x]!;
        let j = i - 1;
        while (j >= lo && keys[idx[j]!]! > k) {
          idx[j + 1] = idx[j]!;
          j--;
        }
        idx[j + 1] = x;
      }
      // A few comparisons per element: weighed as several elements of a counting pass.
      work += 4 * (hi - lo);
      if (work >= SORT_PER_STEP) {
        work = 0;
        yield;
      }
      continue;
    }
    counts.fill(0);
    let wide = false;
    for (let i = lo; i < hi; i++) {
      const s = keys[idx[i]!]!;
      const c = d < s.length ? s.charCodeAt(d) + 1 : 0;
      if (c > 256) {
        wide = true;
        break;
      }
      counts[c]!++;
    }
    if (wide) {
      const part = yield* sortedSteps(Array.from(idx.subarray(lo, hi)), (a, b) => (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : 0));
      idx.set(part, lo);
      continue;
    }
    // Every key has the same character here: look at the next one without moving anything.
    let only = -1;
    for (let c = 0; c < 257; c++) {
      if (counts[c] === hi - lo) only = c;
      if (counts[c] !== 0) break;
    }
    if (only > 0) {
      stack.push(lo, hi, d + 1);
      continue;
    }
    if (only === 0) continue;
    // Exclusive prefix sums: where each bucket starts within the range.
    let at = lo;
    for (let c = 0; c < 257; c++) {
      const k = counts[c]!;
      counts[c] = at;
      at += k;
    }
    for (let c = 256; c >= 1; c--) {
      const start = counts[c]!;
      const end = c === 256 ? hi : counts[c + 1]!;
      if (end - start > 1) stack.push(start, end, d + 1);
    }
    for (let i = lo; i < hi; i++) {
      const x = idx[i]!;
      const s = keys[x]!;
      tmp[counts[d < s.length ? s.charCodeAt(d) + 1 : 0]!++] = x;
    }
    idx.set(tmp.subarray(lo, hi), lo);
    work += hi - lo;
    if (work >= SORT_PER_STEP) {
      work = 0;
      yield;
    }
  }
  return idx;
}
