import { readFile } from 'node:fs/promises';
import { genCommand } from './gen.ts';
import { resolve } from 'node:path';
import type { JobInfo, ResultColumn, StatementResult } from '../jobs/api.ts';
import {
  UsageError,
  jobsCommandOptions,
  parseArgs,
  resolveServerArgs,
  resolveServerUrl,
  resolveSqlArgs,
  serverCommandOptions,
  sqlCommandOptions,
} from './args.ts';
import type { Env, ServerArgs } from './args.ts';
import { ServerUnreachableError, callApi, errorOf } from './client.ts';
import type { FetchLike } from './client.ts';
import { formatJobs, formatResult, formatRows, renderSqlError } from './format.ts';
import { connectorSpecs } from '../connectors/plugins.ts';

/** `--name value` / `--name=value` given any number of times, taken out of argv (parseArgs keeps only the last). */
function takeRepeated(argv: readonly string[], name: string): { rest: string[]; values: string[] } {
  const rest: string[] = [];
  const values: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (a === `--${name}`) {
      const v = argv[i + 1];
      if (v === undefined) throw new UsageError(`option --${name} needs a value`);
      values.push(v);
      i++;
    } else if (a.startsWith(`--${name}=`)) values.push(a.slice(name.length + 3));
    else rest.push(a);
  }
  return { rest, values };
}

/** What a command may touch; tests pass fakes. */
export interface CliContext {
  readonly env: Env;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly fetch: FetchLike;
  readonly readFile: (path: string) => Promise<string>;
  readonly readStdin: () => Promise<string>;
  /** Starts the server and keeps it running (until a signal); resolves once it listens. */
  readonly serve: (args: ServerArgs) => Promise<void>;
}

export interface Command {
  /** One line for the command list. */
  readonly summary: string;
  /** Full usage text for `weir help <command>` and usage errors. */
  readonly usage: string;
  /** Returns the exit code; a UsageError prints the message and the usage, exit 2. */
  run(argv: readonly string[], ctx: CliContext): Promise<number>;
}

const serverCommand: Command = {
  summary: 'run the Weir server (REST API, web console) and its jobs',
  usage: `Usage: weir server [--port 8080] [--host 127.0.0.1] [--data-dir ./.weir] [--brokers 127.0.0.1:9092]
                   [--checkpoint-interval 5s]

Options (flags win over the environment):
  --port PORT       port to listen on (WEIR_PORT, default 8080)
  --host HOST       address to bind (WEIR_HOST, default 127.0.0.1; /v1/query runs the user's SQL,
                    so bind other addresses only on purpose)
  --data-dir DIR    catalog, checkpoints, views and lake (WEIR_DATA_DIR, default ./.weir)
  --brokers LIST    Kafka bootstrap servers (WEIR_BROKERS, default 127.0.0.1:9092)
  --checkpoint-interval DURATION
                    how often jobs checkpoint unless they SET 'execution.checkpointing.interval'
                    (WEIR_CHECKPOINT_INTERVAL, e.g. 5s, 500ms, 1min; default 5s)
  --connector MODULE
                    load a connector package (an installed npm package name, or a path) at start-up;
                    repeatable. WEIR_CONNECTORS=pkg1,pkg2 adds more (docs/connectors.md)`,
  async run(argv, ctx) {
    const { rest, values: connectorFlags } = takeRepeated(argv, 'connector');
    const parsed = parseArgs(rest, serverCommandOptions);
    if (parsed.values.help) return printUsage(ctx, this.usage);
    if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument '${parsed.positionals[0]}'`);
    const args = resolveServerArgs(parsed.values, ctx.env);
    const connectors = connectorSpecs(connectorFlags, ctx.env['WEIR_CONNECTORS']);
    try {
      await ctx.serve({ ...args, dataDir: resolve(args.dataDir), ...(connectors.length > 0 ? { connectors } : {}) });
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === 'EADDRINUSE') {
        ctx.err(`ERROR: port ${args.port} on ${args.host} is already in use; pick another with --port`);
      } else if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
        ctx.err(`ERROR: cannot listen on ${args.host}: no such local address`);
      } else {
        ctx.err(`ERROR: the server could not start: ${err instanceof Error ? err.message : String(err)}`);
      }
      return 1;
    }
    return 0;
  },
};

const sqlCommand: Command = {
  summary: 'run SQL statements on a Weir server',
  usage: `Usage: weir sql -f FILE [--server URL]
       weir sql -e "SQL" [--server URL]

Options:
  -f, --file FILE      run the statements in FILE (- reads stdin)
  -e, --execute SQL    run the statements given
  --server URL         the Weir server (WEIR_SERVER, default http://127.0.0.1:8080)

Statements run in order; the first failing one stops the run (those before it stay applied).`,
  async run(argv, ctx) {
    const parsed = parseArgs(argv, sqlCommandOptions);
    if (parsed.values.help) return printUsage(ctx, this.usage);
    const args = resolveSqlArgs(parsed, ctx.env);
    const { source } = args;
    let sql: string;
    let file: string | undefined;
    if (source.kind === 'text') {
      sql = source.text;
    } else {
      file = source.path === '-' ? '<stdin>' : source.path;
      try {
        sql = source.path === '-' ? await ctx.readStdin() : await ctx.readFile(source.path);
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        ctx.err(`ERROR: cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : err instanceof Error ? err.message : String(err)}`);
        return 1;
      }
    }

    const { status, body } = await callApi(ctx.fetch, args.server, 'POST', '/v1/statements', { sql });
    if (status === 200) {
      const results = (body as { results?: StatementResult[] } | undefined)?.results ?? [];
      for (const result of results) ctx.out(formatResult(result));
      return 0;
    }
    const error = errorOf(body);
    if (status >= 400 && status < 500 && error) {
      const info = {
        message: error.message,
        statement: numberOrNull(error.statement),
        line: numberOrNull(error.line),
        column: numberOrNull(error.column),
      };
      ctx.err(renderSqlError(sql, info, file === undefined ? {} : { file }));
      if (info.statement !== null && info.statement > 1) {
        const before = info.statement === 2 ? 'statement 1 ran and stays' : `statements 1-${info.statement - 1} ran and stay`;
        ctx.err(`(${before} applied)`);
      }
      return 1;
    }
    return reportHttpError(ctx, status, body);
  },
};

const queryOptions = {
  server: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const queryCommand: Command = {
  summary: 'query materialized views (SQLite SQL, read-only): weir query "SELECT ..."',
  usage: `Usage: weir query "SELECT ..." [--server URL]

Runs one read-only SELECT over the materialized views (SQLite's dialect: joins, ORDER BY, LIMIT, ...)
through POST /v1/query and prints the rows as a table.
  --server URL   the Weir server (WEIR_SERVER, default http://127.0.0.1:8080)`,
  async run(argv, ctx) {
    const parsed = parseArgs(argv, queryOptions);
    if (parsed.values.help) return printUsage(ctx, this.usage);
    const sql = parsed.positionals.join(' ').trim();
    if (!sql) throw new UsageError('which query? weir query "SELECT * FROM my_view LIMIT 10"');
    const server = resolveServerUrl(parsed.values.server, ctx.env);
    const { status, body } = await callApi(ctx.fetch, server, 'POST', '/v1/query', { sql });
    const error = errorOf(body);
    if (status >= 400 && status < 500 && error) {
      ctx.err(renderSqlError(sql, { message: error.message, statement: null, line: numberOrNull(error.line), column: numberOrNull(error.column) }));
      return 1;
    }
    if (status !== 200) return reportHttpError(ctx, status, body);
    const r = body as { columns?: ResultColumn[]; rows?: unknown[][] };
    ctx.out(formatRows(r.columns ?? [], r.rows ?? []));
    return 0;
  },
};

const jobsCommand: Command = {
  summary: 'list the jobs on a Weir server; stop or resume one',
  usage: `Usage: weir jobs [--server URL]
       weir jobs stop ID [--drain] [--server URL]
       weir jobs resume ID [--server URL]

  stop     stops the job after a final checkpoint; --drain first fires every open window
           (as at the end of input) and the job ends FINISHED
  resume   continues a STOPPED job from its last checkpoint

Options:
  --server URL   the Weir server (WEIR_SERVER, default http://127.0.0.1:8080)`,
  async run(argv, ctx) {
    const parsed = parseArgs(argv, jobsCommandOptions);
    if (parsed.values.help) return printUsage(ctx, this.usage);
    const server = resolveServerUrl(parsed.values.server, ctx.env);
    const [action, id, extra] = parsed.positionals;
    if (action !== undefined) {
      if (action !== 'stop' && action !== 'resume') throw new UsageError(`unknown action '${action}' (stop or resume)`);
      if (id === undefined) throw new UsageError(`weir jobs ${action} needs a job id`);
      if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`);
      if (parsed.values.drain && action !== 'stop') throw new UsageError('--drain goes with stop');
      const query = action === 'stop' && parsed.values.drain ? '?drain=true' : '';
      const { status, body } = await callApi(ctx.fetch, server, 'POST', `/v1/jobs/${encodeURIComponent(id)}/${action}${query}`);
      if (status !== 200) return reportHttpError(ctx, status, body);
      const job = body as JobInfo;
      ctx.out(`Job '${job.name}' (${job.id}) is ${job.state}`);
      return 0;
    }
    if (parsed.values.drain) throw new UsageError('--drain goes with stop');
    const { status, body } = await callApi(ctx.fetch, server, 'GET', '/v1/jobs');
    if (status !== 200) return reportHttpError(ctx, status, body);
    const jobs = (body as { jobs?: JobInfo[] } | undefined)?.jobs ?? [];
    ctx.out(formatJobs(jobs));
    return 0;
  },
};

const helpCommand: Command = {
  summary: "show this help, or a command's: weir help <command>",
  usage: 'Usage: weir help [command]',
  async run(argv, ctx) {
    const name = argv[0];
    if (name === undefined) return printUsage(ctx, usage());
    const command = lookup(name);
    if (!command) {
      ctx.err(`weir: unknown command '${name}'\n\n${usage()}`);
      return 2;
    }
    return printUsage(ctx, command.usage);
  },
};

/**
 * Every `weir` command. To add one (e.g. `weir gen`), write a Command and list it here; help and dispatch
 * pick it up.
 */
export const commands: Record<string, Command> = {
  server: serverCommand,
  sql: sqlCommand,
  jobs: jobsCommand,
  query: queryCommand,
  gen: genCommand,
  help: helpCommand,
};

function lookup(name: string): Command | undefined {
  return Object.hasOwn(commands, name) ? commands[name] : undefined;
}

export function usage(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}   ${c.summary}`);
  return ['Usage: weir <command> [options]', '', 'Commands:', ...lines, '', "Run 'weir help <command>' for its options."].join('\n');
}

function printUsage(ctx: CliContext, text: string): number {
  ctx.out(text);
  return 0;
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function reportHttpError(ctx: CliContext, status: number, body: unknown): number {
  const message = errorOf(body)?.message ?? `HTTP ${status}`;
  ctx.err(status >= 500 ? `ERROR: the server failed (HTTP ${status}): ${message}` : `ERROR: ${message}`);
  return 1;
}

/** Runs `weir <argv>` and returns the exit code (the server command returns once it listens). */
export async function run(argv: readonly string[], ctx: CliContext): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') return printUsage(ctx, usage());
  const command = lookup(name);
  if (!command) {
    ctx.err(`weir: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  try {
    return await command.run(rest, ctx);
  } catch (err) {
    if (err instanceof UsageError) {
      ctx.err(`weir ${name}: ${err.message}\n\n${command.usage}`);
      return 2;
    }
    if (err instanceof ServerUnreachableError) {
      ctx.err(`ERROR: ${err.message}`);
      return 1;
    }
    ctx.err(`ERROR: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

export function defaultContext(): CliContext {
  return {
    env: process.env,
    out: (text) => process.stdout.write(text + '\n'),
    err: (text) => process.stderr.write(text + '\n'),
    fetch: (url, init) => fetch(url, init),
    readFile: (path) => readFile(path, 'utf8'),
    readStdin: () => readAll(process.stdin),
    serve: async (args) => {
      const { startServer } = await import('../server/serve.ts');
      const server = await startServer(args);
      for (const p of server.plugins) process.stderr.write(`Loaded connector module ${p.spec}: ${p.connectors.join(', ')}\n`);
      process.stderr.write(`Weir server listening on ${server.url} (data: ${args.dataDir}, brokers: ${args.brokers})\n`);
    },
  };
}

/** Entry point of bin/weir.mjs. Sets process.exitCode; `weir server` keeps the process alive. */
export async function main(argv: readonly string[]): Promise<void> {
  process.exitCode = await run(argv, defaultContext());
}
