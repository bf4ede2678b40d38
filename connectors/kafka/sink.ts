import { createJsonEncoder, createKeyEncoder } from '../formats/json.ts';
import type { Row, Sink, SinkSpec } from '../types.ts';
import { createKafkaClient } from './client.ts';
import type { KafkaClient, KafkaWriter, ProducerRecord } from './client.ts';
import { parseKafkaOptions } from './options.ts';

/** JSON values, keys from 'key.fields'; at-least-once: flush() resolves once the broker acknowledged every record. */
export class KafkaSink implements Sink {
  private buffer: ProducerRecord[] = [];

  private constructor(
    private readonly client: KafkaClient,
    private readonly writer: KafkaWriter,
    private readonly topic: string,
    private readonly encode: (row: readonly unknown[]) => Buffer,
    private readonly encodeKey: ((row: readonly unknown[]) => Buffer) | undefined,
  ) {}

  static async open(spec: SinkSpec): Promise<KafkaSink> {
    const o = parseKafkaOptions(spec.options, spec.columns);
    const client = createKafkaClient({ brokers: (o.brokers ?? spec.brokers).split(','), clientId: `weir-${spec.jobName}-sink`, properties: o.properties });
    try {
      if (!(await client.topicExists(o.topic))) await client.createTopic(o.topic, o.sinkPartitions);
      const writer = await client.openWriter({ acks: o.deliveryGuarantee === 'none' ? 1 : 'all' });
      const encOpts = { timestampStandard: o.timestampStandard, timeZone: spec.timeZone };
      const keyIdx = o.keyFields.map((k) => spec.columns.findIndex((c) => c.name === k));
      const encodeKey = keyIdx.length > 0 ? createKeyEncoder(spec.columns, keyIdx, encOpts) : undefined;
      return new KafkaSink(client, writer, o.topic, createJsonEncoder(spec.columns, encOpts), encodeKey);
    } catch (e) {
      await client.close().catch(() => undefined);
      throw e;
    }
  }

  write(rows: Row[]): void {
    const enc = this.encode;
    const key = this.encodeKey;
    for (const r of rows) this.buffer.push({ topic: this.topic, key: key ? key(r) : null, value: enc(r) });
  }

  async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    try {
      await this.writer.send(batch);
    } catch (e) {
      // Keep the records: the job restarts from its last saved progress and writes them again.
      this.buffer = batch.concat(this.buffer);
      throw e;
    }
  }

  async close(): Promise<void> {
    await this.writer.close().catch(() => undefined);
    await this.client.close();
  }
}
