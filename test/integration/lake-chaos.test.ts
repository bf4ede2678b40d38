// SIGKILL the real `weir server` (child process) several times while a bounded Kafka → parquet lake job
// writes: after each kill every visible part file is complete (DuckDB reads them all), and at the end the
// lake holds every input row exactly once — hidden in-progress files of a dead run were dropped, a
// checkpoint left PENDING was rolled forward or aborted, never both, never twice. The lake commits its
// partitions (partition-time, `_SUCCESS`): after each kill no `_SUCCESS` stands in a partition without
// visible data, and at the end every partition holds one.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaClient, ProducerRecord } from '../../connectors/kafka/client.ts';
import { formatTs, rng } from '../../examples/weibo/generator.ts';
import { produce, suffix, testClient } from '../support/kafka.ts';
import { waitForFinished, waitForRead } from '../support/chaos.ts';
import { ServerProcess } from '../support/server-process.ts';
import { tempDataDir } from '../support/server.ts';

const EVENTS = Number(process.env['WEIR_LAKE_CHAOS_EVENTS'] ?? 30_000);
const KILLS = 4;
const PARTITIONS = 3;

function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else out.push(relative(root, join(d, e.name)));
    }
  };
  if (existsSync(root)) walk(root);
  return out.sort();
}

const successDirs = (root: string): string[] => listFiles(root).filter((f) => f.endsWith('/_SUCCESS')).map((f) => dirname(f)).sort();
const visible = (root: string): string[] => listFiles(root).filter((f) => f.endsWith('.parquet') && !f.split('/').some((s) => s.startsWith('.')));

let server: ServerProcess | undefined;
let client: KafkaClient;
let duck: DuckDBInstance;
let conn: DuckDBConnection;
const dataDir = tempDataDir('weir-lake-chaos-');
const topics: string[] = [];
let passed = false;

beforeAll(async () => {
  client = testClient('weir-it-lake-chaos');
  duck = await DuckDBInstance.create(':memory:', { threads: '1' });
  conn = await duck.connect();
});

afterAll(async () => {
  await server?.kill('SIGTERM');
  for (const t of topics) await client?.deleteTopic(t).catch(() => undefined);
  await client?.close();
  conn?.closeSync();
  duck?.closeSync();
  if (passed) rmSync(dataDir, { recursive: true, force: true });
  else console.error(`lake chaos: data dir kept for inspection: ${dataDir}`);
});

describe('chaos: SIGKILL the server while it writes a parquet lake', () => {
  it(`${EVENTS} events, ${KILLS} kills: no partial visible file, every row exactly once`, { timeout: 240_000 }, async () => {
    const src = `lake_chaos_${suffix()}`;
    topics.push(src);
    await client.createTopic(src, PARTITIONS);
    const r = rng(4242);
    const t0 = Date.UTC(2026, 10, 25, 8, 0, 0);
    const records: ProducerRecord[] = [];
    for (let k = 0; k < EVENTS; k++) {
      const obj = { id: k, txt: `行 ${k} ${'x'.repeat(Math.floor(r() * 40))}`, ts: formatTs(t0 + Math.floor(r() * 3 * 3_600_000)) };
      records.push({ topic: src, partition: k % PARTITIONS, key: null, value: Buffer.from(JSON.stringify(obj)) });
    }
    // Many small record batches, read with small fetches: the job takes many batches and checkpoints.
    await produce(client, records, 250);
    const path = join(dataDir, 'lake');

    server = new ServerProcess(dataDir);
    await server.start();
    const sql = `
CREATE TABLE ev (id BIGINT, txt STRING, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
  WITH ('connector' = 'kafka', 'topic' = '${src}', 'format' = 'json', 'scan.startup.mode' = 'earliest-offset',
        'scan.bounded.mode' = 'latest-offset', 'properties.max.partition.fetch.bytes' = '4096', 'properties.fetch.max.bytes' = '4096');
CREATE TABLE lake (id BIGINT, txt STRING, ts TIMESTAMP(3), hr STRING) PARTITIONED BY (hr)
  WITH ('connector' = 'filesystem', 'path' = '${path}', 'format' = 'parquet', 'sink.rolling-policy.file-size' = '8kb',
        'sink.partition-commit.policy.kind' = 'success-file', 'sink.partition-commit.trigger' = 'partition-time',
        'partition.time-extractor.timestamp-pattern' = '2026-11-25 $hr:00:00');
SET 'execution.checkpointing.interval' = '200 ms';
SET 'pipeline.name' = 'lake-chaos';
INSERT INTO lake SELECT *, DATE_FORMAT(ts, 'HH') AS hr FROM ev;`;
    const res = await server.call('POST', '/v1/statements', { sql });
    const id = res.results.at(-1).jobId as string;
    expect(id).toBeTruthy();

    const kills: string[] = [];
    let reached = 0;
    for (let i = 0; i < KILLS; i++) {
      const target = reached + (0.1 + r() * 0.3) * (EVENTS - reached);
      const { at, read } = await waitForRead(server, id, target);
      reached = Math.max(reached, read);
      await new Promise((res) => setTimeout(res, Math.floor(r() * 150)));
      await server.kill('SIGKILL');
      kills.push(at);
      // Whatever the kill interrupted, every visible file is a complete Parquet file.
      const files = visible(path);
      if (files.length > 0) {
        const c = await conn.runAndReadAll(`SELECT count(*) FROM read_parquet([${files.map((f) => `'${join(path, f)}'`).join(', ')}])`);
        expect(Number(c.getRowsJson()[0]![0])).toBeGreaterThan(0);
      }
      // A _SUCCESS never stands before the data it vouches for.
      const withData = new Set(files.map((f) => dirname(f)));
      for (const d of successDirs(path)) expect({ d, data: withData.has(d) }).toEqual({ d, data: true });
      await server.start();
    }

    await waitForFinished(server, id);
    expect(listFiles(path).filter((f) => f.split('/').pop()!.startsWith('.part-'))).toEqual([]);
    // The watermark reached END: every partition is committed, and no half-written success file is left.
    expect(successDirs(path)).toEqual([...new Set(visible(path).map((f) => dirname(f)))].sort());
    expect(listFiles(path).filter((f) => f.endsWith('.tmp') && !f.startsWith('.weir/'))).toEqual([]);
    const q = await conn.runAndReadAll(
      `SELECT count(*), count(DISTINCT id), min(id), max(id), count(*) FILTER (WHERE hr <> strftime(ts, '%H'))
       FROM read_parquet('${path}/**/*.parquet', hive_partitioning = true, hive_types_autocast = false)`,
    );
    const [n, distinct, lo, hi, wrongDir] = (q.getRowsJson()[0] as unknown[]).map(Number);
    console.log(`lake chaos: ${EVENTS} events, kills: ${kills.join('; ')}, ${visible(path).length} part files`);
    expect({ n, distinct, lo, hi, wrongDir }).toEqual({ n: EVENTS, distinct: EVENTS, lo: 0, hi: EVENTS - 1, wrongDir: 0 });
    passed = true;
  });
});
