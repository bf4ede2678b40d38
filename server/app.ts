import Fastify from 'fastify';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Platform } from '../jobs/api.ts';
import { registerConsole } from './console.ts';
import { registerErrorHandling } from './errors.ts';
import { toJson } from './json.ts';
import { registerDashboardRoutes } from './routes/dashboards.ts';
import { registerHealthRoutes } from './routes/health.ts';
import { registerJobRoutes } from './routes/jobs.ts';
import { registerStatementRoutes } from './routes/statements.ts';
import { registerTableRoutes } from './routes/tables.ts';
import { registerViewRoutes } from './routes/views.ts';

export interface ServerOptions {
  /** true: fastify's JSON logger at info; an object picks the level. Default: no logging. */
  readonly logger?: boolean | { readonly level?: string };
  /** A ready-made pino-compatible logger (wins over `logger`); tests use it to see what gets logged. */
  readonly loggerInstance?: FastifyBaseLogger;
  /** Largest accepted request body in bytes (default 4 MiB); a larger one answers 413. */
  readonly bodyLimit?: number;
  /** How long GET /health waits for the broker check (default 5 s). */
  readonly healthTimeoutMs?: number;
  /** The built console (default: console/dist of this checkout); tests point it elsewhere. */
  readonly consoleDir?: string;
}

export const DEFAULT_BODY_LIMIT = 4 * 1024 * 1024;

/**
 * The REST API of DESIGN.md §7 over a Platform. Not listening and not yet `ready()`, so more routes and
 * plugins can still be registered; `listen()` or `inject()` make it ready.
 */
export async function buildServer(platform: Platform, opts: ServerOptions = {}): Promise<FastifyInstance> {
  const logging = opts.loggerInstance
    ? { loggerInstance: opts.loggerInstance }
    : { logger: opts.logger === undefined ? false : typeof opts.logger === 'boolean' ? opts.logger : { ...opts.logger } };
  const app = Fastify({
    ...logging,
    bodyLimit: opts.bodyLimit ?? DEFAULT_BODY_LIMIT,
    // A number is not a string of SQL: no type coercion when validating bodies.
    ajv: { customOptions: { coerceTypes: false } },
  });

  app.setReplySerializer(toJson);
  registerErrorHandling(app);

  registerStatementRoutes(app, platform);
  registerJobRoutes(app, platform);
  registerTableRoutes(app, platform);
  registerViewRoutes(app, platform);
  registerHealthRoutes(app, platform, opts.healthTimeoutMs);
  registerDashboardRoutes(app, platform);
  // The web console (static files, SSE) mounts here.
  registerConsole(app, opts.consoleDir);

  return app;
}
