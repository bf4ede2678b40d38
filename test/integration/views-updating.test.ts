// Updating (non-windowed) aggregates in materialized views, end to end on the real broker and SQLite,
// through the REST API: 100,000 events of a bounded topic, several GROUP BY views whose final rows must
// equal DuckDB's batch answer over the same events — NULL group keys, a HAVING that rows enter and leave,
// aggregates over aggregates whose MIN/MAX only come out right if retractions work — and a reader that
// queries a view continuously while it updates and must never see a state that no checkpoint committed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaClient, ProducerRecord } from '../../connectors/kafka/client.ts';
import { rng } from '../../examples/weibo/generator.ts';
import { BROKERS, produce, suffix, testClient, waitFor } from '../support/kafka.ts';
import { Oracle, canon, multisetDiff } from '../support/oracle.ts';
import { startServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';
import { openSse } from '../support/sse.ts';

const PARTITIONS = 4;
const EVENTS = Number(process.env['WEIR_VIEWS_UPDATING_EVENTS'] ?? 100_000);
const USERS = 700;
const TOPICS = ['天气', '世界杯', 'ai', 'tea "time"', null];
const READER_EVENTS = 40_000;
const READER_CHUNK = 2_000;
const READER_GROUPS = 50;

let server: TestServer;
let client: KafkaClient;
let oracle: Oracle;
let s = '';
let srcT = '';
let jobs: string[] = [];
const topics: string[] = [];

beforeAll(async () => {
  client = testClient('weir-it-views-updating');
  server = await startServer({ progressIntervalMs: 500 });
  oracle = await Oracle.create();
  s = suffix();
  const src = `it_views_upd_${s}`;
  topics.push(src);
  await client.createTopic(src, PARTITIONS);
  const r = rng(777);
  const records: ProducerRecord[] = [];
  const rows: unknown[][] = [];
  for (let i = 0; i < EVENTS; i++) {
    const ev = {
      uid: 1 + Math.floor(r() * USERS),
      topic: TOPICS[Math.floor(r() * TOPICS.length)]!,
      att: r() < 0.1 ? null : Math.floor(r() * 300),
    };
    rows.push([ev.uid, ev.topic, ev.att]);
    records.push({ topic: src, partition: i % PARTITIONS, key: null, value: Buffer.from(JSON.stringify(ev)) });
  }
  await produce(client, records);
  await oracle.load('ev', [['uid', 'BIGINT'], ['topic', 'VARCHAR'], ['att', 'INTEGER']], rows);

  srcT = `src_${s}`;
  const res = await server.sql(`
CREATE TABLE ${srcT} (uid BIGINT, topic STRING, att INT)
WITH ('connector' = 'kafka', 'topic' = '${src}', 'properties.bootstrap.servers' = '${BROKERS}', 'format' = 'json',
      'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset');
CREATE MATERIALIZED VIEW by_user_${s} AS
SELECT uid, COUNT(*) AS posts, SUM(att) AS att_sum, MAX(att) AS att_max, MIN(att) AS att_min, COUNT(DISTINCT topic) AS topics
FROM ${srcT} GROUP BY uid;
CREATE MATERIALIZED VIEW by_topic_${s} AS
SELECT topic, COUNT(*) AS posts, AVG(att) AS att_avg, COUNT(att) AS with_att FROM ${srcT} GROUP BY topic;
CREATE MATERIALIZED VIEW active_${s} AS
SELECT uid, COUNT(*) AS posts FROM ${srcT} GROUP BY uid HAVING COUNT(*) BETWEEN 130 AND 150;
CREATE MATERIALIZED VIEW topic_users_${s} AS
SELECT topic, MIN(posts) AS min_posts, MAX(posts) AS max_posts, COUNT(*) AS users
FROM (SELECT topic, uid, COUNT(*) AS posts FROM ${srcT} GROUP BY topic, uid) GROUP BY topic;
CREATE MATERIALIZED VIEW balances_${s} AS
SELECT uid % 10 AS shard, MAX(bal) AS max_bal, MIN(bal) AS min_bal, COUNT(*) AS users, SUM(bal) AS total
FROM (SELECT uid, SUM(att - 150) AS bal FROM ${srcT} GROUP BY uid) GROUP BY uid % 10;
`);
  expect(res.status, res.text).toBe(200);
  const results = res.body.results as { kind: string; jobId?: string }[];
  expect(results.map((x) => x.kind)).toEqual(['ok', 'job', 'job', 'job', 'job', 'job']);
  jobs = results.slice(1).map((x) => x.jobId!);
}, 300_000);

afterAll(async () => {
  await server?.close(true);
  for (const t of topics) await client?.deleteTopic(t).catch(() => undefined);
  await client?.close();
  oracle?.close();
});

const query = async (sql: string): Promise<Record<string, unknown>[]> => {
  const r = await server.post('/v1/query', { sql });
  expect(r.status, r.text).toBe(200);
  const a = r.body as { columns: { name: string }[]; rows: unknown[][] };
  return a.rows.map((row) => Object.fromEntries(a.columns.map((c, i) => [c.name, row[i]])));
};

async function expectView(view: string, oracleSql: string, cols: string[]): Promise<Record<string, unknown>[]> {
  const got = await query(`SELECT * FROM ${view}`);
  const want = await oracle.query(oracleSql);
  const d = multisetDiff(got.map((x) => canon(x, cols)), want.map((x) => canon(x, cols)));
  expect({ missing: d.missing.slice(0, 5), extra: d.extra.slice(0, 5), rows: got.length }, view).toEqual({ missing: [], extra: [], rows: want.length });
  return got;
}

describe('updating aggregates in materialized views', () => {
  it('a reader querying the view while it updates only ever sees committed checkpoints', { timeout: 180_000 }, async () => {
    // One partition, events numbered 1..N in order: every committed checkpoint holds a prefix 1..k, so its
    // rows satisfy SUM(n) = MAX(hi) = k and SUM(s) = k(k+1)/2. Half a batch (some keys applied, others not)
    // breaks these equations. The events arrive in chunks while the job runs, so the view changes under
    // the reader many times however fast the machine is.
    const rsrc = `it_views_reader_${s}`;
    topics.push(rsrc);
    await client.createTopic(rsrc, 1);
    // Warm the query workers first, so that the first read does not take as long as the whole job.
    await query('SELECT 1 AS one');
    const res = await server.sql(`
CREATE TABLE reader_src_${s} (seq BIGINT) WITH ('connector' = 'kafka', 'topic' = '${rsrc}', 'format' = 'json', 'scan.startup.mode' = 'earliest-offset');
SET 'execution.checkpointing.interval' = '100 ms';
CREATE MATERIALIZED VIEW reader_${s} AS
SELECT seq % ${READER_GROUPS} AS g, COUNT(*) AS n, MAX(seq) AS hi, SUM(seq) AS s FROM reader_src_${s} GROUP BY seq % ${READER_GROUPS};`);
    expect(res.status, res.text).toBe(200);
    const id = (res.body.results as { jobId?: string }[]).at(-1)!.jobId!;
    const seen = new Set<number>();
    let reads = 0;
    const read = async (): Promise<number> => {
      const [row] = await query(`SELECT COALESCE(SUM(n), 0) AS n, COALESCE(MAX(hi), 0) AS hi, COALESCE(SUM(s), 0) AS s, COUNT(*) AS groups FROM reader_${s}`);
      reads++;
      const k = Number(row!['hi']);
      expect({ n: Number(row!['n']), s: Number(row!['s']), groups: Number(row!['groups']) }, `read ${reads} at k=${k}`).toEqual({
        n: k,
        s: (k * (k + 1)) / 2,
        groups: Math.min(k, READER_GROUPS),
      });
      seen.add(k);
      return k;
    };
    const deadline = Date.now() + 150_000;
    for (let from = 1; from <= READER_EVENTS; from += READER_CHUNK) {
      const records: ProducerRecord[] = [];
      for (let seq = from; seq < from + READER_CHUNK; seq++) records.push({ topic: rsrc, partition: 0, key: null, value: Buffer.from(JSON.stringify({ seq })) });
      await produce(client, records);
      while ((await read()) < from + READER_CHUNK - 1) {
        expect(Date.now() < deadline, 'the view to catch up').toBe(true);
        const state = (await server.get(`/v1/jobs/${id}`)).body.state as string;
        expect(state).not.toBe('FAILED');
      }
    }
    expect(seen.has(READER_EVENTS), 'the final state is the whole input').toBe(true);
    const intermediate = [...seen].filter((k) => k > 0 && k < READER_EVENTS);
    console.log(`views-updating reader: ${reads} reads, ${intermediate.length} intermediate committed states seen`);
    // The reader really read while the view was changing: at least one state per chunk.
    expect(intermediate.length).toBeGreaterThanOrEqual(READER_EVENTS / READER_CHUNK - 1);
    const drop = await server.sql(`DROP MATERIALIZED VIEW reader_${s}`);
    expect(drop.status, drop.text).toBe(200);
  });

  it(`hold exactly DuckDB's answer over ${EVENTS} events: one row per key, NULL keys, HAVING, aggregates over aggregates`, { timeout: 240_000 }, async () => {
    await Promise.all(jobs.map((j) => server.waitForState(j, 'FINISHED', 200_000)));

    await expectView(
      `by_user_${s}`,
      'SELECT uid, COUNT(*) AS posts, CAST(SUM(att) AS BIGINT) AS att_sum, MAX(att) AS att_max, MIN(att) AS att_min, COUNT(DISTINCT topic) AS topics FROM ev GROUP BY uid',
      ['uid', 'posts', 'att_sum', 'att_max', 'att_min', 'topics'],
    );
    const byTopic = await expectView(
      `by_topic_${s}`,
      // AVG of INT stays INT in Flink (truncated toward zero).
      'SELECT topic, COUNT(*) AS posts, CAST(trunc(SUM(att) / COUNT(att)) AS BIGINT) AS att_avg, COUNT(att) AS with_att FROM ev GROUP BY topic',
      ['topic', 'posts', 'att_avg', 'with_att'],
    );
    expect(byTopic.filter((x) => x['topic'] === null)).toHaveLength(1); // a NULL group is one row

    await expectView(`active_${s}`, 'SELECT uid, COUNT(*) AS posts FROM ev GROUP BY uid HAVING COUNT(*) BETWEEN 130 AND 150', ['uid', 'posts']);
    // The HAVING flipped: users now above 150 passed through the range (inserted, then deleted from the view).
    const above = await oracle.query('SELECT COUNT(*) AS n FROM (SELECT uid FROM ev GROUP BY uid HAVING COUNT(*) > 150)');
    expect(Number(above[0]!['n'])).toBeGreaterThan(50);

    const topicUsers = await expectView(
      `topic_users_${s}`,
      'SELECT topic, MIN(posts) AS min_posts, MAX(posts) AS max_posts, COUNT(*) AS users FROM (SELECT topic, uid, COUNT(*) AS posts FROM ev GROUP BY topic, uid) GROUP BY topic',
      ['topic', 'min_posts', 'max_posts', 'users'],
    );
    // Every inner count started at 1: without retraction of the old counts, MIN would still say 1.
    expect(topicUsers.every((x) => Number(x['min_posts']) > 1), JSON.stringify(topicUsers)).toBe(true);
    expect(topicUsers.filter((x) => x['topic'] === null)).toHaveLength(1);

    // Balances go up and down: the current MAX (and MIN) is retracted whenever its user's balance moves.
    await expectView(
      `balances_${s}`,
      `SELECT uid % 10 AS shard, MAX(bal) AS max_bal, MIN(bal) AS min_bal, COUNT(*) AS users, SUM(bal) AS total
       FROM (SELECT uid, CAST(SUM(att - 150) AS BIGINT) AS bal FROM ev GROUP BY uid) GROUP BY uid % 10`,
      ['shard', 'max_bal', 'min_bal', 'users', 'total'],
    );

    const info = (await server.get(`/v1/views/by_user_${s}`)).body as { key: string[] };
    expect(info.key).toEqual(['uid']);
  });

  it('the change stream (SSE) sends the +I / -U +U / -D that each commit made, NULL keys included', { timeout: 120_000 }, async () => {
    const topic = `it_views_sse_${s}`;
    topics.push(topic);
    await client.createTopic(topic, 1);
    const res = await server.sql(`
CREATE TABLE sse_src_${s} (k STRING) WITH ('connector' = 'kafka', 'topic' = '${topic}', 'format' = 'json', 'scan.startup.mode' = 'earliest-offset');
SET 'execution.checkpointing.interval' = '100 ms';
CREATE MATERIALIZED VIEW sse_${s} AS SELECT k, COUNT(*) AS n FROM sse_src_${s} GROUP BY k HAVING COUNT(*) < 3;`);
    expect(res.status, res.text).toBe(200);
    const sse = openSse(`${server.url}/v1/views/sse_${s}/changes?snapshot=true`);
    await sse.ready;
    const rowsNow = async () => (await query(`SELECT k, n FROM sse_${s} ORDER BY k IS NULL, k`)).map((r) => [r['k'], r['n']]);
    // Each step lands in its own commit: wait for the view to show it before the next.
    const step = async (keys: (string | null)[], want: unknown[][]): Promise<void> => {
      await produce(client, keys.map((k) => ({ topic, partition: 0, key: null, value: Buffer.from(JSON.stringify({ k })) })));
      await waitFor(`the view to hold ${JSON.stringify(want)}`, async () => (JSON.stringify(await rowsNow()) === JSON.stringify(want) ? true : undefined), 60_000, 50);
    };
    await step(['a', 'b', null], [['a', 1], ['b', 1], [null, 1]]);
    await step(['a'], [['a', 2], ['b', 1], [null, 1]]);
    await step(['a', null], [['b', 1], [null, 2]]); // a reaches 3: HAVING drops it
    await waitFor('the last changes to be streamed', () => (sse.events.filter((e) => e.event === 'change').length >= 8 ? true : undefined), 10_000, 50);
    sse.close();
    const changes = sse.events.filter((e) => e.event === 'change').map((e) => [e.data.op, e.data.row.k, e.data.row.n]);
    expect(sse.events[0]!.event).toBe('snapshot-end');
    expect(changes.slice(0, 3).sort()).toEqual([['+I', 'a', 1], ['+I', 'b', 1], ['+I', null, 1]].sort());
    expect(changes.slice(3, 5)).toEqual([['-U', 'a', 1], ['+U', 'a', 2]]);
    expect(changes.slice(5).sort()).toEqual([['-D', 'a', 2], ['-U', null, 1], ['+U', null, 2]].sort());
    const drop = await server.sql(`DROP MATERIALIZED VIEW sse_${s}`);
    expect(drop.status, drop.text).toBe(200);
  });

  it('an append-only sink refuses an updating query at submit time, naming what can take it', async () => {
    const r = await server.sql(`
CREATE TABLE out_${s} (uid BIGINT, n BIGINT) WITH ('connector' = 'kafka', 'topic' = 'out_${s}', 'format' = 'json');
INSERT INTO out_${s} SELECT uid, COUNT(*) FROM ${srcT} GROUP BY uid;`);
    expect(r.status, r.text).toBe(400);
    const e = r.body.error as { message: string; statement: number };
    expect(e.statement).toBe(2);
    expect(e.message).toContain('takes only inserts');
    expect(e.message).toContain('materialized view');
    expect(e.message).toContain('upsert-kafka');
  });

  it("SET 'table.exec.state.ttl' takes a duration and shows in EXPLAIN; anything else is a 400", async () => {
    const bad = await server.sql(`SET 'table.exec.state.ttl' = 'an hour'`);
    expect(bad.status, bad.text).toBe(400);
    expect(bad.body.error.message).toContain('table.exec.state.ttl');
    const r = await server.sql(`SET 'table.exec.state.ttl' = '1 h'; EXPLAIN SELECT uid, COUNT(*) AS n FROM ${srcT} GROUP BY uid;`);
    expect(r.status, r.text).toBe(200);
    expect(r.body.results[1].message).toContain('GroupAggregate(groupBy=[uid], aggs=[COUNT(*)], stateTtl=3600000ms)');
  });
});
