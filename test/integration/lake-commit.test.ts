// Partition commit of the parquet lake on the real broker, with events whose times span six hours:
// - unbounded jobs fed in two stages: once each stage is visible, exactly the partitions whose partition
//   time + delay the watermark (read from REST) has passed hold a `_SUCCESS` (partition-time), or every
//   partition with rows (process-time, delay 0);
// - bounded jobs watched while they run: every partition holding a `_SUCCESS` has its partition time +
//   delay below the job's watermark and already holds all of its rows (DuckDB counts them against the
//   input); at the end (watermark END) every partition is committed. Also process-time with delay 0.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaClient, ProducerRecord } from '../../connectors/kafka/client.ts';
import { formatTs, rng } from '../../examples/weibo/generator.ts';
import { produce, suffix, testClient } from '../support/kafka.ts';
import { startServer, tempDataDir } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';

const HOURS = 6;
/** One event per second of event time in each Kafka partition. */
const PER_HOUR = 1800;
const PARTITIONS = 2;
const T0 = Date.UTC(2026, 10, 25, 21, 0, 0);
const H = 3_600_000;

let server: TestServer;
let client: KafkaClient;
let duck: DuckDBInstance;
let conn: DuckDBConnection;
let root: string;
let topic: string;
/** Input rows per partition directory (`dt=.../hr=...`) of `topic`, computed from the generated events. */
let expected = new Map<string, number>();

interface Stage {
  readonly records: ProducerRecord[];
  /** Rows per partition directory. */
  readonly rows: Map<string, number>;
  /** The source's watermark once the stage is read: min over Kafka partitions of (max event time - 10 s). */
  readonly watermark: number;
}

/**
 * Hours [from, to) of events, in event-time order per Kafka partition, with a jitter well inside the
 * watermark's 10 s: no late rows, so once the watermark has passed an hour, all of its rows reached the sink.
 */
function stage(t: string, from: number, to: number, r: () => number): Stage {
  const records: ProducerRecord[] = [];
  const rows = new Map<string, number>();
  const maxTs: number[] = [];
  for (let p = 0; p < PARTITIONS; p++) {
    for (let k = from * PER_HOUR; k < to * PER_HOUR; k++) {
      const ts = T0 + k * 2000 + p * 1000 + Math.floor(r() * 900);
      maxTs[p] = Math.max(maxTs[p] ?? 0, ts);
      const iso = new Date(ts).toISOString();
      const dir = `dt=${iso.slice(0, 10)}/hr=${iso.slice(11, 13)}`;
      rows.set(dir, (rows.get(dir) ?? 0) + 1);
      records.push({ topic: t, partition: p, key: null, value: Buffer.from(JSON.stringify({ id: p * 1_000_000 + k, txt: `事件 ${k}`, ts: formatTs(ts) })) });
    }
  }
  return { records, rows, watermark: Math.min(...maxTs) - 10_000 };
}

/** Rows per partition directory of several stages together. */
function rowsOf(stages: readonly Stage[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const st of stages) for (const [d, n] of st.rows) out.set(d, (out.get(d) ?? 0) + n);
  return out;
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else out.push(relative(dir, join(d, e.name)));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

const successDirs = (path: string): string[] => listFiles(path).filter((f) => f.endsWith('/_SUCCESS')).map((f) => f.slice(0, -'/_SUCCESS'.length)).sort();

/** `dt=2026-11-25/hr=22` → the start of that hour (the pattern '$dt $hr:00:00'). */
const hourOf = (dir: string): number => {
  const [, dt, hr] = /^dt=([^/]+)\/hr=(\d\d)$/.exec(dir)!;
  return Date.parse(`${dt}T${hr}:00:00Z`);
};

/** The job's watermark from GET /v1/jobs/:id ('END', a timestamp text, or null) in epoch ms. */
const wmMs = (wm: string | null): number => (wm === null ? -Infinity : wm === 'END' ? Infinity : Date.parse(wm.replace(' ', 'T') + 'Z'));

async function rowsIn(path: string, dir: string): Promise<number> {
  const files = listFiles(join(path, dir)).filter((f) => f.endsWith('.parquet') && !f.startsWith('.'));
  if (files.length === 0) return 0;
  const r = await conn.runAndReadAll(`SELECT count(*) FROM read_parquet([${files.map((f) => `'${join(path, dir, f)}'`).join(', ')}])`);
  return Number(r.getRowsJson()[0]![0]);
}

beforeAll(async () => {
  client = testClient('weir-it-lake-commit');
  server = await startServer({ progressIntervalMs: 200 });
  root = tempDataDir('weir-lake-commit-');
  duck = await DuckDBInstance.create(':memory:', { threads: '1' });
  conn = await duck.connect();
  topic = `lake_commit_${suffix()}`;
  const all = stage(topic, 0, HOURS, rng(525));
  expected = all.rows;
  await client.createTopic(topic, PARTITIONS);
  await produce(client, all.records, 500);
}, 120_000);

afterAll(async () => {
  await server?.close(true);
  await client?.deleteTopic(topic).catch(() => undefined);
  await client?.close();
  conn?.closeSync();
  duck?.closeSync();
  if (root) rmSync(root, { recursive: true, force: true });
});

interface Run {
  /** Observations while the job ran: committed partitions, then the watermark read after them. */
  readonly seen: { committed: string[]; watermark: number; finished: boolean }[];
  readonly path: string;
}

/**
 * Starts a bounded job into a lake with `options` and watches it until FINISHED, checking each `_SUCCESS`
 * against the data: `complete` when a committed partition must hold all of its input rows.
 */
/** Submits Kafka → lake with the sink `options`; returns the job id. */
async function submit(path: string, options: string, bounded: boolean, sourceTopic = topic): Promise<string> {
  const s = suffix();
  const res = await server.sql(`
    CREATE TABLE ev_${s} (id BIGINT, txt STRING, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '10' SECOND)
      WITH ('connector' = 'kafka', 'topic' = '${sourceTopic}', 'format' = 'json', 'scan.startup.mode' = 'earliest-offset',
            ${bounded ? "'scan.bounded.mode' = 'latest-offset', " : ''}'properties.max.partition.fetch.bytes' = '4096');
    CREATE TABLE lake_${s} (id BIGINT, txt STRING, ts TIMESTAMP(3), dt STRING, hr STRING) PARTITIONED BY (dt, hr)
      WITH ('connector' = 'filesystem', 'path' = '${path}', 'format' = 'parquet', 'sink.partition-commit.policy.kind' = 'success-file'${options});
    SET 'execution.checkpointing.interval' = '200 ms';
    INSERT INTO lake_${s} SELECT *, DATE_FORMAT(ts, 'yyyy-MM-dd') AS dt, DATE_FORMAT(ts, 'HH') AS hr FROM ev_${s};`);
  expect(res.status, res.text).toBe(200);
  return res.body.results[3].jobId as string;
}

const PARTITION_TIME = `, 'sink.partition-commit.trigger' = 'partition-time', 'sink.partition-commit.delay' = '1 h', 'partition.time-extractor.timestamp-pattern' = '$dt $hr:00:00'`;

async function run(name: string, options: string, complete: boolean): Promise<Run> {
  const path = join(root, name);
  const jobId = await submit(path, options, true);
  const seen: Run['seen'] = [];
  const checked = new Set<string>();
  const deadline = Date.now() + 120_000;
  for (;;) {
    // The success files first, then the watermark: the watermark read is at least the one they were committed at.
    const committed = successDirs(path);
    const job = (await server.get(`/v1/jobs/${jobId}`)).body;
    if (job.state === 'FAILED') throw new Error(`job FAILED: ${job.error}`);
    const finished = job.state === 'FINISHED';
    seen.push({ committed, watermark: wmMs(job.metrics.watermark), finished });
    // A _SUCCESS vouches for data that is there. With partition-time (and no late rows) that is every row
    // of the partition; process-time commits by the clock, so rows may still come (and re-commit it).
    for (const d of committed) {
      if (checked.has(d)) continue;
      checked.add(d);
      const rows = await rowsIn(path, d);
      if (complete) expect({ d, rows }).toEqual({ d, rows: expected.get(d) });
      else expect({ d, visible: rows > 0 }).toEqual({ d, visible: true });
    }
    if (finished) break;
    if (Date.now() > deadline) throw new Error(`job ${jobId} did not finish: ${JSON.stringify(job)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return { seen, path };
}

describe('partition commit on a parquet lake', () => {
  /**
   * An unbounded job fed `parts` one after the other; after each, once it is settled, `check` gets the
   * watermark (REST) and the rows per partition so far, and returns the partitions that must be committed.
   */
  async function staged(name: string, options: string, check: (wm: number, rows: Map<string, number>) => string[]): Promise<string[][]> {
    const own = `lake_commit_${name}_${suffix()}`;
    await client.createTopic(own, PARTITIONS);
    const path = join(root, name);
    const r = rng(777);
    const parts = [stage(own, 0, 3, r), stage(own, 3, HOURS, r)];
    const jobId = await submit(path, options, false, own);
    const committedAfter: string[][] = [];
    try {
      let total = 0;
      for (const [i, st] of parts.entries()) {
        const mine = rowsOf(parts.slice(0, i + 1));
        await produce(client, st.records, 500);
        total += st.records.length;
        // Settled: every row of the stage is visible and no checkpoint is half committed (its manifest
        // is deleted only after the partitions were committed).
        const meta = join(path, '.weir', jobId);
        let wm = -Infinity;
        for (const deadline = Date.now() + 60_000; ; ) {
          const job = (await server.get(`/v1/jobs/${jobId}`)).body;
          if (job.state === 'FAILED') throw new Error(`job FAILED: ${job.error}`);
          wm = wmMs(job.metrics.watermark);
          const visible = listFiles(path).filter((f) => /\/part-[^/]+\.parquet$/.test(f)).map((f) => f.slice(0, f.lastIndexOf('/')));
          let rows = 0;
          for (const d of new Set(visible)) rows += await rowsIn(path, d);
          const manifests = existsSync(meta) ? readdirSync(meta).filter((f) => f.startsWith('pending-')) : [];
          if (rows === total && manifests.length === 0) break;
          if (Date.now() > deadline) throw new Error(`stage not visible: ${rows}/${total} rows, manifests ${manifests.join(',')}`);
          await new Promise((res) => setTimeout(res, 100));
        }
        expect(wm).toBe(st.watermark);
        const due = check(wm, mine);
        expect(successDirs(path)).toEqual(due);
        for (const d of due) expect({ d, rows: await rowsIn(path, d) }).toEqual({ d, rows: mine.get(d) });
        committedAfter.push(successDirs(path));
      }
    } finally {
      await server.post(`/v1/jobs/${jobId}/stop`);
      await client.deleteTopic(own).catch(() => undefined);
    }
    return committedAfter;
  }

  it('partition-time, fed in two stages: exactly the partitions the watermark passed (+ 1 h) are committed', { timeout: 150_000 }, async () => {
    const after = await staged('ptime_staged', PARTITION_TIME, (wm, rows) => [...rows.keys()].filter((d) => hourOf(d) + H < wm).sort());
    // Stage 1 ends just before 00:00 (hr=21 and 22 committed), stage 2 just before 03:00 (up to hr=01).
    expect(after).toEqual([
      ['dt=2026-11-25/hr=21', 'dt=2026-11-25/hr=22'],
      ['dt=2026-11-25/hr=21', 'dt=2026-11-25/hr=22', 'dt=2026-11-25/hr=23', 'dt=2026-11-26/hr=00', 'dt=2026-11-26/hr=01'],
    ]);
  });

  it('process-time, delay 0, fed in two stages: every partition with visible files is committed, without END', { timeout: 150_000 }, async () => {
    const after = await staged('proc_staged', '', (_wm, rows) => [...rows.keys()].sort());
    expect(after.map((a) => a.length)).toEqual([3, 6]);
  });

  it('partition-time: _SUCCESS only once the watermark passed partition time + delay, then all at END', { timeout: 150_000 }, async () => {
    const { seen, path } = await run('ptime', PARTITION_TIME, true);
    for (const o of seen) {
      for (const d of o.committed) expect({ d, due: hourOf(d) + H < o.watermark }).toEqual({ d, due: true });
    }
    // Committed in hour order, as the watermark advanced (how many observations fall mid-job depends on speed).
    for (const o of seen) expect(o.committed).toEqual([...expected.keys()].sort().slice(0, o.committed.length));
    expect(successDirs(path)).toEqual([...expected.keys()].sort());
    expect(expected.size).toBe(HOURS);
  });

  it('process-time, delay 0, bounded: _SUCCESS only where files are visible; all at the end', { timeout: 150_000 }, async () => {
    const { path } = await run('proctime', '', false);
    expect(successDirs(path)).toEqual([...expected.keys()].sort());
    for (const d of expected.keys()) expect({ d, rows: await rowsIn(path, d) }).toEqual({ d, rows: expected.get(d) });
  });
});
