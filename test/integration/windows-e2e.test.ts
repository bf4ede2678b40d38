// End to end through the REST API and a real broker: 100,000 out-of-order JSON events on 4 partitions
// (plus ~0.5% malformed records) through a TUMBLE and a HOP window aggregate into Kafka sinks, read back
// completely and compared row by row with the same batch query in DuckDB over the same valid events.
//
// Lateness by construction: each partition has its own monotone clock and an event's time is its
// partition's clock minus a jitter in [0, 3 s). With `WATERMARK FOR ts AS ts - INTERVAL '5' SECOND` a
// partition's watermark never exceeds (its latest clock - 5 s), and the job's watermark (the minimum over
// partitions) never exceeds any single partition's. When an event is read, the watermark the window
// operator has is therefore <= (clock of the event's partition so far) - 5 s < event time - 2 s, and every
// window containing the event ends after the event time: no window of it has fired, so nothing is late.
// (The test does see lateness: with a 60 s jitter instead, rows are dropped as late and the comparison fails.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaClient, ProducerRecord } from '../../connectors/kafka/client.ts';
import { formatTs, rng } from '../../examples/weibo/generator.ts';
import type { JobInfo } from '../../jobs/api.ts';
import { BROKERS, produce, readJson, suffix, testClient } from '../support/kafka.ts';
import { Oracle, canon, multisetDiff } from '../support/oracle.ts';
import { startServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';

const PARTITIONS = 4;
const VALID = Number(process.env['WEIR_E2E_EVENTS'] ?? 100_000);
const BAD = Math.round(VALID * 0.005);
const JITTER_MS = 3000;
const SEED = Number(process.env['WEIR_E2E_SEED'] ?? 20261125);
const FINISH_TIMEOUT_MS = 240_000;

// Post texts pad the records to ~0.7 KB, as real posts do: 100,000 of them are ~70 MB, more than the source
// reads in one fetch (4 MiB per partition), so windows fire on watermarks while the job reads, not only at the end.
const PHRASES = ['今天真不错', '大家怎么看', '太精彩了', '有点累', '终于等到了', '分享一下', '笑死我了', '值得一看', '求推荐', '冲冲冲'];
const TOPICS = ['双十一', '天气', '世界杯', '春晚', '高考', '人工智能', '电影推荐', '美食', '旅行', '健身', 'ai', 'tea "time"', 'back\\slash', 'emoji 🐼', 'x'];

/** One valid event as the oracle sees it (the value the engine must read, whatever its JSON spelling). */
interface Event {
  uid: number;
  topic: string | null;
  ts: number;
  att: number | null;
}

interface Generated {
  records: ProducerRecord[];
  valid: Event[];
  bad: number;
}

function generate(topic: string): Generated {
  const r = rng(SEED);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const records: ProducerRecord[] = [];
  const valid: Event[] = [];
  // Partition clocks: different starts and speeds, so the partitions' watermarks differ and the slowest
  // one holds the job's watermark back.
  const t0 = Date.UTC(2026, 10, 25, 10, 0, 0) + 12_345;
  const clocks = Array.from({ length: PARTITIONS }, (_, p) => t0 + p * 4_000);
  const stepMax = [80, 70, 90, 60]; // ms; mean step 30-45 ms: ~15-19 minutes of event time per partition
  const perPartition = Array.from({ length: PARTITIONS }, (_, p) => Math.floor(VALID / PARTITIONS) + (p < VALID % PARTITIONS ? 1 : 0));
  const badAt = new Set<string>();
  while (badAt.size < BAD) {
    const p = Math.floor(r() * PARTITIONS);
    badAt.add(`${p}:${Math.floor(r() * perPartition[p]!)}`);
  }
  let badCount = 0;
  const badValue = (i: number): string => {
    const kinds = [
      () => `{"uid": 1, "topic": "a", "ts": "2026-11-25 10:00:00.000"`, // truncated JSON
      () => 'this is not json',
      () => '[1,2,3]',
      () => '42',
      () => '"just a string"',
      () => 'true',
      () => JSON.stringify({ uid: 'abc', topic: 'a', ts: formatTs(t0), att: 1 }),
      () => JSON.stringify({ uid: 7, topic: 'a', ts: 'yesterday noon', att: 1 }),
      () => JSON.stringify({ uid: 7, topic: 'a', ts: formatTs(t0), att: 'many' }),
      () => JSON.stringify({ uid: 7, topic: 'a', ts: formatTs(t0), att: 3_000_000_000 }),
      () => JSON.stringify({ uid: 7, topic: 'a', ts: formatTs(t0), att: true }),
      () => JSON.stringify({ uid: [1], topic: 'a', ts: formatTs(t0), att: 1 }),
    ];
    return kinds[i % kinds.length]!();
  };
  for (let p = 0; p < PARTITIONS; p++) {
    for (let i = 0; i < perPartition[p]!; i++) {
      if (badAt.has(`${p}:${i}`)) {
        records.push({ topic, partition: p, key: null, value: Buffer.from(badValue(badCount++)) });
      }
      clocks[p]! += 1 + Math.floor(r() * stepMax[p]!);
      const ts = clocks[p]! - Math.floor(r() * JITTER_MS);
      const big = r() < 0.01;
      const uid = big ? 10_000_000_000 + Math.floor(r() * 20) : 1 + Math.min(599, Math.floor(Math.exp(r() * Math.log(601)) - 1));
      const tr = r();
      const topicValue: string | null = tr < 0.05 ? null : TOPICS[Math.min(TOPICS.length - 1, Math.floor(Math.exp(r() * Math.log(TOPICS.length + 1)) - 1))]!;
      const ar = r();
      const att: number | null = ar < 0.1 ? null : ar < 0.17 ? -1 - Math.floor(r() * 60) : Math.floor(r() * 300);
      const ev: Event = { uid, topic: topicValue, ts, att };
      valid.push(ev);
      // The JSON spelling varies as Flink's json format allows: numeric strings for numbers, a missing
      // field for NULL, ISO-8601 or no fraction for timestamps, unknown fields ignored.
      const v = r();
      let text = '';
      while (text.length < 120 + r() * 120) text += pick(PHRASES) + '，';
      const obj: Record<string, unknown> = { uid, topic: topicValue, ts: formatTs(ts), att, text };
      if (v < 0.01) obj['uid'] = String(uid);
      else if (v < 0.02 && att === null) delete obj['att'];
      else if (v < 0.03 && topicValue === null) delete obj['topic'];
      else if (v < 0.04) obj['ts'] = formatTs(ts).replace(' ', 'T');
      else if (v < 0.05 && ts % 1000 === 0) obj['ts'] = formatTs(ts).slice(0, 19);
      else if (v < 0.06) obj['extra'] = { nested: [1, 2, 3] };
      else if (v < 0.07 && att !== null) obj['att'] = ` ${att} `;
      records.push({ topic, partition: p, key: Buffer.from(String(uid)), value: Buffer.from(JSON.stringify(obj)) });
    }
  }
  expect(badCount).toBe(BAD);
  // Interleave the partitions' records in chunks so that the broker sees them in a mixed order (each
  // partition keeps its own order: that is what defines lateness).
  const queues = Array.from({ length: PARTITIONS }, (_, p) => records.filter((x) => x.partition === p));
  const mixed: ProducerRecord[] = [];
  while (queues.some((q) => q.length > 0)) {
    for (const q of queues) mixed.push(...q.splice(0, 1 + Math.floor(r() * 500)));
  }
  return { records: mixed, valid, bad: badCount };
}

const TS_FMT = `'%Y-%m-%d %H:%M:%S.%g'`;

let server: TestServer;
let client: KafkaClient;
let oracle: Oracle;
const topics: string[] = [];

beforeAll(async () => {
  client = testClient('weir-it-windows');
  server = await startServer({ progressIntervalMs: 2000 });
  oracle = await Oracle.create();
});

afterAll(async () => {
  await server?.close(true);
  for (const t of topics) await client?.deleteTopic(t).catch(() => undefined);
  await client?.close();
  oracle?.close();
});

describe('TUMBLE and HOP over 100,000 out-of-order events, checked against DuckDB', () => {
  it('produces exactly the batch result, counts the bad records and drops nothing as late', async () => {
    const s = suffix();
    const src = `it_posts_${s}`;
    const tumbleOut = `it_topic_stats_${s}`;
    const hopOut = `it_user_hop_${s}`;
    topics.push(src, tumbleOut, hopOut);
    await client.createTopic(src, PARTITIONS);

    const t0 = Date.now();
    const gen = generate(src);
    await produce(client, gen.records);
    const produced = gen.records.length;
    expect(produced).toBe(VALID + BAD);
    const latest = await client.listOffsets(src, 'latest');
    expect([...latest.values()].reduce((a, b) => a + b, 0)).toBe(produced);
    const tProduced = Date.now();

    const table = (name: string) => name.replace(/[^a-z0-9_]/gi, '_');
    const srcT = table(src);
    const tumbleT = table(tumbleOut);
    const hopT = table(hopOut);
    const kafka = (topic: string, extra = '') =>
      `'connector' = 'kafka', 'topic' = '${topic}', 'properties.bootstrap.servers' = '${BROKERS}', 'format' = 'json'${extra}`;
    const script = `
CREATE TABLE ${srcT} (
  uid BIGINT,
  topic STRING,
  ts TIMESTAMP(3),
  att INT,
  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH (${kafka(src, `, 'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset'`)});
CREATE TABLE ${tumbleT} (
  window_start TIMESTAMP(3), window_end TIMESTAMP(3), topic STRING,
  posts BIGINT, att_sum INT, att_min INT, att_max INT, users BIGINT
) WITH (${kafka(tumbleOut)});
CREATE TABLE ${hopT} (
  window_start TIMESTAMP(3), window_end TIMESTAMP(3), uid BIGINT, posts BIGINT, att_avg INT
) WITH (${kafka(hopOut)});
INSERT INTO ${tumbleT}
SELECT window_start, window_end, topic, COUNT(*), SUM(att), MIN(att), MAX(att), COUNT(DISTINCT uid)
FROM TABLE(TUMBLE(TABLE ${srcT}, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
GROUP BY window_start, window_end, topic;
INSERT INTO ${hopT}
SELECT window_start, window_end, uid, COUNT(*) AS posts, AVG(att) AS att_avg
FROM TABLE(HOP(TABLE ${srcT}, DESCRIPTOR(ts), INTERVAL '30' SECOND, INTERVAL '2' MINUTE))
WHERE att IS NULL OR att >= -40
GROUP BY window_start, window_end, uid
HAVING COUNT(*) >= 3;
`;
    const res = await server.sql(script);
    expect(res.status, res.text).toBe(200);
    const results = res.body.results as { statement: number; kind: string; jobId?: string }[];
    expect(results.map((x) => x.kind)).toEqual(['ok', 'ok', 'ok', 'job', 'job']);
    const tumbleJob = results[3]!.jobId!;
    const hopJob = results[4]!.jobId!;

    const [tj, hj] = await Promise.all([
      server.waitForState(tumbleJob, ['FINISHED'], FINISH_TIMEOUT_MS),
      server.waitForState(hopJob, ['FINISHED'], FINISH_TIMEOUT_MS),
    ]);
    const tFinished = Date.now();

    // ---- the oracle: the same valid events in DuckDB
    await oracle.load(
      'raw',
      [['uid', 'BIGINT'], ['topic', 'VARCHAR'], ['ts', 'VARCHAR'], ['att', 'INTEGER']],
      gen.valid.map((e) => [e.uid, e.topic, formatTs(e.ts), e.att]),
    );
    await oracle.run(`CREATE TABLE ev AS SELECT uid, topic, CAST(ts AS TIMESTAMP) AS ts, att FROM raw`);
    const [{ n }] = (await oracle.query('SELECT COUNT(*) AS n FROM ev')) as [{ n: string }];
    expect(Number(n)).toBe(VALID);

    const tumbleCols = ['window_start', 'window_end', 'topic', 'posts', 'att_sum', 'att_min', 'att_max', 'users'];
    const tumbleExpected = await oracle.query(`
      SELECT strftime(w, ${TS_FMT}) AS window_start, strftime(w + INTERVAL 1 MINUTE, ${TS_FMT}) AS window_end, topic,
             COUNT(*) AS posts, CAST(SUM(att) AS INTEGER) AS att_sum, MIN(att) AS att_min, MAX(att) AS att_max,
             COUNT(DISTINCT uid) AS users
      FROM (SELECT time_bucket(INTERVAL 1 MINUTE, ts) AS w, * FROM ev)
      GROUP BY w, topic`);
    // HOP(slide 30 s, size 2 min): each event is in the 4 windows starting at its 30 s bucket and the 3 before.
    // Flink's AVG of an INT is an INT: the sum divided by the count, truncated toward zero.
    const hopCols = ['window_start', 'window_end', 'uid', 'posts', 'att_avg'];
    const hopExpected = await oracle.query(`
      SELECT strftime(w, ${TS_FMT}) AS window_start, strftime(w + INTERVAL 2 MINUTE, ${TS_FMT}) AS window_end, uid,
             COUNT(*) AS posts, CAST(trunc(AVG(att)) AS INTEGER) AS att_avg
      FROM (SELECT time_bucket(INTERVAL 30 SECOND, ts) - k * INTERVAL 30 SECOND AS w, *
            FROM ev, range(0, 4) AS r(k)
            WHERE att IS NULL OR att >= -40)
      GROUP BY w, uid
      HAVING COUNT(*) >= 3`);

    // ---- what the jobs wrote
    const [tumbleGot, hopGot] = await Promise.all([readJson(client, tumbleOut), readJson(client, hopOut)]);
    const tReadBack = Date.now();

    const check = (what: string, got: Record<string, unknown>[], expected: Record<string, unknown>[], cols: string[], job: JobInfo) => {
      for (const row of got.slice(0, 50)) expect(Object.keys(row).sort(), `${what}: sink row fields`).toEqual([...cols].sort());
      const d = multisetDiff(got.map((x) => canon(x, cols)), expected.map((x) => canon(x, cols)));
      expect(
        { missing: d.missing.length, extra: d.extra.length, firstMissing: d.missing.slice(0, 10), firstExtra: d.extra.slice(0, 10) },
        `${what}: ${got.length} rows written, ${expected.length} expected`,
      ).toEqual({ missing: 0, extra: 0, firstMissing: [], firstExtra: [] });
      expect(got.length).toBe(expected.length);
      expect(job.metrics.recordsOut, `${what}: recordsOut`).toBe(got.length);
    };
    check('TUMBLE', tumbleGot, tumbleExpected, tumbleCols, tj);
    check('HOP', hopGot, hopExpected, hopCols, hj);
    // Sanity of the data set itself: many windows and groups, NULL topics and NULL averages present.
    expect(tumbleExpected.length).toBeGreaterThan(VALID / 500);
    expect(tumbleExpected.some((x) => x['topic'] === null)).toBe(true);
    expect(hopExpected.length).toBeGreaterThan(VALID / 20);
    expect(hopExpected.some((x) => x['att_avg'] === null)).toBe(true);
    expect(hopExpected.some((x) => typeof x['att_avg'] === 'number' && (x['att_avg'] as number) < 0)).toBe(true);

    for (const [what, job] of [['TUMBLE', tj], ['HOP', hj]] as const) {
      const m = job.metrics;
      expect(m.recordsIn, `${what}: recordsIn`).toBe(produced);
      expect(m.recordsBad, `${what}: recordsBad`).toBe(gen.bad);
      expect(m.recordsLate, `${what}: recordsLate`).toBe(0);
      expect(m.lastBadRecordError, `${what}: lastBadRecordError`).toEqual(expect.any(String));
      expect(m.partitions.map((p) => p.partition).sort()).toEqual([0, 1, 2, 3]);
      for (const p of m.partitions) {
        expect(p.offset, `${what}: partition ${p.partition} read to its end`).toBe(latest.get(p.partition));
        expect(p.lag).toBe(0);
      }
      expect(job.plan?.text).toMatch(/window/i);
    }

    console.log(
      `[windows-e2e] produced ${produced} records (${gen.bad} bad) in ${tProduced - t0} ms; both jobs FINISHED after ${tFinished - tProduced} ms; ` +
        `read back ${tumbleGot.length} TUMBLE + ${hopGot.length} HOP rows in ${tReadBack - tFinished} ms; checked in ${Date.now() - tReadBack} ms`,
    );
  }, 420_000);
});
