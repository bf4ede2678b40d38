import type { FastifyInstance } from 'fastify';
import type { Platform, TableInfo } from '../../jobs/api.ts';
import { notFound } from '../errors.ts';

interface TableParams {
  name: string;
}

/** `GET /v1/tables` → {"tables": [...]}, `GET /v1/tables/:name` → the table or view (a Kafka table with its topic's partitions and end offsets). */
export function registerTableRoutes(app: FastifyInstance, platform: Platform): void {
  app.get('/v1/tables', async () => {
    const tables: TableInfo[] = platform.listTables();
    return { tables };
  });

  app.get<{ Params: TableParams }>('/v1/tables/:name', async (request) => {
    const table = platform.getTable(request.params.name);
    if (!table) throw notFound('table', request.params.name);
    // A Kafka table also shows its topic's partitions, or why they could not be read (never a 500).
    const partitions = await platform.tablePartitions?.(table.name);
    return partitions ? { ...table, ...partitions } : table;
  });
}
