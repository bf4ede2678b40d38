// Window Top-N end to end on the real broker: ROW_NUMBER() OVER (PARTITION BY window_start, window_end, ...)
// filtered to rownum <= N, over a window aggregate and straight over a window TVF, kept in materialized
// views; every row equals DuckDB's ROW_NUMBER over the same events.
//
// Nothing is late by construction: each partition's clock only moves forward and an event's time is its
// clock minus a jitter below the 5 s watermark delay. Ties are broken by columns in the ORDER BY, so the
// expected rows do not depend on the order partitions are read in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaClient, ProducerRecord } from '../../connectors/kafka/client.ts';
import { formatTs } from '../../examples/weibo/generator.ts';
import { clockedEvents } from '../support/events.ts';
import { BROKERS, produce, suffix, testClient } from '../support/kafka.ts';
import { Oracle, canon, multisetDiff } from '../support/oracle.ts';
import { startServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';

const PARTITIONS = 4;
const EVENTS = 30_000;
const TOPICS = ['天气', '世界杯', 'ai', null];
const TS_FMT = `'%Y-%m-%d %H:%M:%S.%g'`;

interface Event {
  seq: number;
  uid: number;
  topic: string | null;
  ts: number;
  att: number | null;
}

function generate(topic: string): { records: ProducerRecord[]; events: Event[] } {
  return clockedEvents({ topic, partitions: PARTITIONS, count: EVENTS, seed: 777, maxStepMs: 300, jitterMs: 3000, stagger: 2000 }, (r, ts, seq) => ({
    seq,
    // Zipf-like bloggers, so a few lead each window and the ranking is not decided by the tie-breaker alone.
    uid: 1 + Math.floor(200 * r() ** 3),
    topic: TOPICS[Math.floor(r() * TOPICS.length)]!,
    ts,
    att: r() < 0.1 ? null : Math.floor(r() * 50),
  }));
}

let server: TestServer;
let client: KafkaClient;
let oracle: Oracle;
let bloggers = '';
let topPosts = '';
const topics: string[] = [];

beforeAll(async () => {
  client = testClient('weir-it-topn');
  server = await startServer({ progressIntervalMs: 1000 });
  oracle = await Oracle.create();
  const s = suffix();
  const src = `it_topn_${s}`;
  topics.push(src);
  await client.createTopic(src, PARTITIONS);
  const gen = generate(src);
  await produce(client, gen.records);
  await oracle.load(
    'raw',
    [['seq', 'BIGINT'], ['uid', 'BIGINT'], ['topic', 'VARCHAR'], ['ts', 'VARCHAR'], ['att', 'INTEGER']],
    gen.events.map((e) => [e.seq, e.uid, e.topic, formatTs(e.ts), e.att]),
  );
  await oracle.run('CREATE TABLE ev AS SELECT seq, uid, topic, CAST(ts AS TIMESTAMP) AS ts, att, time_bucket(INTERVAL 1 MINUTE, CAST(ts AS TIMESTAMP)) AS w FROM raw');

  const srcT = `src_${s}`;
  bloggers = `hot_bloggers_${s}`;
  topPosts = `top_posts_${s}`;
  const res = await server.sql(`
CREATE TABLE ${srcT} (seq BIGINT, uid BIGINT, topic STRING, ts TIMESTAMP(3), att INT, WATERMARK FOR ts AS ts - INTERVAL '5' SECOND)
WITH ('connector' = 'kafka', 'topic' = '${src}', 'properties.bootstrap.servers' = '${BROKERS}', 'format' = 'json',
      'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset');
CREATE MATERIALIZED VIEW ${bloggers} AS
SELECT * FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY posts DESC, engagement DESC, uid) AS rownum
  FROM (
    SELECT window_start, window_end, uid, COUNT(*) AS posts, SUM(att) AS engagement
    FROM TABLE(TUMBLE(TABLE ${srcT}, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
    GROUP BY window_start, window_end, uid))
WHERE rownum <= 3;
CREATE MATERIALIZED VIEW ${topPosts} AS
SELECT window_start, window_end, topic, seq, att, rn FROM (
  SELECT seq, topic, att, window_start, window_end, ROW_NUMBER() OVER (PARTITION BY window_start, window_end, topic ORDER BY att DESC, seq) AS rn
  FROM TABLE(TUMBLE(TABLE ${srcT}, DESCRIPTOR(ts), INTERVAL '1' MINUTE)))
WHERE rn < 3;
`);
  expect(res.status, res.text).toBe(200);
  const jobs = (res.body.results as { kind: string; jobId?: string }[]).filter((x) => x.kind === 'job').map((x) => x.jobId!);
  expect(jobs).toHaveLength(2);
  await Promise.all(jobs.map((j) => server.waitForState(j, 'FINISHED', 180_000)));
  for (const j of jobs) expect((await server.get(`/v1/jobs/${j}`)).body.metrics.recordsLate).toBe(0);
}, 300_000);

afterAll(async () => {
  await server?.close(true);
  for (const t of topics) await client?.deleteTopic(t).catch(() => undefined);
  await client?.close();
  oracle?.close();
});

async function viewRows(name: string): Promise<Record<string, unknown>[]> {
  const r = await server.post('/v1/query', { sql: `SELECT * FROM ${name}` });
  expect(r.status, r.text).toBe(200);
  const a = r.body as { columns: { name: string }[]; rows: unknown[][] };
  return a.rows.map((row) => Object.fromEntries(a.columns.map((c, i) => [c.name, row[i]])));
}

function expectSame(what: string, got: Record<string, unknown>[], expected: Record<string, unknown>[], cols: string[]): void {
  const d = multisetDiff(got.map((x) => canon(x, cols)), expected.map((x) => canon(x, cols)));
  expect({ missing: d.missing.slice(0, 5), extra: d.extra.slice(0, 5), got: got.length }, what).toEqual({ missing: [], extra: [], got: expected.length });
}

describe('Window Top-N into materialized views', () => {
  it('keeps the top 3 bloggers of every minute, as DuckDB ranks them', async () => {
    const got = await viewRows(bloggers);
    const expected = await oracle.query(`
      SELECT strftime(w, ${TS_FMT}) AS window_start, strftime(w + INTERVAL 1 MINUTE, ${TS_FMT}) AS window_end, uid, posts, engagement, rownum
      FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY w ORDER BY posts DESC, engagement DESC NULLS LAST, uid) AS rownum
            FROM (SELECT w, uid, COUNT(*) AS posts, CAST(SUM(att) AS BIGINT) AS engagement FROM ev GROUP BY w, uid))
      WHERE rownum <= 3`);
    expect(expected.length).toBeGreaterThan(30);
    expectSame('hot bloggers', got, expected, ['window_start', 'window_end', 'uid', 'posts', 'engagement', 'rownum']);
  });

  it('keeps the top 2 posts per minute and topic straight from the window TVF, NULL att last and NULL topic one group', async () => {
    const got = await viewRows(topPosts);
    const expected = await oracle.query(`
      SELECT strftime(w, ${TS_FMT}) AS window_start, strftime(w + INTERVAL 1 MINUTE, ${TS_FMT}) AS window_end, topic, seq, att, rn
      FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY w, topic ORDER BY att DESC NULLS LAST, seq) AS rn FROM ev)
      WHERE rn < 3`);
    expectSame('top posts', got, expected, ['window_start', 'window_end', 'topic', 'seq', 'att', 'rn']);
    expect(got.some((x) => x['topic'] === null)).toBe(true);
  });

  it('keys each view by its PARTITION BY columns and the row number', async () => {
    expect((await server.get(`/v1/views/${bloggers}`)).body.key).toEqual(['window_start', 'window_end', 'rownum']);
    expect((await server.get(`/v1/views/${topPosts}`)).body.key).toEqual(['window_start', 'window_end', 'topic', 'rn']);
  });
});
