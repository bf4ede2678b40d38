// Job control against the real broker: stop and resume over REST, re-submitting a stopped job under its
// pipeline.name (compatible plan: it continues; changed plan: a clear 409), stop with drain, the
// checkpoint metrics, and the server-wide default checkpoint interval. Every output is read back with
// read_committed and compared with an independent computation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaClient, ProducerRecord } from '../../connectors/kafka/client.ts';
import { formatTs, rng } from '../../examples/weibo/generator.ts';
import type { JobInfo } from '../../jobs/api.ts';
import { produce, readJson, suffix, testClient, waitFor } from '../support/kafka.ts';
import { multisetDiff } from '../support/oracle.ts';
import { startServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';

const PARTITIONS = 3;
const WINDOW_MS = 10_000;

let client: KafkaClient;
const topics: string[] = [];
const servers: TestServer[] = [];

beforeAll(() => {
  client = testClient('weir-it-job-control');
});

afterAll(async () => {
  for (const s of servers) await s.close(true);
  for (const t of topics) await client?.deleteTopic(t).catch(() => undefined);
  await client?.close();
});

interface Ev {
  k: string;
  v: number;
  ts: number;
}

/** Per-partition time monotone up to a jitter below the 2 s watermark bound: no event is ever late. */
function events(topic: string, n: number, seed: number): { records: ProducerRecord[]; evs: Ev[] } {
  const r = rng(seed);
  const clocks = Array.from({ length: PARTITIONS }, (_, p) => Date.UTC(2026, 0, 1) + p * 700);
  const records: ProducerRecord[] = [];
  const evs: Ev[] = [];
  for (let i = 0; i < n; i++) {
    const p = i % PARTITIONS;
    clocks[p]! += Math.floor(r() * 20);
    const ev = { k: `k${Math.floor(r() * 7)}`, v: Math.floor(r() * 1000) - 100, ts: clocks[p]! - Math.floor(r() * 1500) };
    evs.push(ev);
    records.push({ topic, partition: p, key: null, value: Buffer.from(JSON.stringify({ k: ev.k, v: ev.v, ts: formatTs(ev.ts) })) });
  }
  return { records, evs };
}

/** The expected TUMBLE rows: `window_start | k | count | sum`. */
function expected(evs: readonly Ev[]): string[] {
  const g = new Map<string, { n: number; s: number }>();
  for (const e of evs) {
    const key = `${formatTs(Math.floor(e.ts / WINDOW_MS) * WINDOW_MS)} | ${e.k}`;
    const a = g.get(key) ?? { n: 0, s: 0 };
    a.n++;
    a.s += e.v;
    g.set(key, a);
  }
  return [...g].map(([k, a]) => `${k} | ${a.n} | ${a.s}`);
}

const rowsOf = (objs: Record<string, unknown>[]): string[] => objs.map((o) => `${o['ws']} | ${o['k']} | ${o['n']} | ${o['total']}`);
const committedRows = async (topic: string): Promise<string[]> => rowsOf(await readJson(client, topic, 60_000, 'read_committed'));

/** Source and exactly-once sink tables over fresh topics, with `n` events produced. */
async function setup(server: TestServer, n: number, seed: number, bounded: boolean): Promise<{ src: string; out: string; evs: Ev[] }> {
  const src = `jc_src_${suffix()}`;
  const out = `jc_out_${suffix()}`;
  topics.push(src, out);
  await client.createTopic(src, PARTITIONS);
  const { records, evs } = events(src, n, seed);
  // Small produce batches + small fetches: the job takes many batches, so it can be stopped mid-way.
  await produce(client, records, 300);
  const ddl = `
CREATE TABLE ${src}_t (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
  WITH ('connector' = 'kafka', 'topic' = '${src}', 'format' = 'json', 'scan.startup.mode' = 'earliest-offset',
        ${bounded ? "'scan.bounded.mode' = 'latest-offset'," : ''} 'properties.max.partition.fetch.bytes' = '4096', 'properties.fetch.max.bytes' = '4096');
CREATE TABLE ${out}_t (ws TIMESTAMP(3), k STRING, n BIGINT, total INT)
  WITH ('connector' = 'kafka', 'topic' = '${out}', 'format' = 'json', 'sink.delivery-guarantee' = 'exactly-once');`;
  const r = await server.sql(ddl);
  expect(r.status, r.text).toBe(200);
  return { src, out, evs };
}

const tumble = (src: string, out: string, name: string, opts: { agg?: string; where?: string; interval?: string } = {}): string => `
SET 'pipeline.name' = '${name}';
${opts.interval ? `SET 'execution.checkpointing.interval' = '${opts.interval}';` : ''}
INSERT INTO ${out}_t SELECT window_start, k, COUNT(*), ${opts.agg ?? 'SUM(v)'} AS total
FROM TABLE(TUMBLE(TABLE ${src}_t, DESCRIPTOR(ts), INTERVAL '10' SECOND)) ${opts.where ?? ''}
GROUP BY window_start, window_end, k;`;

const offsetSum = (j: JobInfo): number => j.metrics.partitions.reduce((s, p) => s + p.offset, 0);

async function startServerTracked(opts: { progressIntervalMs?: number } = {}): Promise<TestServer> {
  const s = await startServer(opts);
  servers.push(s);
  return s;
}

/** Submits, waits until the job has read a little of its input, stops it; returns the stopped job's answer. */
async function submitAndStop(server: TestServer, sql: string): Promise<{ id: string; stopped: JobInfo }> {
  const sub = await server.sql(sql);
  expect(sub.status, sub.text).toBe(200);
  const id = sub.body.results.at(-1).jobId as string;
  await waitFor(
    'the job to read some input',
    async () => {
      const j = (await server.get(`/v1/jobs/${id}`)).body as JobInfo;
      return j.state === 'FINISHED' || offsetSum(j) > 2000 ? true : undefined;
    },
    60_000,
    10,
  );
  const stop = await server.post(`/v1/jobs/${id}/stop`);
  expect(stop.status, stop.text).toBe(200);
  return { id, stopped: stop.body as JobInfo };
}

describe('job control', () => {
  it('stop takes a final checkpoint (in the metrics), resume continues from it: exact output; 404 and 409 otherwise', async () => {
    const server = await startServerTracked();
    const { src, out, evs } = await setup(server, 60_000, 21, true);
    const { id, stopped } = await submitAndStop(server, tumble(src, out, `jc-resume-${suffix()}`, { interval: '300 ms' }));
    expect((await server.post('/v1/jobs/nope/resume')).status).toBe(404);
    if (stopped.state === 'STOPPED') {
      const cp = stopped.metrics.lastCheckpoint;
      expect(cp).toBeDefined();
      expect(cp!.id).toBeGreaterThanOrEqual(1);
      expect(cp!.stateBytes).toBeGreaterThan(0);
      expect(cp!.durationMs).toBeGreaterThanOrEqual(0);
      expect(Date.parse(cp!.completedAt)).toBeGreaterThan(Date.now() - 60_000);
      const before = offsetSum(stopped);
      expect(before).toBeLessThan(60_000);
      const resumed = await server.post(`/v1/jobs/${id}/resume`);
      expect(resumed.status, resumed.text).toBe(200);
      expect(['CREATED', 'RUNNING', 'FINISHED']).toContain(resumed.body.state);
      // Running (or already finished): a second resume is a conflict either way.
      const again = await server.post(`/v1/jobs/${id}/resume`);
      expect(again.status).toBe(409);
      expect(again.body.error.message).toMatch(/only a STOPPED job can be resumed/);
    } else {
      // The whole input was read before the stop arrived (rare): a finished job cannot be resumed.
      expect(stopped.state).toBe('FINISHED');
      expect((await server.post(`/v1/jobs/${id}/resume`)).status).toBe(409);
    }
    await server.waitForState(id, 'FINISHED', 120_000);
    expect(multisetDiff(await committedRows(out), expected(evs))).toEqual({ missing: [], extra: [] });
  });

  it('re-submitting under the name of a stopped job: a changed plan is refused with the reason, a compatible one resumes the job', async () => {
    const server = await startServerTracked();
    const { src, out, evs } = await setup(server, 60_000, 22, true);
    const name = `jc-resubmit-${suffix()}`;
    const { id, stopped } = await submitAndStop(server, tumble(src, out, name, { where: 'WHERE v > -2000', interval: '300 ms' }));
    if (stopped.state !== 'STOPPED') return; // read to its end before the stop: nothing to resume
    const changed = await server.sql(tumble(src, out, name, { where: 'WHERE v > -2000', agg: 'MAX(v)' }));
    expect(changed.status).toBe(409);
    expect(changed.body.error.message).toMatch(new RegExp(`stopped job named '${name}' \\(${id}\\).*the plan changed: operator \\d+ was WindowAggregate.*SUM\\(v\\).*is now WindowAggregate.*MAX\\(v\\).*resume.*pipeline\\.name`));
    // State is kept per operator position: an operator more (or less) is a change too.
    const unfiltered = await server.sql(tumble(src, out, name));
    expect(unfiltered.status).toBe(409);
    expect(unfiltered.body.error.message).toMatch(/its operators were Source → Filter → WindowAggregate.* and are now Source → WindowAggregate/);
    expect((await server.get(`/v1/jobs/${id}`)).body.state).toBe('STOPPED');
    // Another filter that keeps every row (v >= -100) and another interval: no state changes shape, so the job continues.
    const same = await server.sql(tumble(src, out, name, { where: 'WHERE v > -1000', interval: '200 ms' }));
    expect(same.status, same.text).toBe(200);
    expect(same.body.results.at(-1)).toMatchObject({ kind: 'job', jobId: id });
    expect(same.body.results.at(-1).message).toMatch(/resumed from its last checkpoint/);
    const done = await server.waitForState(id, 'FINISHED', 120_000);
    expect(done.sql).toMatch(/WHERE v > -1000/);
    expect(multisetDiff(await committedRows(out), expected(evs))).toEqual({ missing: [], extra: [] });
    // Finished, the name is free for a new job from scratch.
    const fresh = await server.sql(tumble(src, out, name, { agg: 'MAX(v)' }));
    expect(fresh.status, fresh.text).toBe(200);
    expect(fresh.body.results.at(-1).jobId).not.toBe(id);
    await server.post(`/v1/jobs/${fresh.body.results.at(-1).jobId}/stop`);
  });

  it('stop?drain=true fires every open window, checkpoints and ends FINISHED; the server default interval applies', async () => {
    // No SET of the interval: the platform's default (the server's --checkpoint-interval) applies.
    const server = await startServerTracked({ progressIntervalMs: 200 });
    const n = 3000;
    const { src, out, evs } = await setup(server, n, 23, false);
    const sub = await server.sql(tumble(src, out, `jc-drain-${suffix()}`));
    expect(sub.status, sub.text).toBe(200);
    const id = sub.body.results.at(-1).jobId as string;
    // The first checkpoint comes about 200 ms after the first input, not after the 5 s default.
    let firstInput: number | undefined;
    const firstCheckpoint = await waitFor(
      'the first checkpoint',
      async () => {
        const j = (await server.get(`/v1/jobs/${id}`)).body as JobInfo;
        if (firstInput === undefined && offsetSum(j) > 0) firstInput = Date.now();
        return j.metrics.lastCheckpoint ? Date.now() : undefined;
      },
      30_000,
      10,
    );
    expect(firstCheckpoint - (firstInput ?? firstCheckpoint)).toBeLessThan(4000);
    const caughtUp = await server.waitForJob(id, 'to have read everything', (j) => offsetSum(j) === n, 30_000);
    expect(caughtUp.state).toBe('RUNNING');
    await new Promise((r) => setTimeout(r, 600)); // the checkpoint after the last input
    const before = await committedRows(out);
    // The newest windows are still open: the watermark has not passed their end.
    expect(before.length).toBeLessThan(expected(evs).length);
    const drained = await server.post(`/v1/jobs/${id}/stop?drain=true`);
    expect(drained.status, drained.text).toBe(200);
    expect(drained.body.state).toBe('FINISHED');
    expect(drained.body.metrics.watermark).toBe('END');
    expect(multisetDiff(await committedRows(out), expected(evs))).toEqual({ missing: [], extra: [] });
    const resume = await server.post(`/v1/jobs/${id}/resume`);
    expect(resume.status).toBe(409);
    expect(resume.body.error.message).toMatch(/FINISHED/);
  });
});
