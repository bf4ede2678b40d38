import { createKafkaClient } from '../connectors/kafka/client.ts';
import type { TablePartitions } from '../jobs/api.ts';

/** Connectors whose tables are Kafka topics (their `topic` and `properties.*` options). */
export const KAFKA_CONNECTORS: ReadonlySet<string> = new Set(['kafka', 'upsert-kafka']);

export const DEFAULT_PARTITIONS_TIMEOUT_MS = 2000;

/**
 * A Kafka table's topic partitions with their end offsets, for the catalog page. Best effort: a broker
 * that is down, slow or without the topic gives `partitionsError` (never an exception) within `timeoutMs`.
 */
export async function topicPartitions(
  options: Readonly<Record<string, string>>,
  defaultBrokers: string,
  timeoutMs = DEFAULT_PARTITIONS_TIMEOUT_MS,
): Promise<TablePartitions> {
  const topic = options['topic'];
  if (!topic) return { partitionsError: "the table names no 'topic'" };
  const properties: Record<string, string> = {};
  for (const [k, v] of Object.entries(options)) if (k.startsWith('properties.')) properties[k.slice('properties.'.length)] = v;
  const brokers = (properties['bootstrap.servers'] ?? defaultBrokers).split(',').map((b) => b.trim()).filter(Boolean);
  let client: ReturnType<typeof createKafkaClient>;
  try {
    client = createKafkaClient({ brokers, clientId: 'weir-catalog', properties });
  } catch (e) {
    return { partitionsError: (e as Error).message };
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the broker (${brokers.join(',')}) did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const ends = await Promise.race([client.listOffsets(topic, 'latest'), timeout]);
    return { partitions: [...ends.entries()].sort((a, b) => a[0] - b[0]).map(([partition, endOffset]) => ({ partition, endOffset })) };
  } catch (e) {
    const message = (e as Error).message;
    return { partitionsError: message.includes(topic) ? message : `topic '${topic}': ${message}` };
  } finally {
    clearTimeout(timer);
    // Closing waits for the connection attempts in flight; nobody needs to wait for that.
    client.close().catch(() => undefined);
  }
}
