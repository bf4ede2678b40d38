import type { FastifyInstance } from 'fastify';
import type { Platform, StatementResult } from '../../jobs/api.ts';

interface StatementsBody {
  sql: string;
}

const statementsSchema = {
  body: {
    type: 'object',
    required: ['sql'],
    properties: { sql: { type: 'string' } },
  },
} as const;

/** `POST /v1/statements` {"sql"} → 200 {"results": [...]}; a failing statement throws a SqlError (→ 400/409). */
export function registerStatementRoutes(app: FastifyInstance, platform: Platform): void {
  app.post<{ Body: StatementsBody }>('/v1/statements', { schema: statementsSchema }, async (request) => {
    const results: StatementResult[] = await platform.execute(request.body.sql);
    return { results };
  });
}
