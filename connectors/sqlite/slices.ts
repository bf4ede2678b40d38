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
