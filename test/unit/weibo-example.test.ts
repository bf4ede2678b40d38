import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Catalog } from '../../catalog/catalog.ts';
import { createJsonDecoder } from '../../connectors/formats/json.ts';
import { Planner, buildTable } from '../../engine/plan/planner.ts';
import type { PlanNode } from '../../engine/plan/plan.ts';
import { parseScript } from '../../engine/sql/parse.ts';
import { PipelineDriver } from '../../engine/testing/driver.ts';
import { formatTs, WeiboGenerator } from '../../examples/weibo/generator.ts';
import { formatRow } from '../support/golden.ts';

const dir = join(import.meta.dirname, '..', '..', 'examples', 'weibo');

function planJobs(): Map<string, PlanNode> {
  const catalog = new Catalog();
  for (const { statement } of parseScript(readFileSync(join(dir, 'tables.sql'), 'utf8'))) {
    if (statement.kind !== 'createTable') continue;
    catalog.add({ kind: 'table', name: statement.name, stmt: statement, table: buildTable(statement, { timeZone: 'UTC' }), sql: statement.text, createdAt: '' });
  }
  const out = new Map<string, PlanNode>();
  let name = '';
  for (const { statement } of parseScript(readFileSync(join(dir, 'jobs.sql'), 'utf8'))) {
    if (statement.kind === 'set') name = statement.value ?? '';
    if (statement.kind !== 'insert') continue;
    const sink = catalog.table(statement.sink)!;
    out.set(name, new Planner(catalog, { timeZone: 'UTC' }).planInsert(statement, { name: sink.name, connector: sink.connector, options: sink.options, columns: sink.physical }));
  }
  return out;
}

describe('examples/weibo/jobs.sql', () => {
  it('plans every job', () => {
    expect([...planJobs().keys()]).toEqual(['hot-bloggers', 'hot-topics', 'posts-by-location', 'posts-by-type', 'clean-feed']);
  });

  it('hot-topics counts every hashtag per minute, as an independent count does', () => {
    const root = planJobs().get('hot-topics')!;
    let src = root;
    while (src.kind !== 'source') src = src.input;
    const decode = createJsonDecoder(src.table.physical, { ignoreParseErrors: false, timestampStandard: 'SQL' });
    const gen = new WeiboGenerator({ seed: 7, startMs: Date.UTC(2026, 10, 25, 10), stepMs: 150, jitterMs: 2000, users: 200, badRate: 0 });
    const driver = new PipelineDriver(root);
    const want = new Map<string, { posts: number; uids: Set<number> }>();
    for (let b = 0; b < 20; b++) {
      const rows: unknown[][] = [];
      for (let i = 0; i < 100; i++) {
        const ev = gen.next();
        if (typeof ev === 'string') continue;
        rows.push(decode(JSON.stringify(ev))!);
        const minute = Math.floor(Date.parse(ev.time.replace(' ', 'T') + 'Z') / 60_000) * 60_000;
        for (const m of ev.text.matchAll(/#([^#]+)#/g)) {
          const k = `${formatTs(minute)} | ${formatTs(minute + 60_000)} | ${m[1]}`;
          const e = want.get(k) ?? { posts: 0, uids: new Set() };
          e.posts++;
          e.uids.add(ev.uid);
          want.set(k, e);
        }
      }
      if (b === 10) driver.restore(driver.snapshot());
      driver.push(rows);
    }
    driver.end();
    const got = driver.output.map((r) => formatRow(r, root.schema)).sort();
    const expected = [...want].map(([k, v]) => `${k} | ${v.posts} | ${v.uids.size}`).sort();
    expect(driver.counters.late).toBe(0);
    expect(got).toEqual(expected);
    expect(got.length).toBeGreaterThan(30);
  });
});
