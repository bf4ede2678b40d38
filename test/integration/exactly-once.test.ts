// Exactly-once into Kafka, against the real broker: the sink's two-phase commit on its own (including
// the crash cases of the protocol in docs/checkpoints.md), and whole jobs through the REST API, with
// exactly-once and with at-least-once, read back and compared with an independent computation.
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaClient, ProducerRecord } from '../../connectors/kafka/client.ts';
import { KafkaSink } from '../../connectors/kafka/sink.ts';
import type { SinkSpec } from '../../connectors/types.ts';
import { formatTs, rng } from '../../examples/weibo/generator.ts';
import { CheckpointStore } from '../../jobs/checkpoint-store.ts';
import { BROKERS, produce, readJson, suffix, testClient, waitFor } from '../support/kafka.ts';
import { multisetDiff } from '../support/oracle.ts';
import { startServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';

let client: KafkaClient;
const topics: string[] = [];

beforeAll(() => {
  client = testClient('weir-it-exactly-once');
});

afterAll(async () => {
  for (const t of topics) await client?.deleteTopic(t).catch(() => undefined);
  await client?.close();
});

const committed = async (topic: string): Promise<number[]> => (await readJson(client, topic, 60_000, 'read_committed')).map((r) => r['n'] as number).sort((a, b) => a - b);

describe('the exactly-once Kafka sink (two-phase commit)', () => {
  const spec = (jobId: string, topic: string): SinkSpec => ({
    table: 'out',
    options: { connector: 'kafka', topic, format: 'json', 'sink.delivery-guarantee': 'exactly-once' },
    columns: [{ name: 'n', type: { kind: 'BIGINT' } }],
    brokers: BROKERS,
    jobId,
    jobName: 'exactly-once-test',
    timeZone: 'UTC',
    checkpointIntervalMs: 1000,
  });
  const rows = (from: number, to: number): unknown[][] => Array.from({ length: to - from }, (_, i) => [from + i]);

  it('commits with the checkpoint; a crash before commit loses the transaction, one after it keeps it', async () => {
    const topic = `eo_sink_${suffix()}`;
    topics.push(topic);
    const jobId = randomUUID();

    // Run 1: checkpoint 1 commits rows 0..99.
    const a = await KafkaSink.open(spec(jobId, topic));
    expect(a.committer).toBeDefined();
    expect(await a.committer!.recover(undefined)).toBe(false);
    a.write(rows(0, 100));
    await a.flush();
    expect(await committed(topic)).toEqual([]); // flushed into the transaction, not visible yet
    await a.committer!.prepare(1);
    await a.committer!.commit(1);
    expect(await committed(topic)).toEqual(rows(0, 100).map((r) => r[0]));

    // Checkpoint 2 is prepared (and would be recorded PENDING) when the process dies: `a` is never closed.
    a.write(rows(100, 150));
    await a.committer!.prepare(2);

    // Run 2 finds checkpoint 2 PENDING: its marker is not visible, so it did not commit; reopening aborted it.
    const b = await KafkaSink.open(spec(jobId, topic));
    expect(await b.committer!.recover(2)).toBe(false);
    expect(await committed(topic)).toEqual(rows(0, 100).map((r) => r[0]));
    // The dead incarnation is fenced: its late commit cannot publish anything.
    await expect(a.committer!.commit(2)).rejects.toThrow();
    await a.close();

    // Checkpoint 3 commits in Kafka, but the process dies before marking it COMPLETED.
    b.write(rows(100, 150));
    await b.committer!.prepare(3);
    await b.committer!.commit(3);

    // Run 3 finds checkpoint 3 PENDING: its marker is visible, so it counts as completed.
    const c = await KafkaSink.open(spec(jobId, topic));
    expect(await c.committer!.recover(3)).toBe(true);
    expect(await c.committer!.recover(4)).toBe(false);
    // Another job's markers say nothing about this one.
    const other = await KafkaSink.open(spec(randomUUID(), topic));
    expect(await other.committer!.recover(1)).toBe(false);
    await Promise.all([b.close(), c.close(), other.close()]);
    expect(await committed(topic)).toEqual(rows(0, 150).map((r) => r[0]));
  });

  it('at-least-once and none have no committer (today\'s behaviour)', async () => {
    const topic = `eo_alo_${suffix()}`;
    topics.push(topic);
    for (const dg of ['at-least-once', 'none']) {
      const s = await KafkaSink.open({ ...spec(randomUUID(), topic), options: { connector: 'kafka', topic, format: 'json', 'sink.delivery-guarantee': dg } });
      expect(s.committer).toBeUndefined();
      s.write(rows(0, 3));
      await s.flush();
      await s.close();
    }
    expect(await committed(topic)).toEqual([0, 0, 1, 1, 2, 2]);
  });
});

// --- whole jobs ----------------------------------------------------------------------------------

const PARTITIONS = 3;
const WINDOW_MS = 10_000;

interface Ev {
  k: string;
  v: number;
  ts: number;
}

/**
 * Events on PARTITIONS partitions, each partition's time monotone up to a jitter below the watermark's
 * 2 s bound, so no event is ever late (see windows-e2e.test.ts for the argument) and the expected
 * result does not depend on how the partitions interleave.
 */
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

/** The expected TUMBLE rows, computed directly: `window_start | k | count | sum`. */
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

const ddl = (src: string, out: string, guarantee: string): string => `
CREATE TABLE ${src}_t (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
  WITH ('connector' = 'kafka', 'topic' = '${src}', 'format' = 'json', 'scan.startup.mode' = 'earliest-offset',
        'scan.bounded.mode' = 'latest-offset', 'properties.max.partition.fetch.bytes' = '4096', 'properties.fetch.max.bytes' = '4096');
CREATE TABLE ${out}_t (ws TIMESTAMP(3), k STRING, n BIGINT, total INT)
  WITH ('connector' = 'kafka', 'topic' = '${out}', 'format' = 'json', 'sink.topic.partitions' = '2', 'sink.delivery-guarantee' = '${guarantee}');`;

const insert = (src: string, out: string, interval = '300 ms'): string => `SET 'execution.checkpointing.interval' = '${interval}';
INSERT INTO ${out}_t SELECT window_start, k, COUNT(*), SUM(v) FROM TABLE(TUMBLE(TABLE ${src}_t, DESCRIPTOR(ts), INTERVAL '10' SECOND)) GROUP BY window_start, window_end, k;`;

const rowsOf = (objs: Record<string, unknown>[]): string[] => objs.map((o) => `${o['ws']} | ${o['k']} | ${o['n']} | ${o['total']}`);

describe('jobs with a Kafka sink', () => {
  let server: TestServer | undefined;
  const dirs: string[] = [];
  afterAll(async () => {
    await server?.close(true);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  /**
   * Submits the TUMBLE job over `n` fresh events and suspends the server as soon as the job has read a
   * little (polled fast: the whole input takes about a second); the job stays RUNNING in the catalog.
   */
  async function startAndSuspend(guarantee: string, n: number, seed: number, interval: string): Promise<{ id: string; dataDir: string; out: string; evs: Ev[]; midStream: boolean }> {
    const src = `eo_src_${suffix()}`;
    const out = `eo_out_${suffix()}`;
    topics.push(src, out);
    await client.createTopic(src, PARTITIONS);
    // Small produce batches + small fetches: the job takes many batches, so it is suspended mid-way.
    const { records, evs } = events(src, n, seed);
    await produce(client, records, 300);
    server = await startServer();
    expect((await server.sql(ddl(src, out, guarantee))).status).toBe(200);
    const sub = await server.sql(insert(src, out, interval));
    expect(sub.status, sub.text).toBe(200);
    const id = sub.body.results.at(-1).jobId as string;
    const state = await waitFor(
      'the job to read some input',
      async () => {
        const j = (await server!.get(`/v1/jobs/${id}`)).body;
        return j.state === 'FINISHED' || j.metrics.partitions.reduce((s: number, p: { offset: number }) => s + p.offset, 0) > 2000 ? (j.state as string) : undefined;
      },
      60_000,
      10,
    );
    const dataDir = server.dataDir;
    await server.close(); // suspends the job: a final checkpoint
    server = undefined;
    return { id, dataDir, out, evs, midStream: state !== 'FINISHED' };
  }

  async function resumeAndCheck(id: string, dataDir: string, out: string, evs: readonly Ev[], isolation: 'read_committed' | 'read_uncommitted'): Promise<string[]> {
    server = await startServer({ dataDir });
    const done = await server.waitForState(id, 'FINISHED', 120_000);
    expect(done.metrics.recordsBad).toBe(0);
    const got = rowsOf(await readJson(client, out, 60_000, isolation));
    await server.close();
    server = undefined;
    dirs.push(dataDir);
    return got;
  }

  const statuses = (dataDir: string, id: string): Record<number, string> => {
    const store = CheckpointStore.open(dataDir, id);
    const all = Object.fromEntries(store.list().map((c) => [c.id, c.status]));
    store.close();
    return all;
  };

  for (const guarantee of ['exactly-once', 'at-least-once'] as const) {
    it(`${guarantee}: a job suspended mid-stream and resumed on the same data dir gives the exact result`, async () => {
      const { id, dataDir, out, evs } = await startAndSuspend(guarantee, 60_000, guarantee === 'exactly-once' ? 7 : 8, '300 ms');
      const st = Object.values(statuses(dataDir, id));
      expect(st.filter((s) => s === 'COMPLETED').length).toBeGreaterThanOrEqual(1);
      expect(st.filter((s) => s === 'COMPLETED').length).toBeLessThanOrEqual(2); // the last two are kept
      expect(st).not.toContain('PENDING');
      if (guarantee === 'exactly-once') {
        expect(multisetDiff(await resumeAndCheck(id, dataDir, out, evs, 'read_committed'), expected(evs))).toEqual({ missing: [], extra: [] });
      } else {
        // At-least-once: every row is there; a suspend after a flushed checkpoint writes none twice either.
        const got = await resumeAndCheck(id, dataDir, out, evs, 'read_uncommitted');
        expect(multisetDiff([...new Set(got)], expected(evs))).toEqual({ missing: [], extra: [] });
      }
    });
  }

  // The crash windows of the protocol, made deterministic by editing the checkpoint store as a crash
  // would have left it. With a 10-minute interval the suspend's checkpoint is the job's only one, so
  // resuming from the wrong place would duplicate or lose everything the job had written.
  it('died after the Kafka commit, before COMPLETED: the PENDING checkpoint counts (its marker is visible)', async () => {
    const { id, dataDir, out, evs, midStream } = await startAndSuspend('exactly-once', 60_000, 11, '10 min');
    expect(statuses(dataDir, id)).toEqual({ 1: 'COMPLETED' });
    const db = new Database(join(dataDir, 'checkpoints', `${id}.db`));
    db.prepare("UPDATE checkpoints SET status = 'PENDING' WHERE id = 1").run();
    db.close();
    expect(multisetDiff(await resumeAndCheck(id, dataDir, out, evs, 'read_committed'), expected(evs))).toEqual({ missing: [], extra: [] });
    if (midStream) expect(statuses(dataDir, id)[1]).toBe('COMPLETED');
  });

  it('died after recording PENDING, before the Kafka commit: the checkpoint is aborted, the job resumes from the one before', async () => {
    const { id, dataDir, out, evs } = await startAndSuspend('exactly-once', 60_000, 12, '10 min');
    // Checkpoint 2 claims the whole input was read; its transaction (and marker) never committed.
    const store = CheckpointStore.open(dataDir, id);
    const one = store.load(1);
    store.write(2, { ...one, offsets: Object.fromEntries(Object.keys(one.offsets).map((p) => [p, 20_000])), operators: one.operators.map(() => null) }, 'PENDING');
    store.close();
    expect(multisetDiff(await resumeAndCheck(id, dataDir, out, evs, 'read_committed'), expected(evs))).toEqual({ missing: [], extra: [] });
    expect(statuses(dataDir, id)[2]).toBe('ABORTED');
  });

  it('a job whose only progress is in the catalog (saved by an older version) resumes from it once', async () => {
    const { id, dataDir, out, evs, midStream } = await startAndSuspend('exactly-once', 60_000, 13, '10 min');
    // Turn the job's checkpoint into the catalog progress older versions saved, and drop its store.
    const store = CheckpointStore.open(dataDir, id);
    const progress = store.load(store.latest().completed!.id);
    store.close();
    rmSync(join(dataDir, 'checkpoints', `${id}.db`));
    const db = new Database(join(dataDir, 'catalog.db'));
    db.prepare('UPDATE jobs SET checkpoint = ? WHERE id = ?').run(JSON.stringify(progress), id);
    db.close();
    // Resuming from the start instead would commit everything written before the suspend a second time.
    expect(multisetDiff(await resumeAndCheck(id, dataDir, out, evs, 'read_committed'), expected(evs))).toEqual({ missing: [], extra: [] });
    if (midStream) expect(Object.values(statuses(dataDir, id))).toContain('COMPLETED');
  });

  it('a fenced sink fails the job: RESTARTING with the reason visible, then it recovers in-process with exact output', async () => {
    const src = `eo_fence_${suffix()}`;
    const out = `eo_fence_out_${suffix()}`;
    topics.push(src, out);
    await client.createTopic(src, PARTITIONS);
    const { records, evs } = events(src, 60_000, 14);
    await produce(client, records, 300);
    server = await startServer();
    expect((await server.sql(ddl(src, out, 'exactly-once'))).status).toBe(200);
    const id = (await server.sql(insert(src, out))).body.results.at(-1).jobId as string;
    await waitFor(
      'the job to read some input',
      async () => ((await server!.get(`/v1/jobs/${id}`)).body.metrics.partitions.reduce((s: number, p: { offset: number }) => s + p.offset, 0) > 2000 ? true : undefined),
      60_000,
      10,
    );
    // Another writer with the job's transactional id: the job's writer is fenced, its open transaction aborted.
    const thief = await client.openWriter({ transactionalId: `weir-${id}-0` });
    await thief.close();
    const failed = await server.waitForJob(id, 'to be RESTARTING with a reason', (j) => j.state === 'RESTARTING' || j.state === 'FINISHED', 60_000);
    const midStream = failed.state === 'RESTARTING';
    if (midStream) expect(failed.error).toMatch(/fenced|epoch/i);
    await server.waitForState(id, 'FINISHED', 120_000);
    const got = rowsOf(await readJson(client, out, 60_000, 'read_committed'));
    expect(multisetDiff(got, expected(evs))).toEqual({ missing: [], extra: [] });
    await server.close(true);
    server = undefined;
  });

  it('a finished exactly-once job stays finished and writes nothing more after a restart', async () => {
    const src = `eo_fin_${suffix()}`;
    const out = `eo_fin_out_${suffix()}`;
    topics.push(src, out);
    await client.createTopic(src, PARTITIONS);
    const { records, evs } = events(src, 3000, 9);
    await produce(client, records);
    server = await startServer();
    expect((await server.sql(ddl(src, out, 'exactly-once'))).status).toBe(200);
    const id = (await server.sql(insert(src, out))).body.results.at(-1).jobId as string;
    await server.waitForState(id, 'FINISHED', 60_000);
    const dataDir = server.dataDir;
    await server.close();
    server = await startServer({ dataDir });
    expect((await server.get(`/v1/jobs/${id}`)).body.state).toBe('FINISHED');
    const got = await waitFor('the committed output', async () => rowsOf(await readJson(client, out, 60_000, 'read_committed')), 30_000);
    expect(multisetDiff(got, expected(evs))).toEqual({ missing: [], extra: [] });
    await server.close(true);
    server = undefined;
  });
});
