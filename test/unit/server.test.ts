import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { SqlError, posAt } from '../../engine/sql/errors.ts';
import { JobConflictError } from '../../jobs/api.ts';
import type { Health, JobInfo, Platform, StatementResult, TableInfo } from '../../jobs/api.ts';
import { buildServer } from '../../server/app.ts';
import { toErrorAnswer } from '../../server/errors.ts';

const job: JobInfo = {
  id: 'j-1',
  name: 'hot_bloggers',
  sql: 'CREATE MATERIALIZED VIEW hot_bloggers AS SELECT 1',
  state: 'RUNNING',
  createdAt: '2024-05-01 10:00:00.000',
  metrics: {
    batchLatencyMs: null,
    recordsIn: 10,
    recordsOut: 3,
    recordsLate: 1,
    recordsBad: 0,
    recordsInPerSecond: 2.5,
    recordsOutPerSecond: 0.5,
    watermark: '2024-05-01 10:00:05.000',
    lastBadRecordError: null,
    partitions: [],
  },
};

const table: TableInfo = {
  name: 'weibo',
  kind: 'table',
  columns: [{ name: 'uid', type: 'BIGINT' }],
  options: { connector: 'kafka', topic: 'weibo_data' },
  sql: 'CREATE TABLE weibo (uid BIGINT) WITH (...)',
};

/** A Platform whose behaviour each test sets. */
class FakePlatform implements Platform {
  executed: string[] = [];
  stopped: string[] = [];
  execute: (sql: string) => Promise<StatementResult[]> = async (sql) => {
    this.executed.push(sql);
    return [
      { statement: 1, kind: 'ok', message: 'Table weibo created' },
      { statement: 2, kind: 'job', jobId: 'j-1' },
      { statement: 3, kind: 'rows', columns: [{ name: 'uid', type: 'BIGINT' }], rows: [[1], [2]] },
    ];
  };
  listJobs(): JobInfo[] {
    return [job];
  }
  getJob(id: string): JobInfo | undefined {
    return id === job.id ? job : undefined;
  }
  drained: boolean[] = [];
  async resumeJob(id: string): Promise<JobInfo | undefined> {
    if (id !== job.id) return undefined;
    if (job.state === 'RUNNING') throw new JobConflictError(`Job '${job.name}' (${id}) is RUNNING: only a STOPPED job can be resumed`);
    return { ...job, state: 'CREATED' };
  }
  async stopJob(id: string, opts?: { readonly drain?: boolean }): Promise<JobInfo | undefined> {
    this.stopped.push(id);
    this.drained.push(opts?.drain === true);
    return id === job.id ? { ...job, state: 'STOPPED' } : undefined;
  }
  listTables(): TableInfo[] {
    return [table];
  }
  getTable(name: string): TableInfo | undefined {
    return name === table.name ? table : undefined;
  }
  health: () => Promise<Health> = async () => ({ ok: true, broker: { reachable: true, brokers: '127.0.0.1:9092' } });
  closed = false;
  async close(): Promise<void> {
    this.closed = true;
  }
}

function sqlErrorAt(kind: SqlError['kind'], message: string, sql: string, offset: number, statement: number): SqlError {
  const err = new SqlError(kind, message, posAt(sql, offset));
  err.statement = statement;
  return err;
}

/** A pino-shaped logger that records [level, ...args] for every call. */
function recordingLogger(logged: unknown[][]): FastifyBaseLogger {
  const make = (): FastifyBaseLogger => {
    const at = (level: string) => (...args: unknown[]) => {
      logged.push([level, ...args]);
    };
    return {
      level: 'info',
      fatal: at('fatal'),
      error: at('error'),
      warn: at('warn'),
      info: at('info'),
      debug: at('debug'),
      trace: at('trace'),
      silent: at('silent'),
      child: () => make(),
    } as unknown as FastifyBaseLogger;
  };
  return make();
}

let platform: FakePlatform;
let app: FastifyInstance;

beforeEach(async () => {
  platform = new FakePlatform();
  app = await buildServer(platform, { healthTimeoutMs: 200, consoleDir: '/nonexistent' });
});

afterEach(async () => {
  await app.close();
});

function expectNoStack(body: string): void {
  expect(body).not.toMatch(/\n\s+at /);
  expect(body).not.toContain('stack');
  expect(body).not.toContain('.ts:');
}

describe('POST /v1/statements', () => {
  it('runs the SQL and answers the results', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/statements', payload: { sql: 'CREATE TABLE ...' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    const body = res.json();
    expect(body.results).toHaveLength(3);
    expect(body.results[0]).toEqual({ statement: 1, kind: 'ok', message: 'Table weibo created' });
    expect(body.results[1]).toEqual({ statement: 2, kind: 'job', jobId: 'j-1' });
    expect(body.results[2].rows).toEqual([[1], [2]]);
    expect(platform.executed).toEqual(['CREATE TABLE ...']);
  });

  it('answers a SqlError with 400, the statement, line, column and kind', async () => {
    const sql = 'CREATE TABLE t (a INT);\nSELECT nope\n  FROM t;';
    platform.execute = async () => {
      throw sqlErrorAt('binding', "unknown column 'nope'", sql, sql.indexOf('nope'), 2);
    };
    const res = await app.inject({ method: 'POST', url: '/v1/statements', payload: { sql } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: { message: "unknown column 'nope'", statement: 2, line: 2, column: 8, kind: 'binding' },
    });
    expectNoStack(res.body);
  });

  it('answers a conflict with 409', async () => {
    platform.execute = async () => {
      throw sqlErrorAt('conflict', "a job named 'x' is already running", "SET 'pipeline.name' = 'x'", 0, 1);
    };
    const res = await app.inject({ method: 'POST', url: '/v1/statements', payload: { sql: '...' } });
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toMatchObject({ kind: 'conflict', statement: 1, line: 1, column: 1 });
  });

  it('gives null line and column for a SqlError without a position', async () => {
    platform.execute = async () => {
      throw new SqlError('unsupported', 'not yet');
    };
    const res = await app.inject({ method: 'POST', url: '/v1/statements', payload: { sql: 'x' } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: { message: 'not yet', statement: null, line: null, column: null, kind: 'unsupported' } });
  });

  it.each([
    ['a missing sql', {}],
    ['a numeric sql', { sql: 5 }],
    ['a null sql', { sql: null }],
    ['an array body', [1, 2]],
  ])('refuses %s with 400', async (_what, payload) => {
    const res = await app.inject({ method: 'POST', url: '/v1/statements', payload });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(typeof body.error.message).toBe('string');
    expect(body.error.message).toMatch(/sql|object/);
    expect(platform.executed).toEqual([]);
  });

  it('refuses malformed JSON with 400', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/statements',
      headers: { 'content-type': 'application/json' },
      payload: '{"sql": ',
    });
    expect(res.statusCode).toBe(400);
    expect(typeof res.json().error.message).toBe('string');
    expectNoStack(res.body);
  });

  it('refuses an empty JSON body with 400', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/statements',
      headers: { 'content-type': 'application/json' },
      payload: '',
    });
    expect(res.statusCode).toBe(400);
    expect(typeof res.json().error.message).toBe('string');
  });

  it('refuses a text body with 400 (the body must be a JSON object)', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/statements',
      headers: { 'content-type': 'text/plain' },
      payload: 'SELECT 1',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toMatch(/object/);
    expect(platform.executed).toEqual([]);
  });

  it('refuses an unsupported media type with 415', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/statements',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'sql=SELECT+1',
    });
    expect(res.statusCode).toBe(415);
    expect(res.json().error.message).toMatch(/application\/json/);
  });

  it('refuses a body that is too large with 413', async () => {
    const small = await buildServer(platform, { bodyLimit: 100 });
    try {
      const res = await small.inject({ method: 'POST', url: '/v1/statements', payload: { sql: 'x'.repeat(200) } });
      expect(res.statusCode).toBe(413);
      expect(typeof res.json().error.message).toBe('string');
    } finally {
      await small.close();
    }
  });

  it('answers an unexpected exception with 500, a generic message and no stack', async () => {
    platform.execute = async () => {
      const err = new Error('secret internal detail at /home/x/engine/plan.ts:12') as Error & { statusCode: number };
      err.statusCode = 400; // a bug's statusCode is not trusted
      throw err;
    };
    const res = await app.inject({ method: 'POST', url: '/v1/statements', payload: { sql: 'x' } });
    expect(res.statusCode).toBe(500);
    const body = res.json();
    expect(body.error.message).not.toContain('secret');
    expect(typeof body.error.requestId).toBe('string');
    expect(Object.keys(body.error).sort()).toEqual(['message', 'requestId']);
    expectNoStack(res.body);
  });

  it('logs the unexpected exception with its stack', async () => {
    const logged: unknown[][] = [];
    const logger = recordingLogger(logged);
    const logging = await buildServer(platform, { loggerInstance: logger });
    platform.execute = async () => {
      throw new Error('kaboom');
    };
    try {
      const res = await logging.inject({ method: 'POST', url: '/v1/statements', payload: { sql: 'x' } });
      expect(res.statusCode).toBe(500);
      const errors = logged.filter((entry) => entry[0] === 'error');
      expect(errors).toHaveLength(1);
      const [, fields] = errors[0] as [string, { err: Error }];
      expect(fields.err.message).toBe('kaboom');
      expect(fields.err.stack).toContain('kaboom');
    } finally {
      await logging.close();
    }
  });

  it('answers a thrown non-Error with 500', async () => {
    platform.execute = async () => {
      throw 'a string';
    };
    const res = await app.inject({ method: 'POST', url: '/v1/statements', payload: { sql: 'x' } });
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('a string');
  });

  it('serializes bigint values: numbers when safe, strings beyond 2^53', async () => {
    platform.execute = async () => [
      { statement: 1, kind: 'rows', columns: [{ name: 'n', type: 'BIGINT' }], rows: [[42n], [9007199254740993n]] },
    ];
    const res = await app.inject({ method: 'POST', url: '/v1/statements', payload: { sql: 'SELECT n FROM v' } });
    expect(res.statusCode).toBe(200);
    expect(res.json().results[0].rows).toEqual([[42], ['9007199254740993']]);
  });
});

describe('jobs', () => {
  it('GET /v1/jobs lists the jobs', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/jobs' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ jobs: [job] });
  });

  it('GET /v1/jobs/:id answers the job', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/jobs/j-1' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(job);
  });

  it('GET /v1/jobs/:id answers 404 for an unknown job', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/jobs/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { message: "unknown job 'nope'" } });
  });

  it('POST /v1/jobs/:id/stop stops the job and answers it', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/jobs/j-1/stop' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: 'j-1', state: 'STOPPED' });
    expect(platform.stopped).toEqual(['j-1']);
  });

  it('POST /v1/jobs/:id/stop answers 404 for an unknown job', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/jobs/nope/stop' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.message).toBe("unknown job 'nope'");
  });

  it('POST /v1/jobs/:id/stop?drain=true asks the platform to drain; a bad drain value is a 400', async () => {
    expect((await app.inject({ method: 'POST', url: '/v1/jobs/j-1/stop?drain=true' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'POST', url: '/v1/jobs/j-1/stop?drain=false' })).statusCode).toBe(200);
    expect(platform.drained).toEqual([true, false]);
    const bad = await app.inject({ method: 'POST', url: '/v1/jobs/j-1/stop?drain=yes' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(/drain must be true or false/);
  });

  it('POST /v1/jobs/:id/resume: 409 for a running job, 404 for an unknown one', async () => {
    const running = await app.inject({ method: 'POST', url: '/v1/jobs/j-1/resume' });
    expect(running.statusCode).toBe(409);
    expect(running.json()).toEqual({ error: { message: "Job 'hot_bloggers' (j-1) is RUNNING: only a STOPPED job can be resumed" } });
    expect((await app.inject({ method: 'POST', url: '/v1/jobs/nope/resume' })).statusCode).toBe(404);
  });
});

describe('tables', () => {
  it('GET /v1/tables lists the tables', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/tables' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ tables: [table] });
  });

  it('GET /v1/tables/:name answers the table', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/tables/weibo' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(table);
  });

  it('GET /v1/tables/:name answers 404 for an unknown name', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/tables/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { message: "unknown table 'nope'" } });
  });
});

describe('GET /health', () => {
  it('answers 200 with the broker reachability', async () => {
    const res = await app.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ok: true, broker: { reachable: true, brokers: '127.0.0.1:9092' } });
  });

  it('answers 200 with reachable false when the broker is down', async () => {
    platform.health = async () => ({ ok: false, broker: { reachable: false, brokers: 'b:9092', error: 'ECONNREFUSED' } });
    const res = await app.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json().broker).toEqual({ reachable: false, brokers: 'b:9092', error: 'ECONNREFUSED' });
  });

  it('answers 200, unreachable, when the check throws or hangs', async () => {
    platform.health = async () => {
      throw new Error('boom');
    };
    let res = await app.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ ok: false, broker: { reachable: false, error: 'boom' } });

    platform.health = () => new Promise<Health>(() => undefined);
    res = await app.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ ok: false, broker: { reachable: false } });
    expect(res.json().broker.error).toMatch(/timed out/);
  });
});

describe('other paths', () => {
  it('GET / answers the console placeholder linking to /v1/jobs', async () => {
    const res = await app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.body).toContain('href="/v1/jobs"');
    expect(res.body.toLowerCase()).toContain('console');
  });

  it('answers unknown paths with a JSON 404', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/nothing?x=1' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { message: 'no such endpoint: GET /v1/nothing' } });
  });

  it('answers a wrong method with a JSON 404', async () => {
    const res = await app.inject({ method: 'DELETE', url: '/v1/jobs' });
    expect(res.statusCode).toBe(404);
    expect(typeof res.json().error.message).toBe('string');
  });
});

describe('toErrorAnswer', () => {
  it('maps each kind of error to its status', () => {
    expect(toErrorAnswer(new SqlError('syntax', 'bad')).status).toBe(400);
    expect(toErrorAnswer(new SqlError('catalog', 'no such table')).status).toBe(400);
    expect(toErrorAnswer(new SqlError('conflict', 'taken')).status).toBe(409);
    expect(toErrorAnswer(Object.assign(new Error('body must be object'), { validation: [] })).status).toBe(400);
    expect(toErrorAnswer(Object.assign(new Error('too large'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 })).status).toBe(413);
    const internal = toErrorAnswer(new TypeError('x is undefined'));
    expect(internal.status).toBe(500);
    expect(internal.internal).toBe(true);
    expect(internal.body.error.message).not.toContain('undefined');
  });

  it('recognizes a SqlError from another copy of the module by its shape', () => {
    const foreign = Object.assign(new Error('dup'), { name: 'SqlError', kind: 'conflict', pos: undefined, statement: 3 });
    expect(toErrorAnswer(foreign)).toMatchObject({ status: 409, body: { error: { statement: 3 } } });
  });
});
