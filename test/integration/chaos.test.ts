// The checkpoint issue's acceptance test: a bounded TUMBLE aggregate over 200,000 events on 4 partitions
// into a Kafka sink with exactly-once, run by the real `weir server` in a child process that is killed
// with SIGKILL at seeded random moments (mid-read, mid-checkpoint, during recovery) and restarted on the
// same data dir. At the end the sink topic, read with read_committed, must hold exactly the rows DuckDB
// computes from the same events: none missing, none twice.
//
// No event is late by construction (each partition's time is monotone up to a jitter below the
// watermark's bound; see windows-e2e.test.ts), so the expected result does not depend on how the
// partitions interleave in any run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaClient } from '../../connectors/kafka/client.ts';
import { formatTs, rng } from '../../examples/weibo/generator.ts';
import { BROKERS, produce, readJson, suffix, testClient, waitFor } from '../support/kafka.ts';
import { Oracle, canon, multisetDiff } from '../support/oracle.ts';
import { chaosEvents, waitForFinished, waitForRead } from '../support/chaos.ts';
import type { ChaosEvent } from '../support/chaos.ts';
import { ServerProcess } from '../support/server-process.ts';

const EVENTS = Number(process.env['WEIR_CHAOS_EVENTS'] ?? 200_000);
const KILLS = Number(process.env['WEIR_CHAOS_KILLS'] ?? 6);
const SEED = Number(process.env['WEIR_CHAOS_SEED'] ?? 3);
const PARTITIONS = 4;

let client: KafkaClient;
let oracle: Oracle;
let src = '';
let evs: ChaosEvent[] = [];
let produceMs = 0;
let server: ServerProcess | undefined;
const topics: string[] = [];

beforeAll(async () => {
  client = testClient('weir-it-chaos');
  oracle = await Oracle.create();
  const t0 = Date.now();
  src = `chaos_src_${suffix()}`;
  topics.push(src);
  await client.createTopic(src, PARTITIONS);
  const gen = chaosEvents(src, { count: EVENTS, partitions: PARTITIONS, seed: SEED, keys: 20, nullKeyShare: 0, vMin: -50 });
  evs = gen.events;
  // Many small record batches, read with small fetches: the job takes many batches and checkpoints.
  await produce(client, gen.records, 125);
  produceMs = Date.now() - t0;
  await oracle.load('ev', [['k', 'VARCHAR'], ['v', 'INTEGER'], ['ts', 'BIGINT']], evs);
}, 120_000);

afterAll(async () => {
  await server?.kill('SIGTERM');
  for (const t of topics) await client?.deleteTopic(t).catch(() => undefined);
  await client?.close();
  oracle?.close();
});

// The same job in the job's own thread and in two parallel pipeline instances (worker threads that die
// with the server and are started again by each restart).
describe.each([1, 2])('chaos: SIGKILL the server during an exactly-once job, parallelism %i', (parallelism) => {
  it(`${EVENTS} events, ${KILLS} kills: the read_committed sink holds exactly the expected rows`, { timeout: 240_000 }, async () => {
    const t0 = Date.now();
    const out = `chaos_out_${parallelism}_${suffix()}`;
    topics.push(out);
    const dataDir = mkdtempSync(join(tmpdir(), 'weir-chaos-'));
    let passed = false;
    server = new ServerProcess(dataDir);
    try {
      await server.start();
      const sql = `
CREATE TABLE events (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '3' SECOND)
  WITH ('connector' = 'kafka', 'topic' = '${src}', 'format' = 'json', 'scan.startup.mode' = 'earliest-offset',
        'scan.bounded.mode' = 'latest-offset', 'properties.max.partition.fetch.bytes' = '1024', 'properties.fetch.max.bytes' = '1024');
CREATE TABLE totals (window_start TIMESTAMP(3), window_end TIMESTAMP(3), k STRING, n BIGINT, total INT)
  WITH ('connector' = 'kafka', 'topic' = '${out}', 'format' = 'json', 'sink.topic.partitions' = '3',
        'sink.delivery-guarantee' = 'exactly-once');
SET 'execution.checkpointing.interval' = '100 ms';
SET 'parallelism.default' = '${parallelism}';
SET 'pipeline.name' = 'chaos';
INSERT INTO totals SELECT window_start, window_end, k, COUNT(*), SUM(v)
FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '10' SECOND)) GROUP BY window_start, window_end, k;`;
      const res = await server.call('POST', '/v1/statements', { sql });
      const id = res.results.at(-1).jobId as string;
      expect(id).toBeTruthy();

      // Kill points: each kill waits until the job has read a seeded random share (5-50 %) of what was
      // left at the previous kill, then a seeded delay, so kills land while the job works, wherever a
      // checkpoint happens to be; one kill comes right after a restart, during recovery.
      const r = rng(SEED * 7919);
      const recoveryKill = 1 + Math.floor(r() * (KILLS - 1));
      const kills: string[] = [];
      let reached = 0;
      for (let i = 0; i < KILLS; i++) {
        let at = 'during recovery';
        if (i !== recoveryKill) {
          const target = reached + (0.05 + r() * 0.45) * (EVENTS - reached);
          const seen = await waitForRead(server, id, target);
          at = seen.at;
          reached = Math.max(reached, seen.read);
        }
        await new Promise((res) => setTimeout(res, Math.floor(r() * (i === recoveryKill ? 1000 : 100))));
        await server.kill('SIGKILL');
        kills.push(at);
        await server.start();
      }

      const done = await waitForFinished(server, id);
      expect(done.error).toBeUndefined();
      const elapsed = Date.now() - t0;

      const want = (await oracle.query(`SELECT (ts // 10000) * 10000 AS ws, k, COUNT(*) AS n, SUM(v) AS total FROM ev GROUP BY ALL`)).map((row) =>
        canon({ ...row, ws: formatTs(Number(row['ws'])), we: formatTs(Number(row['ws']) + 10_000) }, ['ws', 'we', 'k', 'n', 'total']),
      );
      const committed = await readJson(client, out, 60_000, 'read_committed');
      const got = committed.map((o) => canon(o, ['window_start', 'window_end', 'k', 'n', 'total']));
      const uncommitted = await readJson(client, out, 60_000, 'read_uncommitted');
      console.log(
        `chaos p=${parallelism}: ${EVENTS} events, ${kills.length} kills (${kills.join('; ')}), ${server.starts} server starts, ${want.length} expected rows, ` +
          `${got.length} committed, ${uncommitted.length - got.length} more visible to read_uncommitted (aborted), produce ${(produceMs / 1000).toFixed(1)} s, ` +
          `kills and recovery ${(elapsed / 1000).toFixed(1)} s`,
      );
      expect(kills.length).toBeGreaterThanOrEqual(5);
      // The kills that waited for progress must mostly have hit a working job, or this test proves little.
      expect(kills.filter((k) => k.startsWith('RUNNING')).length, kills.join('; ')).toBeGreaterThanOrEqual(3);
      const diff = multisetDiff(got, want);
      expect({ missing: diff.missing.slice(0, 10), extra: diff.extra.slice(0, 10), counts: [diff.missing.length, diff.extra.length] }).toEqual({
        missing: [],
        extra: [],
        counts: [0, 0],
      });
      expect(got.length).toBe(want.length);
      expect((done as { metrics: { parallelism?: number } }).metrics.parallelism).toBe(parallelism);
      passed = true;
    } finally {
      await server.kill('SIGKILL');
      server = undefined;
      // A failed run keeps its data dir: the server logs (server-<n>.log) and the checkpoint store say what happened.
      if (passed) rmSync(dataDir, { recursive: true, force: true });
      else console.error(`chaos: data dir kept for inspection: ${dataDir}`);
    }
  });
});
