// Integration tests of connectors/kafka against the real broker on 127.0.0.1:9092 (the global setup
// ensures it). Every test uses topics with a random suffix and deletes them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient, KafkaClientError } from '../../connectors/kafka/client.ts';
import type { FetchedBatch, KafkaClient, KafkaReader, KafkaRecord, ProducerRecord } from '../../connectors/kafka/client.ts';
import { kDropConnections } from '../../connectors/kafka/platformatic.ts';
import { stableEndOffsets } from '../../connectors/kafka/stable.ts';

const BROKERS = [process.env['WEIR_KAFKA_BROKERS'] ?? '127.0.0.1:9092'];
const suffix = (): string => `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
const N = 10_000;
/**
 * Record timestamps from the start of this run, not a fixed date: the broker's time retention (7 days by
 * default, checked every 5 minutes) deletes segments whose newest record is older, and a check while the
 * tests read the topic would delete its records.
 */
const TS0 = Math.floor(Date.now() / 1000) * 1000;

let client: KafkaClient;
const topics: string[] = [];

async function newTopic(partitions = 4): Promise<string> {
  const t = `kc-test-${suffix()}`;
  topics.push(t);
  await client.createTopic(t, partitions);
  return t;
}

/** Polls until `until` says done (or the time runs out); returns all records per partition. */
async function readUntil(reader: KafkaReader, until: (got: Map<number, KafkaRecord[]>) => boolean, timeoutMs = 20_000): Promise<Map<number, KafkaRecord[]>> {
  const got = new Map<number, KafkaRecord[]>();
  const deadline = Date.now() + timeoutMs;
  while (!until(got) && Date.now() < deadline) {
    const batches: FetchedBatch[] = await reader.poll(200);
    for (const b of batches) {
      let list = got.get(b.partition);
      if (!list) got.set(b.partition, (list = []));
      list.push(...b.records);
    }
  }
  return got;
}

const total = (m: Map<number, KafkaRecord[]>): number => [...m.values()].reduce((a, l) => a + l.length, 0);

function records(topic: string, n: number): ProducerRecord[] {
  const out: ProducerRecord[] = [];
  for (let i = 0; i < n; i++) {
    out.push({
      topic,
      key: Buffer.from(`user-${i % 97}`),
      value: Buffer.from(JSON.stringify({ i, text: `post ${i}` })),
      timestamp: TS0 + i,
      ...(i % 1000 === 0 ? { headers: [{ key: 'trace', value: Buffer.from(`t${i}`) }, { key: 'empty', value: null }] } : {}),
    });
  }
  return out;
}

beforeAll(() => {
  client = createKafkaClient({ brokers: BROKERS, clientId: 'weir-test' });
});

afterAll(async () => {
  for (const t of topics) await client.deleteTopic(t).catch(() => undefined);
  await client.close();
});

describe('admin', () => {
  it('creates topics idempotently, lists partitions, deletes', async () => {
    const t = await newTopic(4);
    await client.createTopic(t, 4); // again: no error
    expect(await client.listPartitions(t)).toEqual([0, 1, 2, 3]);
    expect(await client.topicExists(t)).toBe(true);
    const missing = `kc-missing-${suffix()}`;
    expect(await client.topicExists(missing)).toBe(false);
    const err = await client.listPartitions(missing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KafkaClientError);
    expect((err as KafkaClientError).kind).toBe('fatal');
    expect((err as KafkaClientError).code).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    await client.deleteTopic(missing); // no error
    const info = await client.describeCluster();
    expect(info.brokers.length).toBeGreaterThanOrEqual(1);
    expect(info.clusterId).toBeTruthy();
  });

  it('reports an unreachable broker as a retriable error', async () => {
    const dead = createKafkaClient({ brokers: ['127.0.0.1:1'], clientId: 'weir-test-dead' });
    const err = await dead.listPartitions('x').catch((e: unknown) => e);
    await dead.close();
    expect(err).toBeInstanceOf(KafkaClientError);
    expect((err as KafkaClientError).kind).toBe('retriable');
  });

  it('maps Flink properties and rejects unsupported security settings', async () => {
    const c = createKafkaClient({
      brokers: BROKERS,
      clientId: 'weir-test-props',
      properties: { 'group.id': 'g', 'request.timeout.ms': '20000', 'some.unknown.option': 'x' },
    });
    expect(c.warnings).toEqual([`property 'some.unknown.option' is not supported by Weir's Kafka client and is ignored`]);
    // A topic this test made (a fresh broker has no __consumer_offsets until a group is used).
    const probe = await newTopic(1);
    expect(await c.topicExists(probe)).toBe(true);
    await c.close();
    expect(() =>
      createKafkaClient({ brokers: BROKERS, clientId: 'x', properties: { 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanism': 'GSSAPI' } }),
    ).toThrow(/'sasl.mechanism' = 'GSSAPI' is not supported/);
  });
});

describe('writing and reading by assignment', () => {
  let topic: string;
  let latest: Map<number, number>;

  beforeAll(async () => {
    topic = await newTopic(4);
    const writer = await client.openWriter({ acks: 'all' });
    await writer.send(records(topic, N));
    await writer.close();
    latest = await client.listOffsets(topic, 'latest');
  });

  it('lists earliest, latest and by-timestamp offsets', async () => {
    const earliest = await client.listOffsets(topic, 'earliest');
    expect([...earliest.keys()].sort()).toEqual([0, 1, 2, 3]);
    expect([...earliest.values()]).toEqual([0, 0, 0, 0]);
    expect([...latest.values()].reduce((a, b) => a + b, 0)).toBe(N);
    for (const v of latest.values()) expect(v).toBeGreaterThan(0);
    // Before all records → 0; after all → the end.
    expect([...(await client.listOffsets(topic, { timestamp: TS0 - 1 })).values()]).toEqual([0, 0, 0, 0]);
    expect(await client.listOffsets(topic, { timestamp: TS0 + N + 1000 })).toEqual(latest);
    const mid = await client.listOffsets(topic, { timestamp: TS0 + N / 2 });
    const sumMid = [...mid.values()].reduce((a, b) => a + b, 0);
    expect(sumMid).toBe(N / 2);
  });

  it('reads all 10,000 records back in offset order with keys, headers and timestamps', async () => {
    const reader = await client.openReader({ topic, partitions: new Map([[0, 0], [1, 0], [2, 0], [3, 0]]) });
    const got = await readUntil(reader, (g) => total(g) >= N);
    expect(total(got)).toBe(N);
    const seen = new Set<number>();
    const keyPartition = new Map<string, number>();
    for (const [p, recs] of got) {
      recs.forEach((r, idx) => expect(r.offset).toBe(idx)); // contiguous from 0
      expect(recs.length).toBe(latest.get(p));
      for (const r of recs) {
        const v = JSON.parse(r.value!.toString()) as { i: number; text: string };
        seen.add(v.i);
        expect(r.timestamp).toBe(TS0 + v.i);
        expect(r.key!.toString()).toBe(`user-${v.i % 97}`);
        // Same key, same partition.
        const k = r.key!.toString();
        expect(keyPartition.get(k) ?? p).toBe(p);
        keyPartition.set(k, p);
        if (v.i % 1000 === 0) {
          expect(r.headers.map((h) => [h.key, h.value?.toString() ?? null])).toEqual([
            ['trace', `t${v.i}`],
            ['empty', null],
          ]);
        } else {
          expect(r.headers).toEqual([]);
        }
      }
    }
    expect(seen.size).toBe(N);
    expect(reader.positions()).toEqual(latest);
    // Nothing more: poll returns [] after about maxWait.
    const t0 = Date.now();
    expect(await reader.poll(300)).toEqual([]);
    expect(Date.now() - t0).toBeLessThan(2000);
    await reader.close();
  });

  it('reads from given offsets in the middle', async () => {
    const start = new Map([...latest].map(([p, e]) => [p, Math.floor(e / 2)]));
    const reader = await client.openReader({ topic, partitions: start });
    const expected = [...latest].reduce((a, [p, e]) => a + e - start.get(p)!, 0);
    const got = await readUntil(reader, (g) => total(g) >= expected);
    expect(total(got)).toBe(expected);
    for (const [p, recs] of got) {
      expect(recs[0]!.offset).toBe(start.get(p));
      expect(recs[recs.length - 1]!.offset).toBe(latest.get(p)! - 1);
    }
    await reader.close();
  });

  it('seeks back, adds and removes partitions', async () => {
    const reader = await client.openReader({ topic, partitions: new Map([[0, 0]]) });
    const first = await readUntil(reader, (g) => (g.get(0)?.length ?? 0) >= latest.get(0)!);
    expect(first.get(0)!.length).toBe(latest.get(0));
    reader.seek(0, 5);
    reader.seek(1, latest.get(1)! - 3);
    const again = await readUntil(reader, (g) => (g.get(0)?.length ?? 0) >= latest.get(0)! - 5 && (g.get(1)?.length ?? 0) >= 3);
    expect(again.get(0)![0]!.offset).toBe(5);
    expect(again.get(0)!.length).toBe(latest.get(0)! - 5);
    expect(again.get(1)!.map((r) => r.offset)).toEqual([latest.get(1)! - 3, latest.get(1)! - 2, latest.get(1)! - 1]);
    reader.remove(0);
    expect([...reader.positions().keys()]).toEqual([1]);
    await reader.close();
  });

  it('recovers when its connections drop in the middle of reading', async () => {
    const reader = await client.openReader({ topic, partitions: new Map([[0, 0], [1, 0], [2, 0], [3, 0]]), maxBytes: 64 * 1024 });
    const got = new Map<number, KafkaRecord[]>();
    let drops = 0;
    const deadline = Date.now() + 30_000;
    while (total(got) < N && Date.now() < deadline) {
      for (const b of await reader.poll(200)) {
        let list = got.get(b.partition);
        if (!list) got.set(b.partition, (list = []));
        list.push(...b.records);
      }
      if (total(got) > (drops + 1) * 2500 && drops < 3) {
        drops++;
        (reader as unknown as Record<symbol, () => number>)[kDropConnections]!();
      }
    }
    expect(drops).toBe(3);
    expect(total(got)).toBe(N);
    for (const recs of got.values()) recs.forEach((r, idx) => expect(r.offset).toBe(idx));
    await reader.close();
  });

  it('resets an out-of-range start offset to earliest (or fails when told to)', async () => {
    const resets: [number, number, number][] = [];
    const reader = await client.openReader({
      topic,
      partitions: new Map([[2, latest.get(2)! + 1000]]),
      onReset: (p, from, to) => resets.push([p, from, to]),
    });
    const got = await readUntil(reader, (g) => (g.get(2)?.length ?? 0) >= latest.get(2)!);
    expect(resets).toEqual([[2, latest.get(2)! + 1000, 0]]);
    expect(got.get(2)![0]!.offset).toBe(0);
    await reader.close();

    const strict = await client.openReader({ topic, partitions: new Map([[2, latest.get(2)! + 1000]]), onOutOfRange: 'fail' });
    const err = await (async () => {
      for (let i = 0; i < 20; i++) await strict.poll(200);
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KafkaClientError);
    expect((err as KafkaClientError).kind).toBe('fatal');
    expect((err as KafkaClientError).code).toBe('OFFSET_OUT_OF_RANGE');
    await strict.close();
  });

  it('keeps retrying when its topic goes away, then fails as retriable after retryTimeoutMs', async () => {
    const t = await newTopic(1);
    const w = await client.openWriter({ acks: 1 });
    await w.send([{ topic: t, key: null, value: Buffer.from('x') }]);
    await w.close();
    const reader = await client.openReader({ topic: t, partitions: new Map([[0, 0]]), retryTimeoutMs: 1500 });
    expect((await readUntil(reader, (g) => total(g) >= 1)).get(0)!.length).toBe(1);
    await client.deleteTopic(t);
    const t0 = Date.now();
    let polls = 0;
    const err = await (async () => {
      for (;;) {
        expect(await reader.poll(200)).toEqual([]);
        polls++;
        if (Date.now() - t0 > 30_000) return null;
      }
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KafkaClientError);
    expect((err as KafkaClientError).kind).toBe('retriable');
    expect(polls).toBeGreaterThan(0); // poll kept returning [] while retrying
    await reader.close();
  });

  it('a writer reconnects after its connections drop', async () => {
    const t = await newTopic(2);
    const w = await client.openWriter({ idempotent: true });
    await w.send([{ topic: t, key: null, value: Buffer.from('before') }]);
    expect((w as unknown as Record<symbol, () => number>)[kDropConnections]!()).toBeGreaterThan(0);
    await w.send([{ topic: t, key: null, value: Buffer.from('after-1') }, { topic: t, key: null, value: Buffer.from('after-2') }]);
    await w.close();
    const end = await client.listOffsets(t, 'latest');
    expect([...end.values()].reduce((a, b) => a + b, 0)).toBe(3);
  });

  it('writes in several produce requests when a send is larger than one batch may be', async () => {
    const t = await newTopic(1);
    const writer = await client.openWriter({ acks: 1, maxBatchBytes: 64 * 1024 });
    const big = Buffer.alloc(1000, 'x');
    await writer.send(Array.from({ length: 500 }, (_, i) => ({ topic: t, key: null, value: Buffer.concat([Buffer.from(`${i}:`), big]) })));
    expect(await client.listOffsets(t, 'latest')).toEqual(new Map([[0, 500]]));
    const reader = await client.openReader({ topic: t, partitions: new Map([[0, 0]]) });
    const got = await readUntil(reader, (g) => total(g) >= 500);
    expect(got.get(0)!.map((r) => Number(r.value!.toString().split(':')[0]))).toEqual(Array.from({ length: 500 }, (_, i) => i));
    await reader.close();
    await writer.close();
  });
});

describe('committed offsets (monitoring, no group membership)', () => {
  it('round trips', async () => {
    const t = await newTopic(4);
    const group = `kc-group-${suffix()}`;
    expect(await client.fetchCommittedOffsets(group, t)).toEqual(new Map());
    await client.commitOffsets(group, t, new Map([[0, 10], [3, 42]]));
    expect(await client.fetchCommittedOffsets(group, t)).toEqual(new Map([[0, 10], [3, 42]]));
    await client.commitOffsets(group, t, new Map([[0, 11], [1, 1]]));
    expect(await client.fetchCommittedOffsets(group, t)).toEqual(new Map([[0, 11], [1, 1], [3, 42]]));
  });
});

describe('transactions (exactly-once sink)', () => {
  const val = (s: string): Buffer => Buffer.from(s);

  async function readValues(topic: string, isolationLevel: 'read_committed' | 'read_uncommitted'): Promise<string[]> {
    const end = isolationLevel === 'read_committed' ? (await stableEndOffsets(client, topic, 15_000)).offsets : await client.listOffsets(topic, 'latest', { isolationLevel });
    const reader = await client.openReader({ topic, partitions: new Map([[0, 0]]), isolationLevel });
    const out: string[] = [];
    const deadline = Date.now() + 10_000;
    while ((reader.positions().get(0) ?? 0) < end.get(0)! && Date.now() < deadline) {
      for (const b of await reader.poll(200)) for (const r of b.records) out.push(r.value!.toString());
    }
    await reader.close();
    return out;
  }

  it('read_committed readers see committed records only; read_uncommitted see all', async () => {
    const t = await newTopic(1);
    const w = await client.openWriter({ transactionalId: `kc-tx-${suffix()}` });
    expect(w.transactional).toBe(true);
    await expect(w.send([{ topic: t, key: null, value: val('outside') }])).rejects.toThrow(/outside a transaction/);
    await w.begin();
    await w.send([{ topic: t, key: null, value: val('c1') }, { topic: t, key: null, value: val('c2') }]);
    await w.commit();
    await w.begin();
    await w.send([{ topic: t, key: null, value: val('a1') }]);
    await w.abort();
    await w.begin();
    await w.send([{ topic: t, key: null, value: val('a2') }]); // a second abort by the same producer
    await w.abort();
    await w.begin();
    await w.commit(); // empty transaction
    await w.begin();
    await w.send(Array.from({ length: 1000 }, (_, i) => ({ topic: t, key: null, value: val(`c3-${i}`) })));
    await w.commit();
    await w.close();
    const committed = await readValues(t, 'read_committed');
    expect(committed.slice(0, 2)).toEqual(['c1', 'c2']);
    expect(committed.length).toBe(1002);
    expect(committed).not.toContain('a1');
    expect(committed).not.toContain('a2');
    const all = await readValues(t, 'read_uncommitted');
    expect(all.slice(0, 4)).toEqual(['c1', 'c2', 'a1', 'a2']);
    expect(all.length).toBe(1004);
  });

  it('a new writer with the same transactional id fences the old one and aborts its open transaction', async () => {
    const t = await newTopic(1);
    const id = `kc-tx-${suffix()}`;
    const w1 = await client.openWriter({ transactionalId: id });
    await w1.begin();
    await w1.send([{ topic: t, key: null, value: val('committed-1') }]);
    await w1.commit();
    await w1.begin();
    await w1.send([{ topic: t, key: null, value: val('left-open') }]);
    // A restarted job opens its writer while the crashed one's transaction is still open.
    const w2 = await client.openWriter({ transactionalId: id });
    const err = await w1.commit().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KafkaClientError);
    expect((err as KafkaClientError).kind).toBe('fatal');
    expect((err as KafkaClientError).code).toBe('PRODUCER_FENCED');
    await w1.close();
    await w2.begin();
    await w2.send([{ topic: t, key: null, value: val('committed-2') }]);
    await w2.commit();
    await w2.close();
    expect(await readValues(t, 'read_committed')).toEqual(['committed-1', 'committed-2']);
  });
});
