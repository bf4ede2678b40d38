/**
 * Produce v11 request bodies around pre-encoded record batches (record-batch-encoder.ts), and the
 * parsing of Produce v11 responses into one error code per partition. Sent through @platformatic/kafka's
 * Connection.send, which adds the request header and the size prefix.
 *
 *   Produce Request (v11, flexible) => transactional_id acks timeout_ms [topic_data] TAG_BUFFER
 *     transactional_id COMPACT_NULLABLE_STRING, acks INT16, timeout_ms INT32
 *     topic_data => name COMPACT_STRING [partition_data] TAG_BUFFER
 *       partition_data => index INT32 records COMPACT_RECORDS TAG_BUFFER
 *
 * Kafka accepts exactly one record batch per partition in a v3+ produce request.
 */
import type { Reader } from '@platformatic/kafka';

export const PRODUCE_API_KEY = 0;
export const PRODUCE_API_VERSION = 11;

export interface PartitionBatch {
  readonly topic: string;
  readonly partition: number;
  /** One encoded record batch. */
  readonly batch: Buffer;
  readonly count: number;
}

function uvarint(v: number): Buffer {
  const bytes: number[] = [];
  while (v >= 0x80) {
    bytes.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

const TAGS = Buffer.from([0]);

/**
 * The request body as a list of Buffers (the batches are not copied here). At most one batch per
 * topic-partition.
 */
export function produceRequestParts(transactionalId: string | null, acks: number, timeoutMs: number, batches: readonly PartitionBatch[]): Buffer[] {
  const byTopic = new Map<string, PartitionBatch[]>();
  for (const b of batches) {
    let list = byTopic.get(b.topic);
    if (!list) byTopic.set(b.topic, (list = []));
    list.push(b);
  }
  const parts: Buffer[] = [];
  if (transactionalId === null) {
    parts.push(Buffer.from([0]));
  } else {
    const id = Buffer.from(transactionalId, 'utf8');
    parts.push(uvarint(id.length + 1), id);
  }
  const fixed = Buffer.allocUnsafe(6);
  fixed.writeInt16BE(acks, 0);
  fixed.writeInt32BE(timeoutMs, 2);
  parts.push(fixed, uvarint(byTopic.size + 1));
  for (const [topic, list] of byTopic) {
    const name = Buffer.from(topic, 'utf8');
    parts.push(uvarint(name.length + 1), name, uvarint(list.length + 1));
    for (const b of list) {
      const head = Buffer.allocUnsafe(4);
      head.writeInt32BE(b.partition, 0);
      parts.push(head, uvarint(b.batch.length + 1), b.batch, TAGS);
    }
    parts.push(TAGS);
  }
  parts.push(TAGS);
  return parts;
}

export interface ProducePartitionResult {
  readonly topic: string;
  readonly partition: number;
  readonly errorCode: number;
  readonly errorMessage: string | null;
  readonly baseOffset: number;
}

/**
 * Skips a TAG_BUFFER: count, then (tag, size, bytes) per field. Not the library's readTaggedFields, which
 * skips `count` bytes — wrong as soon as the broker sends a field, as it does with NOT_LEADER_OR_FOLLOWER
 * (the partition's current leader, tag 0).
 */
function skipTaggedFields(reader: Reader): void {
  const n = reader.readUnsignedVarInt();
  for (let i = 0; i < n; i++) {
    reader.readUnsignedVarInt(); // tag
    reader.skip(reader.readUnsignedVarInt());
  }
}

/** Parses a Produce v11 response (the Reader is positioned after the response header). */
export function parseProduceResponse(_correlationId: number, _apiKey: number, _apiVersion: number, reader: Reader): ProducePartitionResult[] {
  const out: ProducePartitionResult[] = [];
  const nTopics = reader.readUnsignedVarInt() - 1;
  for (let t = 0; t < nTopics; t++) {
    const topic = reader.readString(true);
    const nParts = reader.readUnsignedVarInt() - 1;
    for (let i = 0; i < nParts; i++) {
      const partition = reader.readInt32();
      const errorCode = reader.readInt16();
      const baseOffset = Number(reader.readInt64());
      reader.readInt64(); // log_append_time_ms
      reader.readInt64(); // log_start_offset
      const nRecordErrors = reader.readUnsignedVarInt() - 1;
      let firstRecordError: string | null = null;
      for (let e = 0; e < nRecordErrors; e++) {
        reader.readInt32(); // batch_index
        const m = reader.readNullableString(true);
        firstRecordError ??= m;
        skipTaggedFields(reader);
      }
      const errorMessage = reader.readNullableString(true) ?? firstRecordError;
      skipTaggedFields(reader);
      out.push({ topic, partition, errorCode, errorMessage, baseOffset });
    }
    skipTaggedFields(reader);
  }
  // throttle_time_ms and the response's tagged fields follow; nothing in them is needed.
  return out;
}
