import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { KafkaClient } from '../../connectors/kafka/client.ts';
import { formatTimestamp } from '../../engine/expr/index.ts';
import type { JobInfo, Platform } from '../../jobs/api.ts';
import type { HistoryPoint, MetricsHistoryAnswer } from '../../jobs/metrics-history.ts';
import { createPlatform } from '../../jobs/platform.ts';
import { buildServer } from '../../server/app.ts';
import { startServer as startWeirServer } from '../../server/serve.ts';
import { BROKERS, produce, suffix, testClient, waitFor } from '../support/kafka.ts';
import { tempDataDir } from '../support/server.ts';

// The REST the console reads, on a real broker: a job's metric history, live lag and watermark delay,
// and a Kafka table's partitions with their end offsets.

const HISTORY_MS = 250;
const COUNTS = [40, 25, 10];
const TOTAL = COUNTS.reduce((a, b) => a + b, 0);
const s = suffix();
const topic = `console_api_${s}`;
const BASE = Date.UTC(2026, 0, 1, 12, 0, 0);

let client: KafkaClient;
let platform: Platform;
let app: FastifyInstance;
let dataDir: string;
/** The job's watermark as an independent count says: min over partitions of the newest event time, minus 5 s. */
let expectedWatermarkMs: number;

const get = async <T>(url: string): Promise<{ status: number; body: T }> => {
  const r = await app.inject({ method: 'GET', url });
  return { status: r.statusCode, body: r.json() as T };
};

beforeAll(async () => {
  client = testClient('weir-it-console');
  await client.createTopic(topic, COUNTS.length);
  const records = COUNTS.flatMap((n, partition) =>
    Array.from({ length: n }, (_, i) => ({ topic, partition, key: null, value: Buffer.from(JSON.stringify({ k: `p${partition}`, ts: formatTimestamp(BASE + partition * 60_000 + i * 1000) })) })),
  );
  await produce(client, records);
  expectedWatermarkMs = Math.min(...COUNTS.map((n, p) => BASE + p * 60_000 + (n - 1) * 1000)) - 5000;
  dataDir = tempDataDir('weir-it-console-');
  platform = await createPlatform({ dataDir, brokers: BROKERS, progressIntervalMs: 500, metricsHistoryIntervalMs: HISTORY_MS });
  app = await buildServer(platform);
});

afterAll(async () => {
  await app?.close().catch(() => undefined);
  await platform?.close();
  await client?.deleteTopic(topic).catch(() => undefined);
  await client?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function sql(text: string): Promise<{ status: number; body: any }> {
  const r = await app.inject({ method: 'POST', url: '/v1/statements', payload: { sql: text } });
  return { status: r.statusCode, body: r.json() };
}

describe('tables', () => {
  it("report a Kafka table's partitions with their end offsets", async () => {
    const r = await sql(
      `CREATE TABLE posts (k STRING, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '5' SECOND)
       WITH ('connector' = 'kafka', 'topic' = '${topic}', 'format' = 'json', 'scan.startup.mode' = 'earliest-offset')`,
    );
    expect(r.status).toBe(200);
    const t = await get<any>('/v1/tables/posts');
    expect(t.status).toBe(200);
    expect(t.body.partitions).toEqual(COUNTS.map((n, partition) => ({ partition, endOffset: n })));
    expect(t.body.partitionsError).toBeUndefined();
    expect(t.body.columns.map((c: { name: string }) => c.name)).toEqual(['k', 'ts']);
  });

  it('say why when the broker is unreachable or the topic is missing, quickly and without a 500', async () => {
    await sql(
      `CREATE TABLE far (k STRING) WITH ('connector' = 'kafka', 'topic' = 'x', 'format' = 'json', 'properties.bootstrap.servers' = '127.0.0.1:1');
       CREATE TABLE missing (k STRING) WITH ('connector' = 'kafka', 'topic' = 'no_such_topic_${s}', 'format' = 'json');
       CREATE TABLE gen (uid BIGINT) WITH ('connector' = 'datagen', 'kind' = 'weibo');`,
    );
    const t0 = performance.now();
    const far = await get<any>('/v1/tables/far');
    const elapsed = performance.now() - t0;
    expect(far.status).toBe(200);
    expect(far.body.partitions).toBeUndefined();
    expect(far.body.partitionsError).toMatch(/\S/);
    expect(elapsed).toBeLessThan(5000);
    const missing = await get<any>('/v1/tables/missing');
    expect(missing.status).toBe(200);
    expect(missing.body.partitionsError).toContain(`no_such_topic_${s}`);
    // Not a Kafka table: no partitions at all.
    const gen = await get<any>('/v1/tables/gen');
    expect(gen.status).toBe(200);
    expect('partitions' in gen.body || 'partitionsError' in gen.body).toBe(false);
  });
});

describe('a job', () => {
  let jobId: string;

  it('shows lag and watermark delay in its live metrics, and its plan as JSON', async () => {
    const r = await sql(`CREATE MATERIALIZED VIEW posts_seen AS SELECT k, ts FROM posts`);
    expect(r.status).toBe(200);
    jobId = r.body.results[0].jobId;
    const job = await waitFor(
      'the job to read every record',
      async () => {
        const j = (await get<JobInfo>(`/v1/jobs/${jobId}`)).body;
        if (j.state === 'FAILED') throw Object.assign(new Error(j.error), { fatal: true });
        return j.metrics.recordsIn === TOTAL && j.metrics.watermark === formatTimestamp(expectedWatermarkMs) ? j : undefined;
      },
      60_000,
    );
    expect(job.metrics.lag).toBe(0);
    const before = Date.now();
    const again = (await get<JobInfo>(`/v1/jobs/${jobId}`)).body;
    const after = Date.now();
    expect(again.metrics.watermarkDelayMs).toBeGreaterThanOrEqual(before - expectedWatermarkMs);
    expect(again.metrics.watermarkDelayMs).toBeLessThanOrEqual(after - expectedWatermarkMs);
    const listed = (await get<{ jobs: JobInfo[] }>('/v1/jobs')).body.jobs.find((j) => j.id === jobId)!;
    expect(listed.metrics.lag).toBe(0);
    expect(typeof listed.metrics.watermarkDelayMs).toBe('number');
    // EXPLAIN's JSON, which the console draws: nodes source → ... → sink, and edges between them.
    const plan = again.plan!.json as { nodes: { id: number; operator: string }[]; edges: { from: number; to: number }[] };
    expect(plan.nodes[0]!.operator).toMatch(/source/i);
    expect(plan.nodes.at(-1)!.operator).toBe('Sink');
    expect(plan.edges).toEqual(plan.nodes.slice(1).map((n) => ({ from: n.id - 1, to: n.id })));
  });

  it('keeps a history of its metrics, oldest first, each point consistent with its time', async () => {
    const h = await waitFor(
      'three history points after the job read everything',
      async () => {
        const r = await get<MetricsHistoryAnswer>(`/v1/jobs/${jobId}/metrics/history`);
        expect(r.status).toBe(200);
        const done = r.body.points.filter((p) => p.recordsIn === TOTAL);
        return done.length >= 3 ? r.body : undefined;
      },
      30_000,
    );
    expect(h.intervalMs).toBe(HISTORY_MS);
    const ts = h.points.map((p) => Date.parse(p.t));
    for (let i = 1; i < ts.length; i++) expect(ts[i]!).toBeGreaterThan(ts[i - 1]!);
    for (let i = 1; i < h.points.length; i++) expect(h.points[i]!.recordsIn).toBeGreaterThanOrEqual(h.points[i - 1]!.recordsIn);
    const last: HistoryPoint = h.points.at(-1)!;
    expect(last).toMatchObject({ recordsIn: TOTAL, recordsBad: 0, recordsLate: 0, lag: 0, watermark: formatTimestamp(expectedWatermarkMs) });
    // The delay is the sample's own wall time minus the watermark (UTC: the default local time zone).
    expect(last.watermarkDelayMs).toBe(Date.parse(last.t) - expectedWatermarkMs);
    expect(Object.keys(last).sort()).toEqual(
      ['t', 'recordsIn', 'recordsOut', 'recordsInPerSecond', 'recordsOutPerSecond', 'lag', 'watermark', 'watermarkDelayMs', 'recordsLate', 'recordsBad', 'batchLatencyP99Ms', 'checkpointDurationMs'].sort(),
    );
  });

  it('keeps its history once stopped, without growing it further', async () => {
    const stop = await app.inject({ method: 'POST', url: `/v1/jobs/${jobId}/stop` });
    expect(stop.statusCode).toBe(200);
    expect(stop.json().state).toBe('STOPPED');
    const n0 = (await get<MetricsHistoryAnswer>(`/v1/jobs/${jobId}/metrics/history`)).body.points.length;
    // Stable: two reads four sample intervals apart see the same points (a history that kept growing times out).
    const h2 = await waitFor(
      'the history to stop growing',
      async () => {
        const a = (await get<MetricsHistoryAnswer>(`/v1/jobs/${jobId}/metrics/history`)).body;
        await new Promise((r) => setTimeout(r, HISTORY_MS * 4));
        const b = await get<MetricsHistoryAnswer>(`/v1/jobs/${jobId}/metrics/history`);
        return b.body.points.length === a.points.length ? b : undefined;
      },
      15_000,
    );
    expect(h2.status).toBe(200);
    // At most one sample after the stop: the one recording its final counts.
    expect(h2.body.points.length - n0).toBeLessThanOrEqual(1);
    expect(h2.body.points.length).toBeGreaterThan(0);
    expect(h2.body.points.at(-1)!.recordsIn).toBe(TOTAL);
    expect((await get('/v1/jobs/no-such-job/metrics/history')).status).toBe(404);
  });
});

describe('weir server (server/serve.ts)', () => {
  it('answers the console endpoints from its platform', async () => {
    const dir = tempDataDir('weir-it-console-serve-');
    const srv = await startWeirServer({ port: 0, host: '127.0.0.1', dataDir: dir, brokers: BROKERS, handleSignals: false, logger: false });
    const call = async (method: string, path: string, body?: unknown) => {
      const r = await fetch(srv.url + path, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
      return { status: r.status, body: (await r.json()) as any };
    };
    try {
      const put = await call('PUT', '/v1/dashboards/d', { panels: [{ view: 'v', chart: 'table', measure: 'm' }] });
      expect(put.status).toBe(201);
      expect((await call('GET', '/v1/dashboards')).body.dashboards.map((d: { name: string }) => d.name)).toEqual(['d']);
      const created = await call('POST', '/v1/statements', { sql: `CREATE TABLE t (k STRING) WITH ('connector' = 'kafka', 'topic' = '${topic}', 'format' = 'json')` });
      expect(created.status).toBe(200);
      expect((await call('GET', '/v1/tables/t')).body.partitions).toEqual(COUNTS.map((n, partition) => ({ partition, endOffset: n })));
      const history = await call('GET', '/v1/jobs/nope/metrics/history');
      expect(history).toEqual({ status: 404, body: { error: { message: "unknown job 'nope'" } } });
    } finally {
      await srv.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
