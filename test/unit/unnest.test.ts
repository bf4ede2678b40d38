import { describe, expect, it } from 'vitest';
import { usedPhysicalColumns } from '../../engine/plan/projection.ts';
import { SqlError } from '../../engine/sql/errors.ts';
import { planGolden } from '../support/golden.ts';
import type { GoldenCase } from '../support/golden.ts';

const setup = `CREATE TABLE weibo (uid BIGINT, \`time\` TIMESTAMP(3), text STRING, loc STRING, att INT,
  WATERMARK FOR \`time\` AS \`time\` - INTERVAL '5' SECOND) WITH ('connector' = 'kafka', 'topic' = 'weibo');
CREATE TABLE out (window_start TIMESTAMP(3), topic STRING, n BIGINT) WITH ('connector' = 'kafka', 'topic' = 'out');
CREATE TABLE out2 (uid BIGINT, topic STRING) WITH ('connector' = 'kafka', 'topic' = 'out2');`;

const plan = (query: string) => planGolden({ file: 'inline', setup, query, inputs: [] } satisfies GoldenCase);
const fails = (query: string): SqlError => {
  try {
    plan(query);
  } catch (e) {
    if (e instanceof SqlError) return e;
    throw e;
  }
  throw new Error('expected a planning error');
};

describe('UNNEST', () => {
  it('projection pushdown reads the unnested array and what is above, not the other columns', () => {
    const root = plan(`INSERT INTO out SELECT window_start, topic, COUNT(*) AS n
FROM TABLE(TUMBLE(TABLE weibo, DESCRIPTOR(\`time\`), INTERVAL '1' MINUTE)) CROSS JOIN UNNEST(REGEXP_EXTRACT_ALL(text, '#([^#]+)#')) AS t(topic)
GROUP BY window_start, window_end, topic`);
    // uid, time, text, loc, att
    expect(usedPhysicalColumns(root)).toEqual([false, true, true, false, false]);
  });

  it('the stateless form keeps the columns the projection reads', () => {
    const root = plan(`INSERT INTO out2 SELECT uid, t.topic FROM weibo, UNNEST(REGEXP_EXTRACT_ALL(loc, '(\\w+)')) AS t(topic)`);
    expect(usedPhysicalColumns(root)).toEqual([true, true, false, true, false]);
  });

  it('a WHERE on the element stays below the window aggregate', () => {
    const root = plan(`INSERT INTO out SELECT window_start, topic, COUNT(*) AS n
FROM TABLE(TUMBLE(TABLE weibo, DESCRIPTOR(\`time\`), INTERVAL '1' MINUTE)) CROSS JOIN UNNEST(REGEXP_EXTRACT_ALL(text, '#([^#]+)#')) AS t(topic)
WHERE topic <> 'x' GROUP BY window_start, window_end, topic`);
    const kinds: string[] = [];
    for (let n = root; ; n = n.input) {
      kinds.push(n.kind);
      if (n.kind === 'source') break;
    }
    expect(kinds).toEqual(['project', 'windowAggregate', 'filter', 'unnest', 'source']);
  });

  it('refuses what it does not support, at the right place', () => {
    const ord = fails(`INSERT INTO out2 SELECT uid, topic FROM weibo CROSS JOIN UNNEST(REGEXP_EXTRACT_ALL(text, 'a')) WITH ORDINALITY AS t(topic, i)`);
    expect(ord.message).toContain('WITH ORDINALITY');
    expect([ord.pos?.line, ord.pos?.column]).toEqual([1, 96]);
    expect(fails(`INSERT INTO out2 SELECT uid, topic FROM weibo CROSS JOIN UNNEST(REGEXP_EXTRACT_ALL(text, 'a')) AS t`).message).toContain('AS t(name)');
    expect(fails(`INSERT INTO out2 SELECT uid, topic FROM weibo CROSS JOIN UNNEST(REGEXP_EXTRACT_ALL(text, 'a')) AS t(a, b)`).message).toContain('exactly one');
    expect(fails(`INSERT INTO out2 SELECT uid, UNNEST(REGEXP_EXTRACT_ALL(text, 'a')) FROM weibo`).message).toContain('UNNEST in an expression');
    expect(fails(`INSERT INTO out2 SELECT uid, topic FROM weibo LEFT JOIN UNNEST(REGEXP_EXTRACT_ALL(text, 'a')) AS t(topic) ON TRUE`).kind).toBe('unsupported');
    expect(fails(`INSERT INTO out2 SELECT uid, nope FROM weibo CROSS JOIN UNNEST(REGEXP_EXTRACT_ALL(text, 'a')) AS t(topic)`).message).toContain('nope');
  });
});
