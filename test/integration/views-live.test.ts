// A materialized view over an unbounded topic: the change stream (SSE) sends the current rows, then each
// commit's new rows as they come; a restarted server keeps serving the view and resumes its job, which
// continues from its checkpoint without losing or repeating a window.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaClient } from '../../connectors/kafka/client.ts';
import { formatTs } from '../../examples/weibo/generator.ts';
import { BROKERS, produce, suffix, testClient, waitFor } from '../support/kafka.ts';
import { startServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';
import { openSse } from '../support/sse.ts';

let server: TestServer;
let client: KafkaClient;
const topics: string[] = [];
const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

/** `perMinute` events in each of minutes [from, to) for uids 1..3 (uid 3 with a NULL topic). */
async function produceMinutes(topic: string, from: number, to: number, perMinute = 30): Promise<void> {
  const records = [];
  for (let m = from; m < to; m++) {
    for (let i = 0; i < perMinute; i++) {
      const uid = 1 + (i % 3);
      const ts = T0 + m * 60_000 + i * Math.floor(60_000 / perMinute);
      records.push({ topic, partition: 0, key: null, value: Buffer.from(JSON.stringify({ uid, topic: uid === 3 ? null : `t${uid}`, ts: formatTs(ts) })) });
    }
  }
  await produce(client, records);
}

beforeAll(async () => {
  client = testClient('weir-it-views-live');
  server = await startServer({ progressIntervalMs: 300 });
});

afterAll(async () => {
  await server?.close(true);
  for (const t of topics) await client?.deleteTopic(t).catch(() => undefined);
  await client?.close();
});

describe('a live materialized view', () => {
  it('streams snapshot and changes, and survives a server restart', async () => {
    const s = suffix();
    const topic = `it_views_live_${s}`;
    topics.push(topic);
    await client.createTopic(topic, 1);
    await produceMinutes(topic, 0, 3);
    const view = `per_minute_${s}`;
    const res = await server.sql(`
CREATE TABLE src_${s} (uid BIGINT, topic STRING, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
WITH ('connector' = 'kafka', 'topic' = '${topic}', 'properties.bootstrap.servers' = '${BROKERS}', 'format' = 'json', 'scan.startup.mode' = 'earliest-offset');
SET 'execution.checkpointing.interval' = '300 ms';
CREATE MATERIALIZED VIEW ${view} AS
SELECT window_start, window_end, topic, COUNT(*) AS posts
FROM TABLE(TUMBLE(TABLE src_${s}, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
GROUP BY window_start, window_end, topic;`);
    expect(res.status, res.text).toBe(200);
    const jobId = res.body.results[2].jobId as string;
    // Minutes 0 and 1 have closed (the watermark is inside minute 2): 2 windows x 3 topics (one NULL).
    const count = async () => (await server.get(`/v1/views/${view}`)).body.rowCount as number;
    await waitFor('the first two windows in the view', async () => ((await count()) === 6 ? true : undefined), 60_000);

    const sse = openSse(`${server.url}/v1/views/${view}/changes`);
    await sse.ready;
    await waitFor('the snapshot', () => (sse.events.some((e) => e.event === 'snapshot-end') ? true : undefined), 10_000);
    const snapshot = sse.events.slice(0, sse.events.findIndex((e) => e.event === 'snapshot-end'));
    expect(snapshot).toHaveLength(6);
    expect(snapshot.every((e) => e.event === 'change' && e.data.op === '+I')).toBe(true);
    expect(snapshot.map((e) => e.data.row)).toContainEqual({ window_start: '2026-11-25 12:00:00.000', window_end: '2026-11-25 12:01:00.000', topic: null, posts: 10 });

    await produceMinutes(topic, 3, 5);
    // Minutes 2 and 3 close: 6 new rows, each one +I change after the snapshot.
    await waitFor('live changes', () => (sse.events.length >= 7 + 6 ? true : undefined), 60_000);
    const live = sse.events.slice(7);
    expect(live.every((e) => e.event === 'change' && e.data.op === '+I')).toBe(true);
    expect(new Set(live.map((e) => e.data.row.window_start))).toEqual(new Set(['2026-11-25 12:02:00.000', '2026-11-25 12:03:00.000']));
    sse.close();
    const before = await server.post('/v1/query', { sql: `SELECT * FROM ${view} ORDER BY window_start, topic` });
    expect(before.body.rows).toHaveLength(12);

    // Restart on the same data dir: the view is served at once and its job resumes from its checkpoint.
    const dataDir = server.dataDir;
    await server.close();
    server = await startServer({ dataDir, progressIntervalMs: 300 });
    const after = await server.post('/v1/query', { sql: `SELECT * FROM ${view} ORDER BY window_start, topic` });
    expect(after.status, after.text).toBe(200);
    expect(after.body.rows).toEqual(before.body.rows);
    const v = (await server.get(`/v1/views/${view}`)).body;
    expect(v).toMatchObject({ jobId, key: ['window_start', 'window_end', 'topic'] });
    await server.waitForState(jobId, 'RUNNING', 30_000);

    await produceMinutes(topic, 5, 7);
    await waitFor('windows after the restart', async () => ((await count()) === 18 ? true : undefined), 60_000);
    const all = await server.post('/v1/query', { sql: `SELECT window_start, COUNT(*) AS topics, SUM(posts) AS posts FROM ${view} GROUP BY window_start ORDER BY window_start` });
    expect(all.body.rows).toEqual(Array.from({ length: 6 }, (_, m) => [formatTs(T0 + m * 60_000), 3, 30]));

    const dropped = await server.sql(`DROP MATERIALIZED VIEW ${view}`);
    expect(dropped.status, dropped.text).toBe(200);
    expect((await server.get(`/v1/jobs/${jobId}`)).body.state).toBe('STOPPED');
  }, 240_000);

  it('never shows a reader half a commit', async () => {
    const s = suffix();
    const topic = `it_views_readers_${s}`;
    topics.push(topic);
    await client.createTopic(topic, 1);
    const view = `readers_${s}`;
    const res = await server.sql(`
CREATE TABLE rsrc_${s} (uid BIGINT, topic STRING, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
WITH ('connector' = 'kafka', 'topic' = '${topic}', 'properties.bootstrap.servers' = '${BROKERS}', 'format' = 'json',
      'scan.startup.mode' = 'earliest-offset', 'properties.max.partition.fetch.bytes' = '4096');
SET 'execution.checkpointing.interval' = '100 ms';
CREATE MATERIALIZED VIEW ${view} AS SELECT uid, topic, ts FROM rsrc_${s};`);
    expect(res.status, res.text).toBe(200);
    // Each read sees, in one SQLite read transaction, the view's checkpoint id and its row count. If a
    // reader could see part of a commit, one checkpoint id would show with two different counts.
    const seen = new Map<number, number>();
    let reads = 0;
    let stop = false;
    const reader = (async () => {
      while (!stop) {
        const r = await server.post('/v1/query', { sql: `SELECT checkpoint_id, (SELECT COUNT(*) FROM ${view}) FROM _weir_views WHERE name = '${view}'` });
        expect(r.status, r.text).toBe(200);
        const [id, n] = r.body.rows[0] as [number | null, number];
        reads++;
        if (id === null) {
          expect(n).toBe(0);
          continue;
        }
        if (seen.has(id)) expect(n, `checkpoint ${id}`).toBe(seen.get(id));
        else seen.set(id, n);
      }
    })();
    for (let m = 0; m < 40; m += 4) {
      await produceMinutes(topic, m, m + 4, 100);
      await new Promise((r) => setTimeout(r, 300));
    }
    await waitFor('all rows in the view', async () => ((await server.get(`/v1/views/${view}`)).body.rowCount === 4000 ? true : undefined), 60_000);
    stop = true;
    await reader;
    const ids = [...seen.keys()].sort((a, b) => a - b);
    // Counts only grow with the checkpoint id, and the readers saw several commits.
    ids.forEach((id, i) => i > 0 && expect(seen.get(id)!).toBeGreaterThanOrEqual(seen.get(ids[i - 1]!)!));
    expect(ids.length, `${reads} reads`).toBeGreaterThan(2);
  }, 120_000);
});
