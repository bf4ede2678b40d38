import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { Platform } from '../../jobs/api.ts';
import { createPlatform } from '../../jobs/platform.ts';
import { buildServer } from '../../server/app.ts';
import { BROKERS, waitFor } from '../support/kafka.ts';
import { tempDataDir } from '../support/server.ts';

// The demo's dashboard over the demo's views (examples/weibo/views.sql), fed by the built-in Weibo
// generator (bounded) instead of the Kafka topic: every panel resolves and its query answers what an
// independent count says.

const weibo = join(import.meta.dirname, '..', '..', 'examples', 'weibo');
const ROWS = 12_000; // 10 ms apart from 08:00: two minutes of event time

let platform: Platform;
let app: FastifyInstance;
let dataDir: string;

async function call(method: 'GET' | 'PUT' | 'POST', url: string, payload?: unknown): Promise<{ status: number; body: any }> {
  const r = await app.inject({ method, url, ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: r.statusCode, body: r.json() };
}

beforeAll(async () => {
  dataDir = tempDataDir('weir-it-dash-');
  platform = await createPlatform({ dataDir, brokers: BROKERS, progressIntervalMs: 500 });
  app = await buildServer(platform);
});

afterAll(async () => {
  await app?.close().catch(() => undefined);
  await platform?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('the Weibo demo dashboard', () => {
  it('charts the demo views, each panel answering from its view', async () => {
    const table = await call('POST', '/v1/statements', {
      sql: `CREATE TABLE weibo (
              uid BIGINT, tid BIGINT, \`time\` TIMESTAMP(3), text STRING, loc STRING,
              type STRING, rt BOOLEAN, rtid BIGINT, rtt TIMESTAMP(3), ret INT, mre INT, att INT,
              WATERMARK FOR \`time\` AS \`time\` - INTERVAL '5' SECOND
            ) WITH ('connector' = 'weibo', 'number-of-rows' = '${ROWS}', 'seed' = '11', 'users' = '300')`,
    });
    expect(table.status, JSON.stringify(table.body)).toBe(200);
    const viewsSql = readFileSync(join(weibo, 'views.sql'), 'utf8');
    const views = await call('POST', '/v1/statements', { sql: viewsSql });
    expect(views.status, JSON.stringify(views.body)).toBe(200);
    const jobIds: string[] = views.body.results.filter((r: { kind: string }) => r.kind === 'job').map((r: { jobId: string }) => r.jobId);
    expect(jobIds.length).toBe(viewsSql.match(/CREATE MATERIALIZED VIEW/g)!.length);

    // As the demo does it.
    const put = await call('PUT', '/v1/dashboards/weibo', { ...JSON.parse(readFileSync(join(weibo, 'dashboard.json'), 'utf8')), default: true });
    expect(put.status).toBe(201);

    for (const id of jobIds) {
      await waitFor(
        `job ${id} to finish`,
        async () => {
          const j = (await call('GET', `/v1/jobs/${id}`)).body;
          if (j.state === 'FAILED') throw Object.assign(new Error(`job ${id} FAILED: ${j.error}`), { fatal: true });
          return j.state === 'FINISHED' ? j : undefined;
        },
        90_000,
      );
    }

    const d = (await call('GET', '/v1/dashboards/weibo')).body;
    expect(d.default).toBe(true);
    expect(d.panels.map((p: { error?: string }) => p.error ?? 'ok')).toEqual(['ok', 'ok', 'ok']);
    expect((await call('GET', '/v1/dashboards')).body.dashboards.map((x: { name: string }) => x.name)).toEqual(['weibo']);

    const query = async (sql: string) => {
      const r = await call('POST', '/v1/query', { sql });
      expect(r.status, `${sql}: ${JSON.stringify(r.body)}`).toBe(200);
      return r.body.rows as unknown[][];
    };
    const [bar, table2, series] = d.panels;

    // Bar: the top topics of the latest minute, as the console would ask.
    const top = await query(`SELECT ${bar.category}, ${bar.measure} FROM ${bar.view} WHERE ${bar.where} ORDER BY ${bar.measure} DESC LIMIT ${bar.limit}`);
    expect(top.length).toBeGreaterThan(0);
    expect(top.length).toBeLessThanOrEqual(10);
    const counts = top.map((r) => r[1] as number);
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
    const latest = (await query(`SELECT MAX(window_start) FROM ${bar.view}`))[0]![0];
    const best = await query(`SELECT MAX(${bar.measure}) FROM ${bar.view} WHERE window_start = '${latest}'`);
    expect(counts[0]).toBe(best[0]![0]);

    // Table: hot bloggers of the latest minute, by engagement.
    const bloggers = await query(`SELECT * FROM ${table2.view} WHERE ${table2.where} ORDER BY ${table2.measure} DESC LIMIT ${table2.limit}`);
    expect(bloggers.length).toBe(10);

    // Time series: posts per minute per type add up to every generated post.
    const points = await query(`SELECT ${series.time}, ${series.series}, ${series.measure} FROM ${series.view} ORDER BY ${series.time}`);
    expect(new Set(points.map((p) => p[1])).size).toBeGreaterThan(1);
    expect(points.reduce((sum, p) => sum + (p[2] as number), 0)).toBe(ROWS);
  });
});
