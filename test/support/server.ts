// A real Weir platform + REST server on a free port of 127.0.0.1, over a fresh temp data dir.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { JobInfo, JobState, Platform } from '../../jobs/api.ts';
import { createPlatform } from '../../jobs/platform.ts';
import { buildServer } from '../../server/app.ts';
import { BROKERS, waitFor } from './kafka.ts';

export interface HttpAnswer<T = any> {
  readonly status: number;
  readonly body: T;
  readonly text: string;
}

export interface TestServer {
  readonly platform: Platform;
  readonly app: FastifyInstance;
  readonly url: string;
  readonly dataDir: string;
  get<T = any>(path: string): Promise<HttpAnswer<T>>;
  post<T = any>(path: string, body?: unknown): Promise<HttpAnswer<T>>;
  /** POST /v1/statements {sql}. */
  sql<T = any>(sql: string): Promise<HttpAnswer<T>>;
  /** Polls GET /v1/jobs/:id until the job is in one of `states`; throws (with the job's last answer) at the deadline. */
  waitForState(id: string, states: JobState | readonly JobState[], timeoutMs: number): Promise<JobInfo>;
  /** Polls GET /v1/jobs/:id until `pred` holds. */
  waitForJob(id: string, what: string, pred: (j: JobInfo) => boolean, timeoutMs: number): Promise<JobInfo>;
  /** Closes the server and the platform (suspending its jobs); keeps the data dir unless `removeDir`. */
  close(removeDir?: boolean): Promise<void>;
}

export function tempDataDir(prefix = 'weir-it-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function startServer(opts: { dataDir?: string; progressIntervalMs?: number } = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? tempDataDir();
  const platform = await createPlatform({ dataDir, brokers: BROKERS, ...(opts.progressIntervalMs ? { progressIntervalMs: opts.progressIntervalMs } : {}) });
  const app = await buildServer(platform);
  let url: string;
  try {
    url = await app.listen({ port: 0, host: '127.0.0.1' });
  } catch (e) {
    await platform.close();
    throw e;
  }

  const call = async <T>(method: string, path: string, body?: unknown): Promise<HttpAnswer<T>> => {
    const res = await fetch(url + path, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, body: parsed as T, text };
  };

  let last: JobInfo | undefined;
  const waitForJob = (id: string, what: string, pred: (j: JobInfo) => boolean, timeoutMs: number): Promise<JobInfo> =>
    waitFor(
      `job ${id} ${what}`,
      async () => {
        const r = await call<JobInfo>('GET', `/v1/jobs/${id}`);
        if (r.status !== 200) throw new Error(`GET /v1/jobs/${id} answered ${r.status}: ${r.text}`);
        last = r.body;
        if (r.body.state === 'FAILED' && what.indexOf('FAILED') < 0) throw Object.assign(new Error(`job ${id} FAILED: ${r.body.error}`), { fatal: true });
        return pred(r.body) ? r.body : undefined;
      },
      timeoutMs,
      300,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\nlast job answer: ${JSON.stringify(last && { ...last, plan: undefined })}`);
    });

  let closed = false;
  return {
    platform,
    app,
    url,
    dataDir,
    get: (path) => call('GET', path),
    post: (path, body) => call('POST', path, body),
    sql: (sql) => call('POST', '/v1/statements', { sql }),
    waitForJob,
    waitForState: (id, states, timeoutMs) => {
      const want: readonly JobState[] = typeof states === 'string' ? [states] : states;
      return waitForJob(id, `to be ${want.join(' or ')}`, (j) => want.includes(j.state), timeoutMs);
    },
    async close(removeDir = false) {
      if (closed) return;
      closed = true;
      await app.close().catch(() => undefined);
      await platform.close();
      if (removeDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
