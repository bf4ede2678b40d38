// The sink conformance kit (test/support/sink-conformance.ts) against the Kafka sink on the shared broker:
// exactly-once (a transaction per checkpoint, read back read_committed) and at-least-once; and the
// upsert-kafka sink, exactly-once, whose visible result is its changelog folded by key (as compaction does).
import { afterAll } from 'vitest';
import type { KafkaClient } from '../../connectors/kafka/client.ts';
import { kafkaConnector } from '../../connectors/kafka/index.ts';
import { upsertKafkaConnector } from '../../connectors/upsert-kafka/index.ts';
import type { SinkSpec } from '../../connectors/types.ts';
import { T } from '../../engine/plan/types.ts';
import { BROKERS, readAll, suffix, testClient } from '../support/kafka.ts';
import { describeSinkConformance } from '../support/sink-conformance.ts';

const columns = [
  { name: 'id', type: T.bigint },
  { name: 'name', type: T.string },
];
const topics: string[] = [];
let client: KafkaClient | undefined;
const admin = (): KafkaClient => (client ??= testClient('weir-it-sink-kit'));

afterAll(async () => {
  for (const t of topics) await admin().deleteTopic(t).catch(() => undefined);
  await client?.close();
});

function kafkaTarget(options: Record<string, string>, isolation: 'read_committed' | 'read_uncommitted') {
  return () => {
    const topic = `sink_kit_${suffix()}`;
    topics.push(topic);
    const s = suffix();
    const spec: SinkSpec = {
      table: 'out',
      options: { connector: 'kafka', topic, format: 'json', 'sink.topic.partitions': '2', ...options },
      columns,
      brokers: BROKERS,
      jobId: `sink-kit-${s}`,
      jobName: `sink-kit-${s}`,
      timeZone: 'UTC',
      checkpointIntervalMs: 1000,
    };
    return {
      open: () => kafkaConnector.createSink!(spec),
      visible: async () => {
        if (!(await admin().topicExists(topic))) return [];
        // A short wait for the last stable offset: while a transaction is open it stays behind on purpose.
        return (await readAll(admin(), topic, 3000, isolation)).map((r) => String((JSON.parse(r.value!.toString()) as { id: number }).id));
      },
    };
  };
}

describeSinkConformance("kafka, 'sink.delivery-guarantee' = 'exactly-once'", {
  exactlyOnce: true,
  row: (i) => [i, `n${i}`],
  key: (r) => String(r[0]),
  target: kafkaTarget({ 'sink.delivery-guarantee': 'exactly-once' }, 'read_committed'),
});

describeSinkConformance("kafka, 'sink.delivery-guarantee' = 'at-least-once'", {
  exactlyOnce: false,
  row: (i) => [i, `n${i}`],
  key: (r) => String(r[0]),
  target: kafkaTarget({ 'sink.delivery-guarantee': 'at-least-once' }, 'read_uncommitted'),
});

describeSinkConformance("upsert-kafka, PRIMARY KEY (id), exactly-once", {
  exactlyOnce: true,
  row: (i) => [i, `n${i}`],
  updated: (i) => [i, `changed-${i}`],
  key: (r) => JSON.stringify(r),
  target: () => {
    const topic = `sink_kit_upsert_${suffix()}`;
    topics.push(topic);
    const s = suffix();
    const spec: SinkSpec = {
      table: 'out',
      options: { connector: 'upsert-kafka', topic, 'key.format': 'json', 'value.format': 'json', 'sink.delivery-guarantee': 'exactly-once', 'sink.topic.partitions': '2' },
      columns,
      primaryKey: ['id'],
      brokers: BROKERS,
      jobId: `sink-kit-${s}`,
      jobName: `sink-kit-${s}`,
      timeZone: 'UTC',
      checkpointIntervalMs: 1000,
    };
    return {
      open: () => upsertKafkaConnector.createSink!(spec),
      visible: async () => {
        if (!(await admin().topicExists(topic))) return [];
        // The table the changelog describes: the last record per key wins, a tombstone removes the key.
        const table = new Map<string, string>();
        for (const r of await readAll(admin(), topic, 3000, 'read_committed')) {
          const k = r.key!.toString();
          if (r.value === null) table.delete(k);
          else {
            const v = JSON.parse(r.value.toString()) as { id: number; name: string };
            table.set(k, JSON.stringify([v.id, v.name]));
          }
        }
        return [...table.values()];
      },
    };
  },
});
