import type { FastifyInstance } from 'fastify';
import type { Platform, ViewChangeEvent, ViewService } from '../../jobs/api.ts';
import { HttpError, notFound } from '../errors.ts';
import { toJson } from '../json.ts';

interface NameParams {
  name: string;
}

interface RowsQuery {
  limit?: string;
  offset?: string;
  order?: string;
}

interface ChangesQuery {
  snapshot?: string;
}

const querySchema = {
  body: { type: 'object', required: ['sql'], properties: { sql: { type: 'string' } } },
} as const;

/** How often an idle change stream sends an SSE comment, so proxies and clients see it is alive. */
const HEARTBEAT_MS = 15_000;

/**
 * Materialized views (DESIGN §7): `POST /v1/query`, `GET /v1/views`, `GET /v1/views/:name`,
 * `GET /v1/views/:name/rows?limit=&offset=&order=`, and `GET /v1/views/:name/changes` (Server-Sent Events).
 */
export function registerViewRoutes(app: FastifyInstance, platform: Platform): void {
  // Open change streams end when the server closes (a hijacked reply would otherwise hold close() up).
  const streams = new Set<() => void>();
  app.addHook('preClose', (done) => {
    for (const end of streams) end();
    done();
  });

  const views = (): ViewService => {
    if (!platform.views) throw new HttpError(404, 'this server has no materialized views');
    return platform.views;
  };

  app.post<{ Body: { sql: string } }>('/v1/query', { schema: querySchema }, async (request) => views().query(request.body.sql));

  app.get('/v1/views', async () => ({ views: views().listViews() }));

  app.get<{ Params: NameParams }>('/v1/views/:name', async (request) => {
    const v = views().getView(request.params.name);
    if (!v) throw notFound('materialized view', request.params.name);
    return v;
  });

  app.get<{ Params: NameParams; Querystring: RowsQuery }>('/v1/views/:name/rows', async (request) => {
    const q = request.query;
    const int = (name: string, v: string | undefined): number | undefined => {
      if (v === undefined) return undefined;
      if (!/^\d+$/.test(v)) throw new HttpError(400, `'${name}' must be a non-negative integer, not '${v}'`);
      return Number(v);
    };
    const limit = int('limit', q.limit);
    const offset = int('offset', q.offset);
    const rows = await views().rows(request.params.name, { ...(limit !== undefined ? { limit } : {}), ...(offset !== undefined ? { offset } : {}), ...(q.order ? { order: q.order } : {}) });
    if (!rows) throw notFound('materialized view', request.params.name);
    return rows;
  });

  // One `change` event per committed change; first the current rows as +I and `snapshot-end`
  // (unless ?snapshot=false). Snapshot and subscription are taken together: nothing lost or repeated.
  app.get<{ Params: NameParams; Querystring: ChangesQuery }>('/v1/views/:name/changes', async (request, reply) => {
    const snap = request.query.snapshot;
    if (snap !== undefined && snap !== 'true' && snap !== 'false') throw new HttpError(400, `snapshot must be true or false, not '${snap}'`);
    const raw = reply.raw;
    const send = (cs: readonly ViewChangeEvent[]): void => {
      let out = '';
      for (const c of cs) out += `event: change\ndata: ${toJson(c)}\n\n`;
      raw.write(out);
    };
    const sub = views().changes(request.params.name, send);
    if (!sub) throw notFound('materialized view', request.params.name);
    reply.hijack();
    raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
    if (snap !== 'false') {
      send(sub.snapshot.map((row) => ({ op: '+I', row })));
      raw.write('event: snapshot-end\ndata: {}\n\n');
    } else raw.write(': subscribed\n\n');
    const beat = setInterval(() => raw.write(': heartbeat\n\n'), HEARTBEAT_MS);
    const end = (): void => {
      if (!streams.delete(end)) return;
      clearInterval(beat);
      sub.unsubscribe();
      raw.end();
    };
    streams.add(end);
    request.raw.on('close', end);
    raw.on('close', end);
  });
}
