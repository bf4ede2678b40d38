import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpSource, keyHash, parseDuration, parseHeaders, parseHttpOptions, parseJsonPath } from '../../connectors/http/index.ts';
import { OptionError } from '../../connectors/types.ts';
import type { SourceSpec } from '../../connectors/types.ts';
import { T } from '../../engine/plan/types.ts';
import { describeSourceConformance } from '../support/source-conformance.ts';

/**
 * A small local JSON API, as a feed collector sees one: every request moves the feed on by 3 items and
 * answers the newest 5 (so consecutive answers overlap and 'key' must drop the repeats). It wants a
 * bearer token and a second header.
 */
let total = 0;
let requests: { auth?: string; extra?: string }[] = [];
const server = createServer((req, res) => {
  requests.push({ auth: req.headers['authorization'], extra: req.headers['x-extra'] as string | undefined });
  if (req.headers['authorization'] !== 'Bearer s3cret') {
    res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"no"}');
    return;
  }
  total += 3;
  const items = [];
  for (let id = Math.max(1, total - 4); id <= total; id++) items.push({ id, title: `post ${id}`, time: `2026-11-25 10:00:${String(id % 60).padStart(2, '0')}.000`, extra: { a: 1 } });
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { items, count: items.length } }));
});
let url = '';
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/feed`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const columns = [
  { name: 'id', type: T.bigint },
  { name: 'title', type: T.string },
  { name: 'time', type: T.timestamp },
];
const options = (): Record<string, string> => ({
  connector: 'http',
  url,
  interval: '5 ms',
  'json.path': '$.data.items',
  key: 'id',
  headers: 'Authorization: Bearer s3cret; X-Extra: yes',
});
const spec = (o: Record<string, string>, startOffsets?: Record<number, number>, startState?: unknown): SourceSpec => ({
  table: 'feed',
  options: o,
  columns,
  brokers: '',
  jobName: 't',
  timeZone: 'UTC',
  ...(startOffsets ? { startOffsets } : {}),
  ...(startState === undefined ? {} : { startState }),
});

describeSourceConformance('http (local JSON API, key = id)', {
  open: async (resume) => new HttpSource(spec(options(), resume?.startOffsets, resume?.startState)),
  reset: () => {
    total = 0;
  },
  key: (r) => String(r[0]),
  rows: 30,
  bounded: false,
  expected: { 0: Array.from({ length: 30 }, (_, i) => String(i + 1)) },
});

describe('http source', () => {
  it('sends the headers, decodes items by column name, and survives a refused request', async () => {
    total = 0;
    requests = [];
    const refused = new HttpSource(spec({ ...options(), headers: 'X-Extra: yes' }));
    expect(await refused.poll(10)).toEqual([]);
    expect(refused.lastError()).toContain('HTTP 401');
    await refused.close();
    const src = new HttpSource(spec(options()));
    const [b] = await src.poll(10);
    expect(requests.at(-1)).toEqual({ auth: 'Bearer s3cret', extra: 'yes' });
    expect(b!.rows).toEqual([
      [1, 'post 1', Date.UTC(2026, 10, 25, 10, 0, 1)],
      [2, 'post 2', Date.UTC(2026, 10, 25, 10, 0, 2)],
      [3, 'post 3', Date.UTC(2026, 10, 25, 10, 0, 3)],
    ]);
    expect(src.lastError()).toBeNull();
    await src.close();
  });

  it('without key, every answer is taken whole', async () => {
    total = 0;
    const o = options();
    delete o['key'];
    const src = new HttpSource(spec(o));
    const ids: unknown[] = [];
    while (ids.length < 8) for (const b of await src.poll(20)) ids.push(...b.rows.map((r) => r[0]));
    expect(ids).toEqual([1, 2, 3, 2, 3, 4, 5, 6]);
    await src.close();
  });

  it('checkpoints the remembered keys as its state, newest last, within key.memory; older checkpoints carried them in the offsets', async () => {
    total = 0;
    const src = new HttpSource(spec({ ...options(), 'key.memory': '5' }));
    while ((src.positions()[0] ?? 0) < 6) await src.poll(20);
    expect(src.positions()).toEqual({ 0: 6 });
    const seen = src.state()!.seen;
    expect(seen).toEqual([2, 3, 4, 5, 6].map((id) => keyHash(String(id))));
    await src.close();
    // Resumed from that state, or from a checkpoint of the former layout (-1 the oldest key ... -n the
    // newest): either way the API's next answer (ids 2..6) is all remembered, and the one after brings 7..9.
    const legacy = { 0: 6, ...Object.fromEntries(seen.map((h, i) => [-(i + 1), h])) };
    for (const startFrom of [{ offsets: { 0: 6 }, state: { seen } }, { offsets: legacy, state: undefined }]) {
      const resumed = new HttpSource(spec({ ...options(), 'key.memory': '5' }, startFrom.offsets, startFrom.state));
      expect(resumed.state()!.seen).toEqual(seen);
      total = 3;
      expect(await resumed.poll(20)).toEqual([]);
      const ids: unknown[] = [];
      while (ids.length < 3) for (const b of await resumed.poll(20)) ids.push(...b.rows.map((r) => r[0]));
      expect(ids).toEqual([7, 8, 9]);
      expect(resumed.positions()).toEqual({ 0: 9 });
      await resumed.close();
    }
  });

  it('checks its options', () => {
    const bad = (o: Record<string, string>) => {
      try {
        parseHttpOptions({ connector: 'http', ...o });
      } catch (e) {
        return e instanceof OptionError ? e.option : 'other';
      }
      return undefined;
    };
    expect(bad({})).toBe('url');
    expect(bad({ url: 'ftp://x' })).toBe('url');
    expect(bad({ url: 'http://x', interval: 'often' })).toBe('interval');
    expect(bad({ url: 'http://x', headers: 'no colon' })).toBe('headers');
    expect(bad({ url: 'http://x', 'json.path': '$.a[0]' })).toBe('json.path');
    expect(bad({ url: 'http://x', topic: 't' })).toBe('topic');
    expect(parseDuration('interval', '5 s')).toBe(5000);
    expect(parseDuration('interval', '250ms')).toBe(250);
    expect(parseDuration('interval', '1 min')).toBe(60_000);
    expect(parseJsonPath('$.data.items')).toEqual(['data', 'items']);
    expect(parseJsonPath('$')).toEqual([]);
    expect(parseHeaders('Authorization: Bearer x; X-A: b')).toEqual({ Authorization: 'Bearer x', 'X-A': 'b' });
  });
});
