/**
 * Weir's own small Kafka client interface. The engine, the connectors and the tests use only this; the
 * implementation (connectors/kafka/platformatic.ts) sits on @platformatic/kafka 1.35 for connections,
 * TLS/SASL, metadata, admin, producing and transactions, with our own Fetch decoding for reading by
 * assignment (see docs/kafka-client.md for the choice and the numbers).
 *
 * Offsets, timestamps and high watermarks are JS numbers: exact up to 2^53, which a partition does not
 * reach (at a million records per second that takes 285 years).
 */
export { KafkaClientError, isRetriable } from './errors.ts';
export type { KafkaErrorKind } from './errors.ts';
export { createKafkaClient } from './platformatic.ts';

export interface KafkaClientConfig {
  /** 'host:port' list ('properties.bootstrap.servers' split on commas). */
  readonly brokers: readonly string[];
  readonly clientId: string;
  /**
   * Flink's `properties.*` options without the prefix, i.e. Kafka client configs: 'security.protocol',
   * 'sasl.mechanism', 'sasl.jaas.config', 'ssl.*', 'request.timeout.ms', 'isolation.level', ...
   * Unsupported security settings throw a 'config' KafkaClientError; other unknown keys are ignored and
   * listed in `KafkaClient.warnings`.
   */
  readonly properties?: Readonly<Record<string, string>>;
}

export interface KafkaHeader {
  readonly key: string;
  readonly value: Buffer | null;
}

/** A record as read; `value` may be a getter (FetchedRecord): copy fields by name, not with a spread. */
export interface KafkaRecord {
  readonly offset: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** Epoch millis: the producer's CreateTime, or the broker's LogAppendTime if the topic says so. */
  readonly timestamp: number;
  /** In record order; duplicate keys are possible. A shared empty array when there are none. */
  readonly headers: readonly KafkaHeader[];
  /**
   * Where the value lies in the bytes it was fetched in (records our reader decodes, FetchedRecord):
   * bytes[valueStart, valueEnd), valueEnd -1 for a null value. A decoder reading it there spares the
   * Buffer view that `value` makes on first use (~100 ns and a young object per record).
   */
  readonly bytes?: Buffer;
  readonly valueStart?: number;
  readonly valueEnd?: number;
}

export interface FetchedBatch {
  readonly partition: number;
  /** In offset order; control records and (read_committed) aborted records are left out. */
  readonly records: KafkaRecord[];
  readonly highWatermark: number;
  /** The last stable offset (the end for read_committed readers). */
  readonly lastStableOffset: number;
  /**
   * The reader's position after this batch: the offset it will fetch next. It can move without records
   * (transaction markers, aborted batches), which a bounded reader needs to see to know it reached its end.
   */
  readonly nextOffset: number;
  /**
   * The records' values where they lie, in offset order, without making the record objects (our reader:
   * `records` is then made only when asked for): `f` gets bytes[valueStart, valueEnd) (valueEnd -1: a
   * null value) and the record's offset. A job decoding millions of records a second spares an object and
   * its garbage per record.
   */
  readonly eachValue?: (f: ValueVisitor) => void;
}

/** See FetchedBatch.eachValue. */
export type ValueVisitor = (bytes: Buffer, valueStart: number, valueEnd: number, offset: number) => void;

/** What eachValueOf() needs of a record. */
export type LocatedRecord = Pick<KafkaRecord, 'offset' | 'value' | 'bytes' | 'valueStart' | 'valueEnd'>;

const NO_BYTES = Buffer.alloc(0);

/**
 * A batch's values where they lie: its own `eachValue` when the reader gives one, else visited from its
 * records (each value where it lies when the record says, else the value itself).
 */
export function eachValueOf(b: { readonly records: readonly LocatedRecord[]; readonly eachValue?: ((f: ValueVisitor) => void) | undefined }): (f: ValueVisitor) => void {
  if (b.eachValue !== undefined) return b.eachValue;
  return (f) => {
    for (const r of b.records) {
      if (r.bytes !== undefined && r.valueEnd !== undefined) f(r.bytes, r.valueStart!, r.valueEnd, r.offset);
      else if (r.value === null) f(NO_BYTES, 0, -1, r.offset);
      else f(r.value, 0, r.value.length, r.offset);
    }
  };
}

export type OffsetSpec = 'earliest' | 'latest' | { readonly timestamp: number };
export type IsolationLevel = 'read_committed' | 'read_uncommitted';

export interface ReaderOptions {
  readonly topic: string;
  /** partition → offset of the first record to read. */
  readonly partitions: ReadonlyMap<number, number>;
  /** Default: 'isolation.level' from the properties, else 'read_uncommitted' (Flink's Kafka default). */
  readonly isolationLevel?: IsolationLevel;
  /** Upper bound of one fetch response (all partitions of one broker). Default 1 MiB (the broker returns at least one batch). */
  readonly maxBytes?: number;
  /** Upper bound per partition in one fetch. Default 1 MiB, as Kafka's max.partition.fetch.bytes. */
  readonly maxPartitionBytes?: number;
  /**
   * What to do when a start offset is no longer (or not yet) in the log: 'earliest' (default, as Flink's
   * KafkaSource for specific offsets), 'latest', or 'fail' (a fatal error). 'auto.offset.reset' sets the default.
   */
  readonly onOutOfRange?: 'earliest' | 'latest' | 'fail';
  /** Called when a position was reset after OFFSET_OUT_OF_RANGE (for the job's status and metrics). */
  readonly onReset?: (partition: number, from: number, to: number) => void;
  /** How long the reader keeps retrying a broker that is away before poll() throws. Default 60 s. */
  readonly retryTimeoutMs?: number;
}

export interface KafkaReader {
  /**
   * The records that arrived since the last call, grouped per partition (one entry per partition whose
   * position moved). Waits up to about maxWaitMs when nothing is there; returns [] then. One fetch is always
   * kept in flight, so the next batch is on its way while the caller processes this one.
   * Throws a KafkaClientError: 'retriable' when the broker stayed away longer than retryTimeoutMs, 'fatal'
   * when reading cannot go on (authorization, deleted topic, onOutOfRange 'fail', corrupt or unsupported data).
   */
  poll(maxWaitMs: number): Promise<FetchedBatch[]>;
  /** Moves a partition's position (also adds a partition). Records fetched before the seek are dropped. */
  seek(partition: number, offset: number): void;
  /** Stops reading a partition. */
  remove(partition: number): void;
  /** Next offset to read per partition. */
  positions(): Map<number, number>;
  close(): Promise<void>;
}

export interface ProducerRecord {
  readonly topic: string;
  /** Explicit partition; otherwise murmur2(key) as Kafka's Java client does, round robin without a key. */
  readonly partition?: number;
  readonly key: Buffer | null;
  /** null is a tombstone. */
  readonly value: Buffer | null;
  readonly headers?: readonly KafkaHeader[];
  /** Epoch millis; default now. */
  readonly timestamp?: number;
}

export interface WriterOptions {
  /** 0, 1, or -1 / 'all' (default 'all', as Kafka's Java client). Idempotent and transactional need 'all'. */
  readonly acks?: 0 | 1 | -1 | 'all';
  /** Default: 'enable.idempotence' from the properties, else false; true when transactionalId is set. */
  readonly idempotent?: boolean;
  /**
   * Makes the writer transactional: send() only between begin() and commit()/abort(). Opening the writer
   * aborts a transaction left open by a previous writer with the same id (and fences that writer).
   */
  readonly transactionalId?: string;
  /** Transaction timeout (default 'transaction.timeout.ms' from the properties, else 60 s). */
  readonly transactionTimeoutMs?: number;
  /** Default: 'compression.type' from the properties, else 'none'. zstd needs Node 22. */
  readonly compression?: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
  /** Largest uncompressed bytes per partition in one produce request. Default 900 KiB (under the 1 MiB broker default). */
  readonly maxBatchBytes?: number;
}

export interface KafkaWriter {
  readonly transactional: boolean;
  /**
   * Writes the records (any topics, any partitions) in as few produce requests as the size limits allow,
   * in order per partition, and resolves when the broker acknowledged all of them (acks). Calls are queued:
   * a second send() starts after the first finished.
   */
  send(records: readonly ProducerRecord[]): Promise<void>;
  begin(): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
  close(): Promise<void>;
}

export interface TopicCreateOptions {
  readonly partitions: number;
  readonly replicationFactor?: number;
  /** Topic configs, e.g. { 'cleanup.policy': 'compact' }. */
  readonly config?: Readonly<Record<string, string>>;
}

export interface ClusterInfo {
  readonly clusterId: string;
  readonly brokers: readonly { readonly nodeId: number; readonly host: string; readonly port: number }[];
  readonly controllerId: number;
}

export interface KafkaClient {
  /** Unknown or ignored properties, one message each (for the job's status / EXPLAIN). */
  readonly warnings: readonly string[];
  /** Partition ids of a topic, sorted; a fatal KafkaClientError (code UNKNOWN_TOPIC_OR_PARTITION) if missing. */
  listPartitions(topic: string): Promise<number[]>;
  topicExists(topic: string): Promise<boolean>;
  /** Creates the topic; does nothing if it exists (whatever its partition count). */
  createTopic(topic: string, partitions: number, replicationFactor?: number, config?: Readonly<Record<string, string>>): Promise<void>;
  /** Deletes the topic; does nothing if it does not exist. */
  deleteTopic(topic: string): Promise<void>;
  /**
   * Offsets per partition: 'earliest' the log start, 'latest' the end (read_committed: the last stable
   * offset), { timestamp } the first offset whose record timestamp >= it, or the end when there is none.
   */
  listOffsets(topic: string, spec: OffsetSpec, opts?: { isolationLevel?: IsolationLevel }): Promise<Map<number, number>>;
  /** The group's committed offsets for the topic's partitions; partitions without a commit are absent. */
  fetchCommittedOffsets(groupId: string, topic: string): Promise<Map<number, number>>;
  /** Commits offsets for monitoring without joining the group (generation -1, empty member id). */
  commitOffsets(groupId: string, topic: string, offsets: ReadonlyMap<number, number>): Promise<void>;
  describeCluster(): Promise<ClusterInfo>;
  openReader(opts: ReaderOptions): Promise<KafkaReader>;
  openWriter(opts?: WriterOptions): Promise<KafkaWriter>;
  /** Closes the admin connections and every reader and writer opened from this client. */
  close(): Promise<void>;
}
