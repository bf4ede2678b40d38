// The writer's own record batch encoding on the real broker (which checks CRCs, sequences and the
// transactional flag): what it writes is read back identically by kafkajs (an independent decoder) and
// by our reader — keys, null keys, tombstones, headers (null values, duplicates, UTF-8 keys), timestamps —
// for plain, idempotent and transactional writers and with compression.
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaClient, KafkaHeader, ProducerRecord } from '../../connectors/kafka/client.ts';
import { kDropConnections } from '../../connectors/kafka/platformatic.ts';
import { BROKERS, readAll, suffix, testClient, waitFor } from '../support/kafka.ts';

interface Plain {
  partition: number;
  key: string | null;
  value: string | null;
  timestamp: number;
  headers: [string, string | null][];
}

let client: KafkaClient;
const topics: string[] = [];

beforeAll(() => {
  client = testClient('weir-produce-encoder-it');
});

afterAll(async () => {
  for (const t of topics) await client.deleteTopic(t).catch(() => undefined);
  await client.close();
});

async function newTopic(partitions: number): Promise<string> {
  const t = `produce-enc-${suffix()}`;
  topics.push(t);
  await client.createTopic(t, partitions);
  return t;
}

/**
 * Record timestamps around the start of this run, not a fixed date: the broker deletes by time retention
 * (retention.ms, 7 days by default, checked every 5 minutes) every segment whose newest record is older,
 * the active one included. With a fixed T0 two years back, a check that fell between writing and reading
 * back deleted the records written so far, and the read-back found only the rest (e.g. 3005 of 4000,
 * each partition starting at the offset where the check had rolled the segment).
 */
const T0 = Math.floor(Date.now() / 1000) * 1000;

function records(topic: string, n: number, tag: string): ProducerRecord[] {
  return Array.from({ length: n }, (_, i): ProducerRecord => {
    const headers: KafkaHeader[] | undefined =
      i % 4 === 0
        ? [
            { key: 'h', value: Buffer.from(`${tag}-${i}`) },
            { key: 'nul', value: null },
            { key: 'h', value: Buffer.from('dup') },
            { key: 'schlüssel', value: Buffer.from('wert ✓') },
          ]
        : undefined;
    return {
      topic,
      partition: i % 3,
      key: i % 5 === 0 ? null : Buffer.from(`key-${i}`),
      value: i % 7 === 3 ? null : Buffer.from(JSON.stringify({ tag, i, text: 'grüße 🚀'.repeat(i % 3) })),
      timestamp: T0 + ((i * 37) % 1000) - 500,
      ...(headers ? { headers } : {}),
    };
  });
}

function expected(recs: readonly ProducerRecord[]): Plain[] {
  return recs.map((r) => ({
    partition: r.partition!,
    key: r.key?.toString('utf8') ?? null,
    value: r.value?.toString('utf8') ?? null,
    timestamp: r.timestamp!,
    headers: (r.headers ?? []).map((h): [string, string | null] => [h.key, h.value?.toString('utf8') ?? null]),
  }));
}

const byPartition = (a: Plain, b: Plain) => a.partition - b.partition;

async function readOurs(topic: string, iso: 'read_committed' | 'read_uncommitted' = 'read_uncommitted'): Promise<Plain[]> {
  const recs = await readAll(client, topic, 30_000, iso);
  return recs.map((r) => ({
    partition: r.partition,
    key: r.key?.toString('utf8') ?? null,
    value: r.value?.toString('utf8') ?? null,
    timestamp: r.timestamp,
    headers: r.headers.map((h): [string, string | null] => [h.key, h.value?.toString('utf8') ?? null]),
  })).sort(byPartition);
}

/** Reads `count` records of the topic with kafkajs (a consumer group of its own, from the beginning). */
async function readKafkajs(topic: string, count: number, readUncommitted = false): Promise<Plain[]> {
  const kafka = new Kafka({ clientId: 'weir-kafkajs-check', brokers: BROKERS.split(','), logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `kafkajs-check-${suffix()}`, readUncommitted });
  const out: Plain[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`kafkajs read ${out.length} of ${count} records in 45 s`)), 45_000);
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            out.push({
              partition,
              key: message.key?.toString('utf8') ?? null,
              value: message.value?.toString('utf8') ?? null,
              timestamp: Number(message.timestamp),
              headers: Object.entries(message.headers ?? {}).flatMap(([k, v]): [string, string | null][] =>
                (Array.isArray(v) ? v : [v]).map((x): [string, string | null] => [k, x === undefined || x === null ? null : x.toString()]),
              ),
            });
            if (out.length >= count) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return out.sort(byPartition);
}

/** kafkajs groups headers by key (a Record), so compare header multisets by key order of appearance. */
function kafkajsView(p: Plain[]): Plain[] {
  return p.map((r) => {
    const grouped = new Map<string, (string | null)[]>();
    for (const [k, v] of r.headers) grouped.set(k, [...(grouped.get(k) ?? []), v]);
    return { ...r, headers: [...grouped].flatMap(([k, vs]) => vs.map((v): [string, string | null] => [k, v])) };
  });
}

describe('the writer encodes record batches itself', () => {
  it('a plain writer: kafkajs and our reader read back exactly what was written', async () => {
    const t = await newTopic(3);
    const recs = records(t, 3000, 'plain');
    const w = await client.openWriter({ acks: 'all' });
    await w.send(recs.slice(0, 1000));
    await w.send(recs.slice(1000));
    await w.close();
    const want = expected(recs).sort(byPartition);
    expect(await readOurs(t)).toEqual(want);
    expect(await readKafkajs(t, recs.length)).toEqual(kafkajsView(want));
  });

  it('an idempotent writer keeps sequence numbers across sends and batches (several batches per partition)', async () => {
    const t = await newTopic(3);
    const recs = records(t, 6000, 'idem');
    // 8 KiB batches: each send is cut into many batches per partition, each with the next sequence.
    const w = await client.openWriter({ idempotent: true, maxBatchBytes: 8 * 1024 });
    for (let i = 0; i < recs.length; i += 1500) await w.send(recs.slice(i, i + 1500));
    await w.close();
    const want = expected(recs).sort(byPartition);
    expect(await readOurs(t)).toEqual(want);
    expect(await readKafkajs(t, recs.length)).toEqual(kafkajsView(want));
  });

  it('an idempotent writer whose connections drop between and during sends writes every record exactly once', async () => {
    const t = await newTopic(3);
    const recs = records(t, 4000, 'drop');
    const w = await client.openWriter({ idempotent: true, maxBatchBytes: 16 * 1024 });
    const drop = () => (w as unknown as Record<symbol, () => number>)[kDropConnections]!();
    for (let i = 0; i < recs.length; i += 500) {
      if (i % 1000 === 0) drop();
      const sending = w.send(recs.slice(i, i + 500));
      if (i % 1000 === 500) setImmediate(drop); // while the send's requests are out: resent with the same sequences
      await sending;
    }
    await w.close();
    // Every record once, in order per partition: a resent batch that had landed was deduplicated.
    expect(await readOurs(t)).toEqual(expected(recs).sort(byPartition));
  });

  it('a transactional writer: read_committed readers (kafkajs and ours) see committed records only', async () => {
    const t = await newTopic(3);
    const committed1 = records(t, 900, 'c1');
    const aborted = records(t, 300, 'aborted');
    const committed2 = records(t, 600, 'c2');
    const w = await client.openWriter({ transactionalId: `produce-enc-${suffix()}`, maxBatchBytes: 16 * 1024 });
    await w.begin();
    await w.send(committed1);
    await w.commit();
    await w.begin();
    await w.send(aborted);
    await w.abort();
    await w.begin();
    await w.send(committed2);
    await w.commit();
    await w.close();
    const want = expected([...committed1, ...committed2]).sort(byPartition);
    expect(await readOurs(t, 'read_committed')).toEqual(want);
    expect(await readKafkajs(t, want.length)).toEqual(kafkajsView(want));
    expect((await readOurs(t, 'read_uncommitted')).length).toBe(committed1.length + aborted.length + committed2.length);
  });

  it('gzip batches (kafkajs reads gzip natively) and snappy/lz4 batches (our reader)', async () => {
    for (const compression of ['gzip', 'snappy', 'lz4'] as const) {
      const t = await newTopic(3);
      const recs = records(t, 1200, compression);
      const w = await client.openWriter({ acks: 'all', compression });
      await w.send(recs);
      await w.close();
      const want = expected(recs).sort(byPartition);
      expect(await readOurs(t)).toEqual(want);
      if (compression === 'gzip') expect(await readKafkajs(t, recs.length)).toEqual(kafkajsView(want));
    }
  });

  it('acks=0: the writer does not wait for the broker, and the records still arrive', async () => {
    const t = await newTopic(3);
    const recs = records(t, 900, 'acks0');
    // acks=0 gets no error back: on a fresh broker a new topic's leaders may not take writes yet and the
    // records would be dropped silently (as acks=0 allows). The first record of each partition goes with
    // acks=all, so every leader is known to take writes before the unacknowledged ones.
    const warm = await client.openWriter({ acks: 'all' });
    await warm.send(recs.slice(0, 3));
    await warm.close();
    const w = await client.openWriter({ acks: 0 });
    await w.send(recs.slice(3));
    const want = expected(recs).sort(byPartition);
    // No acknowledgement: wait until they are there (closing at once could drop unflushed bytes, which
    // acks=0 does not guarantee against).
    const got = await waitFor('the acks=0 records', async () => {
      const r = await readOurs(t);
      return r.length >= want.length ? r : undefined;
    }, 30_000);
    await w.close();
    expect(got).toEqual(want);
  });

  it('a record for a partition the topic does not have fails at once, as a fatal error', async () => {
    const t = await newTopic(2);
    const w = await client.openWriter({ acks: 'all' });
    const err = await w.send([{ topic: t, partition: 5, key: null, value: Buffer.from('x') }]).catch((e: unknown) => e);
    await w.close();
    expect(err).toMatchObject({ kind: 'fatal', code: 'UNKNOWN_TOPIC_OR_PARTITION' });
    expect(String((err as Error).message)).toMatch(/no partition 5/);
  });

  it('keyed records without a partition go where Kafka puts them (murmur2), unkeyed round robin', async () => {
    const t = await newTopic(4);
    const w = await client.openWriter({ acks: 'all' });
    await w.send(Array.from({ length: 400 }, (_, i) => ({ topic: t, key: i % 2 ? Buffer.from(`user-${i % 20}`) : null, value: Buffer.from(String(i)) })));
    await w.close();
    const got = await readOurs(t);
    expect(got.length).toBe(400);
    // The same key always lands in the same partition; unkeyed records spread over all four.
    const partOfKey = new Map<string, Set<number>>();
    for (const r of got) if (r.key) partOfKey.set(r.key, (partOfKey.get(r.key) ?? new Set()).add(r.partition));
    for (const s of partOfKey.values()) expect(s.size).toBe(1);
    expect(new Set(got.filter((r) => r.key === null).map((r) => r.partition)).size).toBe(4);
  });
});
