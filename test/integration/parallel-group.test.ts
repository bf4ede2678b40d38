// A non-windowed GROUP BY with parallel pipeline instances end to end (engine/parallel LocalGroupAggregate,
// GroupAggregateOp.mergePartials): materialized views of updating aggregates over a real broker, run with
// parallelism 2 (two worker threads that pre-aggregate each partition batch), each checked against DuckDB
// over the same events — NULL keys, HAVING above the aggregate, an aggregate over an aggregate, MIN/MAX,
// AVG, COUNT(DISTINCT), malformed records and a key expression that fails on some rows (both counted as
// bad, as with parallelism 1). With mini-batches the instances read their own partitions and keep their
// groups until a mini-batch ends (jobs/parallel/owned.ts): the same answers, and bad records dead-lettered
// once each. Then one view stopped and resumed with parallelism 2, 1, 2 (checkpoints cross the modes) that
// must end with DuckDB's answer over everything it read.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaClient, ProducerRecord } from '../../connectors/kafka/client.ts';
import { rng } from '../../examples/weibo/generator.ts';
import type { JobInfo } from '../../jobs/api.ts';
import { BROKERS, produce, readAll, suffix, testClient } from '../support/kafka.ts';
import { Oracle, canon, multisetDiff } from '../support/oracle.ts';
import { startServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';

const PARTITIONS = 4;
const EVENTS = 20_000;
const USERS = 300;
const TOPICS = ['a', 'b', 'c', 'd e', null];

interface Generated {
  records: ProducerRecord[];
  rows: unknown[][];
  /** Malformed records (the decoder rejects them). */
  malformed: number;
  /** Rows whose `tag` is no number: CAST(tag AS INT) fails on them. */
  badTags: number;
}

function generate(topic: string, seed: number): Generated {
  const r = rng(seed);
  const records: ProducerRecord[] = [];
  const rows: unknown[][] = [];
  let malformed = 0;
  let badTags = 0;
  for (let i = 0; i < EVENTS; i++) {
    const partition = i % PARTITIONS;
    if (r() < 0.003) {
      records.push({ topic, partition, key: null, value: Buffer.from(['{"uid": 1', 'not json', '[1]'][malformed++ % 3]!) });
    }
    const ev = {
      uid: r() < 0.02 ? null : 1 + Math.floor(r() * USERS),
      topic: TOPICS[Math.floor(r() * TOPICS.length)]!,
      att: r() < 0.1 ? null : Math.floor(r() * 300) - 50,
      tag: r() < 0.01 ? 'x' : String(Math.floor(r() * 7)),
    };
    if (ev.tag === 'x') badTags++;
    rows.push([ev.uid, ev.topic, ev.att, ev.tag]);
    records.push({ topic, partition, key: null, value: Buffer.from(JSON.stringify(ev)) });
  }
  return { records, rows, malformed, badTags };
}

let server: TestServer;
let client: KafkaClient;
let oracle: Oracle;
const topics: string[] = [];
const savedEnv = process.env['WEIR_PARALLELISM'];

beforeAll(async () => {
  client = testClient('weir-it-parallel-group');
  server = await startServer({ progressIntervalMs: 500 });
  oracle = await Oracle.create();
});

afterAll(async () => {
  if (savedEnv === undefined) delete process.env['WEIR_PARALLELISM'];
  else process.env['WEIR_PARALLELISM'] = savedEnv;
  await server?.close(true);
  for (const t of topics) await client?.deleteTopic(t).catch(() => undefined);
  await client?.close();
  oracle?.close();
});

const query = async (sql: string): Promise<Record<string, unknown>[]> => {
  const r = await server.post('/v1/query', { sql });
  expect(r.status, r.text).toBe(200);
  const a = r.body as { columns: { name: string }[]; rows: unknown[][] };
  return a.rows.map((row) => Object.fromEntries(a.columns.map((c, i) => [c.name, row[i]])));
};

async function expectView(view: string, oracleSql: string, cols: string[], what: string): Promise<void> {
  const got = await query(`SELECT * FROM ${view}`);
  const want = await oracle.query(oracleSql);
  const d = multisetDiff(got.map((x) => canon(x, cols)), want.map((x) => canon(x, cols)));
  expect({ missing: d.missing.slice(0, 5), extra: d.extra.slice(0, 5), rows: got.length }, what).toEqual({ missing: [], extra: [], rows: want.length });
}

const kafka = (topic: string, extra = '') =>
  `'connector' = 'kafka', 'topic' = '${topic}', 'properties.bootstrap.servers' = '${BROKERS}', 'format' = 'json', 'scan.startup.mode' = 'earliest-offset', 'properties.max.partition.fetch.bytes' = '16384'${extra}`;

const BY_USER_COLS = ['uid', 'posts', 'att_sum', 'att_min', 'att_max', 'att_avg', 'topics'];
const byUserView = (src: string) => `SELECT uid, COUNT(*) AS posts, SUM(att) AS att_sum, MIN(att) AS att_min, MAX(att) AS att_max, AVG(att) AS att_avg,
  COUNT(DISTINCT topic) AS topics FROM ${src} GROUP BY uid HAVING COUNT(*) > 60`;
const byUserOracle = (ev: string) => `SELECT uid, COUNT(*) AS posts, CAST(SUM(att) AS BIGINT) AS att_sum, MIN(att) AS att_min, MAX(att) AS att_max,
  CAST(trunc(AVG(att)) AS INTEGER) AS att_avg, COUNT(DISTINCT topic) AS topics FROM ${ev} GROUP BY uid HAVING COUNT(*) > 60`;

describe('a GROUP BY with parallel pipeline instances, checked against DuckDB', () => {
  it('views of updating aggregates at parallelism 2 hold the batch answer, with bad rows counted as at parallelism 1', { timeout: 300_000 }, async () => {
    const s = suffix();
    const src = `it_par_group_${s}`;
    topics.push(src);
    await client.createTopic(src, PARTITIONS);
    const gen = generate(src, 4242);
    await produce(client, gen.records, 400);
    await oracle.load('ev', [['uid', 'BIGINT'], ['topic', 'VARCHAR'], ['att', 'INTEGER'], ['tag', 'VARCHAR']], gen.rows);
    const srcT = `par_group_src_${s}`;
    const res = await server.sql(`
CREATE TABLE ${srcT} (uid BIGINT, topic STRING, att INT, tag STRING) WITH (${kafka(src, `, 'scan.bounded.mode' = 'latest-offset'`)});
SET 'table.exec.mini-batch.enabled' = 'false';
SET 'parallelism.default' = '2';
CREATE MATERIALIZED VIEW by_user_${s} AS ${byUserView(srcT)};
CREATE MATERIALIZED VIEW topic_users_${s} AS
SELECT topic, MIN(posts) AS min_posts, MAX(posts) AS max_posts, COUNT(*) AS users, SUM(posts) AS total
FROM (SELECT topic, uid, COUNT(*) AS posts FROM ${srcT} GROUP BY topic, uid) GROUP BY topic;
CREATE MATERIALIZED VIEW by_tag_${s} AS
SELECT CAST(tag AS INT) AS t, COUNT(*) AS posts, COUNT(uid) AS with_uid FROM ${srcT} WHERE att IS NULL OR att <> 7 GROUP BY CAST(tag AS INT);
SET 'parallelism.default' = '1';
CREATE MATERIALIZED VIEW by_tag_single_${s} AS
SELECT CAST(tag AS INT) AS t, COUNT(*) AS posts, COUNT(uid) AS with_uid FROM ${srcT} WHERE att IS NULL OR att <> 7 GROUP BY CAST(tag AS INT);
SET 'parallelism.default' = '2';
SET 'table.exec.mini-batch.enabled' = 'true';
SET 'table.exec.mini-batch.allow-latency' = '300 ms';
SET 'table.exec.mini-batch.size' = '700';
CREATE MATERIALIZED VIEW by_user_mb_${s} AS ${byUserView(srcT)};
CREATE MATERIALIZED VIEW topic_users_mb_${s} AS
SELECT topic, MIN(posts) AS min_posts, MAX(posts) AS max_posts, COUNT(*) AS users, SUM(posts) AS total
FROM (SELECT topic, uid, COUNT(*) AS posts FROM ${srcT} GROUP BY topic, uid) GROUP BY topic;`);
    expect(res.status, res.text).toBe(200);
    const ids = (res.body.results as { kind: string; jobId?: string }[]).filter((x) => x.kind === 'job').map((x) => x.jobId!);
    expect(ids).toHaveLength(6);
    const done = (await Promise.all(ids.map((id) => server.waitForState(id, ['FINISHED'], 200_000)))) as JobInfo[];
    expect(done.map((j) => j.metrics.parallelism)).toEqual([2, 2, 2, 1, 2, 2]);
    // With mini-batches the instances read their own partitions and keep their groups until one ends.
    expect(done.map((j) => j.metrics.instancesRead)).toEqual([false, false, false, undefined, true, true]);
    for (const j of done) expect(j.metrics.recordsIn, j.name).toBe(gen.records.length);

    await expectView(`by_user_${s}`, byUserOracle('ev'), BY_USER_COLS, 'by_user, p=2');
    const topicUsers = 'SELECT topic, MIN(posts) AS min_posts, MAX(posts) AS max_posts, COUNT(*) AS users, SUM(posts) AS total FROM (SELECT topic, uid, COUNT(*) AS posts FROM ev GROUP BY topic, uid) GROUP BY topic';
    await expectView(`topic_users_${s}`, topicUsers, ['topic', 'min_posts', 'max_posts', 'users', 'total'], 'topic_users, p=2');
    // The views above emit per batch (mini-batch switched off); these in mini-batches of 700 rows or 300 ms:
    // the same answers, also for an aggregate over an aggregate.
    await expectView(`by_user_mb_${s}`, byUserOracle('ev'), BY_USER_COLS, 'by_user, p=2, mini-batch');
    await expectView(`topic_users_mb_${s}`, topicUsers, ['topic', 'min_posts', 'max_posts', 'users', 'total'], 'topic_users, p=2, mini-batch');
    // ... from fewer changes: a key updated by several batches of one mini-batch changes once.
    console.log(`changes into by_user: ${done[0]!.metrics.recordsOut} per batch, ${done[4]!.metrics.recordsOut} per mini-batch`);
    expect(done[4]!.metrics.recordsOut).toBeLessThan(done[0]!.metrics.recordsOut);
    const tagOracle = `SELECT CAST(tag AS INTEGER) AS t, COUNT(*) AS posts, COUNT(uid) AS with_uid FROM ev WHERE tag <> 'x' AND (att IS NULL OR att <> 7) GROUP BY CAST(tag AS INTEGER)`;
    await expectView(`by_tag_${s}`, tagOracle, ['t', 'posts', 'with_uid'], 'by_tag, p=2');
    await expectView(`by_tag_single_${s}`, tagOracle, ['t', 'posts', 'with_uid'], 'by_tag, p=1');

    // Bad rows: the malformed records in every job; the failing key only where it is computed.
    const badKeys = gen.rows.filter(([, , att, tag]) => tag === 'x' && att !== 7).length;
    expect(badKeys).toBeGreaterThan(50);
    expect(done.map((j) => j.metrics.recordsBad)).toEqual([gen.malformed, gen.malformed, gen.malformed + badKeys, gen.malformed + badKeys, gen.malformed, gen.malformed]);
    expect(done[2]!.metrics.lastBadRecordError).toBe(done[3]!.metrics.lastBadRecordError);
  });

  it('a view whose instances read their own partitions dead-letters every bad record once, with its origin', { timeout: 300_000 }, async () => {
    const s = suffix();
    const src = `it_par_group_dlq_${s}`;
    const dlq = `it_par_group_dead_${s}`;
    topics.push(src, dlq);
    await client.createTopic(src, PARTITIONS);
    const gen = generate(src, 99);
    await produce(client, gen.records, 400);
    await oracle.load('ev_dlq', [['uid', 'BIGINT'], ['topic', 'VARCHAR'], ['att', 'INTEGER'], ['tag', 'VARCHAR']], gen.rows);
    const srcT = `par_group_dlq_src_${s}`;
    const res = await server.sql(`
CREATE TABLE ${srcT} (uid BIGINT, topic STRING, att INT, tag STRING) WITH (${kafka(src, `, 'scan.bounded.mode' = 'latest-offset', 'dead-letter.topic' = '${dlq}'`)});
SET 'parallelism.default' = '2';
CREATE MATERIALIZED VIEW dlq_by_user_${s} AS ${byUserView(srcT)};`);
    expect(res.status, res.text).toBe(200);
    const id = (res.body.results as { jobId?: string }[]).at(-1)!.jobId!;
    const done = (await server.waitForState(id, ['FINISHED'], 200_000)) as JobInfo;
    expect(done.metrics.instancesRead).toBe(true);
    expect(done.metrics.recordsIn).toBe(gen.records.length);
    expect(done.metrics.recordsBad).toBe(gen.malformed);
    // Every partition read to its end, as the instances read it.
    expect(done.metrics.partitions.reduce((a, p) => a + p.offset, 0)).toBe(gen.records.length);
    expect(done.metrics.partitions.map((p) => p.lag)).toEqual([0, 0, 0, 0]);
    await expectView(`dlq_by_user_${s}`, byUserOracle('ev_dlq'), BY_USER_COLS, 'by_user, p=2, instances reading');
    // The malformed records, each once, from where they were produced.
    const isObject = (text: string): boolean => {
      try {
        const v: unknown = JSON.parse(text);
        return typeof v === 'object' && v !== null && !Array.isArray(v);
      } catch {
        return false;
      }
    };
    const bad = gen.records.map((r, i) => ({ r, i })).filter(({ r }) => !isObject(r.value!.toString()));
    expect(bad).toHaveLength(gen.malformed);
    const dead = await readAll(client, dlq);
    const header = (rec: (typeof dead)[number], key: string) => rec.headers.find((h) => h.key === key)?.value?.toString('utf8');
    expect(dead.map((d) => d.value!.toString()).sort()).toEqual(bad.map(({ r }) => r.value!.toString()).sort());
    for (const d of dead) {
      expect(header(d, 'weir.source.topic')).toBe(src);
      expect(header(d, 'weir.job.id')).toBe(id);
    }
    expect(new Set(dead.map((d) => `${header(d, 'weir.source.partition')}:${header(d, 'weir.source.offset')}`)).size).toBe(dead.length);
  });

  it('a view stopped and resumed with parallelism 2, 1, 2 ends with the batch answer', { timeout: 300_000 }, async () => {
    const s = suffix();
    const src = `it_par_group_resume_${s}`;
    topics.push(src);
    await client.createTopic(src, PARTITIONS);
    const gen = generate(src, 777);
    const third = Math.floor(gen.records.length / 3);
    const stages = [gen.records.slice(0, third), gen.records.slice(third, 2 * third), gen.records.slice(2 * third)];
    await oracle.load('ev_resumed', [['uid', 'BIGINT'], ['topic', 'VARCHAR'], ['att', 'INTEGER'], ['tag', 'VARCHAR']], gen.rows);
    const srcT = `par_group_resume_src_${s}`;
    const created = await server.sql(`CREATE TABLE ${srcT} (uid BIGINT, topic STRING, att INT, tag STRING) WITH (${kafka(src)});`);
    expect(created.status, created.text).toBe(200);
    let id = '';
    let produced = 0;
    for (const [i, parallelism] of [2, 1, 2].entries()) {
      await produce(client, stages[i]!, 400);
      produced += stages[i]!.length;
      // The default for jobs that do not SET it: a resumed job takes the server's default of its start.
      process.env['WEIR_PARALLELISM'] = String(parallelism);
      if (i === 0) {
        const sub = await server.sql(`CREATE MATERIALIZED VIEW resumed_${s} AS ${byUserView(srcT)};`);
        expect(sub.status, sub.text).toBe(200);
        id = (sub.body.results as { jobId?: string }[]).at(-1)!.jobId!;
      } else {
        expect((await server.post(`/v1/jobs/${id}/resume`)).status).toBe(200);
      }
      const read = (j: JobInfo) => j.metrics.partitions.reduce((a, p) => a + p.offset, 0);
      const running = await server.waitForJob(id, `to read ${produced} records with parallelism ${parallelism}`, (j) => j.state === 'RUNNING' && read(j) === produced, 120_000);
      expect(running.metrics.parallelism).toBe(parallelism);
      // A view's default mini-batch: at p=2 its instances read their own partitions.
      expect(running.metrics.instancesRead).toBe(parallelism === 2 ? true : undefined);
      const stopped = await server.post(`/v1/jobs/${id}/stop${i === 2 ? '?drain=true' : ''}`);
      expect(stopped.status, stopped.text).toBe(200);
      await server.waitForState(id, i === 2 ? 'FINISHED' : 'STOPPED', 60_000);
    }
    await expectView(`resumed_${s}`, byUserOracle('ev_resumed'), BY_USER_COLS, 'stopped and resumed with parallelism 2, 1, 2');
  });
});
