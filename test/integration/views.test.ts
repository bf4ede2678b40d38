// Materialized views end to end on the real broker and real SQLite: window aggregates over a bounded
// topic kept in the view store, equal to the same batch query in DuckDB; queried through POST /v1/query
// (ORDER BY / LIMIT, joins between views), the rows endpoint and a bare SELECT in /v1/statements.
//
// Nothing is late by construction (as in windows-e2e): each partition's clock only moves forward and an
// event's time is its clock minus a jitter below the 5 s watermark delay.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaClient, ProducerRecord } from '../../connectors/kafka/client.ts';
import { formatTs } from '../../examples/weibo/generator.ts';
import { clockedEvents } from '../support/events.ts';
import { BROKERS, produce, suffix, testClient } from '../support/kafka.ts';
import { Oracle, canon, multisetDiff } from '../support/oracle.ts';
import { startServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';

const PARTITIONS = 4;
const EVENTS = Number(process.env['WEIR_VIEWS_EVENTS'] ?? 100_000);
const TOPICS = ['天气', '世界杯', 'ai', 'tea "time"', null];
const TS_FMT = `'%Y-%m-%d %H:%M:%S.%g'`;
const TS_TEXT = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$/;

interface Event {
  uid: number;
  topic: string | null;
  ts: number;
  att: number | null;
}

function generate(topic: string): { records: ProducerRecord[]; events: Event[] } {
  return clockedEvents({ topic, partitions: PARTITIONS, count: EVENTS, seed: 4242, maxStepMs: 40, jitterMs: 3000 }, (r, ts) => ({
    uid: 1 + Math.floor(r() * 300),
    topic: TOPICS[Math.floor(r() * TOPICS.length)]!,
    ts,
    att: r() < 0.1 ? null : Math.floor(r() * 300),
  }));
}

let server: TestServer;
let client: KafkaClient;
let oracle: Oracle;
let srcT = '';
let topicStats = '';
let windowUsers = '';
let hotPosts = '';
let jobs: string[] = [];
const topics: string[] = [];

beforeAll(async () => {
  client = testClient('weir-it-views');
  server = await startServer({ progressIntervalMs: 1000 });
  oracle = await Oracle.create();
  const s = suffix();
  const src = `it_views_${s}`;
  topics.push(src);
  await client.createTopic(src, PARTITIONS);
  const gen = generate(src);
  await produce(client, gen.records);
  await oracle.load(
    'raw',
    [['uid', 'BIGINT'], ['topic', 'VARCHAR'], ['ts', 'VARCHAR'], ['att', 'INTEGER']],
    gen.events.map((e) => [e.uid, e.topic, formatTs(e.ts), e.att]),
  );
  await oracle.run('CREATE TABLE ev AS SELECT uid, topic, CAST(ts AS TIMESTAMP) AS ts, att FROM raw');

  srcT = `src_${s}`;
  topicStats = `topic_stats_${s}`;
  windowUsers = `window_users_${s}`;
  hotPosts = `hot_posts_${s}`;
  const res = await server.sql(`
CREATE TABLE ${srcT} (uid BIGINT, topic STRING, ts TIMESTAMP(3), att INT, WATERMARK FOR ts AS ts - INTERVAL '5' SECOND)
WITH ('connector' = 'kafka', 'topic' = '${src}', 'properties.bootstrap.servers' = '${BROKERS}', 'format' = 'json',
      'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset');
CREATE MATERIALIZED VIEW ${topicStats} AS
SELECT window_start, window_end, topic, COUNT(*) AS posts, SUM(att) AS att_sum, MAX(att) AS att_max, AVG(CAST(att AS DOUBLE)) AS att_avg
FROM TABLE(TUMBLE(TABLE ${srcT}, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
GROUP BY window_start, window_end, topic;
CREATE MATERIALIZED VIEW IF NOT EXISTS ${windowUsers} AS
SELECT window_start, window_end, COUNT(DISTINCT uid) AS users
FROM TABLE(TUMBLE(TABLE ${srcT}, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
GROUP BY window_start, window_end;
CREATE MATERIALIZED VIEW ${hotPosts} AS
SELECT uid, topic, ts, att, att > 290 AS very_hot FROM ${srcT} WHERE att >= 280;
`);
  expect(res.status, res.text).toBe(200);
  const results = res.body.results as { kind: string; jobId?: string }[];
  expect(results.map((x) => x.kind)).toEqual(['ok', 'job', 'job', 'job']);
  jobs = results.slice(1).map((x) => x.jobId!);
  await Promise.all(jobs.map((j) => server.waitForState(j, 'FINISHED', 180_000)));
}, 300_000);

afterAll(async () => {
  await server?.close(true);
  for (const t of topics) await client?.deleteTopic(t).catch(() => undefined);
  await client?.close();
  oracle?.close();
});

const query = async (sql: string): Promise<{ columns: { name: string; type: string }[]; rows: unknown[][] }> => {
  const r = await server.post('/v1/query', { sql });
  expect(r.status, r.text).toBe(200);
  return r.body;
};
const objects = (a: { columns: { name: string }[]; rows: unknown[][] }): Record<string, unknown>[] =>
  a.rows.map((r) => Object.fromEntries(a.columns.map((c, i) => [c.name, r[i]])));

function expectSame(what: string, got: Record<string, unknown>[], expected: Record<string, unknown>[], cols: string[]): void {
  const d = multisetDiff(got.map((x) => canon(x, cols)), expected.map((x) => canon(x, cols)));
  expect({ missing: d.missing.slice(0, 5), extra: d.extra.slice(0, 5), got: got.length }, what).toEqual({ missing: [], extra: [], got: expected.length });
}

describe('materialized views over a bounded topic', () => {
  it('hold exactly the batch result (DuckDB) of a window aggregate, one row per key, NULL groups included', async () => {
    const got = objects(await query(`SELECT * FROM ${topicStats}`));
    // AVG over DOUBLE compared at 9 significant digits: summation order differs between engines.
    const expected = await oracle.query(`
      SELECT strftime(w, ${TS_FMT}) AS window_start, strftime(w + INTERVAL 1 MINUTE, ${TS_FMT}) AS window_end, topic,
             COUNT(*) AS posts, CAST(SUM(att) AS INTEGER) AS att_sum, MAX(att) AS att_max, AVG(att) AS att_avg
      FROM (SELECT time_bucket(INTERVAL 1 MINUTE, ts) AS w, * FROM ev) GROUP BY w, topic`);
    const round = (rows: Record<string, unknown>[]) => rows.map((x) => ({ ...x, att_avg: x['att_avg'] === null ? null : Number(Number(x['att_avg']).toPrecision(9)) }));
    expectSame('topic_stats', round(got), round(expected), ['window_start', 'window_end', 'topic', 'posts', 'att_sum', 'att_max', 'att_avg']);
    expect(got.some((x) => x['topic'] === null)).toBe(true);
    expect(String(got[0]!['window_start'])).toMatch(TS_TEXT);

    const users = objects(await query(`SELECT * FROM ${windowUsers}`));
    const expUsers = await oracle.query(`
      SELECT strftime(w, ${TS_FMT}) AS window_start, strftime(w + INTERVAL 1 MINUTE, ${TS_FMT}) AS window_end, COUNT(DISTINCT uid) AS users
      FROM (SELECT time_bucket(INTERVAL 1 MINUTE, ts) AS w, * FROM ev) GROUP BY w`);
    expectSame('window_users', users, expUsers, ['window_start', 'window_end', 'users']);
  });

  it('keeps an append-only view of a plain SELECT, BOOLEAN as 0/1 and TIMESTAMP as text', async () => {
    const a = await query(`SELECT uid, topic, ts, att, very_hot FROM ${hotPosts}`);
    expect(a.columns).toEqual([
      { name: 'uid', type: 'BIGINT' },
      { name: 'topic', type: 'STRING' },
      { name: 'ts', type: 'TIMESTAMP(3)' },
      { name: 'att', type: 'INT' },
      { name: 'very_hot', type: 'BOOLEAN' },
    ]);
    const expected = await oracle.query(`SELECT uid, topic, strftime(ts, ${TS_FMT}) AS ts, att, CAST(att > 290 AS INTEGER) AS very_hot FROM ev WHERE att >= 280`);
    expectSame('hot_posts', objects(a), expected, ['uid', 'topic', 'ts', 'att', 'very_hot']);
    expect(new Set(a.rows.map((r) => r[4]))).toEqual(new Set([0, 1]));
  });

  it('describes each view: schema, key, row count, job and freshness', async () => {
    const list = await server.get('/v1/views');
    expect(list.status).toBe(200);
    expect((list.body.views as { name: string }[]).map((v) => v.name)).toEqual([topicStats, windowUsers, hotPosts]);
    const v = await server.get(`/v1/views/${topicStats}`);
    expect(v.status).toBe(200);
    const [{ n }] = (await oracle.query('SELECT COUNT(*) AS n FROM (SELECT DISTINCT time_bucket(INTERVAL 1 MINUTE, ts), topic FROM ev)')) as [{ n: string }];
    expect(v.body).toMatchObject({
      name: topicStats,
      key: ['window_start', 'window_end', 'topic'],
      rowCount: Number(n),
      jobId: jobs[0],
      jobState: 'FINISHED',
      freshness: { watermark: 'END', committedAt: expect.any(String), checkpointId: expect.any(Number) },
    });
    expect(v.body.columns[0]).toEqual({ name: 'window_start', type: 'TIMESTAMP(3)', storedAs: 'TEXT' });
    expect((await server.get(`/v1/views/${hotPosts}`)).body.key).toBeNull();
    expect((await server.get('/v1/views/nope')).status).toBe(404);
    const shown = await server.sql('SHOW VIEWS');
    expect(shown.body.results[0].rows).toContainEqual([topicStats, 'MATERIALIZED VIEW', expect.stringContaining('CREATE MATERIALIZED VIEW')]);
  });

  it('answers ORDER BY / LIMIT and joins between views in SQLite, as DuckDB does', async () => {
    const top = await query(`SELECT topic, SUM(posts) AS n FROM ${topicStats} WHERE topic IS NOT NULL GROUP BY topic ORDER BY n DESC, topic LIMIT 3`);
    const expTop = await oracle.query(`SELECT topic, COUNT(*) AS n FROM ev WHERE topic IS NOT NULL GROUP BY topic ORDER BY n DESC, topic LIMIT 3`);
    expect(top.rows).toEqual(expTop.map((x) => [x['topic'], Number(x['n'])]));
    const joined = await query(`
      SELECT t.window_start, SUM(t.posts) AS posts, u.users
      FROM ${topicStats} t JOIN ${windowUsers} u ON t.window_start = u.window_start AND t.window_end = u.window_end
      GROUP BY t.window_start, u.users ORDER BY t.window_start`);
    const expJoined = await oracle.query(`
      SELECT strftime(time_bucket(INTERVAL 1 MINUTE, ts), ${TS_FMT}) AS window_start, COUNT(*) AS posts, COUNT(DISTINCT uid) AS users
      FROM ev GROUP BY 1 ORDER BY 1`);
    expect(joined.rows).toEqual(expJoined.map((x) => [x['window_start'], Number(x['posts']), Number(x['users'])]));
  });

  it('pages rows with limit, offset and order, and answers a bare SELECT over views in /v1/statements', async () => {
    const page = await server.get(`/v1/views/${topicStats}/rows?limit=5&offset=2&order=posts:desc,window_start,topic`);
    expect(page.status, page.text).toBe(200);
    const same = await query(`SELECT * FROM ${topicStats} ORDER BY posts DESC, window_start, topic LIMIT 5 OFFSET 2`);
    expect(page.body.rows).toEqual(same.rows);
    expect(page.body).toMatchObject({ limit: 5, offset: 2, total: (await server.get(`/v1/views/${topicStats}`)).body.rowCount });
    const hot = await server.get(`/v1/views/${hotPosts}/rows?limit=3`);
    expect(hot.body.rows.every((r: unknown[]) => typeof r[4] === 'boolean')).toBe(true);
    expect((await server.get(`/v1/views/${topicStats}/rows?order=nope`)).status).toBe(400);
    expect((await server.get(`/v1/views/${topicStats}/rows?limit=-1`)).status).toBe(400);
    expect((await server.get(`/v1/views/nope/rows`)).status).toBe(404);

    const st = await server.sql(`SELECT topic, posts FROM ${topicStats} WHERE posts > 0 ORDER BY posts DESC LIMIT 2`);
    expect(st.status, st.text).toBe(200);
    expect(st.body.results[0]).toMatchObject({ kind: 'rows', columns: [{ name: 'topic' }, { name: 'posts', type: 'BIGINT' }] });
    expect(st.body.results[0].rows).toEqual((await query(`SELECT topic, posts FROM ${topicStats} WHERE posts > 0 ORDER BY posts DESC LIMIT 2`)).rows);
    // SQLite's mistakes are placed in the script, not in the statement alone.
    const bad = await server.sql(`SET 'pipeline.name' = 'x';\nSELECT topic,\n  postz FROM ${topicStats}`);
    expect(bad.status, bad.text).toBe(400);
    expect(bad.body.error).toMatchObject({ statement: 2, line: 3, column: 3, message: expect.stringMatching(/no such column: postz/) });
    // A SELECT over the stream itself is still refused.
    const stream = await server.sql(`SELECT uid FROM ${srcT}`);
    expect(stream.status).toBe(400);
    expect(stream.body.error.message).toMatch(/never ends/);
  });

  // Updating (non-windowed) aggregates are views now: test/integration/views-updating.test.ts.
  it('refuses reserved names and names taken', async () => {
    const taken = await server.sql(`CREATE MATERIALIZED VIEW ${srcT} AS SELECT uid FROM ${srcT}`);
    expect(taken.status).toBe(409);
    const skipped = await server.sql(`CREATE MATERIALIZED VIEW IF NOT EXISTS ${topicStats} AS SELECT uid FROM ${srcT}`);
    expect(skipped.body.results[0]).toMatchObject({ kind: 'ok', message: expect.stringMatching(/already exists/) });
    const reserved = await server.sql(`CREATE MATERIALIZED VIEW _weir_x AS SELECT uid FROM ${srcT}`);
    expect(reserved.status).toBe(400);
    const explained = await server.sql(`EXPLAIN CREATE MATERIALIZED VIEW x AS SELECT window_start, COUNT(*) AS n FROM TABLE(TUMBLE(TABLE ${srcT}, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end`);
    expect(explained.status, explained.text).toBe(200);
    expect(explained.body.results[0].message).toMatch(/WindowAggregate/);
    const asTable = await server.sql(`CREATE TABLE t_${topicStats} (a INT) WITH ('connector' = 'sqlite-view', 'path' = '/tmp/x.db')`);
    expect(asTable.status).toBe(400);
    expect(asTable.body.error.message).toMatch(/CREATE MATERIALIZED VIEW/);
    const dropAsView = await server.sql(`DROP VIEW ${topicStats}`);
    expect(dropAsView.status).toBe(400);
    expect(dropAsView.body.error.message).toMatch(/DROP MATERIALIZED VIEW/);
  });

  it('drops a view: its table goes, its job is stopped, IF EXISTS is quiet', async () => {
    const r = await server.sql(`DROP MATERIALIZED VIEW ${hotPosts}; DROP MATERIALIZED VIEW IF EXISTS ${hotPosts}`);
    expect(r.status, r.text).toBe(200);
    expect((await server.get(`/v1/views/${hotPosts}`)).status).toBe(404);
    const gone = await server.post('/v1/query', { sql: `SELECT COUNT(*) FROM ${hotPosts}` });
    expect(gone.status).toBe(400);
    expect(gone.body.error.message).toMatch(/no such table/);
    expect((await server.sql(`DROP MATERIALIZED VIEW ${hotPosts}`)).status).toBe(400);
  });
});
