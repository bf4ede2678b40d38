// Kafka → filesystem (parquet) lake through the REST API and the real broker: a bounded job writes tens of
// thousands of events of every supported type (NULLs, Chinese text, hostile partition values) into
// Hive-style partitions; DuckDB reads the lake back and every row equals the input. Also: what the
// connector refuses at submit time.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaClient, ProducerRecord } from '../../connectors/kafka/client.ts';
import { formatTs, rng } from '../../examples/weibo/generator.ts';
import { produce, suffix, testClient } from '../support/kafka.ts';
import { startServer, tempDataDir } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';

const EVENTS = Number(process.env['WEIR_LAKE_EVENTS'] ?? 100_000);
const PARTITIONS = 4;
const REGIONS = ['北京', '上海', '../../escape', 'a/b', 'x=y', '..', ' spaced out ', null];
const WORDS = ['今天真不错', '大家怎么看', 'hello', 'tea "time"', 'back\\slash', 'emoji 🐼', ''];

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

interface Generated {
  readonly records: ProducerRecord[];
  /** Each event as the DuckDB query of the test answers it, JSON. */
  readonly expected: string[];
  readonly dirs: Set<string>;
}

function generate(topic: string): Generated {
  const r = rng(20261125);
  const records: ProducerRecord[] = [];
  const expected: string[] = [];
  const dirs = new Set<string>();
  const t0 = Date.UTC(2026, 10, 25, 21, 0, 0);
  const DAY = 86_400_000;
  for (let k = 0; k < EVENTS; k++) {
    const nul = (p: number): boolean => r() < p;
    const id = k;
    const flag = nul(0.05) ? null : r() < 0.5;
    const n = nul(0.05) ? null : Math.floor(r() * 2_000_000) - 1_000_000;
    const cents = nul(0.05) ? null : Math.floor(r() * 2e12) - 1e12;
    const score = nul(0.05) ? null : Math.floor(r() * 1e6) / 8;
    const txt = nul(0.05) ? null : `${WORDS[Math.floor(r() * WORDS.length)]}#${k}`;
    // About 6 hours of event time across midnight: two dt values and several hr values; some NULL.
    const ts = nul(0.02) ? null : t0 + Math.floor(r() * 6 * 3_600_000);
    const lts = nul(0.05) ? null : t0 + Math.floor(r() * 1e9);
    const d = nul(0.05) ? null : Math.floor((t0 + Math.floor(r() * 400) * DAY) / DAY) * DAY;
    const tags = nul(0.05) ? null : Array.from({ length: Math.floor(r() * 4) }, () => (r() < 0.1 ? null : WORDS[Math.floor(r() * WORDS.length)]!));
    const region = REGIONS[Math.floor(r() * REGIONS.length)]!;
    const obj = {
      id,
      flag,
      n,
      amount: cents === null ? null : (cents / 100).toFixed(2),
      score,
      txt,
      ts: ts === null ? null : formatTs(ts),
      lts: lts === null ? null : new Date(lts).toISOString(),
      d: d === null ? null : new Date(d).toISOString().slice(0, 10),
      tags,
      region,
    };
    records.push({ topic, partition: k % PARTITIONS, key: null, value: Buffer.from(JSON.stringify(obj)) });
    const dt = ts === null ? null : new Date(ts).toISOString().slice(0, 10);
    const hr = ts === null ? null : new Date(ts).toISOString().slice(11, 13);
    // '' is NULL in a Hive partition path, as Hive and Flink have it.
    const rg = region === '' ? null : region;
    expected.push(JSON.stringify([id, flag, n, obj.amount, score, txt, ts === null ? null : String(ts), lts === null ? null : String(lts), obj.d, tags, rg, dt, hr]));
    dirs.add(`${dt ?? '__HIVE_DEFAULT_PARTITION__'}|${hr ?? '__HIVE_DEFAULT_PARTITION__'}`);
  }
  return { records, expected, dirs };
}

let server: TestServer;
let client: KafkaClient;
let lakeRoot: string;
const topics: string[] = [];

beforeAll(async () => {
  client = testClient('weir-it-lake');
  server = await startServer({ progressIntervalMs: 1000 });
  lakeRoot = tempDataDir('weir-lake-');
});

afterAll(async () => {
  await server?.close(true);
  for (const t of topics) await client?.deleteTopic(t).catch(() => undefined);
  await client?.close();
  if (lakeRoot) rmSync(lakeRoot, { recursive: true, force: true });
});

const COLS = `id BIGINT, flag BOOLEAN, n INT, amount DECIMAL(18, 2), score DOUBLE, txt STRING, ts TIMESTAMP(3), lts TIMESTAMP_LTZ(3), d DATE, tags ARRAY<STRING>, region STRING`;

describe('Kafka to a parquet lake', () => {
  it('writes every row, type and NULL into hive partitions that DuckDB reads back equal', async () => {
    const s = suffix();
    const topic = `lake_in_${s}`;
    topics.push(topic);
    await client.createTopic(topic, PARTITIONS);
    const g = generate(topic);
    await produce(client, g.records);
    const path = join(lakeRoot, 'events');
    const res = await server.sql(`
      CREATE TABLE ev_${s} (${COLS}) WITH ('connector' = 'kafka', 'topic' = '${topic}', 'format' = 'json',
        'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset');
      CREATE TABLE lake_${s} (${COLS}, dt STRING, hr STRING) PARTITIONED BY (dt, hr, region) WITH (
        'connector' = 'filesystem', 'path' = '${path}', 'format' = 'parquet',
        'sink.rolling-policy.file-size' = '256kb', 'parquet.compression' = 'SNAPPY');
      SET 'execution.checkpointing.interval' = '1 s';
      INSERT INTO lake_${s} SELECT *, DATE_FORMAT(ts, 'yyyy-MM-dd') AS dt, DATE_FORMAT(ts, 'HH') AS hr FROM ev_${s};`);
    expect(res.status, res.text).toBe(200);
    const jobId = res.body.results[3].jobId as string;
    await server.waitForState(jobId, 'FINISHED', 180_000);

    const files = listFiles(path);
    // Nothing hidden or in progress is left, and every visible file is a finished part file inside the table path.
    expect(files.filter((f) => f.split('/').pop()!.startsWith('.part-'))).toEqual([]);
    const parts = files.filter((f) => !f.startsWith('.weir/'));
    for (const f of parts) {
      expect(f).toMatch(/^dt=[^/]+\/hr=[^/]+\/region=[^/]+\/part-[^/]+-\d+-\d+\.parquet$/);
      expect(resolve(path, f).startsWith(path + '/')).toBe(true);
    }
    const dirs = new Set(parts.map((f) => f.split('/').slice(0, 2).map((x) => x.split('=')[1]).join('|')));
    expect(dirs).toEqual(g.dirs);

    const duck = await DuckDBInstance.create(':memory:', { threads: '1' });
    const conn = await duck.connect();
    try {
      await conn.run("SET TimeZone = 'UTC'");
      const reader = await conn.runAndReadAll(
        `SELECT id, flag, n, CAST(amount AS VARCHAR), score, txt, epoch_ms(ts), epoch_ms(lts), CAST(d AS VARCHAR), tags, region, dt, hr
         FROM read_parquet('${path}/**/*.parquet', hive_partitioning = true, hive_types_autocast = false)`,
      );
      const got = (reader.getRowsJson() as unknown[][]).map((x) =>
        JSON.stringify(x.map((v, i) => (i === 0 ? Number(v) : typeof v === 'number' || v === null || typeof v === 'boolean' || Array.isArray(v) ? v : String(v)))),
      );
      expect(got.length).toBe(EVENTS);
      const exp = new Set(g.expected);
      const gotSet = new Set(got);
      const missing = g.expected.filter((e) => !gotSet.has(e));
      expect(missing.slice(0, 5)).toEqual([]);
      expect(got.filter((x) => !exp.has(x)).slice(0, 5)).toEqual([]);
      const schema = await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${path}/**/*.parquet', hive_partitioning = false)`);
      expect((schema.getRowsJson() as string[][]).map((x) => `${x[0]} ${x[1]}`)).toEqual([
        'id BIGINT', 'flag BOOLEAN', 'n INTEGER', 'amount DECIMAL(18,2)', 'score DOUBLE', 'txt VARCHAR',
        'ts TIMESTAMP', 'lts TIMESTAMP WITH TIME ZONE', 'd DATE', 'tags VARCHAR[]',
      ]);
    } finally {
      conn.closeSync();
      duck.closeSync();
    }
  });

  it('refuses what the lake cannot take, at submit time', async () => {
    const s = suffix();
    const path = join(lakeRoot, 'refused');
    const ddl = await server.sql(`CREATE TABLE src_${s} (uid BIGINT, ts TIMESTAMP(3)) WITH ('connector' = 'kafka', 'topic' = 'lake_refused_${s}', 'format' = 'json');
      CREATE TABLE out_${s} (uid BIGINT, c BIGINT) WITH ('connector' = 'filesystem', 'path' = '${path}', 'format' = 'parquet');`);
    expect(ddl.status, ddl.text).toBe(200);
    const updating = await server.sql(`INSERT INTO out_${s} SELECT uid, COUNT(*) AS c FROM src_${s} GROUP BY uid`);
    expect(updating.status).toBe(400);
    expect(updating.body.error.message).toMatch(/takes only inserts.*updates/);
    const badOpt = await server.sql(`CREATE TABLE bad_${s} (a INT) WITH ('connector' = 'filesystem', 'path' = '${path}', 'format' = 'parquet', 'parquet.compression' = 'LZO')`);
    expect(badOpt.status).toBe(400);
    expect(badOpt.body.error.message).toMatch(/parquet.compression/);
    const metastore = await server.sql(`CREATE TABLE badm_${s} (a INT, dt STRING) PARTITIONED BY (dt) WITH ('connector' = 'filesystem', 'path' = '${path}', 'format' = 'parquet', 'sink.partition-commit.policy.kind' = 'metastore')`);
    expect(metastore.status).toBe(400);
    expect(metastore.body.error.message).toMatch(/metastore/);
    const badPart = await server.sql(`CREATE TABLE badp_${s} (a INT, tags ARRAY<STRING>) PARTITIONED BY (tags) WITH ('connector' = 'filesystem', 'path' = '${path}', 'format' = 'parquet')`);
    expect(badPart.status).toBe(400);
    expect(badPart.body.error.message).toMatch(/scalar/);
  });
});
