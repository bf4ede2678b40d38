// Bad records in an unbounded job (counted, last error kept, raw bytes in the dead-letter topic with
// their origin in headers; the job keeps RUNNING and stops on request), and a platform restarted on the
// same data dir (catalog back, RUNNING jobs resumed from their saved progress, STOPPED jobs left alone).
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaClient, ProducerRecord } from '../../connectors/kafka/client.ts';
import type { JobInfo } from '../../jobs/api.ts';
import { canon, multisetDiff } from '../support/oracle.ts';
import { BROKERS, produce, readAll, readJson, suffix, testClient, waitFor } from '../support/kafka.ts';
import { startServer, tempDataDir } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';

const WAIT_MS = 60_000;

let client: KafkaClient;
const topics: string[] = [];
const servers: TestServer[] = [];
const dirs: string[] = [];

function newTopicName(what: string): string {
  const t = `it_${what}_${suffix()}`;
  topics.push(t);
  return t;
}

const kafkaOpts = (topic: string, extra = ''): string =>
  `'connector' = 'kafka', 'topic' = '${topic}', 'properties.bootstrap.servers' = '${BROKERS}', 'format' = 'json'${extra}`;

const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

beforeAll(() => {
  client = testClient('weir-it-bad-records');
});

afterAll(async () => {
  for (const s of servers) await s.close(true).catch(() => undefined);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  for (const t of topics) await client?.deleteTopic(t).catch(() => undefined);
  await client?.close();
});

describe('bad records in an unbounded job', () => {
  it('are skipped, counted, kept as the last error and dead-lettered with their origin; the job keeps running and stops on request', async () => {
    const src = newTopicName('bad_src');
    const out = newTopicName('bad_out');
    const dlq = newTopicName('bad_dlq');
    await client.createTopic(src, 2);
    const server = await startServer({ progressIntervalMs: 500 });
    servers.push(server);

    // Phase 1: good and bad records on both partitions, before the job starts.
    const good: { uid: number; msg: string | null; att: number | null }[] = [];
    const badValues = new Map<string, RegExp>(); // raw text → what its weir.error must say
    const records: ProducerRecord[] = [];
    for (let i = 0; i < 400; i++) {
      const partition = i % 2;
      if (i % 10 === 3) {
        const k = (i / 10) | 0;
        const kinds: [string, RegExp][] = [
          [`not json #${k}`, /not valid JSON/],
          [`[${k}, 2, 3]`, /not a JSON object/],
          [`${k}`, /not a JSON object/],
          [JSON.stringify({ uid: `abc-${k}`, msg: 'x', ts: '2026-11-25 10:00:00.000', att: 1 }), /'uid'.*BIGINT/],
          [JSON.stringify({ uid: k, msg: 'x', ts: `yesterday-${k}`, att: 1 }), /'ts'.*TIMESTAMP/],
          [JSON.stringify({ uid: k, msg: 'x', ts: '2026-11-25 10:00:00.000', att: 3_000_000_000 + k }), /'att'.*INT/],
          [`{"uid": ${k}, "msg": "truncated`, /not valid JSON/],
        ];
        const [text, why] = kinds[k % kinds.length]!;
        badValues.set(text, why);
        records.push({ topic: src, partition, key: null, value: Buffer.from(text) });
        continue;
      }
      const row = { uid: i, msg: i % 7 === 0 ? null : `post ${i} 你好`, att: i % 5 === 0 ? null : (i % 13) - 3 };
      good.push(row);
      records.push({ topic: src, partition, key: null, value: json({ ...row, ts: '2026-11-25 10:00:00.000' }) });
    }
    await produce(client, records);
    let produced = records.length;
    let bad = badValues.size;
    expect(bad).toBe(40);

    const r = await server.sql(`
CREATE TABLE src (uid BIGINT, msg STRING, ts TIMESTAMP(3), att INT)
WITH (${kafkaOpts(src, `, 'scan.startup.mode' = 'earliest-offset', 'dead-letter.topic' = '${dlq}'`)});
CREATE TABLE out (uid BIGINT, msg STRING, att INT) WITH (${kafkaOpts(out)});
INSERT INTO out SELECT uid, msg, att FROM src WHERE att IS NULL OR att >= 0;`);
    expect(r.status, r.text).toBe(200);
    const id = r.body.results[2].jobId as string;
    expect(id).toEqual(expect.any(String));

    let job = await server.waitForJob(id, `to read ${produced} records`, (j) => j.state === 'RUNNING' && j.metrics.recordsIn >= produced, WAIT_MS);
    expect(job.metrics.recordsIn).toBe(produced);
    expect(job.metrics.recordsBad).toBe(bad);
    expect(job.metrics.recordsLate).toBe(0);
    expect(job.metrics.lastBadRecordError).toMatch(/^partition [01] offset \d+: /);

    // Phase 2: one more bad record, then only good ones: the count moves and the last error stays.
    const last = '{"uid": "phase-two", "msg": "x"}';
    await produce(client, [{ topic: src, partition: 1, key: null, value: Buffer.from(last) }]);
    badValues.set(last, /'uid'.*"phase-two".*BIGINT/);
    produced += 1;
    bad += 1;
    const lastOffset = (await client.listOffsets(src, 'latest')).get(1)! - 1;
    job = await server.waitForJob(id, 'to count the phase-two record', (j) => j.metrics.recordsBad >= bad, WAIT_MS);
    expect(job.metrics.recordsBad).toBe(bad);
    expect(job.metrics.lastBadRecordError).toContain(`partition 1 offset ${lastOffset}: `);
    expect(job.metrics.lastBadRecordError).toContain('phase-two');

    const more: ProducerRecord[] = [];
    for (let i = 1000; i < 1100; i++) {
      const row = { uid: i, msg: `late arrival ${i}`, att: i % 4 };
      good.push(row);
      more.push({ topic: src, partition: i % 2, key: null, value: json({ ...row, ts: '2026-11-25 10:05:00.000' }) });
    }
    await produce(client, more);
    produced += more.length;
    job = await server.waitForJob(id, `to read ${produced} records`, (j) => j.metrics.recordsIn >= produced, WAIT_MS);
    expect(job.state).toBe('RUNNING');
    expect(job.metrics.recordsIn).toBe(produced);
    expect(job.metrics.recordsBad).toBe(bad);
    expect(job.metrics.lastBadRecordError).toContain('phase-two');
    expect(job.error).toBeUndefined();

    // The sink has every good row that passes the filter.
    const expected = good.filter((g) => g.att === null || g.att >= 0);
    const cols = ['uid', 'msg', 'att'];
    const rows = await waitFor(
      `${expected.length} rows in ${out}`,
      async () => {
        const got = await readJson(client, out);
        return got.length >= expected.length ? got : undefined;
      },
      WAIT_MS,
      500,
    );
    const d = multisetDiff(rows.map((x) => canon(x, cols)), expected.map((x) => canon(x, cols)));
    expect(d).toEqual({ missing: [], extra: [] });
    expect(job.metrics.recordsOut).toBe(expected.length);

    // The dead-letter topic has each bad record's raw bytes, with where it came from and why.
    const source = await readAll(client, src);
    const badOrigins = source.filter((x) => badValues.has(x.value!.toString('utf8')));
    expect(badOrigins).toHaveLength(bad);
    const dead = await waitFor(
      `${bad} records in ${dlq}`,
      async () => {
        const got = await readAll(client, dlq);
        return got.length >= bad ? got : undefined;
      },
      WAIT_MS,
      500,
    );
    expect(dead).toHaveLength(bad);
    const header = (rec: (typeof dead)[number], key: string): string | undefined => rec.headers.find((h) => h.key === key)?.value?.toString('utf8');
    const seen = new Set<string>();
    for (const rec of dead) {
      const origin = `${header(rec, 'weir.source.partition')}:${header(rec, 'weir.source.offset')}`;
      expect(seen.has(origin), `dead letter ${origin} twice`).toBe(false);
      seen.add(origin);
      const from = badOrigins.find((x) => `${x.partition}:${x.offset}` === origin);
      expect(from, `dead letter from ${origin} is not one of the bad records`).toBeDefined();
      expect(Buffer.compare(rec.value!, from!.value!), `raw bytes of ${origin}`).toBe(0);
      expect(header(rec, 'weir.source.topic')).toBe(src);
      const why = header(rec, 'weir.error');
      expect(why).toMatch(badValues.get(from!.value!.toString('utf8'))!);
    }

    // Stop: STOPPED, and it stays that way.
    const stopped = await server.post(`/v1/jobs/${id}/stop`);
    expect(stopped.status, stopped.text).toBe(200);
    expect(stopped.body).toMatchObject({ id, state: 'STOPPED' });
    const after = await server.get(`/v1/jobs/${id}`);
    expect(after.body.state).toBe('STOPPED');
    expect(after.body.metrics.recordsBad).toBe(bad);
  });
});

describe('a platform restarted on the same data dir', () => {
  it('has its catalog, resumes RUNNING jobs from their progress and leaves STOPPED jobs stopped', async () => {
    const src = newTopicName('restart_src');
    const ev = newTopicName('restart_ev');
    const copyOut = newTopicName('restart_copy');
    const winOut = newTopicName('restart_win');
    const idleOut = newTopicName('restart_idle');
    await client.createTopic(src, 3);
    await client.createTopic(ev, 1);
    const dataDir = tempDataDir();
    dirs.push(dataDir);

    const first = await startServer({ dataDir, progressIntervalMs: 300 });
    servers.push(first);
    const setup = await first.sql(`
CREATE TABLE src (n BIGINT, part INT) WITH (${kafkaOpts(src, `, 'scan.startup.mode' = 'earliest-offset'`)});
CREATE TABLE copy_out (n BIGINT, part INT) WITH (${kafkaOpts(copyOut)});
CREATE TABLE ev (uid BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
  WITH (${kafkaOpts(ev, `, 'scan.startup.mode' = 'earliest-offset'`)});
CREATE TABLE win_out (window_start TIMESTAMP(3), window_end TIMESTAMP(3), posts BIGINT, users BIGINT) WITH (${kafkaOpts(winOut)});
CREATE TABLE idle_out (n BIGINT, part INT) WITH (${kafkaOpts(idleOut)});
SET 'pipeline.name' = 'copy';
INSERT INTO copy_out SELECT n, part FROM src;
SET 'pipeline.name' = 'per-minute';
INSERT INTO win_out
SELECT window_start, window_end, COUNT(*), COUNT(DISTINCT uid)
FROM TABLE(TUMBLE(TABLE ev, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
GROUP BY window_start, window_end;
SET 'pipeline.name' = 'stopped-before';
INSERT INTO idle_out SELECT n, part FROM src WHERE n < 0;`);
    expect(setup.status, setup.text).toBe(200);
    const jobIds = (setup.body.results as { kind: string; jobId?: string }[]).filter((x) => x.kind === 'job').map((x) => x.jobId!);
    expect(jobIds).toHaveLength(3);
    const [copyId, winId, idleId] = jobIds as [string, string, string];
    await first.waitForState(idleId, 'RUNNING', WAIT_MS);
    expect((await first.post(`/v1/jobs/${idleId}/stop`)).body.state).toBe('STOPPED');

    const srcRecords = (from: number, to: number): ProducerRecord[] =>
      Array.from({ length: to - from }, (_, k) => ({ topic: src, partition: (from + k) % 3, key: null, value: json({ n: from + k, part: (from + k) % 3 }) }));
    const evRecords = (rows: [uid: number, ts: string][]): ProducerRecord[] =>
      rows.map(([uid, ts]) => ({ topic: ev, partition: 0, key: null, value: json({ uid, ts }) }));

    // Before the restart: the 10:00 window gets 4 events; the watermark (10:00:49) does not close it.
    await produce(client, srcRecords(0, 300));
    await produce(client, evRecords([[1, '2026-11-25 10:00:05.000'], [2, '2026-11-25 10:00:20.000'], [1, '2026-11-25 10:00:41.000'], [3, '2026-11-25 10:00:50.000']]));
    await first.waitForJob(copyId, 'to read 300 records', (j) => j.metrics.recordsIn >= 300, WAIT_MS);
    await first.waitForJob(winId, 'to read 4 events', (j) => j.metrics.recordsIn >= 4 && j.metrics.watermark === '2026-11-25 10:00:49.000', WAIT_MS);
    expect(first.platform.getJob(winId)!.metrics.recordsOut).toBe(0);
    await first.close();

    // Records that arrive while the platform is down.
    await produce(client, srcRecords(300, 400));
    await produce(client, evRecords([[4, '2026-11-25 10:00:55.000']]));

    const second = await startServer({ dataDir, progressIntervalMs: 300 });
    servers.push(second);
    // The catalog is back.
    const tables = (await second.get('/v1/tables')).body.tables as { name: string }[];
    expect(tables.map((t) => t.name).sort()).toEqual(['copy_out', 'ev', 'idle_out', 'src', 'win_out']);
    expect((await second.get('/v1/tables/ev')).body.watermark).toEqual({ column: 'ts', expr: "ts - INTERVAL '1' SECOND" });
    // The jobs are back, with their ids and names; the stopped one stays stopped.
    const jobs = (await second.get('/v1/jobs')).body.jobs as JobInfo[];
    expect(jobs.map((j) => [j.id, j.name]).sort()).toEqual(
      [
        [copyId, 'copy'],
        [winId, 'per-minute'],
        [idleId, 'stopped-before'],
      ].sort(),
    );
    expect((await second.get(`/v1/jobs/${idleId}`)).body.state).toBe('STOPPED');
    await second.waitForState(copyId, 'RUNNING', WAIT_MS);
    await second.waitForState(winId, 'RUNNING', WAIT_MS);

    // More records after the restart: processed by the resumed jobs.
    await produce(client, srcRecords(400, 500));
    await produce(client, evRecords([[5, '2026-11-25 10:01:10.000'], [5, '2026-11-25 10:01:30.000'], [6, '2026-11-25 10:02:30.000']]));

    // The copy job: every record, before, during and after the restart, at least once.
    const copied = await waitFor(
      `all 500 records in ${copyOut}`,
      async () => {
        const got = await readJson(client, copyOut);
        const ns = new Set(got.map((x) => x['n'] as number));
        return ns.size >= 500 ? got : undefined;
      },
      WAIT_MS,
      500,
    );
    const ns = new Set(copied.map((x) => x['n'] as number));
    expect([...ns].sort((a, b) => a - b)).toEqual(Array.from({ length: 500 }, (_, i) => i));
    for (const row of copied) expect(row['part']).toBe((row['n'] as number) % 3);
    // It resumed from its progress rather than from the beginning: (nearly) no record twice.
    expect(copied.length).toBeLessThan(600);
    const copyJob = await second.waitForJob(copyId, 'to read the records after the restart', (j) => j.metrics.recordsIn >= 200, WAIT_MS);
    expect(copyJob.metrics.recordsIn).toBeLessThan(300); // the metrics of this run: 100 + 100, plus replays

    // The window job: the 10:00 window, opened before the restart, closes after it with all 5 events
    // (its state came back with the job); the 10:01 window closes at 10:02:30.
    const windows = await waitFor(
      `two windows in ${winOut}`,
      async () => {
        const got = await readJson(client, winOut);
        return got.length >= 2 ? got : undefined;
      },
      WAIT_MS,
      500,
    );
    expect(windows).toEqual([
      { window_start: '2026-11-25 10:00:00.000', window_end: '2026-11-25 10:01:00.000', posts: 5, users: 4 },
      { window_start: '2026-11-25 10:01:00.000', window_end: '2026-11-25 10:02:00.000', posts: 2, users: 1 },
    ]);
    expect((await second.get(`/v1/jobs/${winId}`)).body.metrics.recordsLate).toBe(0);

    // The stopped job did not run again.
    expect(await client.topicExists(idleOut)).toBe(true);
    expect(await readAll(client, idleOut)).toEqual([]);
    expect((await second.get(`/v1/jobs/${idleId}`)).body.metrics.recordsIn).toBe(0);
  });
});
