import { describe, expect, it } from 'vitest';
import type { JobInfo } from '../../jobs/api.ts';
import {
  DEFAULT_SERVER_URL,
  UsageError,
  parseArgs,
  resolveServerArgs,
  resolveServerUrl,
  resolveSqlArgs,
  serverCommandOptions,
  sqlCommandOptions,
} from '../../bin/args.ts';
import type { ServerArgs } from '../../bin/args.ts';
import { networkErrorCode, unreachableMessage } from '../../bin/client.ts';
import type { FetchLike } from '../../bin/client.ts';
import { commands, run } from '../../bin/cli.ts';
import type { CliContext } from '../../bin/cli.ts';
import { displayWidth, formatCell, formatJobs, formatResult, formatRows, formatTable, renderSqlError } from '../../bin/format.ts';

describe('parseArgs', () => {
  const specs = { port: { type: 'string' }, file: { type: 'string', short: 'f' }, help: { type: 'boolean', short: 'h' } } as const;

  it('reads --name value, --name=value, -x value, -xvalue and flags', () => {
    expect(parseArgs(['--port', '80', 'pos', '-f', 'a.sql', '-h'], specs)).toEqual({
      values: { port: '80', file: 'a.sql', help: true },
      positionals: ['pos'],
    });
    expect(parseArgs(['--port=81', '-fb.sql'], specs).values).toEqual({ port: '81', file: 'b.sql' });
    expect(parseArgs(['-f=c.sql'], specs).values).toEqual({ file: 'c.sql' });
  });

  it('takes the next token as the value even if it starts with a dash', () => {
    expect(parseArgs(['-f', '-'], specs).values.file).toBe('-');
    expect(parseArgs(['--file', '-- comment'], specs).values.file).toBe('-- comment');
  });

  it('lets the last repeated option win and stops at --', () => {
    expect(parseArgs(['--port', '1', '--port', '2', '--', '--port', '3'], specs)).toEqual({
      values: { port: '2' },
      positionals: ['--port', '3'],
    });
  });

  it('refuses unknown options, missing values and values on flags', () => {
    expect(() => parseArgs(['--nope'], specs)).toThrow(new UsageError('unknown option --nope'));
    expect(() => parseArgs(['-x'], specs)).toThrow('unknown option -x');
    expect(() => parseArgs(['--port'], specs)).toThrow('option --port needs a value');
    expect(() => parseArgs(['--help=yes'], specs)).toThrow('option --help takes no value');
  });
});

describe('resolveServerArgs', () => {
  it('uses the defaults', () => {
    expect(resolveServerArgs({}, {})).toEqual({ port: 8080, host: '127.0.0.1', dataDir: './.weir', brokers: '127.0.0.1:9092' });
  });

  it('falls back to the environment, and flags win', () => {
    const env = { WEIR_PORT: '9000', WEIR_HOST: '0.0.0.0', WEIR_DATA_DIR: '/data', WEIR_BROKERS: 'k:9092', WEIR_SERVER: 'x' };
    expect(resolveServerArgs({}, env)).toEqual({ port: 9000, host: '0.0.0.0', dataDir: '/data', brokers: 'k:9092' });
    const parsed = parseArgs(['--port', '7000', '--host', '::1', '--data-dir', 'd', '--brokers', 'a:1,b:2'], serverCommandOptions);
    expect(resolveServerArgs(parsed.values, env)).toEqual({ port: 7000, host: '::1', dataDir: 'd', brokers: 'a:1,b:2' });
  });

  it('treats an empty variable as unset', () => {
    expect(resolveServerArgs({}, { WEIR_PORT: '' }).port).toBe(8080);
  });

  it('takes a default checkpoint interval in Flink duration syntax, flag over WEIR_CHECKPOINT_INTERVAL', () => {
    expect(resolveServerArgs({ 'checkpoint-interval': '5s' }, {}).checkpointIntervalMs).toBe(5000);
    expect(resolveServerArgs({}, { WEIR_CHECKPOINT_INTERVAL: '500 ms' }).checkpointIntervalMs).toBe(500);
    expect(resolveServerArgs({ 'checkpoint-interval': '1min' }, { WEIR_CHECKPOINT_INTERVAL: '2s' }).checkpointIntervalMs).toBe(60_000);
    expect(() => resolveServerArgs({ 'checkpoint-interval': 'soon' }, {})).toThrow(/--checkpoint-interval must be a positive duration/);
    expect(() => resolveServerArgs({}, { WEIR_CHECKPOINT_INTERVAL: '0s' })).toThrow(/WEIR_CHECKPOINT_INTERVAL must be a positive duration/);
  });

  it('refuses a bad port, naming where it came from', () => {
    expect(() => resolveServerArgs({ port: 'http' }, {})).toThrow(/--port must be a port number/);
    expect(() => resolveServerArgs({}, { WEIR_PORT: '70000' })).toThrow(/WEIR_PORT must be a port number/);
    expect(() => resolveServerArgs({ port: '-1' }, {})).toThrow(UsageError);
  });
});

describe('resolveServerUrl', () => {
  it('defaults, reads WEIR_SERVER, adds http:// and drops trailing slashes', () => {
    expect(resolveServerUrl(undefined, {})).toBe(DEFAULT_SERVER_URL);
    expect(resolveServerUrl(undefined, { WEIR_SERVER: 'http://h:1/' })).toBe('http://h:1');
    expect(resolveServerUrl('localhost:9999', { WEIR_SERVER: 'http://h:1' })).toBe('http://localhost:9999');
    expect(resolveServerUrl('https://weir.example.com/api/', {})).toBe('https://weir.example.com/api');
  });

  it('refuses what is not an http URL', () => {
    expect(() => resolveServerUrl('ftp://x', {})).toThrow(UsageError);
    expect(() => resolveServerUrl('http://', {})).toThrow(UsageError);
  });
});

describe('resolveSqlArgs', () => {
  const resolveSql = (argv: string[], env = {}) => resolveSqlArgs(parseArgs(argv, sqlCommandOptions), env);

  it('takes -f or -e', () => {
    expect(resolveSql(['-f', 'q.sql'])).toEqual({ server: DEFAULT_SERVER_URL, source: { kind: 'file', path: 'q.sql' } });
    expect(resolveSql(['-e', 'SELECT 1', '--server', 'http://s:1'])).toEqual({
      server: 'http://s:1',
      source: { kind: 'text', text: 'SELECT 1' },
    });
    expect(resolveSql(['-e', 'x'], { WEIR_SERVER: 'http://env:2' }).server).toBe('http://env:2');
  });

  it('needs exactly one of them', () => {
    expect(() => resolveSql([])).toThrow(/-f FILE/);
    expect(() => resolveSql(['-f', 'a', '-e', 'b'])).toThrow(/not both/);
    expect(() => resolveSql(['-e', 'x', 'extra'])).toThrow(/unexpected argument 'extra'/);
  });
});

describe('formatTable', () => {
  it('aligns columns under a header and separator', () => {
    expect(formatTable(['id', 'name'], [['1', 'alpha'], ['22', 'b']], ['right', 'left'])).toEqual([
      'id | name',
      '---+------',
      ' 1 | alpha',
      '22 | b',
    ]);
  });

  it('measures CJK characters as two columns', () => {
    expect(displayWidth('微博ab')).toBe(6);
    expect(formatTable(['text', 'n'], [['微博', '1'], ['abc', '2']])).toEqual(['text | n', '-----+--', '微博 | 1', 'abc  | 2']);
  });

  it('shows NULL, JSON and escaped control characters in cells', () => {
    expect(formatCell(null)).toBe('NULL');
    expect(formatCell({ a: [1] })).toBe('{"a":[1]}');
    expect(formatCell('a\nb\tc')).toBe('a\\nb\\tc');
    expect(formatCell(true)).toBe('true');
  });
});

describe('formatResult', () => {
  it('prints ok, job and rows results', () => {
    expect(formatResult({ statement: 1, kind: 'ok', message: 'Table weibo created' })).toBe('Table weibo created');
    expect(formatResult({ statement: 1, kind: 'ok' })).toBe('OK');
    expect(formatResult({ statement: 2, kind: 'job', jobId: 'j-7' })).toBe('Job j-7 submitted');
    expect(
      formatResult({
        statement: 3,
        kind: 'rows',
        columns: [{ name: 'uid', type: 'BIGINT' }, { name: 'loc', type: 'STRING' }],
        rows: [[7, 'Beijing'], [1234, null]],
      }),
    ).toBe([' uid | loc', '-----+--------', '   7 | Beijing', '1234 | NULL', '(2 rows)'].join('\n'));
  });

  it('says (1 row) and handles no rows', () => {
    expect(formatRows([{ name: 'a', type: 'STRING' }], [['x']]).split('\n').at(-1)).toBe('(1 row)');
    expect(formatRows([{ name: 'a', type: 'STRING' }], [])).toBe(['a', '-', '(0 rows)'].join('\n'));
  });
});

const job: JobInfo = {
  id: 'j-1',
  name: 'hot',
  sql: 'INSERT INTO ...',
  state: 'FAILED',
  createdAt: '2024-05-01 10:00:00.000',
  error: 'sink failed',
  metrics: {
    batchLatencyMs: null,
    recordsIn: 1200,
    recordsOut: 30,
    recordsLate: 2,
    recordsBad: 1,
    recordsInPerSecond: 12.345,
    recordsOutPerSecond: 0,
    watermark: '2024-05-01 10:00:05.000',
    lastBadRecordError: null,
    partitions: [],
  },
};

describe('formatJobs', () => {
  it('prints one line per job with its metrics, then errors', () => {
    expect(formatJobs([job, { ...job, id: 'j-2', name: 'lake', state: 'RUNNING', error: undefined, metrics: { ...job.metrics, watermark: null } }])).toBe(
      [
        'id  | name | state   | records in | records out | rec/s in | late | bad | watermark',
        '----+------+---------+------------+-------------+----------+------+-----+------------------------',
        'j-1 | hot  | FAILED  |       1200 |          30 |     12.3 |    2 |   1 | 2024-05-01 10:00:05.000',
        'j-2 | lake | RUNNING |       1200 |          30 |     12.3 |    2 |   1 | -',
        '(2 jobs)',
        'j-1 FAILED: sink failed',
      ].join('\n'),
    );
  });

  it('says when there are none', () => {
    expect(formatJobs([])).toBe('No jobs.');
  });
});

describe('renderSqlError', () => {
  const sql = "CREATE TABLE t (a INT);\nSELECT nope\n  FROM t;";

  it('prints the header, the line and a caret under the column', () => {
    expect(renderSqlError(sql, { message: "unknown column 'nope'", statement: 2, line: 2, column: 8 })).toBe(
      ["ERROR in statement 2 at line 2, column 8: unknown column 'nope'", '2 | SELECT nope', '  |        ^'].join('\n'),
    );
  });

  it('names the file when there is one', () => {
    expect(renderSqlError(sql, { message: 'm', statement: 1, line: 3, column: 3 }, { file: 'q.sql' })).toBe(
      ['ERROR in statement 1 at line 3, column 3: m', '  --> q.sql:3:3', '3 |   FROM t;', '  |   ^'].join('\n'),
    );
  });

  it('keeps tabs and wide characters aligned', () => {
    const text = "\tSELECT '微博', x";
    const column = text.indexOf('x') + 1;
    const lines = renderSqlError(text, { message: 'm', statement: 1, line: 1, column }).split('\n');
    expect(lines[1]).toBe("1 | \tSELECT '微博', x");
    expect(lines[2]).toBe('  | \t' + ' '.repeat(7 + 1 + 4 + 1 + 2) + '^');
  });

  it('ignores a CR of CRLF line ends and puts the caret after the end for an error at end of line', () => {
    const text = 'SELECT 1 +\r\nFROM t';
    expect(renderSqlError(text, { message: 'm', statement: 1, line: 1, column: 11 }).split('\n').slice(1)).toEqual([
      '1 | SELECT 1 +',
      '  |           ^',
    ]);
  });

  it('cuts a very long line around the column', () => {
    const text = 'a'.repeat(300) + 'X' + 'b'.repeat(300);
    const lines = renderSqlError(text, { message: 'm', statement: 1, line: 1, column: 301 }, { maxLineWidth: 40 }).split('\n');
    expect(lines[1]).toBe('1 | …' + 'a'.repeat(20) + 'X' + 'b'.repeat(19) + '…');
    expect(lines[2]?.indexOf('^')).toBe(lines[1]?.indexOf('X'));
  });

  it('leaves out what is unknown', () => {
    expect(renderSqlError(sql, { message: 'm', statement: 3, line: null, column: null })).toBe('ERROR in statement 3: m');
    expect(renderSqlError(sql, { message: 'm' })).toBe('ERROR: m');
    expect(renderSqlError(sql, { message: 'm', statement: 1, line: 9, column: 1 })).toBe('ERROR in statement 1 at line 9, column 1: m');
  });
});

describe('unreachable servers', () => {
  it('finds the network error code in nested causes', () => {
    const refused = new TypeError('fetch failed', { cause: new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })]) });
    expect(networkErrorCode(refused)).toBe('ECONNREFUSED');
    expect(unreachableMessage('http://127.0.0.1:8080', refused)).toBe(
      'no Weir server at http://127.0.0.1:8080, start one with `weir server`',
    );
  });
});

/** A CliContext with a scripted fetch; collects what would be printed. */
function fakeContext(respond: (url: string, init?: RequestInit) => Promise<Response>, files: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const requests: { url: string; body: unknown }[] = [];
  const served: ServerArgs[] = [];
  const fetchImpl: FetchLike = async (url, init) => {
    requests.push({ url, body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined });
    return respond(url, init);
  };
  const ctx: CliContext = {
    env: {},
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    fetch: fetchImpl,
    readFile: async (path) => {
      const text = files[path];
      if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      return text;
    },
    readStdin: async () => files['<stdin>'] ?? '',
    serve: async (args) => {
      served.push(args);
    },
  };
  return { ctx, out, err, requests, served };
}

const json = (status: number, body: unknown) =>
  Promise.resolve(new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } }));

describe('weir commands', () => {
  it('weir sql prints each result', async () => {
    const f = fakeContext(() =>
      json(200, {
        results: [
          { statement: 1, kind: 'ok', message: 'Table t created' },
          { statement: 2, kind: 'job', jobId: 'j-9' },
        ],
      }),
    );
    expect(await run(['sql', '-e', 'CREATE TABLE t ...; INSERT INTO ...', '--server', 'http://s:1'], f.ctx)).toBe(0);
    expect(f.requests).toEqual([{ url: 'http://s:1/v1/statements', body: { sql: 'CREATE TABLE t ...; INSERT INTO ...' } }]);
    expect(f.out).toEqual(['Table t created', 'Job j-9 submitted']);
  });

  it('weir sql renders a statement error with a caret and exits 1', async () => {
    const sql = 'SELECT 1;\nSELECT nope FROM t;';
    const f = fakeContext(
      () => json(400, { error: { message: "unknown column 'nope'", statement: 2, line: 2, column: 8, kind: 'binding' } }),
      { 'q.sql': sql },
    );
    expect(await run(['sql', '-f', 'q.sql'], f.ctx)).toBe(1);
    expect(f.err.join('\n')).toBe(
      [
        "ERROR in statement 2 at line 2, column 8: unknown column 'nope'",
        '  --> q.sql:2:8',
        '2 | SELECT nope FROM t;',
        '  |        ^',
        '(statement 1 ran and stays applied)',
      ].join('\n'),
    );
  });

  it('weir sql says when no server answers', async () => {
    const f = fakeContext(() =>
      Promise.reject(new TypeError('fetch failed', { cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }) })),
    );
    expect(await run(['sql', '-e', 'SELECT 1'], f.ctx)).toBe(1);
    expect(f.err).toEqual(['ERROR: no Weir server at http://127.0.0.1:8080, start one with `weir server`']);
  });

  it('weir sql reports a missing file', async () => {
    const f = fakeContext(() => json(200, { results: [] }));
    expect(await run(['sql', '-f', 'missing.sql'], f.ctx)).toBe(1);
    expect(f.err).toEqual(['ERROR: cannot read missing.sql: no such file']);
    expect(f.requests).toEqual([]);
  });

  it('weir sql -f - reads stdin', async () => {
    const f = fakeContext(() => json(200, { results: [{ statement: 1, kind: 'ok' }] }), { '<stdin>': 'SHOW TABLES' });
    expect(await run(['sql', '-f', '-'], f.ctx)).toBe(0);
    expect(f.requests[0]?.body).toEqual({ sql: 'SHOW TABLES' });
  });

  it('weir sql reports a server failure', async () => {
    const f = fakeContext(() => json(500, { error: { message: 'internal server error' } }));
    expect(await run(['sql', '-e', 'x'], f.ctx)).toBe(1);
    expect(f.err).toEqual(['ERROR: the server failed (HTTP 500): internal server error']);
  });

  it('weir query posts to /v1/query and prints the rows; a refused query exits 1 with the message', async () => {
    const f = fakeContext((_url, init) =>
      String(init?.body).includes('DELETE')
        ? json(400, { error: { message: 'Only read-only SELECT queries can run over the views' } })
        : json(200, { columns: [{ name: 'loc', type: 'STRING' }, { name: 'n', type: 'BIGINT' }], rows: [['北京', 3]] }),
    );
    expect(await run(['query', 'SELECT loc, n FROM v'], f.ctx)).toBe(0);
    expect(f.requests[0]).toEqual({ url: 'http://127.0.0.1:8080/v1/query', body: { sql: 'SELECT loc, n FROM v' } });
    expect(f.out[0]).toContain('北京');
    expect(f.out[0]).toContain('(1 row)');
    expect(await run(['query', 'DELETE FROM v'], f.ctx)).toBe(1);
    expect(f.err.join('\n')).toContain('Only read-only SELECT');
    expect(await run(['query'], f.ctx)).toBe(2);
  });

  it('weir query shows where SQLite found the mistake', async () => {
    const f = fakeContext(() => json(400, { error: { message: 'SQLite: no such column: nope', statement: null, line: 2, column: 3, kind: 'binding' } }));
    expect(await run(['query', 'SELECT loc,\n  nope FROM v'], f.ctx)).toBe(1);
    expect(f.err.join('\n')).toBe(['ERROR at line 2, column 3: SQLite: no such column: nope', '2 |   nope FROM v', '  |   ^'].join('\n'));
  });

  it('weir jobs prints the job table', async () => {
    const f = fakeContext(() => json(200, { jobs: [job] }));
    expect(await run(['jobs'], f.ctx)).toBe(0);
    expect(f.requests[0]?.url).toBe('http://127.0.0.1:8080/v1/jobs');
    expect(f.out[0]).toContain('j-1 | hot  | FAILED');
  });

  it('weir jobs stop [--drain] and resume post to the job and print its state', async () => {
    const f = fakeContext((url) => json(200, { ...job, state: url.includes('resume') ? 'CREATED' : 'FINISHED' }));
    expect(await run(['jobs', 'stop', 'j-1', '--drain'], f.ctx)).toBe(0);
    expect(await run(['jobs', 'stop', 'j-1'], f.ctx)).toBe(0);
    expect(await run(['jobs', 'resume', 'j-1'], f.ctx)).toBe(0);
    expect(f.requests.map((r) => r.url)).toEqual([
      'http://127.0.0.1:8080/v1/jobs/j-1/stop?drain=true',
      'http://127.0.0.1:8080/v1/jobs/j-1/stop',
      'http://127.0.0.1:8080/v1/jobs/j-1/resume',
    ]);
    expect(f.out).toEqual(["Job 'hot' (j-1) is FINISHED", "Job 'hot' (j-1) is FINISHED", "Job 'hot' (j-1) is CREATED"]);
  });

  it('weir jobs resume reports a conflict; bad actions are usage errors', async () => {
    const f = fakeContext(() => json(409, { error: { message: "Job 'x' (j-1) is RUNNING: only a STOPPED job can be resumed" } }));
    expect(await run(['jobs', 'resume', 'j-1'], f.ctx)).toBe(1);
    expect(f.err).toEqual(["ERROR: Job 'x' (j-1) is RUNNING: only a STOPPED job can be resumed"]);
    expect(await run(['jobs', 'pause', 'j-1'], f.ctx)).toBe(2);
    expect(await run(['jobs', 'stop'], f.ctx)).toBe(2);
    expect(await run(['jobs', 'resume', 'j-1', '--drain'], f.ctx)).toBe(2);
  });

  it('weir server resolves its options and starts', async () => {
    const f = fakeContext(() => json(200, {}));
    f.ctx = { ...f.ctx, env: { WEIR_PORT: '9999' } };
    expect(await run(['server', '--brokers', 'k:1'], f.ctx)).toBe(0);
    expect(f.served).toHaveLength(1);
    expect(f.served[0]).toMatchObject({ port: 9999, host: '127.0.0.1', brokers: 'k:1' });
    expect(f.served[0]?.dataDir).toMatch(/^\/.*\.weir$/);
  });

  it('weir server explains a port in use', async () => {
    const f = fakeContext(() => json(200, {}));
    const ctx: CliContext = {
      ...f.ctx,
      serve: async () => {
        throw Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' });
      },
    };
    expect(await run(['server'], ctx)).toBe(1);
    expect(f.err[0]).toMatch(/port 8080 on 127.0.0.1 is already in use/);
  });

  it('help and unknown commands print the usage', async () => {
    let f = fakeContext(() => json(200, {}));
    expect(await run(['help'], f.ctx)).toBe(0);
    for (const name of Object.keys(commands)) expect(f.out[0]).toContain(`  ${name} `);
    f = fakeContext(() => json(200, {}));
    expect(await run([], f.ctx)).toBe(0);
    expect(f.out[0]).toMatch(/^Usage: weir <command>/);
    f = fakeContext(() => json(200, {}));
    expect(await run(['frobnicate'], f.ctx)).toBe(2);
    expect(f.err[0]).toMatch(/unknown command 'frobnicate'[\s\S]*Usage: weir <command>/);
    f = fakeContext(() => json(200, {}));
    expect(await run(['help', 'sql'], f.ctx)).toBe(0);
    expect(f.out[0]).toMatch(/^Usage: weir sql -f FILE/);
  });

  it('a usage error prints the message and the command usage, exit 2', async () => {
    const f = fakeContext(() => json(200, {}));
    expect(await run(['server', '--port', 'abc'], f.ctx)).toBe(2);
    expect(f.err[0]).toMatch(/^weir server: --port must be a port number[\s\S]*Usage: weir server/);
  });
});
