// The web console in a real Chromium against a real server and broker: a script run from the SQL
// editor creates a table and a materialized view, whose job shows up RUNNING with a rising record
// count; the view's rows arrive live; bad SQL is answered with its line highlighted in the editor.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaClient } from '../../connectors/kafka/client.ts';
import { BROKERS, produce, suffix, testClient } from '../support/kafka.ts';
import { startServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';
import { DESKTOP, PHONE, eventually, int, nav, openBrowser } from './browser.ts';
import type { Browser } from './browser.ts';

interface Click {
  id: number;
  name: string;
  v: number;
}

let server: TestServer;
let client: KafkaClient;
let browser: Browser;
const s = suffix();
const topic = `it_console_${s}`;
const table = `clicks_${s}`;
const view = `big_clicks_${s}`;
const sent: Click[] = [];

/** Records id from..to-1 with a value that is >= 50 for about half of them. */
async function send(from: number, to: number): Promise<void> {
  const batch: Click[] = [];
  for (let id = from; id < to; id++) batch.push({ id, name: `user-${id % 7}`, v: (id * 37) % 100 });
  await produce(
    client,
    batch.map((c) => ({ topic, partition: 0, key: null, value: Buffer.from(JSON.stringify(c)) })),
  );
  sent.push(...batch);
}

/** What the view must hold: the filter applied to everything sent, computed here and not by Weir. */
const expectedIds = (): string[] => sent.filter((c) => c.v >= 50).map((c) => String(c.id)).sort();

beforeAll(async () => {
  client = testClient('weir-it-console');
  await client.createTopic(topic, 1);
  server = await startServer({ progressIntervalMs: 300 });
  browser = await openBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.close(true);
  await client?.deleteTopic(topic).catch(() => undefined);
  await client?.close();
});

describe('the web console', () => {
  it('runs SQL, shows the job live, streams the view, and highlights bad SQL', async () => {
    const { page } = browser;
    await send(0, 40);

    // Without a default dashboard the start page is the SQL editor.
    await page.goto(`${server.url}/`);
    await eventually(() => page.locator('.page-title').textContent()).toBe('SQL');

    // SQL editor: a multi-statement script.
    await page.locator('textarea.editor-text').fill(`CREATE TABLE ${table} (id BIGINT, name STRING, v INT) WITH (
  'connector' = 'kafka', 'topic' = '${topic}', 'properties.bootstrap.servers' = '${BROKERS}',
  'format' = 'json', 'scan.startup.mode' = 'earliest-offset'
);
SET 'execution.checkpointing.interval' = '500 ms';
CREATE MATERIALIZED VIEW ${view} AS SELECT id, name, v FROM ${table} WHERE v >= 50;`);
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    const jobLink = page.locator('.result.job a.job-link');
    await eventually(() => jobLink.count(), 30_000).toBe(1);
    expect(await page.locator('.result').count()).toBe(3);
    const jobId = (await jobLink.textContent())!.replace(/^job /, '');
    // The run is in the history (localStorage), newest first.
    await eventually(() => page.locator('.sql-history li.ok').first().textContent()).toContain(`CREATE TABLE ${table}`);
    await browser.screenshot('sql-editor');

    // Job page: RUNNING, the plan drawn from EXPLAIN's JSON, metrics charted.
    await jobLink.click();
    await page.locator('.job-head [data-state="RUNNING"]').waitFor({ timeout: 60_000 });
    expect(await page.locator('.plan-graph .plan-node').count()).toBeGreaterThanOrEqual(3);
    expect(await page.locator('.plan-graph .plan-node.sink').count()).toBe(1);
    await eventually(async () => int(await page.locator('.stat.records-in .stat-value').textContent()), 60_000).toBe(40);

    // Jobs list: the job RUNNING; its records-in count rises as records are produced.
    await nav(page, 'Jobs');
    const row = page.locator(`tr[data-job-id="${jobId}"]`);
    await eventually(() => row.getAttribute('data-state'), 30_000).toBe('RUNNING');
    await eventually(async () => int(await row.locator('.records-in').textContent()), 60_000).toBe(40);
    await send(40, 100);
    await eventually(async () => int(await row.locator('.records-in').textContent()), 60_000).toBe(100);
    await browser.screenshot('jobs');

    // The view, live over SSE: the snapshot, then new rows as the job commits them.
    await page.goto(`${server.url}/views/${view}`);
    await page.locator('button.live-toggle').click();
    const liveIds = async (): Promise<string[]> => (await page.locator('table.live tbody tr td:first-child').allTextContents()).sort();
    await eventually(liveIds, 60_000).toEqual(expectedIds());
    await eventually(() => page.locator('.live-status').textContent()).toBe('Live');
    await send(100, 160);
    await eventually(liveIds, 60_000).toEqual(expectedIds());
    // Rows that arrived after the snapshot are highlighted.
    expect(await page.locator('table.live tbody tr.flash').count()).toBeGreaterThan(0);
    await browser.screenshot('view-live');

    // Browse mode: sorted by v descending, first page.
    await page.getByRole('button', { name: 'Browse' }).click();
    await page.locator('button.sort[data-col="v"]').click();
    await eventually(() => page.locator('button.sort[data-col="v"]').getAttribute('aria-sort')).toBe('descending');
    const top = Math.max(...sent.map((c) => c.v).filter((v) => v >= 50));
    await eventually(async () => int(await page.locator('.view-panel table.grid tbody tr:first-child td:nth-child(3)').textContent())).toBe(top);
    await eventually(() => page.locator('.page-info').textContent()).toBe(`Rows 1–${Math.min(50, expectedIds().length)} of ${expectedIds().length}`);

    // Ad-hoc SELECT over the view.
    await page.locator('.card textarea.editor-text').fill(`SELECT COUNT(*) AS n, MAX(v) AS top FROM ${view}`);
    await page.getByRole('button', { name: 'Run query' }).click();
    await eventually(() => page.locator('.query-result tbody td').allTextContents()).toEqual([String(expectedIds().length), String(top)]);
    await browser.screenshot('view-browse');

    // Bad SQL: the error names statement, line and column, and the editor marks that line.
    await nav(page, 'SQL');
    const bad = `SHOW TABLES;\n-- the next statement names a column that does not exist\nCREATE MATERIALIZED VIEW nope_${s} AS SELECT id, missing_col FROM ${table};`;
    const api = await server.sql(bad);
    expect(api.status).toBe(400);
    expect(api.body.error.line).toBe(3);
    await page.locator('textarea.editor-text').fill(bad);
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    const box = page.locator('.results .error-box');
    await box.waitFor();
    expect(await box.textContent()).toContain(`line 3, column ${api.body.error.column}`);
    expect(await box.textContent()).toContain(api.body.error.message);
    await page.locator('.editor-error-line[data-line="3"]').waitFor({ state: 'visible' });
    expect(await page.locator('.editor-gutter [data-line="3"]').getAttribute('class')).toBe('error');
    // The band sits on line 3: two line heights below the first line.
    const [band, text] = await Promise.all([page.locator('.editor-error-line').boundingBox(), page.locator('textarea.editor-text').boundingBox()]);
    expect(Math.round(band!.y - text!.y)).toBe(8 + 2 * 20);
    await browser.screenshot('sql-error');

    // Catalog: the table with its options and schema, the view, and the job as a sink writer.
    await nav(page, 'Catalog');
    const card = page.locator(`details[data-table="${table}"]`);
    await card.locator('summary').click();
    await eventually(() => card.textContent()).toContain(topic);
    expect(await card.textContent()).toContain('scan.startup.mode');
    // The topic's partition and its end offset: everything sent so far.
    expect(await card.locator('h3', { hasText: 'Partitions' }).textContent()).toBe('Partitions (1)');
    expect(await card.textContent()).toContain(String(sent.length));
    await browser.screenshot('catalog');

    // Stop and resume from the jobs list.
    await nav(page, 'Jobs');
    await row.getByRole('button', { name: 'Stop' }).click();
    await eventually(() => row.getAttribute('data-state'), 60_000).toBe('STOPPED');
    await row.getByRole('button', { name: 'Resume' }).click();
    await eventually(() => row.getAttribute('data-state'), 60_000).toBe('RUNNING');

    // The job page charts the server's metrics history (one point per 5 s).
    await row.locator('a').first().click();
    const points = async (): Promise<number> => Number(await page.locator('.chart-box .chart').first().getAttribute('data-points'));
    await eventually(points, 60_000).toBeGreaterThanOrEqual(2);
    const history = await server.get(`/v1/jobs/${jobId}/metrics/history`);
    expect(history.body.points.length).toBeGreaterThanOrEqual(await points());
    await browser.screenshot('job');

    // Phone width: the navigation folds behind a menu button; wide tables scroll inside their box.
    await page.setViewportSize(PHONE);
    await eventually(() => page.locator('#nav').isVisible()).toBe(false);
    expect(await page.locator('.menu-button').isVisible()).toBe(true);
    await nav(page, 'Jobs');
    await row.waitFor();
    const scrolls = await page.locator('.table-scroll').first().evaluate((el) => el.scrollWidth > el.clientWidth);
    expect(scrolls).toBe(true);
    const pageWidth = await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth as number);
    expect(pageWidth).toBeLessThanOrEqual(PHONE.width);
    await browser.screenshot('jobs-phone');
    await page.locator('.menu-button').click();
    await page.locator('#nav').waitFor({ state: 'visible' });
    await browser.screenshot('nav-phone');
    await page.setViewportSize(DESKTOP);

    // Chromium logs every 4xx answer as a console error: the one for the bad script is expected, nothing else.
    const expected = /Failed to load resource: the server responded with a status of 400 \(Bad Request\) \(http:\/\/[^/]+\/v1\/statements\)$/;
    expect(browser.errors.filter((e) => expected.test(e))).toHaveLength(1);
    expect(browser.errors.filter((e) => !expected.test(e))).toEqual([]);
  }, 240_000);
});
