// Parallel pipeline instances end to end (jobs/parallel): the same bounded TUMBLE and HOP jobs over a real
// broker, run with parallelism 1 (the job's own thread), 2 (on 2 cores: the job's thread and a worker
// thread) and 3 (three worker threads), each checked row by row
// against DuckDB over the same events, with late rows, malformed records and a dead-letter topic.
//
// Out of order by construction: each partition has its own monotone clock and an event's time is its
// partition's clock minus a jitter in [0, 3 s) — with `WATERMARK ... - INTERVAL '5' SECOND` never late (see
// windows-e2e.test.ts). Late by construction: 1 % of the events, placed after a partition's first 1,000
// records, carry a time 10 minutes before any clock started. When one is read, every partition has
// reported a watermark (at least the start - 8 s; the first fetch brings every partition), and all its
// windows (1 minute; 2 minutes for HOP) ended long before: it is late in any run, whatever the fetches are.
// So the oracle is the batch query over the events that are not late, and the late count is known.
// Last, one job stopped and resumed with parallelism 2, then 1, then 2 (checkpoints cross the modes).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaClient, ProducerRecord } from '../../connectors/kafka/client.ts';
import { formatTs, rng } from '../../examples/weibo/generator.ts';
import type { JobInfo } from '../../jobs/api.ts';
import { BROKERS, produce, readAll, readJson, suffix, testClient } from '../support/kafka.ts';
import { Oracle, canon, multisetDiff } from '../support/oracle.ts';
import { startServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';

const PARTITIONS = 4;
const PER_PARTITION = 5_000;
const SEED = 20261126;
const T0 = Date.UTC(2026, 10, 26, 8, 0, 0) + 777;
const TS_FMT = `'%Y-%m-%d %H:%M:%S.%g'`;

interface Event {
  uid: number;
  topic: string | null;
  ts: number;
  att: number | null;
  late: boolean;
}

function generate(topic: string): { records: ProducerRecord[]; events: Event[]; bad: number } {
  const r = rng(SEED);
  const events: Event[] = [];
  const perPartition: ProducerRecord[][] = [];
  let bad = 0;
  const badValues = ['{"uid": 1, "topic": "a"', 'not json', '[1,2]', '{"uid": "abc", "ts": "2026-11-26 08:00:00.000"}', '{"uid": 3, "ts": "noon"}'];
  for (let p = 0; p < PARTITIONS; p++) {
    const recs: ProducerRecord[] = [];
    let clock = T0 + p * 3_000;
    for (let i = 0; i < PER_PARTITION; i++) {
      if (r() < 0.005) recs.push({ topic, partition: p, key: null, value: Buffer.from(badValues[bad++ % badValues.length]!) });
      clock += 1 + Math.floor(r() * 70);
      const late = i >= 1_000 && r() < 0.0125;
      const ts = late ? T0 - 600_000 - Math.floor(r() * 60_000) : clock - Math.floor(r() * 3_000);
      const ev: Event = { uid: 1 + Math.floor(r() * 40), topic: r() < 0.05 ? null : `t${Math.floor(r() * 8)}`, ts, att: r() < 0.1 ? null : Math.floor(r() * 200) - 20, late };
      events.push(ev);
      recs.push({ topic, partition: p, key: null, value: Buffer.from(JSON.stringify({ uid: ev.uid, topic: ev.topic, ts: formatTs(ev.ts), att: ev.att })) });
    }
    perPartition.push(recs);
  }
  // Interleaved in chunks: the broker sees the partitions mixed, each in its own order.
  const records: ProducerRecord[] = [];
  while (perPartition.some((q) => q.length > 0)) for (const q of perPartition) records.push(...q.splice(0, 1 + Math.floor(r() * 300)));
  return { records, events, bad };
}

let server: TestServer;
let client: KafkaClient;
let oracle: Oracle;
const topics: string[] = [];
const savedEnv = process.env['WEIR_PARALLELISM'];

beforeAll(async () => {
  client = testClient('weir-it-parallel');
  server = await startServer({ progressIntervalMs: 1000 });
  oracle = await Oracle.create();
});

afterAll(async () => {
  if (savedEnv === undefined) delete process.env['WEIR_PARALLELISM'];
  else process.env['WEIR_PARALLELISM'] = savedEnv;
  // Also when a run failed half-way, later tests of this file get the machine's own choice back.
  delete process.env['WEIR_INSTANCE_IN_THREAD'];
  await server?.close(true);
  for (const t of topics) await client?.deleteTopic(t).catch(() => undefined);
  await client?.close();
  oracle?.close();
});

describe('TUMBLE and HOP with parallel pipeline instances, checked against DuckDB', () => {
  it('parallelism 1 and 2 both produce exactly the batch result, with the same late and bad counts, dead-lettering once', async () => {
    const s = suffix();
    const src = `it_par_posts_${s}`;
    const dlq = `it_par_dlq_${s}`;
    topics.push(src, dlq);
    await client.createTopic(src, PARTITIONS);
    const gen = generate(src);
    // Small producer batches: many fetches, so windows fire (and rows turn late) while the jobs read.
    await produce(client, gen.records, 400);
    const latest = await client.listOffsets(src, 'latest');

    const kafka = (topic: string, extra = '') => `'connector' = 'kafka', 'topic' = '${topic}', 'properties.bootstrap.servers' = '${BROKERS}', 'format' = 'json'${extra}`;
    const srcT = `par_src_${s}`;
    const setup = await server.sql(`CREATE TABLE ${srcT} (uid BIGINT, topic STRING, ts TIMESTAMP(3), att INT, WATERMARK FOR ts AS ts - INTERVAL '5' SECOND)
WITH (${kafka(src, `, 'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset', 'dead-letter.topic' = '${dlq}', 'properties.max.partition.fetch.bytes' = '16384'`)});`);
    expect(setup.status, setup.text).toBe(200);

    // ---- the oracle
    await oracle.load('raw', [['uid', 'BIGINT'], ['topic', 'VARCHAR'], ['ts', 'VARCHAR'], ['att', 'INTEGER']], gen.events.filter((e) => !e.late).map((e) => [e.uid, e.topic, formatTs(e.ts), e.att]));
    await oracle.run(`CREATE TABLE ev AS SELECT uid, topic, CAST(ts AS TIMESTAMP) AS ts, att FROM raw`);
    const tumbleCols = ['window_start', 'window_end', 'topic', 'posts', 'att_sum', 'att_min', 'att_max', 'users', 'att_avg'];
    const tumbleExpected = await oracle.query(`
      SELECT strftime(w, ${TS_FMT}) AS window_start, strftime(w + INTERVAL 1 MINUTE, ${TS_FMT}) AS window_end, topic,
             COUNT(*) AS posts, CAST(SUM(att) AS INTEGER) AS att_sum, MIN(att) AS att_min, MAX(att) AS att_max,
             COUNT(DISTINCT uid) AS users, CAST(trunc(AVG(att)) AS INTEGER) AS att_avg
      FROM (SELECT time_bucket(INTERVAL 1 MINUTE, ts) AS w, * FROM ev) GROUP BY w, topic`);
    const hopCols = ['window_start', 'window_end', 'uid', 'posts', 'att_max'];
    const hopExpected = await oracle.query(`
      SELECT strftime(w, ${TS_FMT}) AS window_start, strftime(w + INTERVAL 2 MINUTE, ${TS_FMT}) AS window_end, uid,
             COUNT(*) AS posts, MAX(att) AS att_max
      FROM (SELECT time_bucket(INTERVAL 30 SECOND, ts) - k * INTERVAL 30 SECOND AS w, * FROM ev, range(0, 4) AS r(k) WHERE att IS NULL OR att >= 0)
      GROUP BY w, uid HAVING COUNT(*) >= 2`);
    const lateTumble = gen.events.filter((e) => e.late).length;
    const lateHop = gen.events.filter((e) => e.late && (e.att === null || e.att >= 0)).length;
    expect(lateTumble).toBeGreaterThan(100);

    const runs: Record<string, { tumble: JobInfo; hop: JobInfo }> = {};
    // 2: on a machine of 2 cores, the job's thread and one worker thread; 3 with every instance a worker
    // thread of its own (WEIR_INSTANCE_IN_THREAD=false), as on a machine with cores to spare.
    for (const parallelism of [1, 2, 3]) {
      if (parallelism === 3) process.env['WEIR_INSTANCE_IN_THREAD'] = 'false';
      else delete process.env['WEIR_INSTANCE_IN_THREAD'];
      const tumbleOut = `it_par_tumble_${parallelism}_${s}`;
      const hopOut = `it_par_hop_${parallelism}_${s}`;
      topics.push(tumbleOut, hopOut);
      const res = await server.sql(`
SET 'parallelism.default' = '${parallelism}';
CREATE TABLE tumble_${parallelism}_${s} (window_start TIMESTAMP(3), window_end TIMESTAMP(3), topic STRING, posts BIGINT, att_sum INT, att_min INT, att_max INT, users BIGINT, att_avg INT) WITH (${kafka(tumbleOut)});
CREATE TABLE hop_${parallelism}_${s} (window_start TIMESTAMP(3), window_end TIMESTAMP(3), uid BIGINT, posts BIGINT, att_max INT) WITH (${kafka(hopOut)});
SET 'pipeline.name' = 'par-tumble-${parallelism}-${s}';
INSERT INTO tumble_${parallelism}_${s} SELECT window_start, window_end, topic, COUNT(*), SUM(att), MIN(att), MAX(att), COUNT(DISTINCT uid), AVG(att)
FROM TABLE(TUMBLE(TABLE ${srcT}, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end, topic;
SET 'pipeline.name' = 'par-hop-${parallelism}-${s}';
INSERT INTO hop_${parallelism}_${s} SELECT window_start, window_end, uid, COUNT(*), MAX(att)
FROM TABLE(HOP(TABLE ${srcT}, DESCRIPTOR(ts), INTERVAL '30' SECOND, INTERVAL '2' MINUTE)) WHERE att IS NULL OR att >= 0
GROUP BY window_start, window_end, uid HAVING COUNT(*) >= 2;`);
      expect(res.status, res.text).toBe(200);
      const jobs = (res.body.results as { kind: string; jobId?: string }[]).filter((x) => x.kind === 'job').map((x) => x.jobId!);
      expect(jobs).toHaveLength(2);
      const [tumble, hop] = await Promise.all(jobs.map((id) => server.waitForState(id, ['FINISHED'], 180_000)));
      runs[parallelism] = { tumble: tumble!, hop: hop! };

      const check = async (what: string, topic: string, expected: Record<string, unknown>[], cols: string[], job: JobInfo, late: number) => {
        const got = await readJson(client, topic);
        const d = multisetDiff(got.map((x) => canon(x, cols)), expected.map((x) => canon(x, cols)));
        expect({ missing: d.missing.slice(0, 5), extra: d.extra.slice(0, 5), nMissing: d.missing.length, nExtra: d.extra.length }, `${what} p=${parallelism}`).toEqual({
          missing: [],
          extra: [],
          nMissing: 0,
          nExtra: 0,
        });
        const m = job.metrics;
        expect(m.recordsOut, `${what} p=${parallelism}: recordsOut`).toBe(got.length);
        expect(m.recordsIn, `${what} p=${parallelism}: recordsIn`).toBe(gen.records.length);
        expect(m.recordsBad, `${what} p=${parallelism}: recordsBad`).toBe(gen.bad);
        expect(m.recordsLate, `${what} p=${parallelism}: recordsLate`).toBe(late);
        expect(m.parallelism, `${what}: the instances SET 'parallelism.default' asked for`).toBe(parallelism);
        for (const p of m.partitions) expect(p.offset).toBe(latest.get(p.partition));
      };
      await check('TUMBLE', tumbleOut, tumbleExpected, tumbleCols, tumble!, lateTumble);
      await check('HOP', hopOut, hopExpected, hopCols, hop!, lateHop);
    }
    delete process.env['WEIR_INSTANCE_IN_THREAD'];
    // The same last bad record error in both runs (bad records are merged in the order they were read).
    expect(runs[2]!.tumble.metrics.lastBadRecordError).toBe(runs[1]!.tumble.metrics.lastBadRecordError);
    expect(runs[2]!.hop.metrics.lastBadRecordError).toBe(runs[1]!.hop.metrics.lastBadRecordError);
    expect(runs[3]!.tumble.metrics.lastBadRecordError).toBe(runs[1]!.tumble.metrics.lastBadRecordError);

    // Each job dead-lettered each malformed record exactly once.
    const dead = await readAll(client, dlq);
    const byJob = new Map<string, string[]>();
    for (const r of dead) {
      const h = (k: string) => r.headers.find((x) => x.key === k)?.value?.toString('utf8');
      const key = h('weir.job.id')!;
      byJob.set(key, [...(byJob.get(key) ?? []), `${h('weir.source.partition')}:${h('weir.source.offset')}`]);
    }
    const jobIds = Object.values(runs).flatMap((r) => [r.tumble.id, r.hop.id]);
    expect([...byJob.keys()].sort()).toEqual([...jobIds].sort());
    for (const id of jobIds) {
      const offsets = byJob.get(id)!;
      expect(offsets.length, `dead letters of ${id}`).toBe(gen.bad);
      expect(new Set(offsets).size).toBe(gen.bad);
    }

    // ---- a checkpoint of a parallel run restores into a single-thread run and back (same format)
    const src2 = `it_par_posts2_${s}`;
    const out2 = `it_par_tumble_resumed_${s}`;
    topics.push(src2, out2);
    await client.createTopic(src2, PARTITIONS);
    const gen2 = generate(src2);
    const third = Math.floor(gen2.records.length / 3);
    const stages = [gen2.records.slice(0, third), gen2.records.slice(third, 2 * third), gen2.records.slice(2 * third)];
    const src2T = `par_src2_${s}`;
    const created = await server.sql(`CREATE TABLE ${src2T} (uid BIGINT, topic STRING, ts TIMESTAMP(3), att INT, WATERMARK FOR ts AS ts - INTERVAL '5' SECOND)
WITH (${kafka(src2, `, 'scan.startup.mode' = 'earliest-offset', 'properties.max.partition.fetch.bytes' = '16384'`)});
CREATE TABLE resumed_${s} (window_start TIMESTAMP(3), window_end TIMESTAMP(3), topic STRING, posts BIGINT, att_sum INT, att_min INT, att_max INT, users BIGINT, att_avg INT) WITH (${kafka(out2)});`);
    expect(created.status, created.text).toBe(200);
    let id = '';
    let produced = 0;
    for (const [i, parallelism] of [2, 1, 2].entries()) {
      await produce(client, stages[i]!, 400);
      produced += stages[i]!.length;
      process.env['WEIR_PARALLELISM'] = String(parallelism);
      if (i === 0) {
        const sub = await server.sql(`SET 'pipeline.name' = 'par-resume-${s}';
INSERT INTO resumed_${s} SELECT window_start, window_end, topic, COUNT(*), SUM(att), MIN(att), MAX(att), COUNT(DISTINCT uid), AVG(att)
FROM TABLE(TUMBLE(TABLE ${src2T}, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end, topic;`);
        expect(sub.status, sub.text).toBe(200);
        id = (sub.body.results as { jobId?: string }[]).at(-1)!.jobId!;
      } else {
        expect((await server.post(`/v1/jobs/${id}/resume`)).status).toBe(200);
      }
      const read = (j: JobInfo) => j.metrics.partitions.reduce((a, p) => a + p.offset, 0);
      await server.waitForJob(id, `to read ${produced} records with parallelism ${parallelism}`, (j) => j.state === 'RUNNING' && read(j) === produced, 120_000);
      const stopped = await server.post(`/v1/jobs/${id}/stop${i === 2 ? '?drain=true' : ''}`);
      expect(stopped.status, stopped.text).toBe(200);
      await server.waitForState(id, i === 2 ? 'FINISHED' : 'STOPPED', 60_000);
    }
    const got2 = await readJson(client, out2);
    const d2 = multisetDiff(got2.map((x) => canon(x, tumbleCols)), tumbleExpected.map((x) => canon(x, tumbleCols)));
    expect({ missing: d2.missing.slice(0, 5), extra: d2.extra.slice(0, 5), n: got2.length }, 'stopped and resumed with parallelism 2, 1, 2').toEqual({ missing: [], extra: [], n: tumbleExpected.length });
  }, 420_000);
});
