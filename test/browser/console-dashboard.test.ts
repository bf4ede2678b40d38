// A dashboard in a real Chromium over live views of Weibo-style events (examples/weibo's generator):
// the bar chart, table and time series follow the views as windows close, and agree with DuckDB's count
// over the same events; the editor adds a panel and saves it; the default dashboard is the start page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { KafkaClient } from '../../connectors/kafka/client.ts';
import { WeiboGenerator, formatTs } from '../../examples/weibo/generator.ts';
import type { WeiboEvent } from '../../examples/weibo/generator.ts';
import { Oracle } from '../support/oracle.ts';
import { BROKERS, produce, suffix, testClient, waitFor } from '../support/kafka.ts';
import { startServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';
import { PHONE, eventually, int, nav, openBrowser } from './browser.ts';
import type { Browser } from './browser.ts';

const T0 = Date.UTC(2026, 10, 25, 9, 0, 0);
const STEP_MS = 250;
const minute = (m: number): string => formatTs(T0 + m * 60_000);

let server: TestServer;
let client: KafkaClient;
let browser: Browser;
const s = suffix();
const topic = `it_console_weibo_${s}`;
const names = { table: `weibo_${s}`, topics: `topics_${s}`, bloggers: `bloggers_${s}`, perMinute: `per_minute_${s}`, dashboard: `dash_${s}` };
// Starts 5 s into minute 0, so that no event jitters back into the minute before it.
const gen = new WeiboGenerator({ seed: 11, startMs: T0 + 5000, stepMs: STEP_MS, jitterMs: 2000, users: 200, badRate: 0 });
const events: WeiboEvent[] = [];

/** Events until event time `untilMs` past T0 (the generator continues where it stopped). */
async function sendUntil(untilMs: number): Promise<void> {
  const batch: WeiboEvent[] = [];
  while (5000 + (events.length + batch.length) * STEP_MS < untilMs) {
    const e = gen.next();
    if (typeof e !== 'string') batch.push(e);
  }
  await produce(
    client,
    batch.map((e) => ({ topic, partition: 0, key: null, value: Buffer.from(JSON.stringify(e)) })),
  );
  events.push(...batch);
}

/** DuckDB over the events sent so far: posts per topic and engagement per blogger in one window. */
async function oracle(windowStart: string): Promise<{ topics: Map<string, number>; engagement: number[] }> {
  const o = await Oracle.create();
  try {
    const ws = (t: string): string => formatTs(Math.floor(Date.parse(`${t.replace(' ', 'T')}Z`) / 60_000) * 60_000);
    await o.load(
      'ev',
      [
        ['ws', 'VARCHAR'],
        ['uid', 'BIGINT'],
        ['text', 'VARCHAR'],
        ['ret', 'INTEGER'],
        ['att', 'INTEGER'],
      ],
      events.map((e) => [ws(e.time), e.uid, e.text, e.ret, e.att]),
    );
    const topics = await o.query(`SELECT topic, COUNT(*) AS n FROM (SELECT unnest(regexp_extract_all(text, '#([^#]+)#', 1)) AS topic FROM ev WHERE ws = '${windowStart}') GROUP BY topic`);
    const bloggers = await o.query(`SELECT SUM(ret + att) AS e FROM ev WHERE ws = '${windowStart}' GROUP BY uid ORDER BY e DESC`);
    return { topics: new Map(topics.map((r) => [String(r['topic']), Number(r['n'])])), engagement: bloggers.map((r) => Number(r['e'])) };
  } finally {
    o.close();
  }
}

async function bars(page: Page): Promise<{ label: string; value: number }[]> {
  const rows = page.locator('.panel-bar .bar-row');
  const out: { label: string; value: number }[] = [];
  for (const r of await rows.all()) out.push({ label: (await r.getAttribute('data-label'))!, value: Number(await r.getAttribute('data-value')) });
  return out;
}

/** The panels show window `m` (the newest closed one) and agree with DuckDB. */
async function expectWindow(page: Page, m: number, points: number): Promise<void> {
  const bar = page.locator('.panel-bar');
  const table = page.locator('.panel-table');
  await eventually(() => bar.getAttribute('data-window'), 90_000).toBe(minute(m));
  await eventually(() => table.getAttribute('data-window'), 30_000).toBe(minute(m));
  await eventually(() => page.locator('.panel-timeseries .chart').getAttribute('data-points'), 30_000).toBe(String(points));
  expect(await page.locator('.panel-timeseries .chart').getAttribute('data-series')).toBe('2');

  const want = await oracle(minute(m));
  const shown = await bars(page);
  expect(shown).toHaveLength(5);
  // Ties may pick either label at the cut, so compare the values in order and each label's own count.
  expect(shown.map((b) => b.value)).toEqual([...want.topics.values()].sort((a, b) => b - a).slice(0, 5));
  for (const b of shown) expect(b.value, b.label).toBe(want.topics.get(b.label));
  const headers = await table.locator('thead th').allTextContents();
  const col = headers.indexOf('engagement') + 1;
  expect(col).toBeGreaterThan(0);
  const engagement = (await table.locator(`tbody tr td:nth-child(${col})`).allTextContents()).map((t) => int(t));
  expect(engagement).toEqual(want.engagement.slice(0, 10));
}

beforeAll(async () => {
  client = testClient('weir-it-console-dash');
  await client.createTopic(topic, 1);
  server = await startServer({ progressIntervalMs: 300 });
  const window = (from: string): string => `FROM TABLE(TUMBLE(TABLE ${names.table}, DESCRIPTOR(\`time\`), INTERVAL '1' MINUTE))${from}`;
  const res = await server.sql(`
CREATE TABLE ${names.table} (
  uid BIGINT, tid BIGINT, \`time\` TIMESTAMP(3), text STRING, loc STRING,
  type STRING, rt BOOLEAN, rtid BIGINT, rtt TIMESTAMP(3), ret INT, mre INT, att INT,
  WATERMARK FOR \`time\` AS \`time\` - INTERVAL '5' SECOND
) WITH ('connector' = 'kafka', 'topic' = '${topic}', 'properties.bootstrap.servers' = '${BROKERS}', 'format' = 'json', 'scan.startup.mode' = 'earliest-offset');
SET 'execution.checkpointing.interval' = '500 ms';
CREATE MATERIALIZED VIEW ${names.topics} AS SELECT window_start, window_end, topic, COUNT(*) AS posts
${window(` CROSS JOIN UNNEST(REGEXP_EXTRACT_ALL(text, '#([^#]+)#')) AS t(topic)`)}
GROUP BY window_start, window_end, topic;
CREATE MATERIALIZED VIEW ${names.bloggers} AS SELECT window_start, window_end, uid, COUNT(*) AS posts, SUM(ret + att) AS engagement
${window('')} GROUP BY window_start, window_end, uid;
CREATE MATERIALIZED VIEW ${names.perMinute} AS SELECT window_start, window_end, type, COUNT(*) AS posts
${window('')} GROUP BY window_start, window_end, type;`);
  expect(res.status, res.text).toBe(200);
  const put = await fetch(`${server.url}/v1/dashboards/${names.dashboard}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      title: 'Weibo test',
      default: true,
      panels: [
        { title: 'Hot topics', view: names.topics, chart: 'bar', category: 'topic', measure: 'posts', limit: 5, where: `window_start = (SELECT MAX(window_start) FROM ${names.topics})` },
        { title: 'Hot bloggers', view: names.bloggers, chart: 'table', measure: 'engagement', limit: 10, where: `window_start = (SELECT MAX(window_start) FROM ${names.bloggers})` },
        { title: 'Posts per minute by type', view: names.perMinute, chart: 'timeseries', time: 'window_start', measure: 'posts', series: 'type' },
      ],
    }),
  });
  expect(put.status, await put.clone().text()).toBeLessThan(300);
  browser = await openBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.close(true);
  await client?.deleteTopic(topic).catch(() => undefined);
  await client?.close();
});

describe('a dashboard in the console', () => {
  it('charts live views, follows new windows, and saves an added panel', async () => {
    const { page } = browser;
    // Minutes 0-2 close (the watermark is 5 s behind the newest event, inside minute 3).
    await sendUntil(3 * 60_000 + 20_000);
    await page.goto(`${server.url}/dashboards/${names.dashboard}`);
    await eventually(() => page.locator('.page-title').textContent()).toBe('Weibo test');
    await expectWindow(page, 2, 3);
    await browser.screenshot('dashboard');

    // Two more minutes: the charts move on to the new windows by themselves.
    await sendUntil(5 * 60_000 + 20_000);
    await expectWindow(page, 4, 5);
    await browser.screenshot('dashboard-later');

    // The editor: add a bar panel over the per-minute view and save; the server has it.
    await page.getByRole('button', { name: 'Edit' }).click();
    const form = page.locator('form.panel-form');
    await form.getByLabel('Panel title').fill('Types');
    await form.getByLabel('view', { exact: true }).selectOption(names.perMinute);
    await form.getByLabel('chart', { exact: true }).selectOption('bar');
    await form.getByLabel('category', { exact: true }).selectOption('type');
    await form.getByLabel('measure', { exact: true }).selectOption('posts');
    await form.getByLabel('time', { exact: true }).selectOption('');
    await form.getByRole('button', { name: 'Add panel' }).click();
    await eventually(() => page.locator('.panel').count()).toBe(4);
    await page.getByRole('button', { name: 'Save dashboard' }).click();
    await page.locator('.saved').waitFor();
    const saved = await waitFor('the saved panel', async () => {
      const d = (await server.get(`/v1/dashboards/${names.dashboard}`)).body;
      return d?.panels?.length === 4 ? d : undefined;
    }, 10_000);
    expect(saved.panels[3]).toMatchObject({ title: 'Types', view: names.perMinute, chart: 'bar', category: 'type', measure: 'posts' });
    await browser.screenshot('dashboard-edit');

    // The lists of dashboards and of views.
    await nav(page, 'Dashboards');
    await eventually(() => page.locator('.dashboard-list .card').count()).toBe(1);
    expect(await page.locator('.dashboard-list .card').textContent()).toContain('4 panels');
    await browser.screenshot('dashboards');
    await nav(page, 'Views');
    await eventually(() => page.locator('table.views tbody tr[data-view]').count()).toBe(3);
    await browser.screenshot('views');

    // The default dashboard is the start page; at phone width the panels stack.
    await page.goto(`${server.url}/`);
    await eventually(() => page.locator('.panel').count(), 30_000).toBe(4);
    await page.setViewportSize(PHONE);
    await eventually(() => page.locator('.panel-bar .bar-row').count(), 30_000).toBeGreaterThan(0);
    expect(await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth as number)).toBeLessThanOrEqual(PHONE.width);
    await browser.screenshot('dashboard-phone');

    expect(browser.errors).toEqual([]);
  }, 240_000);
});
