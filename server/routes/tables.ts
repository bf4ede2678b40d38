import type { FastifyInstance } from 'fastify';
import type { Platform, TableInfo } from '../../jobs/api.ts';
import { notFound } from '../errors.ts';

interface TableParams {
  name: string;
}

/** `GET /v1/tables` → {"tables": [...]}, `GET /v1/tables/:name` → the table or view. */
export function registerTableRoutes(app: FastifyInstance, platform: Platform): void {
  app.get('/v1/tables', async () => {
    const tables: TableInfo[] = platform.listTables();
    return { tables };
  });

  app.get<{ Params: TableParams }>('/v1/tables/:name', async (request) => {
    const table = platform.getTable(request.params.name);
    if (!table) throw notFound('table', request.params.name);
    return table;
  });
}
