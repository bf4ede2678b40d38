// upsert-kafka on the real broker: the sink's records (exactly-once, read back read_committed and compacted
// as Kafka's log compaction would: last value per key, a tombstone removes the key) equal the changelog
// written, and, for a job writing the same aggregate to a materialized view and an upsert-kafka topic, the
// view's rows and DuckDB's computation over the same events. Plus the submit-time refusals with positions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaClient, KafkaRecord, ProducerRecord } from '../../connectors/kafka/client.ts';
import { UpsertKafkaSink } from '../../connectors/upsert-kafka/index.ts';
import type { Change } from '../../engine/ops/changelog.ts';
import { T } from '../../engine/plan/types.ts';
import { formatTs } from '../../examples/weibo/generator.ts';
import { clockedEvents } from '../support/events.ts';
import { BROKERS, produce, readAll, suffix, testClient } from '../support/kafka.ts';
import { Oracle, canon, multisetDiff } from '../support/oracle.ts';
import { startServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';

const PARTITIONS = 4;
const EVENTS = Number(process.env['WEIR_UPSERT_EVENTS'] ?? 100_000);
const TOPICS = ['天气', '世界杯', 'ai', 'tea "time"', null];
const TS_FMT = `'%Y-%m-%d %H:%M:%S.%g'`;

interface Event {
  uid: number;
  topic: string | null;
  ts: number;
  att: number | null;
}

/** Nothing is late (test/support/events.ts). */
function generate(topic: string): { records: ProducerRecord[]; events: Event[] } {
  return clockedEvents({ topic, partitions: PARTITIONS, count: EVENTS, seed: 777, maxStepMs: 40, jitterMs: 3000 }, (r, ts) => ({
    uid: 1 + Math.floor(r() * 2000),
    topic: TOPICS[Math.floor(r() * TOPICS.length)]!,
    ts,
    att: r() < 0.1 ? null : Math.floor(r() * 300),
  }));
}

/** Log compaction of an upsert topic: the last value per key; a tombstone removes the key. */
function compact(records: readonly KafkaRecord[]): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  for (const r of records) {
    expect(r.key, 'every upsert record has a key').not.toBeNull();
    const k = r.key!.toString('utf8');
    if (r.value === null) out.delete(k);
    else out.set(k, JSON.parse(r.value.toString('utf8')) as Record<string, unknown>);
  }
  return out;
}

let server: TestServer;
let client: KafkaClient;
let oracle: Oracle;
let s = '';
let srcT = '';
const topics: string[] = [];

beforeAll(async () => {
  client = testClient('weir-it-upsert');
  server = await startServer({ progressIntervalMs: 1000 });
  oracle = await Oracle.create();
  s = suffix();
  const src = `it_upsert_src_${s}`;
  topics.push(src);
  await client.createTopic(src, PARTITIONS);
  const gen = generate(src);
  await produce(client, gen.records);
  await oracle.load(
    'raw',
    [['uid', 'BIGINT'], ['topic', 'VARCHAR'], ['ts', 'VARCHAR'], ['att', 'INTEGER']],
    gen.events.map((e) => [e.uid, e.topic, formatTs(e.ts), e.att]),
  );
  await oracle.run('CREATE TABLE ev AS SELECT uid, topic, CAST(ts AS TIMESTAMP) AS ts, att FROM raw');
  srcT = `src_${s}`;
  const r = await server.sql(`
CREATE TABLE ${srcT} (uid BIGINT, topic STRING, ts TIMESTAMP(3), att INT, WATERMARK FOR ts AS ts - INTERVAL '5' SECOND)
WITH ('connector' = 'kafka', 'topic' = '${src}', 'properties.bootstrap.servers' = '${BROKERS}', 'format' = 'json',
      'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset')`);
  expect(r.status, r.text).toBe(200);
}, 120_000);

afterAll(async () => {
  await server?.close(true);
  for (const t of topics) await client?.deleteTopic(t).catch(() => undefined);
  await client?.close();
  oracle?.close();
});

describe('upsert-kafka sink', () => {
  it('writes a changelog exactly once: compacted, the committed topic holds the final row per key; aborted output is invisible', async () => {
    const topic = `it_upsert_direct_${s}`;
    topics.push(topic);
    const open = () =>
      UpsertKafkaSink.open({
        table: 'direct',
        options: { connector: 'upsert-kafka', topic, 'key.format': 'json', 'value.format': 'json', 'sink.delivery-guarantee': 'exactly-once', 'sink.topic.partitions': '3' },
        columns: [
          { name: 'k', type: T.string },
          { name: 'n', type: T.bigint },
        ],
        primaryKey: ['k'],
        brokers: BROKERS,
        jobId: `direct-${s}`,
        jobName: 'direct',
        timeZone: 'UTC',
        checkpointIntervalMs: 1000,
      });
    const sink = await open();
    const changes: Change[] = [];
    const expected = new Map<string, number>();
    // 300 keys, each updated a few times; every third key ends deleted, some re-inserted after.
    for (let round = 1; round <= 4; round++) {
      for (let k = 0; k < 300; k++) {
        const key = `key ${k}`;
        const before = expected.get(key);
        if (round === 3 && k % 3 === 0) {
          if (before !== undefined) changes.push({ op: '-D', row: [key, before] });
          expected.delete(key);
        } else if (before === undefined) {
          if (round === 4 && k % 6 !== 0) continue;
          changes.push({ op: '+I', row: [key, round] });
          expected.set(key, round);
        } else {
          changes.push({ op: '-U', row: [key, before] }, { op: '+U', row: [key, before + round] });
          expected.set(key, before + round);
        }
      }
    }
    try {
      expect(await sink.committer!.recover(undefined)).toBe(false);
      sink.writeChanges(changes.slice(0, 500));
      await sink.flush();
      sink.writeChanges(changes.slice(500));
      await sink.committer!.prepare(1);
      await sink.committer!.commit(1);
      // Written but never committed: a read_committed reader must not see it.
      sink.writeChanges([{ op: '+I', row: ['ghost', 1] }, { op: '-D', row: ['key 1', 0] }]);
      await sink.flush();
    } finally {
      await sink.close();
    }
    const records = await readAll(client, topic, 60_000, 'read_committed');
    expect(records.length).toBe(changes.filter((c) => c.op !== '-U').length);
    expect(records.filter((r) => r.value === null).length).toBe(changes.filter((c) => c.op === '-D').length);
    // One key, one partition: the records of a key are in order.
    const partOf = new Map<string, number>();
    for (const r of records) {
      const k = r.key!.toString();
      expect(partOf.get(k) ?? r.partition, k).toBe(r.partition);
      partOf.set(k, r.partition);
    }
    expect(new Set(partOf.values()).size).toBeGreaterThan(1);
    const got = compact(records);
    expect(new Map([...got].map(([k, v]) => [JSON.parse(k).k as string, v['n']]))).toEqual(expected);
    expect([...got.values()][0]).toEqual({ k: expect.any(String), n: expect.any(Number) });
    // Reopening (a restart) with a pending checkpoint 1 finds its marker: it was committed.
    const again = await open();
    try {
      expect(await again.committer!.recover(1)).toBe(true);
      expect(await again.committer!.recover(2)).toBe(false);
    } finally {
      await again.close();
    }
  }, 120_000);

  it('a window aggregate into a view and an upsert-kafka topic: the compacted topic equals the view and DuckDB', async () => {
    const topic = `it_upsert_win_${s}`;
    topics.push(topic);
    const view = `win_view_${s}`;
    const sinkT = `win_up_${s}`;
    const select = `SELECT window_start, window_end, topic, COUNT(*) AS posts, MAX(att) AS att_max
FROM TABLE(TUMBLE(TABLE ${srcT}, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end, topic`;
    const r = await server.sql(`
CREATE TABLE ${sinkT} (window_start TIMESTAMP(3), window_end TIMESTAMP(3), topic STRING, posts BIGINT, att_max INT,
  PRIMARY KEY (window_start, window_end, topic) NOT ENFORCED)
WITH ('connector' = 'upsert-kafka', 'topic' = '${topic}', 'key.format' = 'json', 'value.format' = 'json',
      'sink.delivery-guarantee' = 'exactly-once', 'sink.topic.partitions' = '2');
CREATE MATERIALIZED VIEW ${view} AS ${select};
INSERT INTO ${sinkT} ${select};`);
    expect(r.status, r.text).toBe(200);
    const jobs = (r.body.results as { kind: string; jobId?: string }[]).filter((x) => x.kind === 'job').map((x) => x.jobId!);
    expect(jobs.length).toBe(2);
    await Promise.all(jobs.map((j) => server.waitForState(j, 'FINISHED', 180_000)));

    const cols = ['window_start', 'window_end', 'topic', 'posts', 'att_max'];
    const q = await server.post('/v1/query', { sql: `SELECT * FROM ${view}` });
    expect(q.status, q.text).toBe(200);
    const viewRows = (q.body.rows as unknown[][]).map((row) => Object.fromEntries(cols.map((c, i) => [c, row[i]])));
    const compacted = compact(await readAll(client, topic, 60_000, 'read_committed'));
    for (const [k, v] of compacted) expect(JSON.parse(k)).toEqual({ window_start: v['window_start'], window_end: v['window_end'], topic: v['topic'] });
    const expected = await oracle.query(`
      SELECT strftime(w, ${TS_FMT}) AS window_start, strftime(w + INTERVAL 1 MINUTE, ${TS_FMT}) AS window_end, topic, COUNT(*) AS posts, MAX(att) AS att_max
      FROM (SELECT time_bucket(INTERVAL 1 MINUTE, ts) AS w, * FROM ev) GROUP BY w, topic`);
    const same = (what: string, got: Record<string, unknown>[], exp: Record<string, unknown>[]) => {
      const d = multisetDiff(got.map((x) => canon(x, cols)), exp.map((x) => canon(x, cols)));
      expect({ missing: d.missing.slice(0, 5), extra: d.extra.slice(0, 5), n: got.length }, what).toEqual({ missing: [], extra: [], n: exp.length });
    };
    same('topic vs DuckDB', [...compacted.values()], expected);
    same('view vs DuckDB', viewRows, expected);
    expect([...compacted.values()].some((v) => v['topic'] === null)).toBe(true);
  }, 240_000);

  it('an updating aggregate with a HAVING that flips, into a view and an upsert-kafka topic: tombstones remove the keys that left', async () => {
    const topic = `it_upsert_grp_${s}`;
    topics.push(topic);
    const view = `grp_view_${s}`;
    const sinkT = `grp_up_${s}`;
    // ~10 posts per (topic, uid): a key enters the result with its first post and leaves (-D) at its 11th.
    const select = `SELECT topic, uid, COUNT(*) AS posts, MAX(att) AS att_max FROM ${srcT} GROUP BY topic, uid HAVING COUNT(*) <= 10`;
    const r = await server.sql(`
CREATE TABLE ${sinkT} (topic STRING, uid BIGINT, posts BIGINT, att_max INT, PRIMARY KEY (uid, topic) NOT ENFORCED)
WITH ('connector' = 'upsert-kafka', 'topic' = '${topic}', 'key.format' = 'json', 'value.format' = 'json',
      'value.fields-include' = 'ALL', 'sink.delivery-guarantee' = 'exactly-once', 'sink.topic.partitions' = '3');
CREATE MATERIALIZED VIEW ${view} AS ${select};
INSERT INTO ${sinkT} ${select};`);
    expect(r.status, r.text).toBe(200);
    const jobs = (r.body.results as { kind: string; jobId?: string }[]).filter((x) => x.kind === 'job').map((x) => x.jobId!);
    expect(jobs.length).toBe(2);
    await Promise.all(jobs.map((j) => server.waitForState(j, 'FINISHED', 180_000)));

    const cols = ['topic', 'uid', 'posts', 'att_max'];
    const q = await server.post('/v1/query', { sql: `SELECT topic, uid, posts, att_max FROM ${view}` });
    expect(q.status, q.text).toBe(200);
    const viewRows = (q.body.rows as unknown[][]).map((row) => Object.fromEntries(cols.map((c, i) => [c, row[i]])));
    const records = await readAll(client, topic, 60_000, 'read_committed');
    const compacted = compact(records);
    for (const [k, v] of compacted) expect(JSON.parse(k)).toEqual({ uid: v['uid'], topic: v['topic'] });
    const expected = await oracle.query(`SELECT topic, uid, COUNT(*) AS posts, MAX(att) AS att_max FROM ev GROUP BY topic, uid HAVING COUNT(*) <= 10`);
    const [{ left }] = (await oracle.query(`SELECT COUNT(*) AS "left" FROM (SELECT 1 FROM ev GROUP BY topic, uid HAVING COUNT(*) > 10)`)) as [{ left: string }];
    expect(Number(left)).toBeGreaterThan(100);
    const same = (what: string, got: Record<string, unknown>[], exp: Record<string, unknown>[]) => {
      const d = multisetDiff(got.map((x) => canon(x, cols)), exp.map((x) => canon(x, cols)));
      expect({ missing: d.missing.slice(0, 5), extra: d.extra.slice(0, 5), n: got.length }, what).toEqual({ missing: [], extra: [], n: exp.length });
    };
    same('topic vs DuckDB', [...compacted.values()], expected);
    same('view vs DuckDB', viewRows, expected);
    // Every key written that is not in the result left it by a tombstone, its last record (a key that
    // passed 10 posts within one batch was never written at all: changes are net per batch).
    const lastOf = new Map<string, KafkaRecord>();
    for (const rec of records) lastOf.set(rec.key!.toString(), rec);
    const tombstoned = [...lastOf.values()].filter((x) => x.value === null).length;
    expect(tombstoned).toBe(lastOf.size - expected.length);
    expect(tombstoned).toBeGreaterThan(Number(left) / 2);
    expect([...compacted.values()].some((v) => v['topic'] === null)).toBe(true);
  }, 240_000);

  it('refuses an updating query whose GROUP BY key is not the sink PRIMARY KEY', async () => {
    const ddl = `CREATE TABLE keyed_${s} (uid BIGINT, posts BIGINT, PRIMARY KEY (posts) NOT ENFORCED)
WITH ('connector' = 'upsert-kafka', 'topic' = 'never_keyed_${s}', 'key.format' = 'json', 'value.format' = 'json')`;
    expect((await server.sql(ddl)).status).toBe(200);
    const sql = `INSERT INTO keyed_${s}\nSELECT uid, COUNT(*) FROM ${srcT} GROUP BY uid`;
    const bad = await server.sql(sql);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ line: 1, column: 13, message: expect.stringMatching(/keyed by its GROUP BY columns \(uid\), but the sink's PRIMARY KEY is \(posts\)/) });
    const hidden = await server.sql(`INSERT INTO keyed_${s} SELECT 1, COUNT(*) FROM ${srcT} GROUP BY uid`);
    expect(hidden.status).toBe(400);
    expect(hidden.body.error.message).toMatch(/no unique key among its columns/);
  });

  it('refuses at submit time, with a position: no PRIMARY KEY, a key column that does not exist, reading the table', async () => {
    const ddl = (pk: string) => `CREATE TABLE bad_${s} (k STRING, n BIGINT${pk})\nWITH ('connector' = 'upsert-kafka', 'topic' = 'never_${s}', 'key.format' = 'json', 'value.format' = 'json')`;
    const noPk = await server.sql(ddl(''));
    expect(noPk.status).toBe(400);
    expect(noPk.body.error).toMatchObject({ kind: 'option', line: 1, column: 1, message: expect.stringMatching(/PRIMARY KEY/) });
    const badPk = await server.sql(ddl(', PRIMARY KEY (nope) NOT ENFORCED'));
    expect(badPk.status).toBe(400);
    expect(badPk.body.error.message).toMatch(/PRIMARY KEY column 'nope'/);
    const badOpt = await server.sql(ddl(', PRIMARY KEY (k) NOT ENFORCED').replace("'key.format' = 'json'", "'key.format' = 'csv'"));
    expect(badOpt.status).toBe(400);
    expect(badOpt.body.error).toMatchObject({ line: 2, column: expect.any(Number), message: expect.stringMatching(/'key.format' = 'csv'/) });

    const ok = await server.sql(ddl(', PRIMARY KEY (k) NOT ENFORCED'));
    expect(ok.status, ok.text).toBe(200);
    const sql = `INSERT INTO bad_${s}\nSELECT k, n FROM bad_${s}`;
    const read = await server.sql(sql);
    expect(read.status).toBe(400);
    expect(read.body.error).toMatchObject({ line: 2, column: 1, message: expect.stringMatching(/cannot be read: reading a changelog topic with 'upsert-kafka' is not supported/) });
    const mv = await server.sql(`CREATE MATERIALIZED VIEW mv_bad_${s} AS SELECT k FROM bad_${s}`);
    expect(mv.status).toBe(400);
    expect((await server.get('/v1/jobs')).body.jobs.every((j: { sql: string }) => !j.sql.includes(`bad_${s}`))).toBe(true);
  });
});
