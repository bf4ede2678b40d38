import type { FastifyInstance } from 'fastify';
import { DashboardError } from '../../catalog/dashboards.ts';
import type { DashboardService } from '../../catalog/dashboards.ts';
import type { Platform } from '../../jobs/api.ts';
import { HttpError, notFound } from '../errors.ts';

interface DashboardParams {
  name: string;
}

/**
 * Dashboards saved in the catalog: `GET /v1/dashboards` → {"dashboards": [...]}, `GET|PUT|DELETE
 * /v1/dashboards/:name` (DELETE answers {"deleted": name}). PUT creates (201) or replaces (200) and answers the dashboard; an invalid body is
 * a 400 naming the field. A panel whose view is missing is kept and answered with an `error`.
 */
export function registerDashboardRoutes(app: FastifyInstance, platform: Platform): void {
  const service = (): DashboardService => {
    if (!platform.dashboards) throw new HttpError(404, 'this server keeps no dashboards');
    return platform.dashboards;
  };

  app.get('/v1/dashboards', async () => ({ dashboards: service().list() }));

  app.get<{ Params: DashboardParams }>('/v1/dashboards/:name', async (request) => {
    const d = service().get(request.params.name);
    if (!d) throw notFound('dashboard', request.params.name);
    return d;
  });

  app.put<{ Params: DashboardParams }>('/v1/dashboards/:name', async (request, reply) => {
    try {
      const { dashboard, created } = service().put(request.params.name, request.body);
      return reply.code(created ? 201 : 200).send(dashboard);
    } catch (e) {
      if (e instanceof DashboardError) throw new HttpError(400, `invalid dashboard: ${e.message}`);
      throw e;
    }
  });

  app.delete<{ Params: DashboardParams }>('/v1/dashboards/:name', async (request) => {
    if (!service().delete(request.params.name)) throw notFound('dashboard', request.params.name);
    return { deleted: request.params.name };
  });
}
