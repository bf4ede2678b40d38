// The view store's query pool sends waiting queries to a child together: every query still gets its own
// answer, and a runaway query sent with others is the only one refused at the time limit.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueryPool, QueryRefused } from '../../connectors/sqlite/query-pool.ts';

let dir = '';
let path = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'weir-pool-'));
  path = join(dir, 'views.db');
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)');
  const ins = db.prepare('INSERT INTO t VALUES (?, ?)');
  db.transaction(() => {
    for (let i = 0; i < 1000; i++) ins.run(i, `v${i}`);
  })();
  db.close();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const RUNAWAY = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT COUNT(*) FROM c';

describe('QueryPool', () => {
  it('answers many concurrent queries, each with its own rows or error', async () => {
    const pool = new QueryPool({ path, size: 2 });
    try {
      const ks = Array.from({ length: 500 }, (_, i) => (i * 37) % 1000);
      const answers = await Promise.all(ks.map((k) => pool.run(`SELECT k, v FROM t WHERE k = ${k}`)));
      expect(answers.map((a) => a.rows)).toEqual(ks.map((k) => [[k, `v${k}`]]));
      expect(answers[0]!.columns.map((c) => c.name)).toEqual(['k', 'v']);
      const mixed = await Promise.allSettled([pool.run('SELECT nope FROM t'), pool.run('SELECT COUNT(*) FROM t'), pool.run('SELECT 1; SELECT 2')]);
      expect(mixed[0]).toMatchObject({ status: 'rejected', reason: expect.any(QueryRefused) });
      expect(mixed[1]).toEqual({ status: 'fulfilled', value: expect.objectContaining({ rows: [[1000]] }) });
      expect(mixed[2]).toMatchObject({ status: 'rejected', reason: expect.any(QueryRefused) });
    } finally {
      pool.close();
    }
  });

  it('refuses only the runaway query of a batch; the others sent with it are answered', async () => {
    // One child: everything queued behind the first query goes to it in one batch with the runaway.
    const pool = new QueryPool({ path, size: 1, timeLimitMs: 1500 });
    try {
      // Warm: the child is started and has the store open, so the limit counts queries only.
      await pool.run('SELECT 1');
      const first = pool.run('SELECT 1');
      const batch = [pool.run('SELECT v FROM t WHERE k = 1'), pool.run(RUNAWAY), pool.run('SELECT v FROM t WHERE k = 2')];
      await first;
      const settled = await Promise.allSettled(batch);
      expect(settled[0]).toEqual({ status: 'fulfilled', value: expect.objectContaining({ rows: [['v1']] }) });
      expect(settled[1]).toMatchObject({ status: 'rejected', reason: { message: expect.stringMatching(/time limit of 1500 ms/) } });
      expect(settled[2]).toEqual({ status: 'fulfilled', value: expect.objectContaining({ rows: [['v2']] }) });
      // The pool goes on with a new child.
      expect((await pool.run('SELECT COUNT(*) FROM t')).rows).toEqual([[1000]]);
    } finally {
      pool.close();
    }
  });
});
