import type { FastifyInstance } from 'fastify';
import type { JobInfo, Platform } from '../../jobs/api.ts';
import { notFound } from '../errors.ts';

interface JobParams {
  id: string;
}

/** `GET /v1/jobs` → {"jobs": [...]}, `GET /v1/jobs/:id` → the job, `POST /v1/jobs/:id/stop` → the job. */
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

  app.post<{ Params: JobParams }>('/v1/jobs/:id/stop', async (request) => {
    const job = await platform.stopJob(request.params.id);
    if (!job) throw notFound('job', request.params.id);
    return job;
  });
}
