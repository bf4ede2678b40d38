// POST /v1/query refuses what is not a read-only query over the view store, and stops a runaway query at
// the time limit (its child process is killed) while other requests are answered meanwhile.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});

afterAll(async () => {
  await server?.close(true);
});

describe('POST /v1/query', () => {
  it('answers a read-only query with columns and rows', async () => {
    const r = await server.post('/v1/query', { sql: "SELECT 1 AS one, 'a' AS s, 2.5 AS d, NULL AS n, 9007199254740993 AS big" });
    expect(r.status, r.text).toBe(200);
    expect(r.body).toEqual({
      columns: [
        { name: 'one', type: 'INTEGER' },
        { name: 's', type: 'TEXT' },
        { name: 'd', type: 'REAL' },
        { name: 'n', type: 'NULL' },
        { name: 'big', type: 'TEXT' },
      ],
      rows: [[1, 'a', 2.5, null, '9007199254740993']],
    });
  });

  it.each([
    ['a write', "CREATE TABLE x (a INT)", /read-only|not allowed/],
    ['an insert behind a CTE', "WITH c AS (SELECT 1) INSERT INTO _weir_views (name) SELECT * FROM c", /read-only/],
    ['a delete', 'DELETE FROM _weir_views', /DELETE is not allowed/],
    ['ATTACH', "ATTACH DATABASE '/tmp/other.db' AS o", /ATTACH is not allowed/],
    ['PRAGMA', 'PRAGMA journal_mode = DELETE', /PRAGMA is not allowed/],
    ['several statements', 'SELECT 1; SELECT 2', /more than one statement/],
    ['a stacked write', 'SELECT 1; DROP TABLE _weir_views', /more than one statement/],
    ['a syntax error', 'SELECT FROM WHERE', /syntax error/],
    ['an unknown table', 'SELECT * FROM nope', /no such table/],
    ['nothing', '  -- just a comment', /No query/],
  ])('refuses %s with 400', async (_what, sql, message) => {
    const r = await server.post('/v1/query', { sql });
    expect(r.status, r.text).toBe(400);
    expect(r.body.error.message).toMatch(message);
  });

  it('says where in the query SQLite found the mistake (line and column)', async () => {
    const cases: [string, number, number, RegExp][] = [
      ['SELECT 1 AS a,\n       2 AS b,\n  FROM _weir_views', 3, 3, /near "FROM": syntax error/],
      ['SELECT name\n  FROM _weir_views\n WHERE', 3, 7, /incomplete input/],
      ["SELECT name, 'nope' AS s\n  FROM _weir_views WHERE nope = 1", 2, 26, /no such column: nope/],
    ];
    for (const [sql, line, column, message] of cases) {
      const r = await server.post('/v1/query', { sql });
      expect(r.status, r.text).toBe(400);
      expect(r.body.error).toMatchObject({ line, column, message: expect.stringMatching(message) });
    }
  });

  it('stops a runaway query at the time limit while answering other requests', async () => {
    const t0 = Date.now();
    const runaway = server.post('/v1/query', { sql: 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT COUNT(*) FROM c' });
    await new Promise((r) => setTimeout(r, 300));
    const t1 = Date.now();
    const quick = await server.post('/v1/query', { sql: 'SELECT 42' });
    expect(quick.status).toBe(200);
    expect(quick.body.rows).toEqual([[42]]);
    expect((await server.get('/v1/views')).status).toBe(200);
    expect(Date.now() - t1).toBeLessThan(2000);
    const r = await runaway;
    const took = Date.now() - t0;
    expect(r.status, r.text).toBe(400);
    expect(r.body.error.message).toMatch(/time limit of 5000 ms/);
    expect(took).toBeGreaterThanOrEqual(4900);
    expect(took).toBeLessThan(8000);
    // The pool replaced the killed process.
    expect((await server.post('/v1/query', { sql: 'SELECT 7' })).body.rows).toEqual([[7]]);
  }, 30_000);
});
