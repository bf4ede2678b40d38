/**
 * The least work a view of `SELECT uid, COUNT(*), SUM(att) ... GROUP BY uid` has to do beyond reading its
 * events (bench/views.ts, the floor), done as plainly as this machine allows: the events' keys and values
 * folded into a Map with no operator around it, in the order a reader of the topic gets them (the order
 * matters: folding them in the order they were produced, which is the order the Map holds its keys in,
 * walks memory sequentially and is ~3x faster than any order a job sees across four partitions), and
 * the result written with plain better-sqlite3 into
 * tables shaped as the view store's and the checkpoint store's (one transaction each, WAL, synchronous
 * FULL, rows in key order: their cheapest order, 64 rows per statement as the stores write them). The floor plus these is an upper bound for the view's
 * rate here, measured in the same run as its ceiling.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';

export interface LeastWork {
  /** Folding `count` events into `keys` groups. */
  readonly aggregateMs: number;
  /** Writing one row per key into the view's table and one state entry per key. */
  readonly writeMs: number;
}

const ROWS = 64;

/** Parameters in statements of ROWS rows of `width` each; the rest one row per statement. */
function chunked(flat: readonly unknown[], width: number): unknown[][] {
  const out: unknown[][] = [];
  const full = Math.floor(flat.length / (ROWS * width)) * ROWS * width;
  for (let i = 0; i < full; i += ROWS * width) out.push(flat.slice(i, i + ROWS * width));
  for (let i = full; i < flat.length; i += width) out.push(flat.slice(i, i + width));
  return out;
}

/** The events' uid and att, in the order a reader of the topic got them. */
export interface ReadOrder {
  readonly uid: Float64Array;
  readonly att: Float64Array;
}

export function leastViewWork(events: ReadOrder, dir: string): LeastWork {
  const { uid, att } = events;
  const count = uid.length;
  const t0 = performance.now();
  const groups = new Map<number, { posts: number; att: number }>();
  for (let i = 0; i < count; i++) {
    const g = groups.get(uid[i]!);
    if (g) {
      g.posts++;
      g.att += att[i]!;
    } else groups.set(uid[i]!, { posts: 1, att: att[i]! });
  }
  const aggregateMs = performance.now() - t0;

  const db = new Database(join(dir, 'least.db'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec(`CREATE TABLE v (uid INTEGER, posts INTEGER, att INTEGER);
      CREATE UNIQUE INDEX v__key ON v (uid);
      CREATE TABLE state (op INTEGER NOT NULL, key TEXT NOT NULL, from_id INTEGER NOT NULL, to_id INTEGER, value TEXT NOT NULL, PRIMARY KEY (op, key, from_id));`);
    const sorted = [...groups].sort((a, b) => a[0] - b[0]);
    const entries = sorted.map(([k, g]) => [JSON.stringify([k]), JSON.stringify([[k], [g.posts, g.att], g.posts, 0])] as const).sort((a, b) => (a[0] < b[0] ? -1 : 1));
    // ROWS rows per statement (fewer calls into SQLite), as the stores do; the parameters ready beforehand.
    const viewParams = chunked(sorted.flatMap(([k, g]) => [k, g.posts, g.att]), 3);
    const stateParams = chunked(entries.flat(), 2);
    const t1 = performance.now();
    const view = db.prepare(`INSERT INTO v VALUES ${Array(ROWS).fill('(?, ?, ?)').join(', ')}`);
    const viewOne = db.prepare('INSERT INTO v VALUES (?, ?, ?)');
    db.transaction(() => {
      for (const p of viewParams) (p.length === ROWS * 3 ? view : viewOne).run(...p);
    })();
    const state = db.prepare(`INSERT INTO state VALUES ${Array(ROWS).fill('(0, ?, 1, NULL, ?)').join(', ')}`);
    const stateOne = db.prepare('INSERT INTO state VALUES (0, ?, 1, NULL, ?)');
    db.transaction(() => {
      for (const p of stateParams) (p.length === ROWS * 2 ? state : stateOne).run(...p);
    })();
    return { aggregateMs, writeMs: performance.now() - t1 };
  } finally {
    db.close();
  }
}
