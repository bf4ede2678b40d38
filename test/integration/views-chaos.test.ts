// Exactly-once into a materialized view: a bounded TUMBLE aggregate over 100,000 events kept in a view,
// run by the real `weir server` in a child process that is killed with SIGKILL at seeded moments while the
// job works and restarted on the same data dir. The view's rows and its checkpoint id commit in one SQLite
// transaction, so after every restart view and operator state agree: the final view is exactly what DuckDB
// computes, no window missing, none twice. (Nothing is late by construction, as in chaos.test.ts.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaClient } from '../../connectors/kafka/client.ts';
import { formatTs, rng } from '../../examples/weibo/generator.ts';
import { produce, suffix, testClient } from '../support/kafka.ts';
import { Oracle, canon, multisetDiff } from '../support/oracle.ts';
import { chaosEvents, waitForFinished, waitForRead } from '../support/chaos.ts';
import { ServerProcess } from '../support/server-process.ts';

const EVENTS = Number(process.env['WEIR_VIEWS_CHAOS_EVENTS'] ?? 100_000);
const KILLS = 4;
const SEED = 11;
const PARTITIONS = 4;

let client: KafkaClient;
let oracle: Oracle;
let dataDir: string;
let server: ServerProcess | undefined;
let passed = false;
const topics: string[] = [];

beforeAll(async () => {
  client = testClient('weir-it-views-chaos');
  oracle = await Oracle.create();
  dataDir = mkdtempSync(join(tmpdir(), 'weir-views-chaos-'));
});

afterAll(async () => {
  await server?.kill('SIGTERM');
  for (const t of topics) await client?.deleteTopic(t).catch(() => undefined);
  await client?.close();
  oracle?.close();
  if (passed) rmSync(dataDir, { recursive: true, force: true });
  else console.error(`views-chaos: data dir kept for inspection: ${dataDir}`);
});

describe('chaos: SIGKILL the server while a materialized view is maintained', () => {
  it(`${EVENTS} events, ${KILLS} kills: the view holds exactly the expected rows`, { timeout: 240_000 }, async () => {
    const src = `views_chaos_${suffix()}`;
    topics.push(src);
    await client.createTopic(src, PARTITIONS);
    const { records, events: evs } = chaosEvents(src, { count: EVENTS, partitions: PARTITIONS, seed: SEED, keys: 20, nullKeyShare: 0.05, vMin: -50 });
    await produce(client, records, 125);

    server = new ServerProcess(dataDir);
    await server.start();
    const res = await server.call('POST', '/v1/statements', {
      sql: `
CREATE TABLE events (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '3' SECOND)
  WITH ('connector' = 'kafka', 'topic' = '${src}', 'format' = 'json', 'scan.startup.mode' = 'earliest-offset',
        'scan.bounded.mode' = 'latest-offset', 'properties.max.partition.fetch.bytes' = '2048', 'properties.fetch.max.bytes' = '2048');
SET 'execution.checkpointing.interval' = '100 ms';
CREATE MATERIALIZED VIEW totals AS SELECT window_start, window_end, k, COUNT(*) AS n, SUM(v) AS total
FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '10' SECOND)) GROUP BY window_start, window_end, k;
CREATE MATERIALIZED VIEW big AS SELECT k, v, ts FROM events WHERE v >= 900;`,
    });
    const id = res.results.at(-2).jobId as string;
    const bigId = res.results.at(-1).jobId as string;
    expect(id).toBeTruthy();

    // Seeded kill points: each waits for a random share of what is left to read, then a random delay.
    const r = rng(SEED * 7919);
    const kills: string[] = [];
    let reached = 0;
    for (let i = 0; i < KILLS; i++) {
      const target = reached + (0.1 + r() * 0.4) * (EVENTS - reached);
      const { at, read } = await waitForRead(server, id, target);
      reached = Math.max(reached, read);
      await new Promise((res) => setTimeout(res, Math.floor(r() * 100)));
      await server.kill('SIGKILL');
      kills.push(at);
      await server.start();
    }
    await waitForFinished(server, id);
    await waitForFinished(server, bigId, 60_000);

    await oracle.load('ev', [['k', 'VARCHAR'], ['v', 'INTEGER'], ['ts', 'BIGINT']], evs);
    const cols = ['window_start', 'window_end', 'k', 'n', 'total'];
    const want = (await oracle.query('SELECT (ts // 10000) * 10000 AS ws, k, COUNT(*) AS n, SUM(v) AS total FROM ev GROUP BY ALL')).map((row) =>
      canon({ ...row, window_start: formatTs(Number(row['ws'])), window_end: formatTs(Number(row['ws']) + 10_000) }, cols),
    );
    const q = await server.call('POST', '/v1/query', { sql: 'SELECT window_start, window_end, k, n, total FROM totals' });
    const got = (q.rows as unknown[][]).map((row) => canon(Object.fromEntries(cols.map((c, i) => [c, row[i]])), cols));
    console.log(`views-chaos: ${EVENTS} events, kills (${kills.join('; ')}), ${want.length} expected rows, ${got.length} in the view`);
    expect(kills.filter((k) => k.startsWith('RUNNING')).length, kills.join('; ')).toBeGreaterThanOrEqual(2);
    const diff = multisetDiff(got, want);
    expect({ missing: diff.missing.slice(0, 10), extra: diff.extra.slice(0, 10) }).toEqual({ missing: [], extra: [] });
    expect(got.length).toBe(want.length);
    // The append-only view: every selected event exactly once (a replay that was not rolled back would repeat rows).
    const bigCols = ['k', 'v', 'ts'];
    const bigWant = evs.filter((e) => e[1] >= 900).map(([k, v, ts]) => canon({ k, v, ts: formatTs(ts) }, bigCols));
    const bigGot = ((await server.call('POST', '/v1/query', { sql: 'SELECT k, v, ts FROM big' })).rows as unknown[][]).map((row) => canon(Object.fromEntries(bigCols.map((c, i) => [c, row[i]])), bigCols));
    const bigDiff = multisetDiff(bigGot, bigWant);
    expect({ missing: bigDiff.missing.slice(0, 10), extra: bigDiff.extra.slice(0, 10), n: bigGot.length }).toEqual({ missing: [], extra: [], n: bigWant.length });
    passed = true;
  });
});
