// Helpers for integration tests against the real broker (the vitest global setup ensures it).
import { createKafkaClient } from '../../connectors/kafka/client.ts';
import { stableEndOffsets } from '../../connectors/kafka/stable.ts';
import type { IsolationLevel, KafkaClient, KafkaRecord, ProducerRecord } from '../../connectors/kafka/client.ts';

export const BROKERS = process.env['WEIR_KAFKA_BROKERS'] ?? '127.0.0.1:9092';

/** A random suffix for topic and table names, so that test runs never share topics. */
export const suffix = (): string => `${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;

export function testClient(clientId = 'weir-it'): KafkaClient {
  return createKafkaClient({ brokers: BROKERS.split(','), clientId });
}

/**
 * Polls `check` until it returns a non-undefined value (or throws at the deadline with `what`). An error
 * thrown by `check` is retried, unless it carries `fatal: true`.
 */
export async function waitFor<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs: number, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      if ((e as { fatal?: boolean }).fatal) throw e;
      last = e;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message ?? String(last)})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Writes the records in chunks (acks=all) and closes the writer. */
export async function produce(client: KafkaClient, records: readonly ProducerRecord[], chunk = 5000): Promise<void> {
  const writer = await client.openWriter({ acks: 'all' });
  try {
    for (let i = 0; i < records.length; i += chunk) await writer.send(records.slice(i, i + chunk));
  } finally {
    await writer.close();
  }
}

/**
 * Reads a topic completely by assignment: every partition from its earliest to its latest offset as of
 * the call. Returns the records with their partition, in offset order per partition.
 */
export async function readAll(
  client: KafkaClient,
  topic: string,
  timeoutMs = 60_000,
  isolationLevel: IsolationLevel = 'read_uncommitted',
): Promise<(KafkaRecord & { partition: number })[]> {
  const earliest = await client.listOffsets(topic, 'earliest');
  // read_committed: up to the last stable offset, once the commit markers of finished transactions
  // have landed (they trail EndTxn, notably on a fresh broker).
  const latest =
    isolationLevel === 'read_committed'
      ? (await stableEndOffsets(client, topic, Math.min(timeoutMs, 15_000))).offsets
      : await client.listOffsets(topic, 'latest', { isolationLevel });
  const want = new Map<number, number>();
  for (const [p, end] of latest) if (end > (earliest.get(p) ?? 0)) want.set(p, earliest.get(p) ?? 0);
  const out: (KafkaRecord & { partition: number })[] = [];
  if (want.size === 0) return out;
  const reader = await client.openReader({ topic, partitions: want, isolationLevel });
  try {
    const deadline = Date.now() + timeoutMs;
    const done = (): boolean => [...want.keys()].every((p) => (reader.positions().get(p) ?? 0) >= latest.get(p)!);
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`readAll(${topic}): timed out at ${JSON.stringify([...reader.positions()])} of ${JSON.stringify([...latest])}`);
      for (const b of await reader.poll(200)) {
        // Fields copied one by one: a fetched record's value is a getter (FetchedRecord), which a spread leaves out.
        for (const r of b.records) {
          if (r.offset < latest.get(b.partition)!) out.push({ offset: r.offset, key: r.key, value: r.value, timestamp: r.timestamp, headers: r.headers, partition: b.partition });
        }
      }
    }
  } finally {
    await reader.close();
  }
  return out;
}

/** readAll, values parsed as JSON objects. */
export async function readJson(client: KafkaClient, topic: string, timeoutMs?: number, isolationLevel?: IsolationLevel): Promise<Record<string, unknown>[]> {
  const recs = await readAll(client, topic, timeoutMs, isolationLevel);
  return recs.map((r) => JSON.parse(r.value!.toString('utf8')) as Record<string, unknown>);
}
