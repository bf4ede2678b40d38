// The whole Weibo example (examples/weibo/tables.sql, jobs.sql, views.sql), every job, over a bounded topic
// of 50,000 generated events (`weir gen weibo`'s producer, with malformed records mixed in), compared with
// DuckDB over the same events: each Kafka sink topic, the Parquet lake, and each materialized view.
//
// The SQL files run as written except for what a test must change: the feed table is made bounded
// ('scan.bounded.mode' = 'latest-offset', so every job FINISHES and its last windows fire), topic names get a
// unique suffix (the demo uses the plain names on the same broker), and the lake path is a temp dir.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaClient } from '../../connectors/kafka/client.ts';
import { WeiboGenerator } from '../../examples/weibo/generator.ts';
import type { WeiboEvent } from '../../examples/weibo/generator.ts';
import { produceWeibo } from '../../examples/weibo/produce.ts';
import { BROKERS, readAll, readJson, suffix, testClient } from '../support/kafka.ts';
import { Oracle, canon, multisetDiff } from '../support/oracle.ts';
import { startServer, tempDataDir } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';

const EVENTS = 50_000;
const SEED = 11;
const BAD_RATE = 0.002;
const DIR = join(import.meta.dirname, '..', '..', 'examples', 'weibo');
const s = suffix();
const topicOf = (name: string): string => `${name}_${s}`;

let client: KafkaClient;
let server: TestServer;
let oracle: Oracle;
let lake: string;
const topics: string[] = [];

/** The example's SQL with a test's changes: bounded feed, unique topics, the lake in a temp dir. */
function exampleSql(file: string): string {
  let sql = readFileSync(join(DIR, file), 'utf8');
  sql = sql.replace(/'(topic|dead-letter\.topic)' = '([^']+)'/g, (_m, k: string, t: string) => {
    topics.push(topicOf(t));
    return `'${k}' = '${topicOf(t)}'`;
  });
  sql = sql.replace("'scan.startup.mode' = 'earliest-offset',", "'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset',");
  sql = sql.replace("'path' = '.weir/demo/lake'", `'path' = '${lake}'`);
  // The rewrites must have applied: an unbounded feed would never finish, the demo's lake is not ours.
  if (file === 'tables.sql' && !(sql.includes("'scan.bounded.mode'") && sql.includes(lake))) throw new Error('tables.sql changed: update the rewrites of this test');
  return sql;
}

/** The events `weir gen weibo --rate 0 --seed SEED --bad-rate BAD_RATE` produced (the generator is deterministic). */
function generatedEvents(): { good: WeiboEvent[]; bad: number } {
  const gen = new WeiboGenerator({ seed: SEED, startMs: Date.UTC(2026, 10, 25, 8, 0, 0), stepMs: 10, jitterMs: 2000, users: 5000, badRate: BAD_RATE });
  const good: WeiboEvent[] = [];
  let bad = 0;
  for (let i = 0; i < EVENTS; i++) {
    const e = gen.next();
    if (typeof e === 'string') bad++;
    else good.push(e);
  }
  return { good, bad };
}

const ms = (ts: string): number => Date.parse(ts.replace(' ', 'T') + 'Z');
/** Timestamps as epoch ms wherever they come from (Kafka JSON and the view API give SQL text, DuckDB numbers). */
const tsCanon = (v: unknown): unknown => (typeof v === 'string' && /^\d{4}-\d\d-\d\d[ T]\d\d:/.test(v) ? ms(v) : v);

function expectSameRows(what: string, actual: readonly Record<string, unknown>[], expected: readonly Record<string, unknown>[], columns: readonly string[]): void {
  const norm = (r: Record<string, unknown>) => canon(Object.fromEntries(columns.map((c) => [c, tsCanon(r[c])])), columns);
  const diff = multisetDiff(actual.map(norm), expected.map(norm));
  expect({ what, missing: diff.missing.slice(0, 5), extra: diff.extra.slice(0, 5) }).toEqual({ what, missing: [], extra: [] });
  expect(actual.length, what).toBe(expected.length);
}

/** Rows of a view through the query API, as objects. */
async function viewRows(view: string): Promise<Record<string, unknown>[]> {
  const q = await server.post('/v1/query', { sql: `SELECT * FROM ${view}` });
  expect(q.status, q.text).toBe(200);
  const cols = (q.body.columns as { name: string }[]).map((c) => c.name);
  return (q.body.rows as unknown[][]).map((r) => Object.fromEntries(cols.map((c, i) => [c, r[i]])));
}

const jobs = new Map<string, string>();
let counts: { good: number; bad: number };

beforeAll(async () => {
  client = testClient('weir-it-weibo-oracle');
  server = await startServer({ progressIntervalMs: 1000 });
  lake = join(tempDataDir('weir-weibo-lake-'), 'lake');
  const tablesSql = exampleSql('tables.sql');
  const feed = topicOf('weibo_data');
  // The real producer of `weir gen weibo`: flat out (a backfill: event time 10 ms apart from 2026-11-25 08:00).
  const produced = await produceWeibo({ brokers: BROKERS, topic: feed, rate: 0, count: EVENTS, seed: SEED, badRate: BAD_RATE, partitions: 4 });
  expect(produced).toBe(EVENTS);

  const { good, bad } = generatedEvents();
  counts = { good: good.length, bad };
  oracle = await Oracle.create();
  await oracle.load(
    'weibo',
    [['uid', 'BIGINT'], ['tid', 'BIGINT'], ['t', 'BIGINT'], ['text', 'VARCHAR'], ['loc', 'VARCHAR'], ['type', 'VARCHAR'], ['rtid', 'BIGINT'], ['ret', 'INTEGER'], ['mre', 'INTEGER'], ['att', 'INTEGER']],
    good.map((e) => [e.uid, e.tid, ms(e.time), e.text, e.loc, e.type, e.rtid, e.ret, e.mre, e.att]),
  );

  // Every statement of the three files, in the demo's order; one job per INSERT and per view.
  for (const [file, sql] of [['tables.sql', tablesSql], ['jobs.sql', exampleSql('jobs.sql')], ['views.sql', exampleSql('views.sql')]] as const) {
    const res = await server.sql(sql);
    expect(res.status, `${file}: ${res.text}`).toBe(200);
  }
  const list = await server.get('/v1/jobs');
  for (const j of list.body.jobs as { id: string; name: string }[]) jobs.set(j.name, j.id);
  for (const [, id] of jobs) await server.waitForState(id, 'FINISHED', 120_000);
}, 240_000);

afterAll(async () => {
  await server?.close(true);
  oracle?.close();
  if (lake) rmSync(join(lake, '..'), { recursive: true, force: true });
  for (const t of topics) await client?.deleteTopic(t).catch(() => undefined);
  await client?.close();
});

/** Hot topics, as the example counts them: every #hashtag# of a post, per TUMBLE minute. */
const HASHTAGS = `SELECT t // 60000 * 60000 AS window_start, t // 60000 * 60000 + 60000 AS window_end, uid,
  unnest(regexp_extract_all(text, '#([^#]+)#', 1)) AS topic FROM weibo`;
const MINUTE = 't // 60000 * 60000 AS window_start, t // 60000 * 60000 + 60000 AS window_end';

/** The views of views.sql. */
const VIEWS = [...readFileSync(join(DIR, 'views.sql'), 'utf8').matchAll(/CREATE MATERIALIZED VIEW IF NOT EXISTS (\w+)/g)].map((m) => m[1]!);

/** Each view of views.sql as DuckDB computes it over the same events. */
const VIEW_ORACLES: Record<string, { sql: string; columns: string[] }> = {
  leaderboard_bloggers: {
    sql: `SELECT ${MINUTE}, uid, COUNT(*) AS posts, SUM(ret + att) AS engagement FROM weibo GROUP BY ALL`,
    columns: ['window_start', 'window_end', 'uid', 'posts', 'engagement'],
  },
  posts_per_minute: { sql: `SELECT ${MINUTE}, type, COUNT(*) AS posts FROM weibo GROUP BY ALL`, columns: ['window_start', 'window_end', 'type', 'posts'] },
  places_per_minute: { sql: `SELECT ${MINUTE}, loc, COUNT(*) AS posts FROM weibo GROUP BY ALL`, columns: ['window_start', 'window_end', 'loc', 'posts'] },
  top_bloggers_per_minute: {
    sql: `SELECT * FROM (
            SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start ORDER BY engagement DESC NULLS LAST, posts DESC, uid) AS rownum
            FROM (SELECT ${MINUTE}, uid, COUNT(*) AS posts, SUM(ret + att) AS engagement FROM weibo GROUP BY ALL))
          WHERE rownum <= 10`,
    columns: ['window_start', 'window_end', 'uid', 'posts', 'engagement', 'rownum'],
  },
  hot_topics_per_minute: {
    sql: `SELECT window_start, window_end, topic, COUNT(*) AS posts, COUNT(DISTINCT uid) AS bloggers FROM (${HASHTAGS}) GROUP BY ALL`,
    columns: ['window_start', 'window_end', 'topic', 'posts', 'bloggers'],
  },
};

describe('examples/weibo over 50,000 generated events, against DuckDB', () => {
  it('runs every job of jobs.sql and views.sql to the end', async () => {
    const pipelines = [...readFileSync(join(DIR, 'jobs.sql'), 'utf8').matchAll(/SET 'pipeline\.name' = '([^']+)'/g)].map((m) => m[1]!);
    expect([...jobs.keys()].sort()).toEqual([...pipelines, ...VIEWS.map((v) => `materialized-view_${v}`)].sort());
    expect(counts.bad).toBeGreaterThan(50);
    expect(counts.good + counts.bad).toBe(EVENTS);
  });

  it('dead-letters every malformed record of the feed (each job skips them; none is lost)', async () => {
    const dlq = await readAll(client, topicOf('weibo_dead_letters'), 60_000);
    const header = (r: (typeof dlq)[number], k: string) => r.headers.find((h) => h.key === k)?.value?.toString();
    const origins = new Set(dlq.map((r) => `${header(r, 'weir.source.partition')}:${header(r, 'weir.source.offset')}`));
    expect(origins.size).toBe(counts.bad);
    expect(new Set(dlq.map((r) => header(r, 'weir.job.id'))).size).toBe(jobs.size);
  });

  it('every materialized view of views.sql equals its batch query', async () => {
    const unchecked = VIEWS.filter((v) => !(v in VIEW_ORACLES));
    expect(unchecked, 'views.sql has views this test has no oracle for: add one to VIEW_ORACLES').toEqual([]);
    for (const v of VIEWS) {
      const { sql, columns } = VIEW_ORACLES[v]!;
      const want = await oracle.query(sql);
      expect(want.length).toBeGreaterThan(0);
      expectSameRows(v, await viewRows(v), want, columns);
    }
  });

  it('hot_topics: hashtags exploded, posts and distinct bloggers per topic per minute', async () => {
    const want = await oracle.query(`SELECT window_start, window_end, topic, COUNT(*) AS posts, COUNT(DISTINCT uid) AS bloggers
      FROM (${HASHTAGS}) GROUP BY ALL`);
    const got = await readJson(client, topicOf('hot_topics'), 60_000, 'read_committed');
    expect(want.length).toBeGreaterThan(200); // 30 topics x 9 minutes
    expectSameRows('hot_topics', got, want, ['window_start', 'window_end', 'topic', 'posts', 'bloggers']);
    // The share of hashtags the example counts is every hashtag in the feed.
    const total = await oracle.query(`SELECT COUNT(*) AS n FROM (${HASHTAGS})`);
    expect(got.reduce((s, r) => s + Number(r['posts']), 0)).toBe(Number(total[0]!['n']));
  });

  it('hot_bloggers: posts and engagement per blogger per minute', async () => {
    const want = await oracle.query(`SELECT t // 60000 * 60000 AS window_start, t // 60000 * 60000 + 60000 AS window_end, uid,
      COUNT(*) AS posts, SUM(ret + att) AS engagement FROM weibo GROUP BY ALL`);
    const cols = ['window_start', 'window_end', 'uid', 'posts', 'engagement'];
    expectSameRows('hot_bloggers', await readJson(client, topicOf('hot_bloggers'), 60_000, 'read_committed'), want, cols);
    // The leaderboard view as the README queries it: the top 10 of the last minute.
    const top = await server.post('/v1/query', { sql: 'SELECT uid, engagement FROM leaderboard_bloggers WHERE window_start = (SELECT MAX(window_start) FROM leaderboard_bloggers) ORDER BY engagement DESC, uid LIMIT 10' });
    expect(top.status, top.text).toBe(200);
    const topWant = await oracle.query(`SELECT uid, SUM(ret + att) AS engagement FROM weibo WHERE t // 60000 = (SELECT MAX(t) // 60000 FROM weibo)
      GROUP BY uid ORDER BY engagement DESC, uid LIMIT 10`);
    expect((top.body.rows as unknown[][]).map((r) => `${r[0]}:${r[1]}`)).toEqual(topWant.map((r) => `${r['uid']}:${r['engagement']}`));
  });

  it('posts_by_loc: posts per place per minute', async () => {
    const want = await oracle.query(`SELECT t // 60000 * 60000 AS window_start, t // 60000 * 60000 + 60000 AS window_end, loc, COUNT(*) AS posts FROM weibo GROUP BY ALL`);
    const cols = ['window_start', 'window_end', 'loc', 'posts'];
    expectSameRows('posts_by_loc', await readJson(client, topicOf('posts_by_loc'), 60_000, 'read_committed'), want, cols);
  });

  it('posts_by_type: originals and forwards per 1-minute HOP window sliding by 10 s', async () => {
    // Each event falls into the 6 windows that start at a multiple of 10 s within the minute before it.
    const want = await oracle.query(`SELECT ws AS window_start, ws + 60000 AS window_end,
        SUM(CASE WHEN type = 'original' THEN 1 ELSE 0 END) AS originals, SUM(CASE WHEN type = 'forward' THEN 1 ELSE 0 END) AS forwards
      FROM (SELECT type, t // 10000 * 10000 - k * 10000 AS ws FROM weibo, range(0, 6) r(k)) GROUP BY ws`);
    expectSameRows('posts_by_type', await readJson(client, topicOf('posts_by_type'), 60_000, 'read_committed'), want, ['window_start', 'window_end', 'originals', 'forwards']);
  });

  it('the lake: every valid post exactly once, text trimmed, in its dt=/hr= partition', async () => {
    const want = await oracle.query(`SELECT uid, tid, t AS time, trim(text) AS text, loc, type, rtid, ret, mre, att,
        strftime(make_timestamp(t * 1000), '%Y-%m-%d') AS dt, strftime(make_timestamp(t * 1000), '%H') AS hr FROM weibo`);
    const got = await oracle.query(`SELECT uid, tid, epoch_ms(time) AS time, text, loc, type, rtid, ret, mre, att, dt, hr,
        regexp_extract(filename, 'dt=([^/]+)/hr=([^/]+)/part-[^/]+\\.parquet$', ['d', 'h']) AS dir
      FROM read_parquet('${lake}/**/*.parquet', hive_partitioning = true, filename = true)`);
    expect(got.length).toBe(counts.good);
    expectSameRows('weibo_lake', got, want, ['uid', 'tid', 'time', 'text', 'loc', 'type', 'rtid', 'ret', 'mre', 'att', 'dt', 'hr']);
    // Partition values come from the directories, and match the row's own time.
    for (const r of got.slice(0, 2000)) expect(r['dir']).toEqual({ d: r['dt'], h: r['hr'] });
    // The first posts jitter to before 08:00: two hours.
    const parts = await oracle.query(`SELECT DISTINCT dt, hr FROM read_parquet('${lake}/**/*.parquet', hive_partitioning = true) ORDER BY ALL`);
    expect(parts).toEqual([{ dt: '2026-11-25', hr: '07' }, { dt: '2026-11-25', hr: '08' }]);
  });
});
