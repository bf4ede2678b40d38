import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { Platform } from '../../jobs/api.ts';
import { createPlatform } from '../../jobs/platform.ts';
import { buildServer } from '../../server/app.ts';

// The console's static files and the dashboards API over a real platform (no broker needed: no job runs).

const INDEX = '<!doctype html><html><head><script type="module" src="/assets/index-3f9a1c.js"></script></head><body><div id="app"></div></body></html>';
const SCRIPT = 'console.log("weir console");\n';

let tmp: string;
let dist: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'weir-console-'));
  dist = join(tmp, 'dist');
  mkdirSync(join(dist, 'assets'), { recursive: true });
  writeFileSync(join(dist, 'index.html'), INDEX);
  writeFileSync(join(dist, 'assets', 'index-3f9a1c.js'), SCRIPT);
  writeFileSync(join(dist, 'assets', 'index-77ab01.css'), 'body{margin:0}');
  writeFileSync(join(dist, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(join(tmp, 'secret.txt'), 'not for the web');
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function serverOver(dataDir: string, consoleDir: string): Promise<{ app: FastifyInstance; platform: Platform }> {
  const platform = await createPlatform({ dataDir, brokers: '127.0.0.1:9092' });
  return { app: await buildServer(platform, { consoleDir }), platform };
}

describe('the console assets', () => {
  let app: FastifyInstance;
  let platform: Platform;
  beforeAll(async () => {
    ({ app, platform } = await serverOver(join(tmp, 'data-static'), dist));
  });
  afterAll(async () => {
    await app.close();
    await platform.close();
  });

  it('serves index.html at / without caching it', async () => {
    const r = await app.inject({ method: 'GET', url: '/' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.headers['cache-control']).toBe('no-cache');
    expect(r.body).toBe(INDEX);
  });

  it('serves hashed assets as immutable with their content type, other files revalidated', async () => {
    const js = await app.inject({ method: 'GET', url: '/assets/index-3f9a1c.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(js.body).toBe(SCRIPT);
    const css = await app.inject({ method: 'GET', url: '/assets/index-77ab01.css?v=1' });
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    const svg = await app.inject({ method: 'GET', url: '/favicon.svg' });
    expect(svg.headers['content-type']).toBe('image/svg+xml');
    expect(svg.headers['cache-control']).toBe('no-cache');
  });

  it('answers 304 to a revalidation with the same ETag, and HEAD without a body', async () => {
    const first = await app.inject({ method: 'GET', url: '/' });
    const etag = first.headers['etag'] as string;
    expect(etag).toBeTruthy();
    const again = await app.inject({ method: 'GET', url: '/', headers: { 'if-none-match': etag } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    const head = await app.inject({ method: 'HEAD', url: '/assets/index-3f9a1c.js' });
    expect(head.statusCode).toBe(200);
    expect(head.body).toBe('');
  });

  it('answers index.html for client-side routes (SPA fallback)', async () => {
    for (const url of ['/jobs/abc-123', '/views/hot_topics', '/dashboards/weibo', '/catalog', '/sql?x=1', '/jobs/']) {
      const r = await app.inject({ method: 'GET', url });
      expect(r.statusCode, url).toBe(200);
      expect(r.headers['content-type'], url).toBe('text/html; charset=utf-8');
      expect(r.body, url).toBe(INDEX);
    }
  });

  it('never shadows the API: unknown /v1 paths stay JSON 404s, known ones answer JSON', async () => {
    for (const url of ['/v1/nope', '/v1', '/v1/jobs/x/y/z', '/health/deep']) {
      const r = await app.inject({ method: 'GET', url });
      expect(r.statusCode, url).toBe(404);
      expect(r.headers['content-type'], url).toMatch(/^application\/json/);
      expect(r.json(), url).toEqual({ error: { message: `no such endpoint: GET ${url}` } });
    }
    const jobs = await app.inject({ method: 'GET', url: '/v1/jobs' });
    expect(jobs.json()).toEqual({ jobs: [] });
    const history = await app.inject({ method: 'GET', url: '/v1/jobs/nope/metrics/history' });
    expect(history.statusCode).toBe(404);
    expect(history.json().error.message).toBe("unknown job 'nope'");
    const health = await app.inject({ method: 'GET', url: '/health' });
    expect(health.headers['content-type']).toMatch(/^application\/json/);
  });

  it('404s a missing asset instead of answering the page, and serves nothing outside the build', async () => {
    for (const url of ['/assets/index-000000.js', '/missing.png', '/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt']) {
      const r = await app.inject({ method: 'GET', url });
      expect(r.body, url).not.toContain('not for the web');
      expect(r.statusCode, url).toBe(404);
    }
  });
});

describe('without a build', () => {
  it('answers the placeholder page saying how to build, at / and client-side routes', async () => {
    const { app, platform } = await serverOver(join(tmp, 'data-none'), join(tmp, 'no-such-dist'));
    try {
      for (const url of ['/', '/dashboards/weibo']) {
        const r = await app.inject({ method: 'GET', url });
        expect(r.statusCode).toBe(200);
        expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
        expect(r.body).toContain('npm run build');
      }
      expect((await app.inject({ method: 'GET', url: '/assets/index.js' })).statusCode).toBe(404);
      expect((await app.inject({ method: 'GET', url: '/v1/nope' })).json().error.message).toBe('no such endpoint: GET /v1/nope');
    } finally {
      await app.close();
      await platform.close();
    }
  });
});

describe('dashboards over REST', () => {
  const body = {
    title: 'Weibo live',
    default: true,
    panels: [{ title: 'Hot topics', view: 'hot_topics', chart: 'bar', category: 'topic', measure: 'cnt', limit: 5 }],
  };

  it('creates, reads, replaces, lists and deletes; 400 names the field; 404 for unknown names; survives a restart', async () => {
    const dataDir = join(tmp, 'data-dash');
    let { app, platform } = await serverOver(dataDir, dist);
    try {
      const put = await app.inject({ method: 'PUT', url: '/v1/dashboards/weibo', payload: body });
      expect(put.statusCode).toBe(201);
      // The view does not exist: kept, and reported on the panel.
      expect(put.json().panels[0]).toMatchObject({ view: 'hot_topics', error: "unknown view 'hot_topics'" });

      const bad = await app.inject({ method: 'PUT', url: '/v1/dashboards/weibo', payload: { ...body, panels: [{ ...body.panels[0], chart: 'pie' }] } });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error.message).toBe("invalid dashboard: panels[0].chart: unknown chart 'pie' (known: bar, table, timeseries)");
      const noMeasure = await app.inject({ method: 'PUT', url: '/v1/dashboards/x', payload: { panels: [{ view: 'v', chart: 'bar', category: 'c' }] } });
      expect(noMeasure.statusCode).toBe(400);
      expect(noMeasure.json().error.message).toContain('panels[0].measure');
      const notJson = await app.inject({ method: 'PUT', url: '/v1/dashboards/x', payload: 'hello', headers: { 'content-type': 'text/plain' } });
      expect(notJson.statusCode).toBeGreaterThanOrEqual(400);
      expect(notJson.statusCode).toBeLessThan(500);

      // Create the view: the panel resolves.
      const sql = await app.inject({
        method: 'POST',
        url: '/v1/statements',
        payload: {
          sql: `CREATE TABLE posts (topic STRING, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '5' SECOND) WITH ('connector' = 'kafka', 'topic' = 'never_read_${Date.now()}', 'format' = 'json');
                CREATE VIEW hot_topics AS SELECT topic FROM posts;`,
        },
      });
      expect(sql.statusCode).toBe(200);
      const plain = await app.inject({ method: 'GET', url: '/v1/dashboards/weibo' });
      expect(plain.json().panels[0].error).toBe("'hot_topics' is a view, not a materialized view: only materialized views can be charted");

      const replaced = await app.inject({ method: 'PUT', url: '/v1/dashboards/weibo', payload: { ...body, title: 'Weibo, live' } });
      expect(replaced.statusCode).toBe(200);
      expect((await app.inject({ method: 'PUT', url: '/v1/dashboards/other', payload: { panels: [], default: true } })).statusCode).toBe(201);
      const list = await app.inject({ method: 'GET', url: '/v1/dashboards' });
      expect(list.json().dashboards.map((d: { name: string; default: boolean }) => [d.name, d.default])).toEqual([
        ['other', true],
        ['weibo', false],
      ]);
      expect((await app.inject({ method: 'GET', url: '/v1/dashboards/nope' })).statusCode).toBe(404);
      expect((await app.inject({ method: 'DELETE', url: '/v1/dashboards/nope' })).statusCode).toBe(404);
      const del = await app.inject({ method: 'DELETE', url: '/v1/dashboards/other' });
      expect(del.statusCode).toBe(200);
      expect(del.json()).toEqual({ deleted: 'other' });

      await app.close();
      await platform.close();
      ({ app, platform } = await serverOver(dataDir, dist));
      const after = await app.inject({ method: 'GET', url: '/v1/dashboards' });
      expect(after.json().dashboards).toEqual([
        {
          name: 'weibo',
          title: 'Weibo, live',
          default: false,
          panels: [{ ...body.panels[0], error: "'hot_topics' is a view, not a materialized view: only materialized views can be charted" }],
        },
      ]);
    } finally {
      await app.close();
      await platform.close();
    }
  });
});
