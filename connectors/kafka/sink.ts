import { createJsonEncoder, createKeyEncoder } from '../formats/json.ts';
import type { EncodedRecords, RecordEncoding, Row, Sink, SinkCommitter, SinkSpec } from '../types.ts';
import { createKafkaClient } from './client.ts';
import { openSinkWriter } from './delivery.ts';
import { parseKafkaOptions } from './options.ts';
import { SinkProducer } from './sink-producer.ts';

/**
 * JSON values, keys from 'key.fields'. At-least-once / none: flush() resolves once the broker
 * acknowledged every record. Exactly-once: records go into a Kafka transaction that the job's
 * checkpoint commits (connectors/kafka/committer.ts), so read_committed readers see each row once.
 */
export class KafkaSink implements Sink {
  readonly committer: SinkCommitter | undefined;

  private constructor(
    private readonly producer: SinkProducer,
    private readonly topic: string,
    private readonly encode: (row: readonly unknown[]) => Buffer,
    private readonly encodeKey: ((row: readonly unknown[]) => Buffer) | undefined,
    private readonly encoding: RecordEncoding,
  ) {
    this.committer = producer.committer;
  }

  static async open(spec: SinkSpec): Promise<KafkaSink> {
    const o = parseKafkaOptions(spec.options, spec.columns);
    const client = createKafkaClient({ brokers: (o.brokers ?? spec.brokers).split(','), clientId: `weir-${spec.jobName}-sink`, properties: o.properties });
    try {
      if (!(await client.topicExists(o.topic))) await client.createTopic(o.topic, o.sinkPartitions);
      const writer = await openSinkWriter(client, o, spec);
      const encOpts = { timestampStandard: o.timestampStandard, timeZone: spec.timeZone };
      const keyIdx = o.keyFields.map((k) => spec.columns.findIndex((c) => c.name === k));
      const encodeKey = keyIdx.length > 0 ? createKeyEncoder(spec.columns, keyIdx, encOpts) : undefined;
      const encoding: RecordEncoding = { format: 'json', columns: spec.columns, options: encOpts, keyFields: keyIdx };
      return new KafkaSink(new SinkProducer(client, writer, spec.jobId), o.topic, createJsonEncoder(spec.columns, encOpts), encodeKey, encoding);
    } catch (e) {
      await client.close().catch(() => undefined);
      throw e;
    }
  }

  write(rows: Row[]): void {
    const enc = this.encode;
    const key = this.encodeKey;
    const p = this.producer;
    for (const r of rows) p.push({ topic: this.topic, key: key ? key(r) : null, value: enc(r) });
  }

  recordEncoding(): RecordEncoding {
    return this.encoding;
  }

  writeEncoded(r: EncodedRecords): void {
    const bytes = Buffer.from(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength);
    const p = this.producer;
    for (let i = 0; i < r.count; i++) {
      const kl = r.keyLengths[i]!;
      const vl = r.valueLengths[i]!;
      const ks = r.keyStarts[i]!;
      const vs = r.valueStarts[i]!;
      p.push({ topic: this.topic, key: kl < 0 ? null : bytes.subarray(ks, ks + kl), value: vl < 0 ? null : bytes.subarray(vs, vs + vl) });
    }
  }

  flush(): Promise<void> {
    return this.producer.flush();
  }

  close(): Promise<void> {
    return this.producer.close();
  }
}
