// The hot-topics query end to end with no producer: a bounded 'weibo' datagen table, hashtags exploded
// with CROSS JOIN UNNEST over a TUMBLE window, kept in a materialized view; equal to a count made
// directly from the generator's events.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WeiboGenerator, formatTs } from '../../examples/weibo/generator.ts';
import { startServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';

const ROWS = 3000;
let server: TestServer;

beforeAll(async () => {
  server = await startServer({ progressIntervalMs: 500 });
}, 120_000);
afterAll(async () => {
  await server?.close(true);
});

describe("'connector' = 'weibo' with UNNEST", () => {
  it('counts every hashtag per minute in a view, as the generator says', async () => {
    const res = await server.sql(`
CREATE TABLE gen_weibo (uid BIGINT, tid BIGINT, \`time\` TIMESTAMP(3), text STRING,
  WATERMARK FOR \`time\` AS \`time\` - INTERVAL '5' SECOND
) WITH ('connector' = 'weibo', 'number-of-rows' = '${ROWS}', 'seed' = '3', 'partitions' = '2');
CREATE MATERIALIZED VIEW gen_hot_topics AS
SELECT window_start, window_end, topic, COUNT(*) AS posts
FROM TABLE(TUMBLE(TABLE gen_weibo, DESCRIPTOR(\`time\`), INTERVAL '1' MINUTE))
  CROSS JOIN UNNEST(REGEXP_EXTRACT_ALL(text, '#([^#]+)#')) AS t(topic)
GROUP BY window_start, window_end, topic;`);
    expect(res.status, res.text).toBe(200);
    const jobId = (res.body.results as { jobId?: string }[])[1]!.jobId!;
    await server.waitForState(jobId, 'FINISHED', 60_000);

    const gen = new WeiboGenerator({ seed: 3, startMs: Date.UTC(2026, 10, 25, 8), stepMs: 10, jitterMs: 2000, users: 5000, badRate: 0 });
    const want = new Map<string, number>();
    for (let i = 0; i < ROWS; i++) {
      const ev = gen.next();
      if (typeof ev === 'string') continue;
      const w = Math.floor(Date.parse(ev.time.replace(' ', 'T') + 'Z') / 60_000) * 60_000;
      for (const m of ev.text.matchAll(/#([^#]+)#/g)) want.set(`${formatTs(w)}|${m[1]}`, (want.get(`${formatTs(w)}|${m[1]}`) ?? 0) + 1);
    }
    const q = await server.post('/v1/query', { sql: 'SELECT window_start, topic, posts FROM gen_hot_topics' });
    expect(q.status, q.text).toBe(200);
    const got = new Map((q.body.rows as [string, string, number][]).map(([w, t, n]) => [`${w}|${t}`, Number(n)]));
    expect(got).toEqual(want);
  }, 120_000);
});
