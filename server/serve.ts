import { mkdir } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { registerBuiltinConnectors } from '../connectors/builtin.ts';
import { loadConnectorPlugins } from '../connectors/plugins.ts';
import type { Platform } from '../jobs/api.ts';
import { buildServer } from './app.ts';
import { HttpError } from './errors.ts';
import type { ServerOptions } from './app.ts';

/** The factory jobs/platform.ts exports (as `createPlatform`). */
export type CreatePlatform = (opts: { dataDir: string; brokers: string; progressIntervalMs?: number }) => Promise<Platform>;

export interface StartServerOptions {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly brokers: string;
  /** The server-wide default checkpoint interval (ms) for jobs that do not SET 'execution.checkpointing.interval'. */
  readonly checkpointIntervalMs?: number;
  /** Default: fastify's JSON logger at warn level (errors and our bugs, not every request). */
  readonly logger?: ServerOptions['logger'];
  /** Install SIGTERM/SIGINT handlers that shut down and exit the process (default true). */
  readonly handleSignals?: boolean;
  /** Default: `createPlatform` from jobs/platform.ts, loaded when the server starts. */
  readonly createPlatform?: CreatePlatform;
  /** Third-party connector modules (package names or paths) to register before anything runs (connectors/plugins.ts). */
  readonly connectors?: readonly string[];
}

export interface RunningServer {
  readonly app: FastifyInstance;
  readonly platform: Platform;
  /** e.g. http://127.0.0.1:8080 (the real port when 0 was asked for). */
  readonly url: string;
  /** Stops accepting requests, waits for the ones in flight, then closes the platform. Idempotent. */
  close(): Promise<void>;
  /** The connector modules loaded at start-up and the connectors each registered. */
  readonly plugins: readonly { readonly spec: string; readonly connectors: readonly string[] }[];
}

/**
 * Serves the REST API on host:port, then creates the platform, and (by default) shuts down cleanly on
 * SIGTERM/SIGINT. The port is taken first, so a second `weir server` on a busy port fails before it opens
 * the data directory (and resumes its jobs); requests that arrive while the platform starts wait for it.
 */
export async function startServer(opts: StartServerOptions): Promise<RunningServer> {
  const createPlatform = opts.createPlatform ?? (await loadCreatePlatform());
  // Built-ins first, so that a package cannot take a built-in connector's name; a bad package stops the start.
  registerBuiltinConnectors();
  const plugins = await loadConnectorPlugins(opts.connectors ?? []);
  const holder: { platform?: Platform } = {};
  let started!: (ok: boolean) => void;
  const platformReady = new Promise<boolean>((resolve) => {
    started = resolve;
  });
  const app = await buildServer(forwardingPlatform(holder), { logger: opts.logger ?? { level: process.env['WEIR_LOG_LEVEL'] ?? 'warn' } });
  app.addHook('onRequest', async () => {
    if (!(await platformReady)) throw new HttpError(503, 'the server is shutting down: its platform failed to start');
  });

  try {
    await app.listen({ port: opts.port, host: opts.host });
  } catch (err) {
    await app.close().catch(() => undefined);
    throw err;
  }
  let platform: Platform;
  try {
    await mkdir(opts.dataDir, { recursive: true });
    platform = await createPlatform({
      dataDir: opts.dataDir,
      brokers: opts.brokers,
      ...(opts.checkpointIntervalMs !== undefined ? { progressIntervalMs: opts.checkpointIntervalMs } : {}),
    });
  } catch (err) {
    started(false);
    await app.close().catch(() => undefined);
    throw err;
  }
  holder.platform = platform;
  started(true);
  const url = serverUrl(app, opts.host, opts.port);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      try {
        await app.close();
      } finally {
        await platform.close();
      }
    })();
    return closing;
  };

  if (opts.handleSignals ?? true) installSignalHandlers(app, close);
  return { app, platform, url, close, plugins };
}

/** A Platform that forwards to `holder.platform`, which the onRequest hook guarantees is set. */
function forwardingPlatform(holder: { platform?: Platform }): Platform {
  const need = (): Platform => {
    if (!holder.platform) throw new Error('the platform is not started');
    return holder.platform;
  };
  return {
    execute: (sql) => need().execute(sql),
    listJobs: () => need().listJobs(),
    getJob: (id) => need().getJob(id),
    stopJob: (id, opts) => need().stopJob(id, opts),
    resumeJob: (id) => need().resumeJob(id),
    listTables: () => need().listTables(),
    getTable: (name) => need().getTable(name),
    health: () => need().health(),
    close: () => need().close(),
    get views() {
      return need().views;
    },
    metricsHistory: (id) => need().metricsHistory?.(id),
    tablePartitions: async (name) => need().tablePartitions?.(name),
    get dashboards() {
      return need().dashboards;
    },
  };
}

function installSignalHandlers(app: FastifyInstance, close: () => Promise<void>): void {
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) {
      app.log.warn(`${signal} again: exiting without waiting for the shutdown to finish`);
      process.exit(1);
    }
    signalled = true;
    app.log.info(`${signal}: shutting down (send it again to exit at once)`);
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

function serverUrl(app: FastifyInstance, host: string, port: number): string {
  const address = app.server.address();
  const realPort = typeof address === 'object' && address !== null ? address.port : port;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `http://${shownHost}:${realPort}`;
}

/**
 * jobs/platform.ts is written in parallel with the server; it is loaded by URL at run time so that this
 * file type-checks whether or not it exists yet, and its export is checked here instead.
 */
async function loadCreatePlatform(): Promise<CreatePlatform> {
  const url = new URL('../jobs/platform.ts', import.meta.url).href;
  const mod = (await import(url)) as { createPlatform?: unknown };
  if (typeof mod.createPlatform !== 'function') {
    throw new Error(`${url} does not export a createPlatform function`);
  }
  return mod.createPlatform as CreatePlatform;
}
