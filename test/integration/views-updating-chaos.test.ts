// Exactly-once into an updating materialized view: non-windowed GROUP BY aggregates (one with a HAVING
// that rows enter and leave, one aggregate over an aggregate with no GROUP BY: a one-row view) over 50,000
// events, run by the real `weir server` in a child process that is killed with SIGKILL at seeded moments
// and restarted on the same data dir. The view's upserts/deletes and its checkpoint id commit in one SQLite
// transaction and the aggregate's per-key state restores from the same checkpoint, so after every restart
// view and state agree: the final view is exactly what DuckDB computes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaClient } from '../../connectors/kafka/client.ts';
import { rng } from '../../examples/weibo/generator.ts';
import { produce, suffix, testClient } from '../support/kafka.ts';
import { Oracle, canon, multisetDiff } from '../support/oracle.ts';
import { chaosEvents, waitForFinished, waitForRead } from '../support/chaos.ts';
import { ServerProcess } from '../support/server-process.ts';

const EVENTS = Number(process.env['WEIR_VIEWS_UPDATING_CHAOS_EVENTS'] ?? 50_000);
const KILLS = 3;
const SEED = 23;
const PARTITIONS = 4;

let client: KafkaClient;
let oracle: Oracle;
let server: ServerProcess | undefined;
const topics: string[] = [];
const MINI_BATCH_SETS: Record<string, string> = {
  off: "SET 'table.exec.mini-batch.enabled' = 'false';",
  'view default': '',
  '5000 rows': "SET 'table.exec.mini-batch.enabled' = 'true'; SET 'table.exec.mini-batch.allow-latency' = '1 s'; SET 'table.exec.mini-batch.size' = '5000';",
};

beforeAll(async () => {
  client = testClient('weir-it-views-upd-chaos');
  oracle = await Oracle.create();
});

afterAll(async () => {
  await server?.kill('SIGTERM');
  for (const t of topics) await client?.deleteTopic(t).catch(() => undefined);
  await client?.close();
  oracle?.close();
});

// In the job's own thread, and in two parallel instances; each with mini-batch aggregation off (a change per
// batch) and on (a view's default: changes wait for the checkpoint), and at p=2 with explicit mini-batches
// of 5,000 rows. At p=2 without mini-batch the job's thread feeds the instances each poll and merges each
// batch's partials; with one, the instances read their own partitions and keep their groups until the
// mini-batch ends (jobs/parallel/owned.ts), handing them over with the offsets they cover.
describe.each([
  { parallelism: 1, miniBatch: 'off' },
  { parallelism: 1, miniBatch: 'view default' },
  { parallelism: 2, miniBatch: 'off' },
  { parallelism: 2, miniBatch: '5000 rows' },
  { parallelism: 2, miniBatch: 'view default' },
])('chaos: SIGKILL the server while an updating materialized view is maintained, parallelism $parallelism, mini-batch $miniBatch', ({ parallelism, miniBatch }) => {
  it(`${EVENTS} events, ${KILLS} kills: the view holds exactly the expected rows`, { timeout: 240_000 }, async () => {
    const tag = `${parallelism}_${miniBatch.replace(/\W/g, '_')}`;
    const dataDir = mkdtempSync(join(tmpdir(), 'weir-views-upd-chaos-'));
    let passed = false;
    try {
      const src = `views_upd_chaos_${suffix()}`;
      topics.push(src);
      await client.createTopic(src, PARTITIONS);
      const { records, events: evs } = chaosEvents(src, { count: EVENTS, partitions: PARTITIONS, seed: SEED, keys: 200, nullKeyShare: 0.05, vMin: -500 });
      await produce(client, records, 125);

      server = new ServerProcess(dataDir);
      await server.start();
      const res = await server.call('POST', '/v1/statements', {
        sql: `
CREATE TABLE events (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '3' SECOND)
  WITH ('connector' = 'kafka', 'topic' = '${src}', 'format' = 'json', 'scan.startup.mode' = 'earliest-offset',
        'scan.bounded.mode' = 'latest-offset', 'properties.max.partition.fetch.bytes' = '4096', 'properties.fetch.max.bytes' = '4096');
SET 'execution.checkpointing.interval' = '100 ms';
SET 'parallelism.default' = '${parallelism}';
${MINI_BATCH_SETS[miniBatch]}
CREATE MATERIALIZED VIEW totals AS SELECT k, COUNT(*) AS n, SUM(v) AS total, MIN(v) AS lo, MAX(v) AS hi
FROM events GROUP BY k HAVING SUM(v) > 0;
CREATE MATERIALIZED VIEW spread AS SELECT MAX(total) AS top, MIN(total) AS bottom, COUNT(*) AS keys, SUM(n) AS n
FROM (SELECT k, SUM(v) AS total, COUNT(*) AS n FROM events GROUP BY k);`,
      });
      const id = res.results.at(-2).jobId as string;
      const spreadId = res.results.at(-1).jobId as string;
      expect(id).toBeTruthy();

      // Seeded kill points: each waits for a random share of what is left to read, then a random delay.
      const r = rng(SEED * 7919);
      const kills: string[] = [];
      /** How the job ran where it was killed while RUNNING (a job finished before a kill is not reopened). */
      const ran: { parallelism?: number; instancesRead?: boolean }[] = [];
      let reached = 0;
      for (let i = 0; i < KILLS; i++) {
        const target = reached + (0.1 + r() * 0.4) * (EVENTS - reached);
        const { at, read, metrics } = await waitForRead(server, id, target);
        if (at.startsWith('RUNNING')) ran.push({ parallelism: metrics.parallelism, instancesRead: metrics.instancesRead });
        reached = Math.max(reached, read);
        await new Promise((res) => setTimeout(res, Math.floor(r() * 100)));
        await server.kill('SIGKILL');
        kills.push(at);
        await server.start();
      }
      await waitForFinished(server, id);
      await waitForFinished(server, spreadId, 60_000);

      await oracle.load(`ev_${tag}`, [['k', 'VARCHAR'], ['v', 'INTEGER'], ['ts', 'BIGINT']], evs);
      const check = async (view: string, cols: string[], oracleSql: string): Promise<number> => {
        const want = (await oracle.query(oracleSql)).map((row) => canon(row, cols));
        const q = await server!.call('POST', '/v1/query', { sql: `SELECT ${cols.join(', ')} FROM ${view}` });
        const got = (q.rows as unknown[][]).map((row) => canon(Object.fromEntries(cols.map((c, i) => [c, row[i]])), cols));
        const diff = multisetDiff(got, want);
        expect({ missing: diff.missing.slice(0, 10), extra: diff.extra.slice(0, 10), n: got.length }, view).toEqual({ missing: [], extra: [], n: want.length });
        return got.length;
      };
      const rows = await check('totals', ['k', 'n', 'total', 'lo', 'hi'], `SELECT k, COUNT(*) AS n, CAST(SUM(v) AS BIGINT) AS total, MIN(v) AS lo, MAX(v) AS hi FROM ev_${tag} GROUP BY k HAVING SUM(v) > 0`);
      await check(
        'spread',
        ['top', 'bottom', 'keys', 'n'],
        `SELECT MAX(total) AS top, MIN(total) AS bottom, COUNT(*) AS keys, CAST(SUM(n) AS BIGINT) AS n FROM (SELECT k, CAST(SUM(v) AS BIGINT) AS total, COUNT(*) AS n FROM ev_${tag} GROUP BY k)`,
      );
      // Sums random-walk around 0: many keys end at or below it (the HAVING removes them), others above.
      const flipped = await oracle.query(`SELECT COUNT(*) AS n FROM (SELECT k, SUM(v) AS t FROM ev_${tag} GROUP BY k) WHERE t <= 0`);
      console.log(`views-updating-chaos p=${parallelism}, mini-batch ${miniBatch}: ${EVENTS} events, kills (${kills.join('; ')}), ${rows} rows in the view, ${flipped[0]?.['n']} keys at or below 0`);
      expect(kills.filter((k) => k.startsWith('RUNNING')).length, kills.join('; ')).toBeGreaterThanOrEqual(2);
      expect(Number(flipped[0]!['n'])).toBeGreaterThan(10);
      expect(rows).toBeGreaterThan(10);
      // ... each time in the mode under test (the instances reading their own partitions with a mini-batch).
      const mode = { parallelism, instancesRead: parallelism === 1 ? undefined : miniBatch !== 'off' };
      expect(ran, kills.join('; ')).toEqual(ran.map(() => mode));
      passed = true;
    } finally {
      await server?.kill('SIGKILL');
      server = undefined;
      if (passed) rmSync(dataDir, { recursive: true, force: true });
      else console.error(`views-updating-chaos: data dir kept for inspection: ${dataDir}`);
    }
  });
});
