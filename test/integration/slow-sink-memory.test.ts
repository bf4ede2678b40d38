// Issue 3's back-pressure: a source with a large backlog (300,000 records, ~45 MB) and a sink that
// acknowledges slowly (a test-only connector, test/support/slow-sink.ts, sleeping on every flush),
// run by the real `weir server`. The job reads a batch, pushes it through the operators, and waits
// for the sink's flush before it polls again; the Kafka reader prefetches at most one fetch. So the
// records in memory at once are bounded by 'properties.fetch.max.bytes' (here 1 MB) x 2 fetches plus
// the rows decoded from one of them, whatever the backlog: the server's resident memory must not grow
// by more than BOUND_MB over its level before the job (docs/checkpoints.md, "Back-pressure"), where
// holding the backlog would take far more. The job still writes exactly the expected rows.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaClient, ProducerRecord } from '../../connectors/kafka/client.ts';
import { produce, suffix, testClient, waitFor } from '../support/kafka.ts';
import { Oracle, canon, multisetDiff } from '../support/oracle.ts';
import { ServerProcess } from '../support/server-process.ts';

const RECORDS = Number(process.env["WEIR_SLOW_RECORDS"] ?? 300_000);
const PARTITIONS = 3;
const FETCH_MAX_BYTES = 1024 * 1024;
/** Allowed growth of the server's resident memory while the job runs (MB). */
const BOUND_MB = 64;

/** Resident set size now and its peak so far (VmHWM), in MB, from /proc. */
function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)![1]) / 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

let client: KafkaClient;
let oracle: Oracle;
let dataDir: string;
let server: ServerProcess | undefined;
let topic = '';
let passed = false;
let lastJob: unknown;
const savedEnv = process.env['WEIR_CONNECTORS'];

beforeAll(async () => {
  client = testClient('weir-it-slow-sink');
  oracle = await Oracle.create();
  dataDir = mkdtempSync(join(tmpdir(), 'weir-slow-sink-'));
});

afterAll(async () => {
  await server?.kill('SIGTERM');
  if (savedEnv === undefined) delete process.env['WEIR_CONNECTORS'];
  else process.env['WEIR_CONNECTORS'] = savedEnv;
  if (topic) await client?.deleteTopic(topic).catch(() => undefined);
  await client?.close();
  oracle?.close();
  if (passed) rmSync(dataDir, { recursive: true, force: true });
  else console.error(`slow-sink: data dir kept: ${dataDir}; last job status: ${JSON.stringify(lastJob)?.slice(0, 3000)}`);
});

describe('a slow sink under a large backlog', () => {
  it(`${RECORDS} records behind a slow sink: memory stays within ${BOUND_MB} MB of its level before the job, and the output is exact`, { timeout: 240_000 }, async () => {
    if (process.platform !== 'linux') return; // reads /proc
    topic = `slow_src_${suffix()}`;
    await client.createTopic(topic, PARTITIONS);
    const pad = 'x'.repeat(100);
    const records: ProducerRecord[] = [];
    const rows: [number, string, number][] = [];
    for (let i = 0; i < RECORDS; i++) {
      const k = `k${i % 97}`;
      const v = (i * 7919) % 1000;
      rows.push([i, k, v]);
      records.push({ topic, partition: i % PARTITIONS, key: null, value: Buffer.from(JSON.stringify({ id: i, k, v, pad })) });
    }
    const backlogMb = records.reduce((s, r) => s + r.value!.length, 0) / 1024 / 1024;
    await produce(client, records, 10_000);

    process.env['WEIR_CONNECTORS'] = join(import.meta.dirname, '..', 'support', 'slow-sink.ts');
    server = new ServerProcess(dataDir);
    await server.start();
    const out = join(dataDir, 'out.jsonl');
    // Warm the server up (planning, the HTTP path) before taking its memory level.
    await server.call('POST', '/v1/statements', { sql: `CREATE TABLE warm (a INT) WITH ('connector' = 'slow-file', 'path' = '${join(dataDir, 'warm.jsonl')}')` });
    const pid = server.pid!;
    const before = memory(pid);
    const sql = `
CREATE TABLE src (id BIGINT, k STRING, v INT, pad STRING)
  WITH ('connector' = 'kafka', 'topic' = '${topic}', 'format' = 'json', 'scan.startup.mode' = 'earliest-offset',
        'scan.bounded.mode' = 'latest-offset', 'properties.fetch.max.bytes' = '${FETCH_MAX_BYTES}', 'properties.max.partition.fetch.bytes' = '${Math.floor(FETCH_MAX_BYTES / PARTITIONS)}');
CREATE TABLE slow (id BIGINT, k STRING, w INT) WITH ('connector' = 'slow-file', 'path' = '${out}', 'delay-ms' = '60');
INSERT INTO slow SELECT id, UPPER(k), v * 2 FROM src WHERE v % 3 <> 0;`;
    const res = await server.call('POST', '/v1/statements', { sql });
    const id = res.results.at(-1).jobId as string;
    let maxRss = before.rss;
    let lagWhileRunning = 0;
    await waitFor(
      'the job to finish',
      async () => {
        const j = await server!.call('GET', `/v1/jobs/${id}`);
        lastJob = { ...j, plan: undefined };
        // Nothing fails here: a restart would reset what is measured.
        if (j.state === 'FAILED' || j.state === 'RESTARTING') throw Object.assign(new Error(`job ${j.state}: ${j.error}`), { fatal: true });
        maxRss = Math.max(maxRss, memory(pid).rss);
        if (j.state === 'RUNNING') lagWhileRunning = Math.max(lagWhileRunning, (j.metrics.partitions as { lag: number }[]).reduce((s, p) => s + p.lag, 0));
        return j.state === 'FINISHED' ? j : undefined;
      },
      200_000,
      100,
    );
    const after = memory(pid);
    console.log(
      `slow-sink: backlog ${RECORDS} records (${backlogMb.toFixed(1)} MB), max lag seen while running ${lagWhileRunning}; server RSS before ${before.rss.toFixed(0)} MB, ` +
        `max sampled ${maxRss.toFixed(0)} MB, peak (VmHWM) ${after.peak.toFixed(0)} MB (peak before the job ${before.peak.toFixed(0)} MB); bound: before + ${BOUND_MB} MB`,
    );
    // The backlog really was there while the sink held the job back.
    expect(lagWhileRunning).toBeGreaterThan(RECORDS / 2);
    // Sampled RSS, and the kernel's peak if it rose during the job (the start-up peak can be above anything the job does).
    const highest = Math.max(maxRss, after.peak > before.peak ? after.peak : 0);
    expect(highest - before.rss).toBeLessThan(BOUND_MB);

    await oracle.load('src', [['id', 'BIGINT'], ['k', 'VARCHAR'], ['v', 'INTEGER']], rows);
    const want = (await oracle.query(`SELECT id, UPPER(k) AS k, v * 2 AS w FROM src WHERE v % 3 <> 0`)).map((r) => canon(r, ['id', 'k', 'w']));
    const got = readFileSync(out, 'utf8')
      .trimEnd()
      .split('\n')
      .map((line) => {
        const [i, k, w] = JSON.parse(line) as [number, string, number];
        return canon({ id: i, k, w }, ['id', 'k', 'w']);
      });
    const diff = multisetDiff(got, want);
    expect({ missing: diff.missing.slice(0, 5), extra: diff.extra.slice(0, 5), counts: [diff.missing.length, diff.extra.length] }).toEqual({ missing: [], extra: [], counts: [0, 0] });
    passed = true;
  });
});
