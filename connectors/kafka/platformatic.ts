/**
 * The KafkaClient (client.ts) on @platformatic/kafka 1.35 — see docs/kafka-client.md for why.
 *
 * What the library does for us: connections and their pools, TLS, SASL (PLAIN, SCRAM), metadata, API
 * version negotiation, admin requests, InitProducerId and the transaction requests (AddPartitionsToTxn,
 * EndTxn). What we do ourselves: encoding record batches and sending Produce requests with them
 * (record-batch-encoder.ts, produce-request.ts; idempotent sequence numbers are ours), and reading by
 * assignment. Each reader has its own connections (a long-polling fetch
 * would otherwise hold up admin requests on a shared connection) and sends Fetch v17 requests through the
 * library's Connection.send with our own response parser (record-batch.ts): the records come out as
 * plain objects with number offsets, ~3x faster than the library's decoder, and read_committed filtering
 * is done the way Kafka's Java consumer does it. A response's record batches stay bytes until poll() hands
 * them over (only their headers are read on arrival, for the next offsets): decoded on arrival, the
 * records of the fetch that waits while the job works on the previous one outlived young-generation GCs.
 */
import zlib from 'node:zlib';
import {
  Admin,
  Base,
  Producer,
  Writer,
  compressionsAlgorithms,
  fetchV17,
  murmur2,
  protocolErrors,
  protocolErrorsCodesById,
} from '@platformatic/kafka';
import type { Broker, ClusterMetadata, Connection, Reader } from '@platformatic/kafka';

type Transaction = Awaited<ReturnType<Producer['beginTransaction']>>;
import type {
  ClusterInfo,
  FetchedBatch,
  IsolationLevel,
  KafkaClient,
  KafkaClientConfig,
  KafkaReader,
  KafkaRecord,
  KafkaWriter,
  OffsetSpec,
  ProducerRecord,
  ReaderOptions,
  ValueVisitor,
  WriterOptions,
} from './client.ts';
import { KafkaClientError, KafkaErrorCodes, RETRIABLE_FETCH_ERRORS } from './errors.ts';
import type { KafkaErrorKind } from './errors.ts';
import { parseClientProperties } from './properties.ts';
import type { ClientSettings } from './properties.ts';
import { decodeRecordBatches, makeDecompressor, nextOffsetAfter, visitRecordBatches } from './record-batch.ts';
import { NO_PRODUCER, encodeRecordBatch, nextSequence } from './record-batch-encoder.ts';
import type { BatchCompressor, BatchProducer } from './record-batch-encoder.ts';
import { PRODUCE_API_KEY, PRODUCE_API_VERSION, parseProduceResponse, produceRequestParts } from './produce-request.ts';
import type { PartitionBatch, ProducePartitionResult } from './produce-request.ts';
import type { AbortedTransaction, Decompressor } from './record-batch.ts';

/**
 * Test hook: `(reader or writer)[kDropConnections]()` destroys its sockets as a broker restart or a
 * network failure would, so tests can check that reading and writing recover without stopping the broker.
 */
export const kDropConnections: unique symbol = Symbol('weir.kafka.dropConnections');

function dropConnections(client: Base): number {
  let n = 0;
  for (const [, conn] of client.connections) {
    conn.socket?.destroy();
    n++;
  }
  return n;
}

/**
 * One fetch response at most: 1 MiB (Kafka's Java consumer: 50 MiB). Every record of a poll is decoded
 * into objects that live until the job has processed the whole poll; with 16 MiB fetches that was ~90,000
 * records alive at once, more than V8's young generation holds, so each scavenge copied them and GC
 * helper threads took ~40 % of the CPU of a raw read. With 1 MiB the same read runs 2.5x faster and jobs
 * 1.3-1.7x (docs/benchmarks.md, "Fetch size and GC").
 */
const DEFAULT_MAX_BYTES = 1024 * 1024;
/** Kafka's max.partition.fetch.bytes default. */
const DEFAULT_MAX_PARTITION_BYTES = 1024 * 1024;
const DEFAULT_RETRY_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_BATCH_BYTES = 900 * 1024;
const MAX_REQUEST_BYTES = 8 * 1024 * 1024;
const FETCH_API_KEY = 1;
const FETCH_API_VERSION = 17;

// ------------------------------------------------------------------------------------------ errors

interface LibError {
  message?: string;
  code?: string;
  apiId?: string;
  canRetry?: boolean;
  errors?: unknown[];
  cause?: unknown;
}

function collectErrors(err: unknown, out: LibError[], depth = 0): void {
  if (err === null || typeof err !== 'object' || depth > 8) return;
  const e = err as LibError;
  out.push(e);
  if (Array.isArray(e.errors)) for (const x of e.errors) collectErrors(x, out, depth + 1);
  if (e.cause !== undefined) collectErrors(e.cause, out, depth + 1);
}

const RETRIABLE_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND']);

/** Turns whatever the library threw into a KafkaClientError saying whether retrying can help. */
export function toKafkaError(err: unknown, what: string): KafkaClientError {
  if (err instanceof KafkaClientError) return err;
  const all: LibError[] = [];
  collectErrors(err, all);
  const protocol = all.filter((e) => typeof e.apiId === 'string');
  const leaves = all.filter((e) => !Array.isArray(e.errors) || e.errors.length === 0);
  const detail = [...new Set(leaves.map((e) => (e.apiId ? `${e.apiId}: ${e.message}` : (e.message ?? String(e)))))].slice(0, 3).join('; ');
  let kind: KafkaErrorKind;
  let code: string | undefined;
  const fatalProtocol = protocol.find((e) => e.canRetry === false);
  if (fatalProtocol) {
    kind = 'fatal';
    code = fatalProtocol.apiId;
  } else if (protocol.length > 0) {
    kind = 'retriable';
    code = protocol[0]!.apiId;
  } else if (all.some((e) => e.code === 'PLT_KFK_AUTHENTICATION')) {
    kind = 'fatal';
    code = 'AUTHENTICATION';
  } else if (all.some((e) => e.code === 'PLT_KFK_NETWORK' || e.code === 'PLT_KFK_TIMEOUT' || RETRIABLE_NODE_CODES.has(e.code ?? ''))) {
    kind = 'retriable';
  } else if (all.some((e) => typeof e.message === 'string' && /closed|ECONNREFUSED|ECONNRESET|socket/i.test(e.message))) {
    kind = 'retriable';
  } else {
    kind = 'fatal';
  }
  return new KafkaClientError(kind, `${what}: ${detail || String(err)}`, { code, cause: err });
}

function hasCode(err: unknown, apiId: string): boolean {
  const all: LibError[] = [];
  collectErrors(err, all);
  return all.some(
    (e) =>
      e.apiId === apiId ||
      // The library turns UNKNOWN_TOPIC_OR_PARTITION in metadata answers into a UserError 'Unknown topic x.'
      (apiId === 'UNKNOWN_TOPIC_OR_PARTITION' && typeof e.message === 'string' && e.message.startsWith('Unknown topic ')),
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

function parseBrokers(brokers: readonly string[]): string[] {
  const list = brokers.flatMap((b) => b.split(',')).map((b) => b.trim()).filter((b) => b !== '');
  if (list.length === 0) throw new KafkaClientError('config', "no Kafka brokers given ('properties.bootstrap.servers')");
  for (const b of list) {
    if (!/^[^\s:]+:\d+$/.test(b) && !/^\[[0-9a-fA-F:]+\]:\d+$/.test(b)) {
      throw new KafkaClientError('config', `broker address '${b}' is not host:port`);
    }
  }
  return list;
}

// ------------------------------------------------------------------------------------------ client

interface BaseConnOptions {
  clientId: string;
  bootstrapBrokers: string[];
  tls?: ClientSettings['tls'];
  sasl?: { mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'; username: string; password: string };
  requestTimeout?: number;
  connectTimeout?: number;
  retries: number;
  retryDelay: number;
  autocreateTopics: false;
}

const decompressor: Decompressor = makeDecompressor({
  snappy: (b) => compressionsAlgorithms.snappy.decompressSync(b),
  lz4: (b) => compressionsAlgorithms.lz4.decompressSync(b),
});

class PlatformaticKafkaClient implements KafkaClient {
  readonly warnings: readonly string[];
  readonly #settings: ClientSettings;
  readonly #conn: BaseConnOptions;
  readonly #admin: Admin;
  readonly #open = new Set<{ close(): Promise<void> }>();
  #closed = false;

  constructor(config: KafkaClientConfig) {
    this.#settings = parseClientProperties(config.properties ?? {});
    this.warnings = this.#settings.warnings;
    const s = this.#settings;
    this.#conn = {
      clientId: s.clientId ?? config.clientId,
      bootstrapBrokers: parseBrokers(config.brokers),
      ...(s.tls ? { tls: s.tls } : {}),
      ...(s.sasl ? { sasl: { ...s.sasl } } : {}),
      ...(s.requestTimeoutMs !== undefined ? { requestTimeout: s.requestTimeoutMs } : {}),
      ...(s.connectTimeoutMs !== undefined ? { connectTimeout: s.connectTimeoutMs } : {}),
      retries: 3,
      retryDelay: 250,
      autocreateTopics: false,
    };
    this.#admin = new Admin({ ...this.#conn, clientId: `${this.#conn.clientId}-admin` });
  }

  #check(): void {
    if (this.#closed) throw new KafkaClientError('fatal', 'the Kafka client is closed');
  }

  async #metadata(topics: string[], force = true): Promise<ClusterMetadata> {
    try {
      return await this.#admin.metadata({ topics, forceUpdate: force });
    } catch (err) {
      throw toKafkaError(err, topics.length ? `metadata of topic '${topics.join("', '")}'` : 'cluster metadata');
    }
  }

  async listPartitions(topic: string): Promise<number[]> {
    this.#check();
    let md: ClusterMetadata;
    try {
      md = await this.#admin.metadata({ topics: [topic], forceUpdate: true });
    } catch (err) {
      if (hasCode(err, 'UNKNOWN_TOPIC_OR_PARTITION')) {
        throw new KafkaClientError('fatal', `topic '${topic}' does not exist`, { code: 'UNKNOWN_TOPIC_OR_PARTITION', cause: err });
      }
      throw toKafkaError(err, `partitions of topic '${topic}'`);
    }
    const t = md.topics.get(topic);
    if (!t) throw new KafkaClientError('fatal', `topic '${topic}' does not exist`, { code: 'UNKNOWN_TOPIC_OR_PARTITION' });
    return Array.from({ length: t.partitionsCount }, (_, i) => i);
  }

  async topicExists(topic: string): Promise<boolean> {
    this.#check();
    try {
      return (await this.#admin.listTopics({ includeInternals: true })).includes(topic);
    } catch (err) {
      throw toKafkaError(err, 'listing topics');
    }
  }

  async createTopic(topic: string, partitions: number, replicationFactor = 1, config?: Readonly<Record<string, string>>): Promise<void> {
    this.#check();
    if (!Number.isInteger(partitions) || partitions < 1) throw new KafkaClientError('config', `partitions must be a positive integer, got ${partitions}`);
    try {
      await this.#admin.createTopics({
        topics: [topic],
        partitions,
        replicas: replicationFactor,
        ...(config ? { configs: Object.entries(config).map(([name, value]) => ({ name, value })) } : {}),
      });
    } catch (err) {
      if (!hasCode(err, 'TOPIC_ALREADY_EXISTS')) throw toKafkaError(err, `creating topic '${topic}'`);
    }
    // Wait until every partition has a leader, so that writing right away works.
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const md = await this.#admin.metadata({ topics: [topic], forceUpdate: true });
        const t = md.topics.get(topic);
        if (t && t.partitions.length === t.partitionsCount && t.partitions.every((p) => p && p.leader >= 0)) return;
      } catch (err) {
        if (Date.now() > deadline) throw toKafkaError(err, `waiting for topic '${topic}'`);
      }
      if (Date.now() > deadline) throw new KafkaClientError('retriable', `topic '${topic}' has no leaders 30 s after creation`);
      await sleep(100);
    }
  }

  async deleteTopic(topic: string): Promise<void> {
    this.#check();
    try {
      await this.#admin.deleteTopics({ topics: [topic] });
    } catch (err) {
      if (!hasCode(err, 'UNKNOWN_TOPIC_OR_PARTITION') && !hasCode(err, 'UNKNOWN_TOPIC_ID')) throw toKafkaError(err, `deleting topic '${topic}'`);
    }
  }

  async listOffsets(topic: string, spec: OffsetSpec, opts: { isolationLevel?: IsolationLevel } = {}): Promise<Map<number, number>> {
    this.#check();
    const partitions = await this.listPartitions(topic);
    return this.#listOffsetsFor(topic, partitions, spec, opts.isolationLevel ?? this.#settings.isolationLevel ?? 'read_uncommitted');
  }

  /** Also used by readers to reset positions after OFFSET_OUT_OF_RANGE. */
  async #listOffsetsFor(topic: string, partitions: readonly number[], spec: OffsetSpec, iso: IsolationLevel): Promise<Map<number, number>> {
    const ts = spec === 'earliest' ? -2n : spec === 'latest' ? -1n : BigInt(Math.trunc(spec.timestamp));
    if (typeof spec === 'object' && !(spec.timestamp >= 0)) throw new KafkaClientError('config', `listOffsets: timestamp must be >= 0, got ${spec.timestamp}`);
    const ask = async (t: bigint): Promise<Map<number, number>> => {
      try {
        const res = await this.#admin.listOffsets({
          topics: [{ name: topic, partitions: partitions.map((p) => ({ partitionIndex: p, timestamp: t })) }],
          isolationLevel: iso === 'read_committed' ? 1 : 0,
        });
        const out = new Map<number, number>();
        for (const tr of res) if (tr.name === topic) for (const p of tr.partitions) out.set(p.partitionIndex, Number(p.offset));
        return out;
      } catch (err) {
        throw toKafkaError(err, `listing offsets of topic '${topic}'`);
      }
    };
    const out = await ask(ts);
    if (typeof spec === 'object' && [...out.values()].some((o) => o < 0)) {
      // No record at or after the timestamp: start at the end (Flink's OffsetsInitializer.timestamp does).
      const latest = await ask(-1n);
      for (const [p, o] of out) if (o < 0) out.set(p, latest.get(p) ?? 0);
    }
    return out;
  }

  async fetchCommittedOffsets(groupId: string, topic: string): Promise<Map<number, number>> {
    this.#check();
    const partitions = await this.listPartitions(topic);
    try {
      const res = await this.#admin.listConsumerGroupOffsets({
        groups: [{ groupId, topics: [{ name: topic, partitionIndexes: partitions }] }],
      });
      const out = new Map<number, number>();
      for (const g of res) {
        if (g.groupId !== groupId) continue;
        for (const t of g.topics) {
          if (t.name !== topic) continue;
          for (const p of t.partitions) if (p.committedOffset >= 0n) out.set(p.partitionIndex, Number(p.committedOffset));
        }
      }
      return out;
    } catch (err) {
      throw toKafkaError(err, `committed offsets of group '${groupId}'`);
    }
  }

  async commitOffsets(groupId: string, topic: string, offsets: ReadonlyMap<number, number>): Promise<void> {
    this.#check();
    if (offsets.size === 0) return;
    try {
      // The library sends OffsetCommit with generation -1 and an empty member id: allowed for a group
      // without active members, i.e. our "simple" monitoring group.
      await this.#admin.alterConsumerGroupOffsets({
        groupId,
        topics: [{ name: topic, partitionOffsets: [...offsets].map(([partition, offset]) => ({ partition, offset: BigInt(offset) })) }],
      });
    } catch (err) {
      throw toKafkaError(err, `committing offsets of group '${groupId}'`);
    }
  }

  async describeCluster(): Promise<ClusterInfo> {
    this.#check();
    const md = await this.#metadata([], true);
    return {
      clusterId: md.id,
      controllerId: md.controllerId,
      brokers: [...md.brokers].map(([nodeId, b]) => ({ nodeId, host: b.host, port: b.port })),
    };
  }

  async openReader(opts: ReaderOptions): Promise<KafkaReader> {
    this.#check();
    const partitions = await this.listPartitions(opts.topic);
    for (const [p, o] of opts.partitions) {
      if (!partitions.includes(p)) throw new KafkaClientError('fatal', `topic '${opts.topic}' has no partition ${p}`, { code: 'UNKNOWN_TOPIC_OR_PARTITION' });
      if (!Number.isSafeInteger(o) || o < 0) throw new KafkaClientError('config', `start offset of partition ${p} must be a non-negative integer, got ${o}`);
    }
    const reader = new AssignmentReader(
      new Base({ ...this.#conn, clientId: `${this.#conn.clientId}-reader` }),
      opts,
      {
        isolationLevel: opts.isolationLevel ?? this.#settings.isolationLevel ?? 'read_uncommitted',
        onOutOfRange: opts.onOutOfRange ?? this.#settings.autoOffsetReset ?? 'earliest',
        listOffsets: (topic, parts, spec, iso) => this.#listOffsetsFor(topic, parts, spec, iso),
        onClose: (r) => this.#open.delete(r),
      },
    );
    this.#open.add(reader);
    return reader;
  }

  async openWriter(opts: WriterOptions = {}): Promise<KafkaWriter> {
    this.#check();
    const s = this.#settings;
    const transactionalId = opts.transactionalId ?? s.transactionalId;
    const idempotent = transactionalId !== undefined ? true : (opts.idempotent ?? s.idempotent ?? false);
    const acksIn = opts.acks ?? s.acks ?? -1;
    const acks: 0 | 1 | -1 = acksIn === 'all' ? -1 : acksIn;
    if (idempotent && acks !== -1) {
      throw new KafkaClientError('config', `an idempotent or transactional writer needs acks = all, got acks = ${acksIn}`);
    }
    const compression = opts.compression ?? s.compression ?? 'none';
    if (compression === 'zstd' && !compressionsAlgorithms.zstd.available) {
      throw new KafkaClientError('config', "'compression.type' = 'zstd' needs Node.js 22.15 or later");
    }
    const producer = new Producer({
      ...this.#conn,
      clientId: `${this.#conn.clientId}-writer`,
      retries: 5,
      idempotent,
      acks,
      compression,
      // The library sends its operation timeout as the transaction timeout in InitProducerId.
      timeout: opts.transactionTimeoutMs ?? s.transactionTimeoutMs ?? 60_000,
      // InitProducerId with producer id/epoch -1 asks for a new epoch of the transactional id (fencing an
      // older writer). The library's default 0/0 is refused with PRODUCER_FENCED once the id has a history.
      ...(transactionalId !== undefined ? { transactionalId, producerId: -1n, producerEpoch: -1 } : {}),
    });
    const writer = new PlatformaticWriter(producer, {
      acks,
      transactional: transactionalId !== undefined,
      transactionalId: transactionalId ?? null,
      idempotent,
      compressor: batchCompressor(compression),
      maxBatchBytes: opts.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES,
      onClose: (w) => this.#open.delete(w),
    });
    try {
      await writer.init();
    } catch (err) {
      await producer.close().catch(() => undefined);
      throw toKafkaError(err, `opening a writer${transactionalId ? ` with transactional id '${transactionalId}'` : ''}`);
    }
    this.#open.add(writer);
    return writer;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#open].map((x) => x.close()));
    await this.#admin.close().catch(() => undefined);
  }
}

export function createKafkaClient(config: KafkaClientConfig): KafkaClient {
  return new PlatformaticKafkaClient(config);
}

// ------------------------------------------------------------------------------------------ reader

const NO_RECORDS = (): KafkaRecord[] => [];
const NO_VALUES = (_f: ValueVisitor): void => undefined;

interface PartitionResult {
  partition: number;
  errorCode: number;
  highWatermark: number;
  lastStableOffset: number;
  /** Decodes the partition's record batches: called when the reader hands them over, not on arrival. */
  records: () => KafkaRecord[];
  /** The same records' values where they lie (FetchedBatch.eachValue). */
  values: (f: ValueVisitor) => void;
  nextOffset: number;
}

interface ParsedFetch {
  topics: Map<string, PartitionResult[]>;
}

interface Outcome {
  batches: (Omit<FetchedBatch, 'records' | 'eachValue'> & { records: () => KafkaRecord[]; values: (f: ValueVisitor) => void; gen: number })[];
  retriable: KafkaClientError | null;
  fatal: KafkaClientError | null;
}

interface InFlight {
  promise: Promise<void>;
  done: boolean;
  outcome: Outcome | null;
}

interface ReaderContext {
  isolationLevel: IsolationLevel;
  onOutOfRange: 'earliest' | 'latest' | 'fail';
  listOffsets: (topic: string, partitions: number[], spec: OffsetSpec, iso: IsolationLevel) => Promise<Map<number, number>>;
  onClose: (r: AssignmentReader) => void;
}

function makeFetchParser(readCommitted: boolean, fetchOffsets: ReadonlyMap<number, number>) {
  return (_correlationId: number, _apiKey: number, _apiVersion: number, reader: Reader): ParsedFetch => {
    reader.readInt32(); // throttle_time_ms
    const errorCode = reader.readInt16();
    reader.readInt32(); // session_id
    if (errorCode !== 0) {
      const e = new KafkaClientError(
        RETRIABLE_FETCH_ERRORS.has(errorCode) ? 'retriable' : 'fatal',
        `fetch failed with Kafka error code ${errorCode}`,
        { code: String(errorCode) },
      );
      throw e;
    }
    const topics = new Map<string, PartitionResult[]>();
    const nTopics = reader.readUnsignedVarInt() - 1;
    for (let t = 0; t < nTopics; t++) {
      const topicId = reader.readUUID();
      const parts: PartitionResult[] = [];
      const nParts = reader.readUnsignedVarInt() - 1;
      for (let i = 0; i < nParts; i++) {
        const partition = reader.readInt32();
        const pErr = reader.readInt16();
        const highWatermark = Number(reader.readInt64());
        const lastStableOffset = Number(reader.readInt64());
        reader.readInt64(); // log_start_offset
        let aborted: AbortedTransaction[] | null = null;
        const nAborted = reader.readUnsignedVarInt() - 1;
        if (nAborted > 0) {
          aborted = [];
          for (let a = 0; a < nAborted; a++) {
            const producerId = Number(reader.readInt64());
            const firstOffset = Number(reader.readInt64());
            reader.readTaggedFields();
            aborted.push({ producerId, firstOffset });
          }
        }
        reader.readInt32(); // preferred_read_replica
        const size = reader.readUnsignedVarInt() - 1;
        let records = NO_RECORDS;
        let values: (f: ValueVisitor) => void = NO_VALUES;
        let nextOffset = -1;
        if (size > 0) {
          const bytes = reader.buffer.slice(reader.position, reader.position + size);
          reader.skip(size);
          if (pErr === 0) {
            const from = fetchOffsets.get(partition) ?? 0;
            nextOffset = nextOffsetAfter(bytes);
            records = () => {
              const out: KafkaRecord[] = [];
              decodeRecordBatches(bytes, from, readCommitted, aborted, decompressor, out);
              return out;
            };
            values = (f) => {
              visitRecordBatches(bytes, from, readCommitted, aborted, decompressor, (data, offset, _ts, _ks, _ke, valueStart, valueEnd) => f(data, valueStart, valueEnd, offset));
            };
          }
        }
        reader.readTaggedFields();
        parts.push({ partition, errorCode: pErr, highWatermark, lastStableOffset, records, values, nextOffset });
      }
      reader.readTaggedFields();
      topics.set(topicId, parts);
    }
    return { topics };
  };
}

/**
 * A fetched partition as the reader hands it over: its records made on first use, or read where they lie
 * (eachValue). A class, not an object literal with a getter: a getter closure per object would give
 * every batch a hidden class of its own (measured: the raw read 2-3x slower, most of it garbage collection).
 */
class HandedOver implements FetchedBatch {
  readonly partition: number;
  readonly highWatermark: number;
  readonly lastStableOffset: number;
  readonly nextOffset: number;
  readonly eachValue: (f: ValueVisitor) => void;
  #records: KafkaRecord[] | undefined;
  readonly #make: () => KafkaRecord[];

  constructor(b: Outcome['batches'][number]) {
    this.partition = b.partition;
    this.highWatermark = b.highWatermark;
    this.lastStableOffset = b.lastStableOffset;
    this.nextOffset = b.nextOffset;
    this.eachValue = b.values;
    this.#make = b.records;
  }

  get records(): KafkaRecord[] {
    return (this.#records ??= this.#make());
  }
}

class AssignmentReader implements KafkaReader {
  readonly #base: Base;
  readonly #topic: string;
  readonly #ctx: ReaderContext;
  readonly #positions = new Map<number, number>();
  readonly #gens = new Map<number, number>();
  readonly #maxBytes: number;
  readonly #maxPartitionBytes: number | undefined;
  readonly #retryTimeoutMs: number;
  readonly #onReset: ReaderOptions['onReset'];
  #genCounter = 0;
  #topicId: string | null = null;
  #leaders = new Map<number, number>();
  #brokers = new Map<number, Broker>();
  #needMetadata = true;
  #current: InFlight | null = null;
  #closed = false;
  #firstErrorAt: number | null = null;
  #backoffMs = 100;
  #rotation = 0;

  constructor(base: Base, opts: ReaderOptions, ctx: ReaderContext) {
    this.#base = base;
    this.#topic = opts.topic;
    this.#ctx = ctx;
    this.#maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    this.#maxPartitionBytes = opts.maxPartitionBytes;
    this.#retryTimeoutMs = opts.retryTimeoutMs ?? DEFAULT_RETRY_TIMEOUT_MS;
    this.#onReset = opts.onReset;
    for (const [p, o] of opts.partitions) this.seek(p, o);
  }

  seek(partition: number, offset: number): void {
    if (!Number.isSafeInteger(offset) || offset < 0) throw new KafkaClientError('config', `seek: offset must be a non-negative integer, got ${offset}`);
    this.#positions.set(partition, offset);
    this.#gens.set(partition, ++this.#genCounter);
    if (!this.#leaders.has(partition)) this.#needMetadata = true;
  }

  remove(partition: number): void {
    this.#positions.delete(partition);
    this.#gens.delete(partition);
  }

  positions(): Map<number, number> {
    return new Map(this.#positions);
  }

  async poll(maxWaitMs: number): Promise<FetchedBatch[]> {
    const deadline = Date.now() + Math.max(0, maxWaitMs);
    for (;;) {
      if (this.#closed) return [];
      if (this.#positions.size === 0) {
        await sleep(deadline - Date.now());
        return [];
      }
      if (this.#current === null) this.#current = this.#start(maxWaitMs);
      const cur = this.#current;
      if (!cur.done) {
        const remaining = deadline - Date.now();
        if (remaining <= 0) return [];
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([cur.promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, remaining)))]);
        clearTimeout(timer);
        if (!cur.done) return [];
      }
      this.#current = null;
      const outcome = cur.outcome!;
      if (outcome.fatal) throw outcome.fatal;
      // Positions move here, when the records are handed over (not when the response arrived), so that
      // nothing fetched is ever skipped: not after an error, not after a seek.
      // Decoded when the caller asks (records, or eachValue): the records' objects then live while the
      // caller works on them, not also while they wait for it, which made them outlive young-generation GCs
      // (copied, promoted, collected by a full GC later). A corrupt batch throws there, to the caller.
      const live: FetchedBatch[] = outcome.batches
        .filter((b) => this.#gens.get(b.partition) === b.gen) // not sought or removed since the fetch went out
        .map((b) => new HandedOver(b));
      for (const b of live) this.#positions.set(b.partition, b.nextOffset);
      if (outcome.retriable) {
        // Some partitions (or the whole request) failed: refresh metadata and retry them with backoff,
        // but hand over whatever the other partitions brought.
        const now = Date.now();
        this.#firstErrorAt ??= now;
        if (now - this.#firstErrorAt > this.#retryTimeoutMs) {
          const e = outcome.retriable;
          const seconds = Math.round((now - this.#firstErrorAt) / 1000);
          this.#firstErrorAt = null;
          throw new KafkaClientError('retriable', `reading topic '${this.#topic}' failed for ${seconds} s: ${e.message}`, { code: e.code, cause: e });
        }
        this.#needMetadata = true;
        if (live.length > 0) return live;
        await sleep(Math.min(this.#backoffMs, deadline - Date.now()));
        this.#backoffMs = Math.min(this.#backoffMs * 2, 2000);
        if (Date.now() >= deadline) return [];
        continue;
      }
      this.#firstErrorAt = null;
      this.#backoffMs = 100;
      // Pipelining: the next fetch goes out now, while the caller works on this one.
      if (!this.#closed && this.#positions.size > 0) this.#current = this.#start(maxWaitMs);
      if (live.length > 0) return live;
      if (Date.now() >= deadline) return [];
    }
  }

  #start(maxWaitMs: number): InFlight {
    const f: InFlight = { promise: Promise.resolve(), done: false, outcome: null };
    f.promise = this.#fetchOnce(maxWaitMs).then(
      (o) => {
        f.outcome = o;
        f.done = true;
      },
      (err) => {
        const e = toKafkaError(err, `fetching from topic '${this.#topic}'`);
        f.outcome = { batches: [], retriable: e.kind === 'retriable' ? e : null, fatal: e.kind === 'retriable' ? null : e };
        f.done = true;
      },
    );
    return f;
  }

  async #refreshMetadata(): Promise<void> {
    let md: ClusterMetadata;
    try {
      md = await this.#base.metadata({ topics: [this.#topic], forceUpdate: true });
    } catch (err) {
      if (hasCode(err, 'UNKNOWN_TOPIC_OR_PARTITION')) {
        throw new KafkaClientError('retriable', `topic '${this.#topic}' does not exist (any more)`, { code: 'UNKNOWN_TOPIC_OR_PARTITION', cause: err });
      }
      throw err;
    }
    const t = md.topics.get(this.#topic);
    if (!t) throw new KafkaClientError('retriable', `topic '${this.#topic}' does not exist (any more)`, { code: 'UNKNOWN_TOPIC_OR_PARTITION' });
    this.#topicId = t.id;
    this.#leaders = new Map(t.partitions.map((p, i) => [i, p.leader]));
    this.#brokers = new Map(md.brokers);
    this.#needMetadata = false;
  }

  async #fetchOnce(maxWaitMs: number): Promise<Outcome> {
    if (this.#needMetadata || this.#topicId === null) await this.#refreshMetadata();
    const iso = this.#ctx.isolationLevel;
    const readCommitted = iso === 'read_committed';
    // Snapshot of what we ask for: position and generation per partition, grouped by leader.
    const byLeader = new Map<number, { partition: number; offset: number; gen: number }[]>();
    const parts = [...this.#positions.keys()];
    const rot = this.#rotation++ % Math.max(1, parts.length);
    const ordered = parts.slice(rot).concat(parts.slice(0, rot)); // rotate so no partition starves (KIP-74)
    for (const p of ordered) {
      const leader = this.#leaders.get(p);
      if (leader === undefined || leader < 0) {
        this.#needMetadata = true;
        return { batches: [], retriable: new KafkaClientError('retriable', `partition ${p} of '${this.#topic}' has no leader`, { code: 'LEADER_NOT_AVAILABLE' }), fatal: null };
      }
      let list = byLeader.get(leader);
      if (!list) byLeader.set(leader, (list = []));
      list.push({ partition: p, offset: this.#positions.get(p)!, gen: this.#gens.get(p)! });
    }
    const topicId = this.#topicId!;
    const results = await Promise.all(
      [...byLeader].map(async ([leader, asked]) => {
        const broker = this.#brokers.get(leader);
        if (!broker) throw new KafkaClientError('retriable', `broker ${leader} is not in the metadata`);
        const conn = await new Promise<Connection>((resolve, reject) =>
          this.#base.connections.get(broker, (err, c) => (err ? reject(err) : resolve(c!))),
        );
        const offsets = new Map(asked.map((a) => [a.partition, a.offset]));
        const partMax = this.#maxPartitionBytes ?? DEFAULT_MAX_PARTITION_BYTES;
        const parsed = await new Promise<ParsedFetch>((resolve, reject) => {
          conn.send(
            FETCH_API_KEY,
            FETCH_API_VERSION,
            () =>
              fetchV17.createRequest(
                maxWaitMs,
                1,
                this.#maxBytes,
                readCommitted ? 1 : 0,
                0, // session id: no fetch session
                -1, // session epoch: FINAL_EPOCH, a full fetch without creating a session
                [
                  {
                    topicId,
                    partitions: asked.map((a) => ({
                      partition: a.partition,
                      currentLeaderEpoch: -1,
                      fetchOffset: BigInt(a.offset),
                      lastFetchedEpoch: -1,
                      partitionMaxBytes: partMax,
                    })),
                  },
                ],
                [],
                '',
              ),
            makeFetchParser(readCommitted, offsets) as never,
            true,
            true,
            (err: Error | null, res?: unknown) => (err ? reject(err) : resolve(res as ParsedFetch)),
          );
        });
        return { asked, parsed };
      }),
    );

    const outcome: Outcome = { batches: [], retriable: null, fatal: null };
    const resets: { partition: number; from: number }[] = [];
    for (const { asked, parsed } of results) {
      const parts = parsed.topics.get(topicId) ?? [];
      const askedBy = new Map(asked.map((a) => [a.partition, a]));
      for (const r of parts) {
        const a = askedBy.get(r.partition);
        if (!a || this.#gens.get(r.partition) !== a.gen) continue; // sought or removed meanwhile
        if (r.errorCode === 0) {
          if (r.nextOffset >= 0 && r.nextOffset > a.offset) {
            outcome.batches.push({ partition: r.partition, records: r.records, values: r.values, highWatermark: r.highWatermark, lastStableOffset: r.lastStableOffset, nextOffset: r.nextOffset, gen: a.gen });
          }
        } else if (r.errorCode === KafkaErrorCodes.OFFSET_OUT_OF_RANGE) {
          resets.push({ partition: r.partition, from: a.offset });
        } else if (RETRIABLE_FETCH_ERRORS.has(r.errorCode)) {
          this.#needMetadata = true;
          outcome.retriable ??= new KafkaClientError('retriable', `partition ${r.partition} of '${this.#topic}': Kafka error ${r.errorCode}`, { code: String(r.errorCode) });
        } else {
          outcome.fatal ??= new KafkaClientError('fatal', `reading partition ${r.partition} of '${this.#topic}' failed with Kafka error code ${r.errorCode}`, { code: String(r.errorCode) });
        }
      }
    }
    if (resets.length > 0) {
      const mode = this.#ctx.onOutOfRange;
      if (mode === 'fail') {
        outcome.fatal ??= new KafkaClientError(
          'fatal',
          `offset ${resets[0]!.from} of partition ${resets[0]!.partition} of '${this.#topic}' is out of range (deleted by retention, or beyond the end)`,
          { code: 'OFFSET_OUT_OF_RANGE' },
        );
      } else {
        const to = await this.#ctx.listOffsets(this.#topic, resets.map((r) => r.partition), mode, this.#ctx.isolationLevel);
        for (const r of resets) {
          const target = to.get(r.partition);
          if (target === undefined || this.#positions.get(r.partition) !== r.from) continue;
          this.#positions.set(r.partition, target);
          this.#onReset?.(r.partition, r.from, target);
        }
      }
    }
    return outcome;
  }

  [kDropConnections](): number {
    return dropConnections(this.#base);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#ctx.onClose(this);
    await this.#base.close().catch(() => undefined);
    if (this.#current) await this.#current.promise.catch(() => undefined);
  }
}

// ------------------------------------------------------------------------------------------ writer

interface WriterContext {
  acks: 0 | 1 | -1;
  transactional: boolean;
  transactionalId: string | null;
  idempotent: boolean;
  maxBatchBytes: number;
  compressor: BatchCompressor | null;
  onClose: (w: PlatformaticWriter) => void;
}

const PRODUCE_TIMEOUT_MS = 30_000;
const PRODUCE_ATTEMPTS = 6;
const DUPLICATE_SEQUENCE_NUMBER = 46;

/** The records of one partition in one send, cut into batches of at most maxBatchBytes. */
interface PartitionChunks {
  readonly topic: string;
  readonly partition: number;
  readonly chunks: ProducerRecord[][];
  bytes: number;
}

/** What one round of produce requests left undone. */
interface RoundFailure {
  readonly batches: PartitionBatch[];
  readonly error: KafkaClientError;
}

/** Compression of produced batches as Kafka's codecs number them (snappy as a bare block, as before). */
function batchCompressor(compression: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'): BatchCompressor | null {
  switch (compression) {
    case 'none':
      return null;
    case 'gzip':
      return { codec: 1, compress: (b) => zlib.gzipSync(b) };
    case 'snappy':
      return { codec: 2, compress: (b) => compressionsAlgorithms.snappy.compressSync(b) as Buffer };
    case 'lz4':
      return { codec: 3, compress: (b) => compressionsAlgorithms.lz4.compressSync(b) as Buffer };
    case 'zstd':
      return { codec: 4, compress: (b) => compressionsAlgorithms.zstd.compressSync(b) as Buffer };
  }
}

/**
 * Producing: the library runs InitProducerId, AddPartitionsToTxn and EndTxn (and owns the producer id and
 * epoch); record batches are encoded by record-batch-encoder.ts and sent as our own Produce v11 requests
 * over the library's connections, with this writer keeping the idempotent sequence numbers. Sends are
 * serialized and each partition has at most one batch in flight, so sequences never collide and order per
 * partition is the call order; a retried batch is resent byte for byte (same sequence), which the broker
 * deduplicates for idempotent and transactional writers.
 */
class PlatformaticWriter implements KafkaWriter {
  readonly transactional: boolean;
  readonly #producer: Producer;
  readonly #ctx: WriterContext;
  readonly #partitionCounts = new Map<string, number>();
  readonly #roundRobin = new Map<string, number>();
  /** Next sequence number per 'topic\0partition', for the producer id/epoch in #sequenceOwner. */
  readonly #sequences = new Map<string, number>();
  #sequenceOwner = '';
  /**
   * An idempotent send failed after its retries: a batch may have landed without its acknowledgement
   * reaching us, and reusing its sequence for other records would make the broker drop them as
   * duplicates. The next send first asks for a new producer id (fresh sequences), as Java's client does.
   */
  #needNewProducerId = false;
  #queue: Promise<unknown> = Promise.resolve();
  #tx: Transaction | null = null;
  #txHasRecords = false;
  #closed = false;

  constructor(producer: Producer, ctx: WriterContext) {
    this.#producer = producer;
    this.#ctx = ctx;
    this.transactional = ctx.transactional;
  }

  /**
   * Transactional: InitProducerId now (not at the first send), which fences an older writer with the same
   * transactional id and aborts the transaction it left open — so read_committed readers go on at once.
   * Idempotent: InitProducerId for a fresh producer id.
   */
  async init(): Promise<void> {
    if (this.transactional) {
      const tx = await this.#producer.beginTransaction();
      await tx.cancel();
    } else if (this.#ctx.idempotent) {
      await this.#producer.initIdempotentProducer({});
    }
  }

  #enqueue<T>(op: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(op, op);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #partitionCount(topic: string): Promise<number> {
    let n = this.#partitionCounts.get(topic);
    if (n === undefined) {
      try {
        const md = await this.#producer.metadata({ topics: [topic], forceUpdate: true });
        n = md.topics.get(topic)?.partitionsCount;
      } catch (err) {
        if (hasCode(err, 'UNKNOWN_TOPIC_OR_PARTITION')) {
          throw new KafkaClientError('fatal', `topic '${topic}' does not exist`, { code: 'UNKNOWN_TOPIC_OR_PARTITION', cause: err });
        }
        throw toKafkaError(err, `metadata of topic '${topic}'`);
      }
      if (n === undefined) throw new KafkaClientError('fatal', `topic '${topic}' does not exist`, { code: 'UNKNOWN_TOPIC_OR_PARTITION' });
      this.#partitionCounts.set(topic, n);
    }
    return n;
  }

  send(records: readonly ProducerRecord[]): Promise<void> {
    return this.#enqueue(() => this.#send(records));
  }

  async #send(records: readonly ProducerRecord[]): Promise<void> {
    if (this.#closed) throw new KafkaClientError('fatal', 'the writer is closed');
    if (this.transactional && this.#tx === null) throw new KafkaClientError('fatal', 'send() on a transactional writer outside a transaction: call begin() first');
    if (records.length === 0) return;
    if (this.#needNewProducerId) {
      try {
        await this.#producer.initIdempotentProducer({});
      } catch (err) {
        throw toKafkaError(err, 'renewing the producer id after a failed send');
      }
      this.#needNewProducerId = false;
    }
    const max = this.#ctx.maxBatchBytes;
    // Per topic, the chunks of each partition by index: no per-record string keys or Map lookups.
    const byTopic = new Map<string, (PartitionChunks | undefined)[]>();
    const parts: PartitionChunks[] = [];
    let lastTopic: string | null = null;
    let slots: (PartitionChunks | undefined)[] = [];
    for (const r of records) {
      if (r.topic !== lastTopic) {
        lastTopic = r.topic;
        let s = byTopic.get(r.topic);
        if (!s) byTopic.set(r.topic, (s = []));
        slots = s;
      }
      let partition = r.partition;
      if (partition === undefined) {
        const n = this.#partitionCounts.get(r.topic) ?? (await this.#partitionCount(r.topic));
        if (r.key !== null) {
          partition = (murmur2(r.key) & 0x7fffffff) % n; // Kafka's Java default partitioner for keyed records
        } else {
          const i = this.#roundRobin.get(r.topic) ?? 0;
          this.#roundRobin.set(r.topic, i + 1);
          partition = i % n;
        }
      }
      let size = 24 + (r.key === null ? 0 : r.key.length) + (r.value === null ? 0 : r.value.length);
      if (r.headers !== undefined) for (const h of r.headers) size += 8 + h.key.length * 3 + (h.value?.length ?? 0);
      let pc = slots[partition];
      if (pc === undefined) {
        pc = { topic: r.topic, partition, chunks: [[]], bytes: 0 };
        slots[partition] = pc;
        parts.push(pc);
      }
      let chunk = pc.chunks[pc.chunks.length - 1]!;
      if (pc.bytes + size > max && chunk.length > 0) {
        pc.chunks.push((chunk = []));
        pc.bytes = 0;
      }
      chunk.push(r);
      pc.bytes += size;
    }
    try {
      if (this.#tx) {
        await this.#addPartitionsToTransaction(this.#tx, parts);
        this.#txHasRecords = true;
      }
      const rounds = Math.max(...parts.map((p) => p.chunks.length));
      for (let round = 0; round < rounds; round++) {
        const identity = this.#identity();
        const now = Date.now();
        const batches: PartitionBatch[] = [];
        for (const pc of parts) {
          const chunk = pc.chunks[round];
          if (!chunk) continue;
          const seqKey = `${pc.topic}\u0000${pc.partition}`;
          const producer: BatchProducer =
            identity === null
              ? NO_PRODUCER
              : { producerId: identity.producerId, producerEpoch: identity.producerEpoch, baseSequence: this.#sequences.get(seqKey) ?? 0, transactional: this.transactional };
          batches.push({ topic: pc.topic, partition: pc.partition, batch: encodeRecordBatch(chunk, producer, this.#ctx.compressor, now), count: chunk.length });
        }
        await this.#produceRound(batches);
      }
    } catch (err) {
      for (const pc of parts) this.#partitionCounts.delete(pc.topic);
      // Transactional writers are not renewed here: the failed send fails the transaction, and the job
      // restarts with a new writer whose InitProducerId bumps the epoch.
      if (this.#ctx.idempotent && !this.transactional) this.#needNewProducerId = true;
      throw toKafkaError(err, `writing ${records.length} records`);
    }
  }

  /** The producer id and epoch batches carry (null for a plain producer); resets sequences on a new one. */
  #identity(): { producerId: number; producerEpoch: number } | null {
    if (!this.transactional && !this.#ctx.idempotent) return null;
    const id = this.#producer.producerId;
    const epoch = this.#producer.producerEpoch;
    if (id === undefined || epoch === undefined) {
      throw new KafkaClientError('fatal', 'the writer has no producer id (it was fenced or its InitProducerId failed)', { code: 'PRODUCER_FENCED' });
    }
    const owner = `${id}:${epoch}`;
    if (owner !== this.#sequenceOwner) {
      this.#sequences.clear();
      this.#sequenceOwner = owner;
    }
    return { producerId: Number(id), producerEpoch: epoch };
  }

  async #addPartitionsToTransaction(tx: Transaction, parts: readonly PartitionChunks[]): Promise<void> {
    const topics = [...new Set(parts.map((p) => p.topic))];
    const md = await this.#producer.metadata({ topics });
    await new Promise<void>((resolve, reject) =>
      tx.addPartitions(md, parts.map((p) => ({ topic: p.topic, partition: p.partition })) as never, (err?: Error | null) => (err ? reject(err) : resolve())),
    );
  }

  /** Sends one batch per partition, retrying what failed retriably; resolves when all were acknowledged. */
  async #produceRound(batches: PartitionBatch[]): Promise<void> {
    let pending = batches;
    let delay = 250;
    for (let attempt = 1; ; attempt++) {
      const failure = await this.#produceOnce(pending, attempt > 1);
      if (failure === null) return;
      if (failure.error.kind !== 'retriable' || attempt >= PRODUCE_ATTEMPTS) throw failure.error;
      pending = failure.batches;
      await sleep(delay);
      delay = Math.min(delay * 2, 4000);
    }
  }

  async #produceOnce(batches: readonly PartitionBatch[], refreshMetadata: boolean): Promise<RoundFailure | null> {
    let md: ClusterMetadata;
    try {
      md = await this.#producer.metadata({ topics: [...new Set(batches.map((b) => b.topic))], forceUpdate: refreshMetadata });
    } catch (err) {
      return { batches: [...batches], error: toKafkaError(err, 'metadata for producing') };
    }
    const byLeader = new Map<number, PartitionBatch[]>();
    const failed: PartitionBatch[] = [];
    let error: KafkaClientError | null = null;
    for (const b of batches) {
      const topic = md.topics.get(b.topic);
      if (topic && (b.partition < 0 || b.partition >= topic.partitionsCount)) {
        return { batches: [...batches], error: new KafkaClientError('fatal', `topic '${b.topic}' has no partition ${b.partition}`, { code: 'UNKNOWN_TOPIC_OR_PARTITION' }) };
      }
      const leader = topic?.partitions[b.partition]?.leader ?? -1;
      if (leader < 0 || !md.brokers.has(leader)) {
        failed.push(b);
        error ??= new KafkaClientError('retriable', `partition ${b.partition} of '${b.topic}' has no leader`, { code: 'LEADER_NOT_AVAILABLE' });
        continue;
      }
      let list = byLeader.get(leader);
      if (!list) byLeader.set(leader, (list = []));
      list.push(b);
    }
    const requests: { leader: number; batches: PartitionBatch[] }[] = [];
    for (const [leader, list] of byLeader) {
      let current: PartitionBatch[] = [];
      let bytes = 0;
      for (const b of list) {
        if (current.length > 0 && bytes + b.batch.length > MAX_REQUEST_BYTES) {
          requests.push({ leader, batches: current });
          current = [];
          bytes = 0;
        }
        current.push(b);
        bytes += b.batch.length;
      }
      if (current.length > 0) requests.push({ leader, batches: current });
    }
    const results = await Promise.all(requests.map((r) => this.#request(md.brokers.get(r.leader)!, r.batches)));
    results.forEach((res, i) => {
      const sent = requests[i]!.batches;
      if (res instanceof KafkaClientError) {
        failed.push(...sent);
        if (error === null || (error.kind === 'retriable' && res.kind !== 'retriable')) error = res;
        return;
      }
      const byKey = new Map(res.map((p) => [`${p.topic}\u0000${p.partition}`, p]));
      for (const b of sent) {
        const key = `${b.topic}\u0000${b.partition}`;
        const p = byKey.get(key);
        const code = p?.errorCode ?? (this.#ctx.acks === 0 ? 0 : -1);
        if (code === 0 || code === DUPLICATE_SEQUENCE_NUMBER) {
          const seq = this.#sequences.get(key);
          this.#sequences.set(key, nextSequence(seq ?? 0, b.count));
          continue;
        }
        failed.push(b);
        const e = produceError(code, p?.errorMessage ?? null, b);
        if (error === null || (error.kind === 'retriable' && e.kind !== 'retriable')) error = e;
      }
    });
    return error === null ? null : { batches: failed, error };
  }

  /** One Produce request; a KafkaClientError when the request as a whole failed (network, timeout). */
  async #request(broker: Broker, batches: readonly PartitionBatch[]): Promise<ProducePartitionResult[] | KafkaClientError> {
    try {
      const conn = await new Promise<Connection>((resolve, reject) => this.#producer.connections.get(broker, (err, c) => (err ? reject(err) : resolve(c!))));
      const acks = this.#ctx.acks;
      const parts = produceRequestParts(this.#ctx.transactionalId, acks, PRODUCE_TIMEOUT_MS, batches);
      return await new Promise<ProducePartitionResult[]>((resolve, reject) => {
        conn.send(
          PRODUCE_API_KEY,
          PRODUCE_API_VERSION,
          () => {
            const w = Writer.create();
            for (const p of parts) w.append(p);
            if (acks === 0) w.context.noResponse = true;
            return w;
          },
          parseProduceResponse as never,
          true,
          true,
          // acks=0: no response; the callback gets whether the socket took the bytes.
          (err: Error | null, res?: unknown) => (err ? reject(err) : resolve(Array.isArray(res) ? (res as ProducePartitionResult[]) : [])),
        );
      });
    } catch (err) {
      return toKafkaError(err, `producing to broker ${broker.host}:${broker.port}`);
    }
  }

  begin(): Promise<void> {
    return this.#enqueue(async () => {
      if (!this.transactional) throw new KafkaClientError('fatal', 'begin(): the writer was opened without a transactionalId');
      if (this.#tx) throw new KafkaClientError('fatal', 'begin(): a transaction is already open');
      try {
        this.#tx = await this.#producer.beginTransaction();
        this.#txHasRecords = false;
      } catch (err) {
        throw toKafkaError(err, 'beginning a transaction');
      }
    });
  }

  #end(commit: boolean): Promise<void> {
    return this.#enqueue(async () => {
      const tx = this.#tx;
      if (!tx) throw new KafkaClientError('fatal', `${commit ? 'commit' : 'abort'}(): no open transaction`);
      this.#tx = null;
      try {
        if (!this.#txHasRecords) await tx.cancel(); // nothing was added: no EndTxn needed
        else if (commit) await tx.commit();
        else await tx.abort();
      } catch (err) {
        const e = toKafkaError(err, commit ? 'committing a transaction' : 'aborting a transaction');
        if (hasCode(err, 'INVALID_PRODUCER_EPOCH') || hasCode(err, 'PRODUCER_FENCED')) {
          throw new KafkaClientError('fatal', `${e.message} (fenced: another writer with the same transactional id started)`, { code: 'PRODUCER_FENCED', cause: err });
        }
        throw e;
      }
    });
  }

  commit(): Promise<void> {
    return this.#end(true);
  }

  abort(): Promise<void> {
    return this.#end(false);
  }

  [kDropConnections](): number {
    return dropConnections(this.#producer as unknown as Base);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#queue;
    this.#closed = true;
    this.#ctx.onClose(this);
    if (this.#tx) {
      const tx = this.#tx;
      this.#tx = null;
      await (this.#txHasRecords ? tx.abort() : tx.cancel()).catch(() => undefined);
    }
    await this.#producer.close().catch(() => undefined);
  }
}

/** A partition's error code in a produce response as a KafkaClientError (fenced writers: PRODUCER_FENCED). */
function produceError(code: number, message: string | null, b: PartitionBatch): KafkaClientError {
  const where = `producing to partition ${b.partition} of '${b.topic}'`;
  if (code === -1) return new KafkaClientError('retriable', `${where}: the broker's response did not mention the partition`);
  const name = protocolErrorsCodesById[code] ?? `Kafka error ${code}`;
  const text = `${where}: ${name}${message ? ` (${message})` : ''}`;
  if (code === KafkaErrorCodes.PRODUCER_FENCED || code === KafkaErrorCodes.INVALID_PRODUCER_EPOCH) {
    return new KafkaClientError('fatal', `${text} (fenced: another writer with the same transactional id started)`, { code: 'PRODUCER_FENCED' });
  }
  return new KafkaClientError(protocolErrors[name]?.canRetry === true ? 'retriable' : 'fatal', text, { code: name });
}
