import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SqlError } from '../engine/sql/errors.ts';
import { JobConflictError } from '../jobs/api.ts';

/**
 * The one place where errors become HTTP answers (DESIGN.md §7): 400 for the user's mistakes, 404 for
 * unknown names and ids, 409 for conflicts, 5xx only for our bugs. Every answer is
 * `{"error": {"message", ...}}` and none ever carries a stack trace.
 */

/** An error a route raises on purpose, with the status it should answer. */
export class HttpError extends Error {
  readonly statusCode: number;

  constructor(statusCode: number, message: string) {
    super(message);
    this.name = 'HttpError';
    this.statusCode = statusCode;
  }
}

export function notFound(what: string, name: string): HttpError {
  return new HttpError(404, `unknown ${what} '${name}'`);
}

export interface ErrorBody {
  readonly error: {
    readonly message: string;
    readonly [key: string]: unknown;
  };
}

export interface ErrorAnswer {
  readonly status: number;
  readonly body: ErrorBody;
  /** Our bug (5xx): log the full error, answer only a generic message. */
  readonly internal: boolean;
}

export const INTERNAL_ERROR_MESSAGE = 'internal server error; the details are in the server log';

/** Classifies any thrown value into the status and JSON body to answer. Pure: no logging, no reply. */
export function toErrorAnswer(err: unknown): ErrorAnswer {
  const sql = asSqlError(err);
  if (sql) {
    return {
      status: sql.kind === 'conflict' ? 409 : 400,
      body: {
        error: {
          message: sql.message,
          statement: sql.statement ?? null,
          line: sql.pos?.line ?? null,
          column: sql.pos?.column ?? null,
          kind: sql.kind,
        },
      },
      internal: false,
    };
  }
  if (err instanceof JobConflictError) {
    return { status: 409, body: { error: { message: err.message } }, internal: false };
  }
  if (err instanceof HttpError && err.statusCode >= 400 && err.statusCode <= 599) {
    return { status: err.statusCode, body: { error: { message: err.message } }, internal: false };
  }
  const fst = asFastifyClientError(err);
  if (fst) {
    const message =
      fst.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
        ? `${fst.message}: send a JSON body with content-type: application/json`
        : fst.message;
    return { status: fst.statusCode, body: { error: { message } }, internal: false };
  }
  return { status: 500, body: { error: { message: INTERNAL_ERROR_MESSAGE } }, internal: true };
}

function asSqlError(err: unknown): SqlError | undefined {
  if (err instanceof SqlError) return err;
  // A SqlError from another copy of the module (e.g. loaded through a different URL) still counts.
  if (
    typeof err === 'object' &&
    err !== null &&
    (err as { name?: unknown }).name === 'SqlError' &&
    typeof (err as { kind?: unknown }).kind === 'string' &&
    typeof (err as { message?: unknown }).message === 'string'
  ) {
    return err as SqlError;
  }
  return undefined;
}

/**
 * Fastify's own client errors: schema validation (`validation` set) and request parsing (`FST_ERR_CTP_*`:
 * invalid JSON, body too large, unsupported media type, ...). Other errors carrying a `statusCode` are not
 * trusted: a platform bug must not pass for a user's mistake.
 */
function asFastifyClientError(err: unknown): { statusCode: number; message: string; code?: string } | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { validation?: unknown; code?: unknown; statusCode?: unknown; message?: unknown };
  const message = typeof e.message === 'string' && e.message !== '' ? e.message : 'bad request';
  if (Array.isArray(e.validation)) return { statusCode: 400, message };
  if (
    typeof e.code === 'string' &&
    e.code.startsWith('FST_') &&
    typeof e.statusCode === 'number' &&
    e.statusCode >= 400 &&
    e.statusCode < 500
  ) {
    return { statusCode: e.statusCode, message, code: e.code };
  }
  return undefined;
}

/** Installs the error handler and a JSON 404 handler on the instance. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const answer = toErrorAnswer(err);
    if (answer.internal) {
      request.log.error({ err, reqId: request.id }, 'unhandled error while serving %s %s', request.method, request.url);
      return reply
        .code(answer.status)
        .send({ error: { ...answer.body.error, requestId: request.id } } satisfies ErrorBody);
    }
    return reply.code(answer.status).send(answer.body);
  });

  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0] ?? request.url;
    return reply
      .code(404)
      .send({ error: { message: `no such endpoint: ${request.method} ${path}` } } satisfies ErrorBody);
  });
}
