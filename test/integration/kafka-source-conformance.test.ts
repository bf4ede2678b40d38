// The connector conformance kit (test/support/source-conformance.ts) against the real Kafka source on the
// shared broker: a 3-partition topic with keyed JSON records and a few malformed ones, read by assignment,
// bounded ('scan.bounded.mode' = 'latest-offset') and unbounded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaClient, ProducerRecord } from '../../connectors/kafka/client.ts';
import { KafkaSource } from '../../connectors/kafka/source.ts';
import type { SourceSpec } from '../../connectors/types.ts';
import { T } from '../../engine/plan/types.ts';
import { BROKERS, produce, suffix, testClient } from '../support/kafka.ts';
import { describeSourceConformance } from '../support/source-conformance.ts';

const PARTITIONS = 3;
const RECORDS = 3000;
const topic = `conformance_${suffix()}`;
const columns = [
  { name: 'id', type: T.bigint },
  { name: 'name', type: T.string },
];
/** Every 97th record is not JSON: the source reports it in `bad` with its offset, not as a row. */
const isBad = (i: number): boolean => i % 97 === 50;
const GOOD = Array.from({ length: RECORDS }, (_, i) => i).filter((i) => !isBad(i)).length;
/** Records go to partition i % 3 in order, so each partition's expected key order is known in advance. */
const expected: Record<number, string[]> = {};
for (let i = 0; i < RECORDS; i++) if (!isBad(i)) (expected[i % PARTITIONS] ??= []).push(String(i));

let client: KafkaClient;

beforeAll(async () => {
  client = testClient('weir-it-conformance');
  await client.createTopic(topic, PARTITIONS);
  const records: ProducerRecord[] = [];
  for (let i = 0; i < RECORDS; i++) {
    const value = isBad(i) ? 'not json {' : JSON.stringify({ id: i, name: `n${i}` });
    records.push({ topic, partition: i % PARTITIONS, key: Buffer.from(String(i)), value: Buffer.from(value) });
  }
  // Small producer batches, and a small fetch size below: a restore must be able to stop mid-partition.
  await produce(client, records, 60);
}, 60_000);

afterAll(async () => {
  await client?.deleteTopic(topic).catch(() => undefined);
  await client?.close();
});

function open(options: Record<string, string>) {
  return async (resume?: { startOffsets: Record<number, number>; endOffsets?: Record<number, number> }) => {
    const spec: SourceSpec = { table: 't', options, columns, brokers: BROKERS, jobName: `conformance-${suffix()}`, timeZone: 'UTC', ...(resume ?? {}) };
    return KafkaSource.open(spec);
  };
}

const base = { connector: 'kafka', topic, format: 'json', 'scan.startup.mode': 'earliest-offset', 'properties.max.partition.fetch.bytes': '2048' };

describeSourceConformance('kafka, 3 partitions, bounded (latest-offset)', {
  open: open({ ...base, 'scan.bounded.mode': 'latest-offset' }),
  key: (r) => String(r[0]),
  rows: GOOD,
  bounded: true,
  expected,
  partitions: [0, 1, 2],
  timeoutMs: 40_000,
});

describeSourceConformance('kafka, 3 partitions, unbounded', {
  open: open(base),
  key: (r) => String(r[0]),
  rows: GOOD,
  bounded: false,
  expected,
  partitions: [0, 1, 2],
  timeoutMs: 40_000,
  pollMs: 200,
});

describe('kafka source bounded at offsets inside its partitions', () => {
  // The fetches are 2 KiB: the one holding a partition's end also holds records past it.
  const ends: Record<number, number> = { 0: 500, 1: 333, 2: 1 };
  const startOffsets = { 0: 0, 1: 0, 2: 0 };
  const want = (p: number): { keys: string[]; bad: number[] } => {
    const keys: string[] = [];
    const bad: number[] = [];
    for (let i = p; Math.floor(i / PARTITIONS) < ends[p]!; i += PARTITIONS) {
      if (isBad(i)) bad.push(Math.floor(i / PARTITIONS));
      else keys.push(String(i));
    }
    return { keys, bad };
  };

  it('decodes each partition up to its end offset, rows and bad records, and nothing at or past it', async () => {
    const src = await open({ ...base, 'scan.bounded.mode': 'latest-offset' })({ startOffsets, endOffsets: ends });
    try {
      const got = new Map<number, { keys: string[]; bad: number[] }>();
      const deadline = Date.now() + 30_000;
      while (!src.finished() && Date.now() < deadline) {
        for (const b of await src.poll(50)) {
          const g = got.get(b.partition) ?? { keys: [], bad: [] };
          got.set(b.partition, g);
          g.keys.push(...b.rows.map((r) => String(r[0])));
          g.bad.push(...b.bad.map((x) => x.offset));
          expect(b.nextOffset).toBeLessThanOrEqual(ends[b.partition]!);
        }
      }
      expect(src.finished()).toBe(true);
      for (const p of [0, 1, 2]) expect(got.get(p) ?? { keys: [], bad: [] }, `partition ${p}`).toEqual(want(p));
    } finally {
      await src.close();
    }
  });

  it('hands a parallel job the records up to the end offsets (pollRaw)', async () => {
    const src = await open({ ...base, 'scan.bounded.mode': 'latest-offset' })({ startOffsets, endOffsets: ends });
    try {
      const offsets = new Map<number, number[]>();
      const deadline = Date.now() + 30_000;
      while (!src.finished() && Date.now() < deadline) {
        for (const b of await src.pollRaw(50)) offsets.set(b.partition, [...(offsets.get(b.partition) ?? []), ...b.records.map((r) => r.offset)]);
      }
      for (const p of [0, 1, 2]) expect(offsets.get(p) ?? [], `partition ${p}`).toEqual(Array.from({ length: ends[p]! }, (_, i) => i));
    } finally {
      await src.close();
    }
  });
});
