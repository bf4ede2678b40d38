import type { Change } from '../../engine/ops/changelog.ts';
import type { Column } from '../../engine/plan/plan.ts';
import { createKeyEncoder } from '../formats/json.ts';
import type { JsonEncoder } from '../formats/json.ts';
import { createKafkaClient } from '../kafka/client.ts';
import type { ProducerRecord } from '../kafka/client.ts';
import { openSinkWriter } from '../kafka/delivery.ts';
import { SinkProducer } from '../kafka/sink-producer.ts';
import type { Row, Sink, SinkCommitter, SinkSpec } from '../types.ts';
import { parseUpsertKafkaOptions } from './options.ts';
import type { UpsertKafkaOptions } from './options.ts';

/**
 * Turns changes into Kafka records of an upsert topic: +I and +U write the row under its key, -D writes
 * a tombstone (null value) for the key, -U writes nothing (the +U right after it overwrites the key).
 */
export class UpsertEncoder {
  private readonly key: JsonEncoder;
  private readonly value: JsonEncoder;

  constructor(
    private readonly topic: string,
    columns: readonly Column[],
    o: Pick<UpsertKafkaOptions, 'keyIndexes' | 'key' | 'value' | 'fieldsInclude'>,
    timeZone: string,
  ) {
    this.key = createKeyEncoder(columns, o.keyIndexes, { ...o.key, timeZone });
    const valueIdx = columns.map((_, i) => i).filter((i) => o.fieldsInclude === 'ALL' || !o.keyIndexes.includes(i));
    this.value = createKeyEncoder(columns, valueIdx, { ...o.value, timeZone });
  }

  upsert(row: readonly unknown[]): ProducerRecord {
    return { topic: this.topic, key: this.key(row), value: this.value(row) };
  }

  /** The record for one change; undefined for -U. */
  change(c: Change): ProducerRecord | undefined {
    switch (c.op) {
      case '+I':
      case '+U':
        return this.upsert(c.row);
      case '-D':
        return { topic: this.topic, key: this.key(c.row), value: null };
      case '-U':
        return undefined;
      default: {
        const never: never = c;
        throw new Error(`unknown change ${String(never)}`);
      }
    }
  }
}

/**
 * The upsert-kafka sink. Records are partitioned by their key (murmur2, as Kafka's Java client), so every
 * change of one key lands in one partition, in order. Delivery as the kafka connector's sink: at-least-once
 * acknowledges each flush; exactly-once writes into a Kafka transaction committed with the job's
 * checkpoints (the same KafkaCommitter and checkpoint markers, docs/checkpoints.md).
 */
export class UpsertKafkaSink implements Sink {
  readonly committer: SinkCommitter | undefined;

  private constructor(
    private readonly producer: SinkProducer,
    private readonly encoder: UpsertEncoder,
  ) {
    this.committer = producer.committer;
  }

  static async open(spec: SinkSpec): Promise<UpsertKafkaSink> {
    const o = parseUpsertKafkaOptions(spec.options, spec.columns, spec.primaryKey);
    const client = createKafkaClient({ brokers: (o.brokers ?? spec.brokers).split(','), clientId: `weir-${spec.jobName}-sink`, properties: o.properties });
    try {
      // A topic we create is compacted: only the last record per key (tombstones eventually none) matters.
      if (!(await client.topicExists(o.topic))) await client.createTopic(o.topic, o.sinkPartitions, undefined, { 'cleanup.policy': 'compact' });
      const writer = await openSinkWriter(client, o, spec);
      return new UpsertKafkaSink(new SinkProducer(client, writer, spec.jobId), new UpsertEncoder(o.topic, spec.columns, o, spec.timeZone));
    } catch (e) {
      await client.close().catch(() => undefined);
      throw e;
    }
  }

  /** An append-only input: every row is an upsert of its key. */
  write(rows: Row[]): void {
    for (const r of rows) this.producer.push(this.encoder.upsert(r));
  }

  writeChanges(changes: readonly Change[]): void {
    for (const c of changes) {
      const rec = this.encoder.change(c);
      if (rec) this.producer.push(rec);
    }
  }

  flush(): Promise<void> {
    return this.producer.flush();
  }

  close(): Promise<void> {
    return this.producer.close();
  }
}
