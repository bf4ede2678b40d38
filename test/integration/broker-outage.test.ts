// Issue 3's broker restart: a bounded windowed job with an exactly-once Kafka sink, run by the real
// `weir server`, loses its broker for 12+ s in the middle (the broker process is stopped, then started
// again on the same data dir). The job must wait and reconnect (RESTARTING with the reason in
// GET /v1/jobs/:id is allowed; FAILED or a crash of the server is not) and finish with exactly the rows
// DuckDB computes from the same events, read with read_committed: none missing, none twice.
//
// The shared broker on 127.0.0.1:9092 is never touched: this file runs a private broker
// (scripts/kafka.mjs --port 19092 --controller-port 19093 --dir .cache/kafka-outage), stopped at the end
// also when the test fails.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient } from '../../connectors/kafka/client.ts';
import type { KafkaClient, ProducerRecord } from '../../connectors/kafka/client.ts';
import { formatTs, rng } from '../../examples/weibo/generator.ts';
import { produce, readJson, suffix, waitFor } from '../support/kafka.ts';
import { Oracle, canon, multisetDiff } from '../support/oracle.ts';
import { ServerProcess } from '../support/server-process.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const PORT = 19092;
const BROKERS = `127.0.0.1:${PORT}`;
const INSTANCE = ['--port', String(PORT), '--controller-port', '19093', '--dir', '.cache/kafka-outage'];
const EVENTS = 120_000;
const PARTITIONS = 4;
const OUTAGE_MS = 12_000;

const run = promisify(execFile);
/** start | stop of the private broker (never the shared one: the instance options name its own dir and ports). */
async function broker(command: 'start' | 'stop'): Promise<void> {
  await run(process.execPath, ['scripts/kafka.mjs', command, ...INSTANCE], { cwd: ROOT, timeout: 120_000 });
}

interface Ev {
  k: string;
  v: number;
  ts: number;
}

function generate(topic: string): { records: ProducerRecord[]; evs: Ev[] } {
  const r = rng(11);
  const clocks = Array.from({ length: PARTITIONS }, () => Date.UTC(2026, 10, 25));
  const records: ProducerRecord[] = [];
  const evs: Ev[] = [];
  for (let i = 0; i < EVENTS; i++) {
    const p = Math.floor(r() * PARTITIONS);
    clocks[p]! += Math.floor(r() * 20);
    // Jitter below the watermark's 3 s bound: no event is late, whatever the interleaving.
    const ev = { k: `k${Math.floor(r() * 30)}`, v: Math.floor(r() * 1000) - 50, ts: clocks[p]! - Math.floor(r() * 2500) };
    evs.push(ev);
    records.push({ topic, partition: p, key: null, value: Buffer.from(JSON.stringify({ k: ev.k, v: ev.v, ts: formatTs(ev.ts) })) });
  }
  return { records, evs };
}

let client: KafkaClient | undefined;
let oracle: Oracle;
let dataDir: string;
let server: ServerProcess | undefined;
let passed = false;

beforeAll(async () => {
  rmSync(join(ROOT, '.cache', 'kafka-outage'), { recursive: true, force: true });
  await broker('start');
  client = createKafkaClient({ brokers: [BROKERS], clientId: 'weir-it-outage' });
  oracle = await Oracle.create();
  dataDir = mkdtempSync(join(tmpdir(), 'weir-outage-'));
}, 150_000);

afterAll(async () => {
  await server?.kill('SIGTERM').catch(() => undefined);
  await client?.close().catch(() => undefined);
  oracle?.close();
  await broker('stop').catch((e: unknown) => console.error(`broker-outage: stopping the private broker failed: ${String(e)}`));
  if (passed) {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(join(ROOT, '.cache', 'kafka-outage'), { recursive: true, force: true });
  } else {
    console.error(`broker-outage: data dir kept for inspection: ${dataDir} (broker log: .cache/kafka-outage/broker.log)`);
  }
}, 120_000);

describe('broker outage in the middle of an exactly-once job', () => {
  it(`the broker stops for ${OUTAGE_MS / 1000} s; the job reconnects and the read_committed sink holds exactly the expected rows`, { timeout: 240_000 }, async () => {
    const src = `outage_src_${suffix()}`;
    const out = `outage_out_${suffix()}`;
    await client!.createTopic(src, PARTITIONS);
    const { records, evs } = generate(src);
    await produce(client!, records, 500);

    server = new ServerProcess(dataDir, BROKERS);
    await server.start();
    // Small fetches: the job needs many batches (and checkpoints), so the broker goes away mid-job.
    const sql = `
CREATE TABLE events (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '3' SECOND)
  WITH ('connector' = 'kafka', 'topic' = '${src}', 'format' = 'json', 'scan.startup.mode' = 'earliest-offset',
        'scan.bounded.mode' = 'latest-offset', 'properties.max.partition.fetch.bytes' = '2048', 'properties.fetch.max.bytes' = '2048');
CREATE TABLE totals (window_start TIMESTAMP(3), window_end TIMESTAMP(3), k STRING, n BIGINT, total INT)
  WITH ('connector' = 'kafka', 'topic' = '${out}', 'format' = 'json', 'sink.topic.partitions' = '3',
        'sink.delivery-guarantee' = 'exactly-once');
SET 'execution.checkpointing.interval' = '200 ms';
SET 'pipeline.name' = 'outage';
INSERT INTO totals SELECT window_start, window_end, k, COUNT(*), SUM(v)
FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '10' SECOND)) GROUP BY window_start, window_end, k;`;
    const res = await server.call('POST', '/v1/statements', { sql });
    const id = res.results.at(-1).jobId as string;
    const job = async (): Promise<any> => {
      const j = await server!.call('GET', `/v1/jobs/${id}`);
      if (j.state === 'FAILED') throw Object.assign(new Error(`job FAILED: ${j.error}`), { fatal: true });
      return j;
    };
    const read = (j: any): number => (j.metrics.partitions as { offset: number }[]).reduce((s, p) => s + p.offset, 0);

    // The outage starts once the job has read a tenth of the input and checkpointed (so the stop hits a job with state, offsets and an open transaction).
    const before = await waitFor(
      'the job to read 10 % of the input',
      async () => {
        const j = await job();
        return read(j) >= EVENTS / 10 && j.metrics.lastCheckpoint ? j : undefined;
      },
      90_000,
      20,
    );
    await broker('stop');
    const stoppedAt = Date.now();
    const seen = new Map<string, string | null>();
    while (Date.now() - stoppedAt < OUTAGE_MS) {
      const j = await job();
      if (!seen.has(j.state) || j.error) seen.set(j.state, j.error ?? null);
      await new Promise((r) => setTimeout(r, 200));
    }
    const duringOutage = await job();
    await broker('start');
    const outageMs = Date.now() - stoppedAt;

    const done = await waitFor(
      'the job to finish after the broker came back',
      async () => {
        const j = await job();
        if (!seen.has(j.state) || j.error) seen.set(j.state, j.error ?? null);
        return j.state === 'FINISHED' ? j : undefined;
      },
      150_000,
      100,
    );
    // The server process lived through the outage (one start), and the job read on from where it was.
    expect(server.starts).toBe(1);
    expect(read(before)).toBeLessThan(EVENTS);
    expect(read(done)).toBe(EVENTS);
    expect(done.error).toBeUndefined();
    expect(duringOutage.state).not.toBe('FINISHED');
    // Waiting out the outage in RESTARTING is fine, as long as the reason is there for the user.
    if (seen.has('RESTARTING')) expect(seen.get('RESTARTING')).toMatch(/\S/);

    await oracle.load('ev', [['k', 'VARCHAR'], ['v', 'INTEGER'], ['ts', 'BIGINT']], evs.map((e) => [e.k, e.v, e.ts]));
    const want = (await oracle.query(`SELECT (ts // 10000) * 10000 AS ws, k, COUNT(*) AS n, SUM(v) AS total FROM ev GROUP BY ALL`)).map((row) =>
      canon({ ...row, ws: formatTs(Number(row['ws'])), we: formatTs(Number(row['ws']) + 10_000) }, ['ws', 'we', 'k', 'n', 'total']),
    );
    const got = (await readJson(client!, out, 60_000, 'read_committed')).map((o) => canon(o, ['window_start', 'window_end', 'k', 'n', 'total']));
    console.log(
      `broker-outage: read ${read(before)} of ${EVENTS} when the broker stopped; outage ${(outageMs / 1000).toFixed(1)} s; ` +
        `states seen: ${[...seen].map(([s, e]) => (e ? `${s} (${e})` : s)).join(', ')}; ${want.length} expected rows, ${got.length} committed`,
    );
    const diff = multisetDiff(got, want);
    expect({ missing: diff.missing.slice(0, 10), extra: diff.extra.slice(0, 10), counts: [diff.missing.length, diff.extra.length] }).toEqual({
      missing: [],
      extra: [],
      counts: [0, 0],
    });
    passed = true;
  });
});
