import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { offloadWalCheckpoints, walCheckpointerSettled, walCheckpointing } from '../../connectors/sqlite/wal-checkpointer.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A WAL database at a fresh path with one table, as the stores open theirs. */
function open(): { db: Database.Database; path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'weir-wal-'));
  dirs.push(dir);
  const path = join(dir, 'x.db');
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)');
  return { db, path };
}

/** Writes `n` transactions of 200 rows of ~100 bytes each (well past the 1,000-page auto-checkpoint threshold in all). */
function write(db: Database.Database, from: number, n: number): void {
  const ins = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
  for (let t = 0; t < n; t++) db.transaction(() => {
    for (let i = 0; i < 200; i++) ins.run(from + t * 200 + i, 'x'.repeat(100));
  })();
}

async function until(cond: () => boolean, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

describe.skipIf(!walCheckpointing.enabled)('offloadWalCheckpoints', () => {
  it('turns the writer\'s automatic checkpoint off and checkpoints the WAL from the worker instead', async () => {
    const { db, path } = open();
    const release = offloadWalCheckpoints(db, path);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    await walCheckpointerSettled();
    const before = statSync(path).size;
    write(db, 0, 50);
    // Only a checkpoint copies pages into the database file; the writer no longer does, so the worker has.
    expect(await until(() => statSync(path).size > before + 500_000)).toBe(true);
    // What the worker copied is the data: a fresh connection reads every row, with and without the WAL.
    const reader = new Database(path, { readonly: true });
    expect(reader.prepare('SELECT COUNT(*) AS n, SUM(length(v)) AS b FROM t').get()).toEqual({ n: 10_000, b: 1_000_000 });
    reader.close();
    release();
    db.close();
    await walCheckpointerSettled();
  });

  it('keeps the WAL bounded: it is reused from its start once checkpointed, so it stops growing', async () => {
    const { db, path } = open();
    const release = offloadWalCheckpoints(db, path);
    await walCheckpointerSettled();
    const wal = `${path}-wal`;
    let maxWal = 0;
    // 20 rounds of ~1 MB each: without checkpoints the WAL would reach ~20 MB.
    for (let round = 0; round < 20; round++) {
      write(db, round * 5_000, 25);
      maxWal = Math.max(maxWal, statSync(wal).size);
      const checkpointedUpTo = statSync(path).size;
      await until(() => statSync(path).size > checkpointedUpTo);
    }
    expect(maxWal).toBeLessThan(8_000_000);
    expect(db.prepare('SELECT COUNT(*) AS n FROM t').get()).toEqual({ n: 100_000 });
    release();
    db.close();
    await walCheckpointerSettled();
  });

  it('leaves the writer alone when off', () => {
    const { db, path } = open();
    const was = walCheckpointing.enabled;
    walCheckpointing.enabled = false;
    try {
      const release = offloadWalCheckpoints(db, path);
      expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
      release();
    } finally {
      walCheckpointing.enabled = was;
      db.close();
    }
  });
});
