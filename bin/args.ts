/** Command-line argument parsing for `weir`: pure functions, no process access (env is passed in). */

import { parseDuration } from '../engine/time/duration.ts';

/** A mistake in how the command was called: the CLI prints the message and the command's usage. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  /** One letter, used as `-x`. */
  readonly short?: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

export type OptionValues<S extends OptionSpecs> = {
  -readonly [K in keyof S]?: S[K]['type'] extends 'string' ? string : boolean;
};

export interface ParsedArgs<S extends OptionSpecs> {
  readonly values: OptionValues<S>;
  readonly positionals: string[];
}

/**
 * Parses `--name value`, `--name=value`, `-x value`, `-xvalue` and boolean `--flag` / `-f`. The token after
 * a string option is always its value, even if it starts with `-` (so `-e "-- comment ..."` works); `--`
 * ends the options; a lone `-` is a positional. The last of repeated options wins.
 */
export function parseArgs<S extends OptionSpecs>(argv: readonly string[], specs: S): ParsedArgs<S> {
  const values: Record<string, string | boolean> = {};
  const positionals: string[] = [];
  const byShort = new Map<string, string>();
  for (const [name, spec] of Object.entries(specs)) if (spec.short) byShort.set(spec.short, name);

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    let name: string;
    let inline: string | undefined;
    let shown: string;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq < 0 ? undefined : arg.slice(eq + 1);
      shown = `--${name}`;
      if (!Object.hasOwn(specs, name)) throw new UsageError(`unknown option ${shown}`);
    } else if (arg.startsWith('-') && arg.length > 1) {
      const letter = arg.slice(1, 2);
      shown = `-${letter}`;
      const long = byShort.get(letter);
      if (long === undefined) throw new UsageError(`unknown option ${shown}`);
      name = long;
      if (arg.length > 2) inline = arg.slice(2).replace(/^=/, '');
    } else {
      positionals.push(arg);
      continue;
    }

    const spec = specs[name] as OptionSpec;
    if (spec.type === 'boolean') {
      if (inline !== undefined) throw new UsageError(`option ${shown} takes no value`);
      values[name] = true;
    } else if (inline !== undefined) {
      values[name] = inline;
    } else {
      const next = argv[i + 1];
      if (next === undefined) throw new UsageError(`option ${shown} needs a value`);
      values[name] = next;
      i++;
    }
  }
  return { values: values as OptionValues<S>, positionals };
}

export type Env = Readonly<Record<string, string | undefined>>;

export const DEFAULT_PORT = 8080;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_DATA_DIR = './.weir';
export const DEFAULT_BROKERS = '127.0.0.1:9092';
export const DEFAULT_SERVER_URL = `http://127.0.0.1:${DEFAULT_PORT}`;

/** A flag wins over the environment variable, which wins over the default; an empty variable is unset. */
export function pick(flag: string | undefined, env: Env, variable: string, fallback: string): string {
  if (flag !== undefined) return flag;
  const fromEnv = env[variable];
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : fallback;
}

export function parsePort(text: string, source: string): number {
  if (!/^\d+$/.test(text.trim())) throw new UsageError(`${source} must be a port number (0-65535), not '${text}'`);
  const port = Number(text.trim());
  if (port > 65535) throw new UsageError(`${source} must be a port number (0-65535), not '${text}'`);
  return port;
}

export const serverCommandOptions = {
  port: { type: 'string' },
  host: { type: 'string' },
  'data-dir': { type: 'string' },
  brokers: { type: 'string' },
  'checkpoint-interval': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionSpecs;

export interface ServerArgs {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly brokers: string;
  /** Default checkpoint interval of jobs that do not SET 'execution.checkpointing.interval'; absent: the platform's (5 s). */
  readonly checkpointIntervalMs?: number;
  /** Connector modules (npm packages or paths) to load at start-up: --connector (repeatable) and WEIR_CONNECTORS. */
  readonly connectors?: readonly string[];
}


/** Flink's duration syntax, as `SET 'execution.checkpointing.interval'` takes it: `5s`, `5 s`, `500 ms`, `1 min`; a bare number is ms. */
export function parseDurationArg(text: string, source: string): number {
  const ms = parseDuration(text) ?? NaN;
  if (!(ms > 0)) throw new UsageError(`${source} must be a positive duration such as 5s, 500ms or 1min, not '${text}'`);
  return ms;
}

/** `weir server [--port] [--host] [--data-dir] [--brokers]`, with WEIR_PORT, WEIR_HOST, WEIR_DATA_DIR, WEIR_BROKERS. */
export function resolveServerArgs(values: OptionValues<typeof serverCommandOptions>, env: Env): ServerArgs {
  const portSource = values.port !== undefined ? '--port' : 'WEIR_PORT';
  const port = parsePort(pick(values.port, env, 'WEIR_PORT', String(DEFAULT_PORT)), portSource);
  const host = pick(values.host, env, 'WEIR_HOST', DEFAULT_HOST);
  const dataDir = pick(values['data-dir'], env, 'WEIR_DATA_DIR', DEFAULT_DATA_DIR);
  const brokers = pick(values.brokers, env, 'WEIR_BROKERS', DEFAULT_BROKERS);
  if (host === '') throw new UsageError('--host must not be empty');
  if (dataDir === '') throw new UsageError('--data-dir must not be empty');
  if (brokers === '') throw new UsageError('--brokers must not be empty');
  const interval = pick(values['checkpoint-interval'], env, 'WEIR_CHECKPOINT_INTERVAL', '');
  const intervalSource = values['checkpoint-interval'] !== undefined ? '--checkpoint-interval' : 'WEIR_CHECKPOINT_INTERVAL';
  return { port, host, dataDir, brokers, ...(interval !== '' ? { checkpointIntervalMs: parseDurationArg(interval, intervalSource) } : {}) };
}

/**
 * The server's base URL from `--server` or WEIR_SERVER: `http://host:port` (a bare `host:port` gets
 * `http://`), without a trailing slash.
 */
export function resolveServerUrl(flag: string | undefined, env: Env): string {
  const raw = pick(flag, env, 'WEIR_SERVER', DEFAULT_SERVER_URL).trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UsageError(`--server must be a URL like ${DEFAULT_SERVER_URL}, not '${raw}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--server must be an http:// or https:// URL, not '${raw}'`);
  }
  return url.href.replace(/\/+$/, '');
}

export const sqlCommandOptions = {
  file: { type: 'string', short: 'f' },
  execute: { type: 'string', short: 'e' },
  server: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionSpecs;

/** Where the SQL comes from: a file (`-` is stdin) or the text given with -e. */
export type SqlSource = { readonly kind: 'file'; readonly path: string } | { readonly kind: 'text'; readonly text: string };

export interface SqlArgs {
  readonly server: string;
  readonly source: SqlSource;
}

/** `weir sql -f file.sql | -e "..." [--server URL]`. */
export function resolveSqlArgs(parsed: ParsedArgs<typeof sqlCommandOptions>, env: Env): SqlArgs {
  const { values, positionals } = parsed;
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  if (values.file !== undefined && values.execute !== undefined) {
    throw new UsageError('give either -f FILE or -e SQL, not both');
  }
  const server = resolveServerUrl(values.server, env);
  if (values.file !== undefined) {
    if (values.file === '') throw new UsageError('-f needs a file name (or - for stdin)');
    return { server, source: { kind: 'file', path: values.file } };
  }
  if (values.execute !== undefined) return { server, source: { kind: 'text', text: values.execute } };
  throw new UsageError('give the SQL with -f FILE (- for stdin) or -e "SQL"');
}

export const jobsCommandOptions = {
  server: { type: 'string' },
  drain: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionSpecs;
