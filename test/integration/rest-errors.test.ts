// The REST API's answers to mistakes, over a real platform (catalog in a temp dir, real broker): the
// failing statement's number, line and column relative to the whole text sent; earlier statements stay
// applied; 409 for a taken name, 404 for unknown ids and names; never a 500 nor a stack trace.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaClient } from '../../connectors/kafka/client.ts';
import { BROKERS, suffix, testClient } from '../support/kafka.ts';
import { startServer } from '../support/server.ts';
import type { HttpAnswer, TestServer } from '../support/server.ts';

let server: TestServer;
let client: KafkaClient;
const sfx = suffix();
const srcTopic = `it_rest_src_${sfx}`;
const outTopic = `it_rest_out_${sfx}`;
const topics = [srcTopic, outTopic];

const SRC = `CREATE TABLE posts (
  uid BIGINT,
  topic STRING,
  ts TIMESTAMP(3),
  att INT,
  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH ('connector' = 'kafka', 'topic' = '${srcTopic}', 'properties.bootstrap.servers' = '${BROKERS}', 'format' = 'json', 'scan.startup.mode' = 'earliest-offset')`;
const OUT = `CREATE TABLE counts (window_start TIMESTAMP(3), window_end TIMESTAMP(3), uid BIGINT, n BIGINT)
WITH ('connector' = 'kafka', 'topic' = '${outTopic}', 'properties.bootstrap.servers' = '${BROKERS}', 'format' = 'json')`;

/** 1-based line and column of the `nth` occurrence of `needle` in `text`. */
function posOf(text: string, needle: string, nth = 1): { line: number; column: number } {
  let at = -1;
  for (let i = 0; i < nth; i++) {
    at = text.indexOf(needle, at + 1);
    if (at < 0) throw new Error(`'${needle}' (#${nth}) not in the text`);
  }
  const before = text.slice(0, at);
  const line = before.split('\n').length;
  return { line, column: at - before.lastIndexOf('\n') };
}

function expectNoStack(r: HttpAnswer): void {
  expect(r.text).not.toMatch(/\n\s+at /);
  expect(r.text).not.toMatch(/\.ts:\d+/);
  expect(r.text).not.toContain('"stack"');
}

/** A 400 with the error shape of DESIGN §7 (and no stack). */
function expectSqlError(
  r: HttpAnswer,
  status: number | readonly number[] = 400,
): { message: string; statement: number | null; line: number | null; column: number | null; kind?: string } {
  expect(typeof status === 'number' ? [status] : status, r.text).toContain(r.status);
  expect(r.body?.error, r.text).toBeDefined();
  expect(typeof r.body.error.message).toBe('string');
  expect(r.body.error.message.length).toBeGreaterThan(0);
  expectNoStack(r);
  return r.body.error;
}

async function tableNames(): Promise<string[]> {
  const r = await server.sql('SHOW TABLES');
  expect(r.status, r.text).toBe(200);
  return (r.body.results[0].rows as string[][]).map((row) => row[0]!);
}

beforeAll(async () => {
  client = testClient('weir-it-rest');
  await client.createTopic(srcTopic, 2);
  server = await startServer({ progressIntervalMs: 1000 });
  const r = await server.sql(`${SRC};\n${OUT};`);
  expect(r.status, r.text).toBe(200);
});

afterAll(async () => {
  await server?.close(true);
  for (const t of topics) await client?.deleteTopic(t).catch(() => undefined);
  await client?.close();
});

describe('errors in statements point at the statement, line and column', () => {
  it('a syntax error in the 2nd of 3 statements (on line 4): 400, statement 1 stays applied, statement 3 does not run', async () => {
    const sql = [
      "CREATE TABLE first_ok (x INT) WITH ('connector' = 'kafka', 'topic' = 'first_ok', 'format' = 'json');",
      'INSERT INTO counts',
      'SELECT window_start, window_end, uid, COUNT(*)',
      "FROM TABLE(TUMBLE(TABLE posts, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) WHERE att > = 3",
      'GROUP BY window_start, window_end, uid;',
      "CREATE TABLE third_never (x INT) WITH ('connector' = 'kafka', 'topic' = 'third_never', 'format' = 'json');",
    ].join('\n');
    const err = expectSqlError(await server.sql(sql));
    expect(err).toMatchObject({ statement: 2, ...posOf(sql, '= 3'), kind: 'syntax' });
    expect(err.message).toMatch(/syntax/i);
    expect(err.message).toContain("'='");

    const names = await tableNames();
    expect(names).toContain('first_ok');
    expect(names).not.toContain('third_never');
    expect((await server.get('/v1/tables/first_ok')).status).toBe(200);
    expect((await server.get('/v1/tables/third_never')).status).toBe(404);
    // No job came out of the failed INSERT.
    expect((await server.get('/v1/jobs')).body.jobs).toEqual([]);
  });

  it('an unknown column: 400 at the column, naming it and what is there', async () => {
    const sql = "SET 'pipeline.name' = 'never';\nINSERT INTO counts\nSELECT window_start, window_end, uid, COUNT(nope)\nFROM TABLE(TUMBLE(TABLE posts, DESCRIPTOR(ts), INTERVAL '1' MINUTE))\nGROUP BY window_start, window_end, uid";
    const err = expectSqlError(await server.sql(sql));
    expect(err).toMatchObject({ statement: 2, ...posOf(sql, 'nope'), kind: 'binding' });
    expect(err.message).toContain("'nope'");
    expect(err.message).toMatch(/not found/);
    expect(err.message).toContain('uid'); // the columns that do exist
  });

  it('mini-batch switched on without its latency and size: 400 at the statement that starts the job; bad values at the SET', async () => {
    const sql = "SET 'table.exec.mini-batch.enabled' = 'true';\nSET 'table.exec.mini-batch.allow-latency' = '2 s';\n  CREATE MATERIALIZED VIEW never_mb AS SELECT uid, COUNT(*) AS n FROM posts GROUP BY uid";
    const err = expectSqlError(await server.sql(sql));
    expect(err).toMatchObject({ statement: 3, ...posOf(sql, 'CREATE'), kind: 'option' });
    expect(err.message).toContain("'table.exec.mini-batch.size'");
    expect(err.message).not.toContain("'table.exec.mini-batch.allow-latency'");
    const bad = "SHOW TABLES;\nSET 'table.exec.mini-batch.size' = '-5'";
    const err2 = expectSqlError(await server.sql(bad));
    expect(err2).toMatchObject({ statement: 2, line: 2, column: 1 });
    expect(err2.message).toMatch(/positive number of rows/);
    // Set in full, it shows in the plan.
    const ok = await server.sql("SET 'table.exec.mini-batch.enabled' = 'true'; SET 'table.exec.mini-batch.allow-latency' = '2 s'; SET 'table.exec.mini-batch.size' = '5000';\nEXPLAIN SELECT uid, COUNT(*) AS n FROM posts GROUP BY uid");
    expect(ok.status, ok.text).toBe(200);
    expect(JSON.stringify(ok.body.results.at(-1).rows)).toContain('miniBatch=[latency=2000ms, size=5000]');
    // A materialized view's job has it until each checkpoint unless told otherwise; a plain query does not.
    const view = 'CREATE MATERIALIZED VIEW never_mb AS SELECT uid, COUNT(*) AS n FROM posts GROUP BY uid';
    const dflt = await server.sql(`SET 'execution.checkpointing.interval' = '2 s';\nEXPLAIN ${view}`);
    expect(dflt.status, dflt.text).toBe(200);
    expect(JSON.stringify(dflt.body.results.at(-1).rows)).toContain('miniBatch=[latency=2000ms, size=unbounded]');
    const off = await server.sql(`SET 'table.exec.mini-batch.enabled' = 'false';\nEXPLAIN ${view}`);
    expect(off.status, off.text).toBe(200);
    expect(JSON.stringify(off.body.results.at(-1).rows)).not.toContain('miniBatch');
    const query = await server.sql('EXPLAIN SELECT uid, COUNT(*) AS n FROM posts GROUP BY uid');
    expect(JSON.stringify(query.body.results.at(-1).rows)).not.toContain('miniBatch');
  });

  it('an unknown table: 400 at the name', async () => {
    const sql = 'INSERT INTO counts\nSELECT window_start, window_end, uid, COUNT(*)\nFROM TABLE(TUMBLE(TABLE postz, DESCRIPTOR(ts), INTERVAL \'1\' MINUTE))\nGROUP BY window_start, window_end, uid';
    const err = expectSqlError(await server.sql(sql));
    expect(err).toMatchObject({ statement: 1, ...posOf(sql, 'postz') });
    expect(err.message).toContain("'postz'");
    expect(err.message).toMatch(/not found/);

    const sink = 'INSERT INTO nowhere SELECT uid FROM posts';
    const err2 = expectSqlError(await server.sql(sink));
    expect(err2).toMatchObject({ statement: 1, ...posOf(sink, 'nowhere') });
    expect(err2.message).toContain("'nowhere'");
  });

  it('a non-windowed GROUP BY into a kafka sink is refused as an updating query', async () => {
    const t = await server.sql("CREATE TABLE per_user (uid BIGINT, n BIGINT) WITH ('connector' = 'kafka', 'topic' = 'never_written', 'format' = 'json')");
    expect(t.status, t.text).toBe(200);
    const sql = 'INSERT INTO per_user\nSELECT uid, COUNT(*)\nFROM posts\nGROUP BY uid';
    const err = expectSqlError(await server.sql(sql));
    expect(err.statement).toBe(1);
    expect(err.line).toBe(4);
    expect(err.message).toMatch(/updating/i);
    expect(err.message).toMatch(/upsert|window/i); // says what to do instead
    expect((await server.get('/v1/jobs')).body.jobs).toEqual([]);
  });

  it('an unknown connector option: 400 naming the option, at the option', async () => {
    const sql = `CREATE TABLE typo (x INT) WITH (\n  'connector' = 'kafka',\n  'topic' = 't',\n  'format' = 'json',\n  'scan.startup.mod' = 'earliest-offset'\n)`;
    const err = expectSqlError(await server.sql(sql));
    expect(err).toMatchObject({ statement: 1, ...posOf(sql, "'scan.startup.mod'"), kind: 'option' });
    expect(err.message).toContain("'scan.startup.mod'");
    expect((await server.get('/v1/tables/typo')).status).toBe(404);

    const conn = "CREATE TABLE t2 (x INT) WITH ('connector' = 'kafak', 'topic' = 't', 'format' = 'json')";
    const err2 = expectSqlError(await server.sql(conn));
    expect(err2.message).toContain("'kafak'");
    expect(err2).toMatchObject({ statement: 1, ...posOf(conn, "'connector'"), kind: 'option' });
  });

  it('a type mismatch with the sink: 400 at the expression', async () => {
    const sql = "INSERT INTO counts\nSELECT window_start, window_end, uid, 'many'\nFROM TABLE(TUMBLE(TABLE posts, DESCRIPTOR(ts), INTERVAL '1' MINUTE))";
    const err = expectSqlError(await server.sql(sql));
    expect(err).toMatchObject({ statement: 1, ...posOf(sql, "'many'") });
    expect(err.message).toMatch(/STRING/);
    expect(err.message).toMatch(/BIGINT/);
  });

  it('a bare SELECT over a stream: 400 saying to use INSERT INTO', async () => {
    const sql = 'SHOW TABLES;\n  SELECT * FROM posts';
    const err = expectSqlError(await server.sql(sql));
    expect(err).toMatchObject({ statement: 2, line: 2, column: 3 });
    expect(err.message).toMatch(/INSERT INTO/);
  });
});

describe('conflicts and names', () => {
  it('a duplicate CREATE TABLE is a 409; IF NOT EXISTS is a 200 that changes nothing', async () => {
    const before = (await server.get('/v1/tables/posts')).body;
    const dup = "CREATE TABLE posts (x INT) WITH ('connector' = 'kafka', 'topic' = 'other', 'format' = 'json')";
    const err = expectSqlError(await server.sql(dup), 409);
    expect(err.message).toContain("'posts'");
    expect(err.statement).toBe(1);

    const again = await server.sql(dup.replace('CREATE TABLE', 'CREATE TABLE IF NOT EXISTS'));
    expect(again.status, again.text).toBe(200);
    expect(again.body.results).toEqual([{ statement: 1, kind: 'ok', message: expect.stringMatching(/exists/) }]);
    expect((await server.get('/v1/tables/posts')).body).toEqual(before);

    // A whole script re-run with IF NOT EXISTS is safe.
    const script = `${SRC.replace('CREATE TABLE', 'CREATE TABLE IF NOT EXISTS')};\n${OUT.replace('CREATE TABLE', 'CREATE TABLE IF NOT EXISTS')};`;
    const rerun = await server.sql(script);
    expect(rerun.status, rerun.text).toBe(200);
    expect(rerun.body.results.map((x: { kind: string }) => x.kind)).toEqual(['ok', 'ok']);
  });

  it('unknown job ids and table names are 404s', async () => {
    for (const [method, path] of [
      ['GET', '/v1/jobs/00000000-0000-0000-0000-000000000000'],
      ['POST', '/v1/jobs/00000000-0000-0000-0000-000000000000/stop'],
      ['GET', '/v1/jobs/no-such-job'],
      ['GET', '/v1/tables/no_such_table'],
      ['GET', '/v1/no/such/endpoint'],
    ] as const) {
      const r = method === 'GET' ? await server.get(path) : await server.post(path);
      expect(r.status, `${method} ${path}: ${r.text}`).toBe(404);
      expect(typeof r.body.error.message).toBe('string');
    }
    expect((await server.get('/v1/jobs/nope')).body).toEqual({ error: { message: "unknown job 'nope'" } });
    expect((await server.get('/v1/tables/nope')).body).toEqual({ error: { message: "unknown table 'nope'" } });
  });
});

describe('catalog statements and endpoints', () => {
  it('GET /v1/tables/:name and GET /v1/tables describe the table', async () => {
    const r = await server.get('/v1/tables/posts');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      name: 'posts',
      kind: 'table',
      columns: [
        { name: 'uid', type: 'BIGINT' },
        { name: 'topic', type: 'STRING' },
        { name: 'ts', type: 'TIMESTAMP(3)' },
        { name: 'att', type: 'INT' },
      ],
      watermark: { column: 'ts', expr: "ts - INTERVAL '5' SECOND" },
      options: { connector: 'kafka', topic: srcTopic, format: 'json', 'scan.startup.mode': 'earliest-offset' },
    });
    expect(r.body.sql).toContain('CREATE TABLE posts');
    const all = await server.get('/v1/tables');
    expect(all.status).toBe(200);
    const names = (all.body.tables as { name: string }[]).map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['posts', 'counts']));
  });

  it('SHOW TABLES and DESCRIBE', async () => {
    expect(await tableNames()).toEqual(expect.arrayContaining(['posts', 'counts']));
    const d = await server.sql('DESCRIBE posts');
    expect(d.status, d.text).toBe(200);
    const res = d.body.results[0];
    expect(res.kind).toBe('rows');
    expect(res.columns.map((c: { name: string }) => c.name)).toEqual(['name', 'type', 'extras', 'watermark']);
    expect(res.rows).toEqual([
      ['uid', 'BIGINT', null, null],
      ['topic', 'STRING', null, null],
      ['ts', 'TIMESTAMP(3)', null, "ts - INTERVAL '5' SECOND"],
      ['att', 'INT', null, null],
    ]);
    const missing = expectSqlError(await server.sql('DESCRIBE nope'), [400, 404]);
    expect(missing.message).toContain("'nope'");
  });

  it('EXPLAIN answers the plan text and starts no job', async () => {
    const r = await server.sql(
      "EXPLAIN INSERT INTO counts SELECT window_start, window_end, uid, COUNT(*) FROM TABLE(TUMBLE(TABLE posts, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end, uid",
    );
    expect(r.status, r.text).toBe(200);
    const res = r.body.results[0];
    expect(res.kind).toBe('rows');
    // One row per operator line, so a table renders it readably; `message` has the whole text.
    const text = (res.rows as string[][]).map((row) => row[0]).join('\n');
    expect(res.message).toBe(text);
    expect(text).toMatch(/Sink\(table=counts/);
    expect(text).toMatch(/WindowAggregate\(TUMBLE/);
    expect(text).toMatch(/COUNT\(\*\)/);
    expect(text).toMatch(/Source\(table=posts/);
    // Operators are nested: the source is the deepest line.
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^Sink/);
    expect(lines[lines.length - 1]!.trimStart()).toMatch(/^Source/);
    expect((await server.get('/v1/jobs')).body.jobs).toEqual([]);
  });
});

describe('a job over REST', () => {
  it('runs, has a unique name (409 on a clash), answers GET /v1/jobs/:id, stops', async () => {
    const insert = "INSERT INTO counts SELECT window_start, window_end, uid, COUNT(*) FROM TABLE(TUMBLE(TABLE posts, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end, uid";
    const r = await server.sql(`SET 'pipeline.name' = 'rest-counts';\n${insert}`);
    expect(r.status, r.text).toBe(200);
    expect(r.body.results[1]).toMatchObject({ statement: 2, kind: 'job', jobId: expect.any(String) });
    const id = r.body.results[1].jobId as string;
    const job = await server.waitForState(id, 'RUNNING', 60_000);
    expect(job).toMatchObject({ id, name: 'rest-counts', sql: insert, state: 'RUNNING' });
    expect(job.metrics).toMatchObject({ recordsIn: 0, recordsOut: 0, recordsLate: 0, recordsBad: 0, lastBadRecordError: null });
    expect(job.plan?.text).toMatch(/WindowAggregate/);

    const clash = await server.sql(`SET 'pipeline.name' = 'rest-counts';\n${insert}`);
    const err = expectSqlError(clash, 409);
    expect(err.statement).toBe(2);
    expect(err.message).toContain("'rest-counts'");

    const stopped = await server.post(`/v1/jobs/${id}/stop`);
    expect(stopped.status, stopped.text).toBe(200);
    expect(stopped.body).toMatchObject({ id, state: 'STOPPED' });
    expect((await server.get(`/v1/jobs/${id}`)).body.state).toBe('STOPPED');
    // Stopping again is harmless; re-submitting under the name resumes the stopped job (issue #3).
    expect((await server.post(`/v1/jobs/${id}/stop`)).body.state).toBe('STOPPED');
    const reuse = await server.sql(`SET 'pipeline.name' = 'rest-counts';\n${insert}`);
    expect(reuse.status, reuse.text).toBe(200);
    const id2 = reuse.body.results[1].jobId as string;
    expect(id2).toBe(id);
    await server.waitForState(id2, 'RUNNING', 60_000);
    expect((await server.post(`/v1/jobs/${id2}/stop`)).body.state).toBe('STOPPED');
  });
});

describe('nothing is ever a 500', () => {
  const bad = [
    '',
    ';;;',
    '-- just a comment',
    'SELEC 1',
    'SELECT',
    'SELECT 1',
    'EXPLAIN',
    'EXPLAIN SELECT 1',
    'DESCRIBE',
    'SHOW',
    'SHOW TABLEZ',
    'DROP',
    'DROP TABLE nope',
    'DROP VIEW nope',
    'CREATE',
    'CREATE TABLE',
    'CREATE TABLE x',
    'CREATE TABLE x (a INT)',
    'CREATE TABLE x (a INT) WITH ()',
    "CREATE TABLE x (a INT) WITH (connector = 'kafka')",
    "CREATE TABLE x (a INT, a INT) WITH ('connector' = 'kafka', 'topic' = 't', 'format' = 'json')",
    "CREATE TABLE x (a INTT) WITH ('connector' = 'kafka', 'topic' = 't', 'format' = 'json')",
    "CREATE TABLE x (a DECIMAL(99, 2)) WITH ('connector' = 'kafka', 'topic' = 't', 'format' = 'json')",
    "CREATE TABLE x (a INT, b AS a +) WITH ('connector' = 'kafka', 'topic' = 't', 'format' = 'json')",
    "CREATE TABLE x (a INT, WATERMARK FOR a AS a - INTERVAL '1' SECOND) WITH ('connector' = 'kafka', 'topic' = 't', 'format' = 'json')",
    "CREATE TABLE x (a INT, WATERMARK FOR b AS b) WITH ('connector' = 'kafka', 'topic' = 't', 'format' = 'json')",
    "CREATE TABLE x (a INT) WITH ('connector' = 'kafka', 'topic' = 't', 'format' = 'avro')",
    "CREATE TABLE x (a INT) WITH ('connector' = 'kafka', 'topic' = 't', 'format' = 'json', 'format' = 'json')",
    "CREATE TABLE x (a INT) WITH ('connector' = 'kafka', 'topic' = 't', 'format' = 'json', 'scan.startup.mode' = 'timestamp')",
    "CREATE TABLE x (a INT) WITH ('connector' = 'kafka', 'topic' = 't', 'format' = 'json', 'sink.topic.partitions' = '-1')",
    "CREATE TABLE x (a INT) WITH ('connector' = 'kafka', 'topic' = 't', 'format' = 'json', 'key.fields' = 'b')",
    "CREATE TABLE x (a INT) WITH ('connector' = 'kafka', 'topic' = 't', 'format' = 'json', 'scan.bounded.mode' = 'forever')",
    "CREATE TABLE x (a INT) WITH ('connector' = 'kafka', 'topic' = 't', 'format' = 'json', 'sink.delivery-guarantee' = 'exactly-twice')",
    'CREATE VIEW v AS SELECT * FROM v',
    'CREATE VIEW v AS SELECT nope FROM posts',
    'CREATE MATERIALIZED VIEW mv AS SELECT uid, COUNT(*) FROM posts GROUP BY uid HAVING uid',
    "SET 'no.such.key' = 'x'",
    "SET 'table.local-time-zone' = 'Mars/Olympus_Mons'",
    "SET 'pipeline.name'",
    'INSERT INTO',
    'INSERT INTO counts',
    'INSERT INTO counts SELECT',
    'INSERT INTO counts SELECT * FROM posts',
    'INSERT INTO posts SELECT * FROM counts',
    "INSERT INTO counts SELECT window_start, window_end, uid, COUNT(*) FROM TABLE(TUMBLE(TABLE posts, DESCRIPTOR(topic), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end, uid",
    "INSERT INTO counts SELECT window_start, window_end, uid, COUNT(*) FROM TABLE(TUMBLE(TABLE posts, DESCRIPTOR(ts), INTERVAL '0' MINUTE)) GROUP BY window_start, window_end, uid",
    "INSERT INTO counts SELECT window_start, window_end, uid, COUNT(*) FROM TABLE(HOP(TABLE posts, DESCRIPTOR(ts), INTERVAL '1' MINUTE, INTERVAL '90' SECOND)) GROUP BY window_start, window_end, uid",
    "INSERT INTO counts SELECT window_start, window_end, uid, COUNT(*) FROM TABLE(HOP(TABLE posts, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end, uid",
    "INSERT INTO counts SELECT window_start, window_end, uid, COUNT(*) FROM TABLE(SESSION(TABLE posts, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end, uid",
    "INSERT INTO counts SELECT window_start, window_end, uid, COUNT(*) FROM TABLE(TUMBLE(TABLE posts, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end",
    "INSERT INTO counts SELECT window_start, window_end, uid, SUM(topic) FROM TABLE(TUMBLE(TABLE posts, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end, uid",
    "INSERT INTO counts SELECT window_start, window_end, uid, COUNT(DISTINCT) FROM TABLE(TUMBLE(TABLE posts, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end, uid",
    'INSERT INTO counts SELECT ts, ts, uid, CAST(att AS BIGINT) FROM posts ORDER BY uid',
    'INSERT INTO counts SELECT ts, ts, uid, CAST(att AS BIGINT) FROM posts LIMIT 1',
    'INSERT INTO counts SELECT ts, ts, uid, nope(att) FROM posts',
    'INSERT INTO counts SELECT ts, ts, uid, CAST(att AS NOPE) FROM posts',
    "INSERT INTO counts SELECT ts, ts, uid, CAST('abc' AS BIGINT) FROM posts",
    "INSERT INTO counts SELECT ts, ts, uid, att FROM posts WHERE ts > TIMESTAMP 'garbage'",
    "INSERT INTO counts SELECT ts, ts, uid, att FROM posts WHERE att > 'x'",
    'INSERT INTO counts SELECT a.ts, a.ts, a.uid, b.uid FROM posts a JOIN posts b ON a.uid = b.uid',
    'INSERT INTO counts SELECT ts, ts, uid, uid FROM posts UNION ALL SELECT ts, ts, uid, uid FROM posts',
    'INSERT INTO counts SELECT ts, ts, uid, ROW_NUMBER() OVER (PARTITION BY uid ORDER BY ts) FROM posts',
    "INSERT INTO counts SELECT window_start, window_end, uid, r FROM (SELECT *, RANK() OVER (PARTITION BY window_start, window_end ORDER BY att) AS r FROM TABLE(TUMBLE(TABLE posts, DESCRIPTOR(ts), INTERVAL '1' MINUTE))) WHERE r <= 3",
    "INSERT INTO counts SELECT window_start, window_end, uid, r FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end) AS r FROM TABLE(TUMBLE(TABLE posts, DESCRIPTOR(ts), INTERVAL '1' MINUTE))) WHERE r <= 3",
    "INSERT INTO counts SELECT window_start, window_end, uid, r FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY att) AS r FROM TABLE(TUMBLE(TABLE posts, DESCRIPTOR(ts), INTERVAL '1' MINUTE))) WHERE r <= 0",
    "INSERT INTO counts SELECT window_start, window_end, uid, 1 FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY att) FROM TABLE(TUMBLE(TABLE posts, DESCRIPTOR(ts), INTERVAL '1' MINUTE))) WHERE uid > 3",
    "INSERT INTO counts SELECT window_start, window_end, uid, r FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY att ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS r FROM TABLE(TUMBLE(TABLE posts, DESCRIPTOR(ts), INTERVAL '1' MINUTE))) WHERE r <= 3",
    "SET 'parallelism.default' = '0'",
    "SET 'table.exec.mini-batch.allow-latency' = 'soon'",
    "SET 'table.exec.mini-batch.enabled' = 'yes'",
    "SET 'table.exec.resource.default-parallelism' = 'many'",
    "SELECT 'unterminated",
    'SELECT "unterminated',
    'SELECT 1 /* unterminated',
    '\u0000',
    'SELECT \u00e9\u4e2d\ud83d\udc3c FROM posts',
    'x'.repeat(10_000),
    '('.repeat(2_000) + ')'.repeat(2_000),
    `SELECT ${'1 + '.repeat(300)}1 FROM posts`,
  ];

  it.each(bad.map((s, i) => [i, s.length > 80 ? `${s.slice(0, 77)}...` : s, s] as const))('#%i %s → 4xx with a message', async (_i, _short, sql) => {
    const r = await server.sql(sql);
    expect(r.status, r.text.slice(0, 500)).toBeGreaterThanOrEqual(400);
    expect(r.status, r.text.slice(0, 500)).toBeLessThan(500);
    expect(typeof r.body?.error?.message, r.text.slice(0, 500)).toBe('string');
    expectNoStack(r);
  });

  it('malformed requests are 4xx too', async () => {
    const raw = async (body: string, contentType: string): Promise<number> =>
      (await fetch(`${server.url}/v1/statements`, { method: 'POST', headers: { 'content-type': contentType }, body })).status;
    expect(await raw('{"sql": ', 'application/json')).toBe(400);
    expect(await raw('{}', 'application/json')).toBe(400);
    expect(await raw('{"sql": 42}', 'application/json')).toBe(400);
    expect(await raw('[]', 'application/json')).toBe(400);
    expect(await raw('SHOW TABLES', 'text/plain')).toBe(400);
    expect(await raw('sql=SHOW+TABLES', 'application/x-www-form-urlencoded')).toBe(415);
  });

  it('the catalog is intact after all that', async () => {
    expect(await tableNames()).toEqual(expect.arrayContaining(['posts', 'counts', 'first_ok']));
    expect((await server.get('/v1/tables')).status).toBe(200);
    expect((await server.get('/health')).status).toBe(200);
  });
});

describe('regressions: errors found by these tests', () => {
  it('an unterminated string in statement 2 names statement 2', async () => {
    const sql = "SHOW TABLES;\nSELECT 'unterminated FROM posts";
    const err = expectSqlError(await server.sql(sql));
    expect(err).toMatchObject({ line: 2, column: 8 }); // this part holds
    expect(err.statement).toBe(2);
  });

  it('statement 1 stays applied when statement 2 cannot be tokenized', async () => {
    const sql = "CREATE TABLE before_lex_error (x INT) WITH ('connector' = 'kafka', 'topic' = 't', 'format' = 'json');\nSELECT \"unterminated FROM posts";
    expectSqlError(await server.sql(sql));
    expect(await tableNames()).toContain('before_lex_error');
  });

  it('a very long expression is a 4xx', async () => {
    const r = await server.sql(`INSERT INTO counts SELECT ts, ts, uid, ${'uid + '.repeat(5_000)}1 FROM posts`);
    expect(r.status, r.text).toBeLessThan(500);
  });

  it('GET /v1/tables still lists everything after a table under a view was dropped', async () => {
    const r = await server.sql(
      "CREATE TABLE doomed (x INT) WITH ('connector' = 'kafka', 'topic' = 'doomed', 'format' = 'json');\nCREATE VIEW over_doomed AS SELECT x FROM doomed;\nDROP TABLE doomed",
    );
    expect(r.status, r.text).toBe(200);
    try {
      const all = await server.get('/v1/tables');
      expect(all.status, all.text).toBe(200);
    } finally {
      await server.sql('DROP VIEW IF EXISTS over_doomed');
    }
  });
});
