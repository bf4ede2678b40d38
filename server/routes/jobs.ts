import type { FastifyInstance } from 'fastify';
import type { JobInfo, Platform } from '../../jobs/api.ts';
import { HttpError, notFound } from '../errors.ts';

interface JobParams {
  id: string;
}

interface StopQuery {
  drain?: string;
}

/** `GET /v1/jobs` → {"jobs": [...]}, `GET /v1/jobs/:id` → the job, `GET /v1/jobs/:id/metrics/history` → {intervalMs, points}, `POST /v1/jobs/:id/stop[?drain=true]` and `/resume` → the job. */
export function registerJobRoutes(app: FastifyInstance, platform: Platform): void {
  app.get('/v1/jobs', async () => {
    const jobs: JobInfo[] = platform.listJobs();
    return { jobs };
  });

  app.get<{ Params: JobParams }>('/v1/jobs/:id', async (request) => {
    const job = platform.getJob(request.params.id);
    if (!job) throw notFound('job', request.params.id);
    return job;
  });

  // The console's charts: one point per sample interval over the last 15 minutes, oldest first.
  app.get<{ Params: JobParams }>('/v1/jobs/:id/metrics/history', async (request) => {
    const history = platform.metricsHistory?.(request.params.id);
    if (!history) throw notFound('job', request.params.id);
    return history;
  });

  // `?drain=true` fires every open window before the final checkpoint (the job then ends FINISHED).
  app.post<{ Params: JobParams; Querystring: StopQuery }>('/v1/jobs/:id/stop', async (request) => {
    const drain = request.query.drain;
    if (drain !== undefined && drain !== 'true' && drain !== 'false') throw new HttpError(400, `drain must be true or false, not '${drain}'`);
    const job = await platform.stopJob(request.params.id, { drain: drain === 'true' });
    if (!job) throw notFound('job', request.params.id);
    return job;
  });

  // 404 unknown, 409 unless the job is STOPPED (JobConflictError, mapped in errors.ts).
  app.post<{ Params: JobParams }>('/v1/jobs/:id/resume', async (request) => {
    const job = await platform.resumeJob(request.params.id);
    if (!job) throw notFound('job', request.params.id);
    return job;
  });
}
