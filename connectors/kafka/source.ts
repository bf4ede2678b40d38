import type { Column } from '../../engine/plan/plan.ts';
import { BadRecordError, createJsonDecoder } from '../formats/json.ts';
import type { JsonDecoder, JsonDecoderOptions } from '../formats/json.ts';
import { OptionError } from '../types.ts';
import type { BadRecord, PartitionProgress, Source, SourceBatch, SourceSpec } from '../types.ts';
import { createKafkaClient, eachValueOf } from './client.ts';
import type { FetchedBatch, IsolationLevel, KafkaClient, KafkaClientConfig, KafkaReader, KafkaRecord, KafkaWriter, ValueVisitor } from './client.ts';

/** What opening a reader of a source's topic elsewhere takes (KafkaSource.readerSpec). */
export interface KafkaReaderSpec {
  readonly config: KafkaClientConfig;
  readonly topic: string;
  readonly isolationLevel: IsolationLevel;
  readonly maxBytes?: number;
  readonly maxPartitionBytes?: number;
}

/** One partition's records as fetched, not decoded (KafkaSource.pollRaw). */
export interface RawSourceBatch {
  readonly partition: number;
  /** In offset order, none at or past the bounded end. */
  readonly records: readonly KafkaRecord[];
  /** Offset after this batch (also when it moved without records). */
  readonly nextOffset: number;
  /** The same records' values where they lie (FetchedBatch.eachValue), when the reader can: then `records` is made only if asked for. */
  readonly eachValue?: ((f: ValueVisitor) => void) | undefined;
}
import { parseKafkaOptions } from './options.ts';
import type { KafkaOptions } from './options.ts';

/**
 * Reads every partition of a topic by assignment (DESIGN §3): start positions come from a saved
 * checkpoint when there is one, otherwise from 'scan.startup.mode'; the consumer group only
 * receives positions for monitoring. A bounded source stops each partition at the end offset it
 * saw when the job first started.
 */
export class KafkaSource implements Source {
  readonly topic: string;
  private readonly done = new Set<number>();
  private readonly hw = new Map<number, number>();
  private dlq: KafkaWriter | undefined;
  /** Offsets per partition this job already dead-lettered at or after its start positions (see deadLettered()). */
  private sent = new Map<number, Set<number>>();

  private constructor(
    private readonly client: KafkaClient,
    private readonly reader: KafkaReader,
    private readonly opts: KafkaOptions,
    readonly partitions: readonly number[],
    private readonly ends: Map<number, number> | undefined,
    private readonly decoderSpec: { readonly columns: readonly Column[]; readonly options: JsonDecoderOptions },
    private readonly groupId: string,
    private readonly jobId: string | undefined,
  ) {
    this.topic = opts.topic;
    const decode = createJsonDecoder(decoderSpec.columns, decoderSpec.options);
    this.decode = decode;
    // Read where the values lie (no Buffer view per record) when the decoder can.
    this.at = decode.at ?? ((b: Buffer, start: number, end: number) => decode(b.subarray(start, end)));
  }

  /**
   * How to open a reader of this topic elsewhere (a parallel job's instances that read their own
   * partitions, jobs/parallel/owned.ts): the same client settings, isolation level and fetch limits.
   */
  readerSpec: KafkaReaderSpec | undefined;

  private readonly decode: JsonDecoder;
  private readonly at: (b: Buffer, start: number, end: number) => unknown[] | null;

  static async open(spec: SourceSpec): Promise<KafkaSource> {
    const o = parseKafkaOptions(spec.options, spec.columns);
    const config: KafkaClientConfig = { brokers: (o.brokers ?? spec.brokers).split(','), clientId: `weir-${spec.jobName}`, properties: o.properties };
    const client = createKafkaClient(config);
    try {
      const partitions = await client.listPartitions(o.topic);
      const groupId = o.groupId ?? `weir-${spec.jobName}`;
      const start = await startOffsets(client, o, partitions, groupId, spec.startOffsets);
      let ends: Map<number, number> | undefined;
      if (o.bounded) {
        ends = spec.endOffsets
          ? new Map(Object.entries(spec.endOffsets).map(([p, v]) => [Number(p), v]))
          : await client.listOffsets(o.topic, 'latest', { isolationLevel: o.isolationLevel });
      }
      const latest = await client.listOffsets(o.topic, 'latest');
      const limits = fetchLimits(o.properties);
      const reader = await client.openReader({ topic: o.topic, partitions: start, isolationLevel: o.isolationLevel, ...limits });
      const decoding = {
        columns: spec.columns,
        options: {
          ignoreParseErrors: o.ignoreParseErrors,
          timestampStandard: o.timestampStandard,
          ...(spec.projection && spec.projection.includes(false) ? { fields: spec.projection } : {}),
        },
      };
      const src = new KafkaSource(client, reader, o, partitions, ends, decoding, groupId, spec.jobId);
      src.readerSpec = { config, topic: o.topic, isolationLevel: o.isolationLevel, ...limits };
      for (const [p, v] of latest) src.hw.set(p, v);
      for (const p of partitions) src.checkDone(p, start.get(p) ?? 0);
      if (o.deadLetterTopic) {
        await client.createTopic(o.deadLetterTopic, 1);
        if (spec.jobId !== undefined) src.sent = await deadLettered(client, o.deadLetterTopic, o.topic, spec.jobId, start);
        src.dlq = await client.openWriter({ acks: 'all' });
      }
      return src;
    } catch (e) {
      await client.close().catch(() => undefined);
      throw e;
    }
  }

  private checkDone(partition: number, position: number): void {
    if (!this.ends) return;
    if (position >= (this.ends.get(partition) ?? 0) && !this.done.has(partition)) {
      this.done.add(partition);
      this.reader.remove(partition);
    }
  }

  async poll(maxWaitMs: number): Promise<SourceBatch[]> {
    const out: SourceBatch[] = [];
    const dead: BadRecord[] = [];
    for (const f of await this.pollRaw(maxWaitMs)) {
      const b = this.decodeBatch(f);
      out.push(b);
      dead.push(...b.bad);
    }
    await this.deadLetter(dead);
    return out;
  }

  /**
   * One batch of pollRaw() decoded here, as poll() decodes it; the caller must deadLetter() its bad
   * records before it processes it. A job at parallelism 1 decodes each batch just before it pushes it:
   * the rows of a whole poll then never wait for each other (they would outlive young-generation GCs).
   */
  decodeBatch(f: RawSourceBatch): SourceBatch {
    const decode = this.decode;
    const at = this.at;
    const rows: unknown[][] = [];
    const bad: BadRecord[] = [];
    const partition = f.partition;
    eachValueOf(f)((bytes, start, stop, offset) => {
      try {
        const row = stop >= 0 ? at(bytes, start, stop) : decode(null);
        if (row) rows.push(row);
      } catch (e) {
        if (!(e instanceof BadRecordError)) throw e;
        bad.push({ partition, offset, error: e.message, value: stop >= 0 ? bytes.subarray(start, stop) : null });
      }
    });
    return { partition, rows, nextOffset: f.nextOffset, bad };
  }

  /**
   * Like poll(), but leaves decoding to the caller (a parallel job decodes in worker threads, see
   * decoding()): the records of each partition up to the bounded end, in offset order. Positions move
   * as in poll(); the caller must deadLetter() the bad records it finds before it processes their batch.
   */
  async pollRaw(maxWaitMs: number): Promise<RawSourceBatch[]> {
    if (this.finished()) return [];
    const fetched = await this.reader.poll(maxWaitMs);
    const out: RawSourceBatch[] = [];
    for (const f of fetched) {
      if (this.done.has(f.partition)) continue;
      this.hw.set(f.partition, f.highWatermark);
      const end = this.ends?.get(f.partition) ?? Number.MAX_SAFE_INTEGER;
      const next = Math.min(f.nextOffset, end);
      out.push(new BoundedBatch(f, end, next));
      this.positionsCache.set(f.partition, next);
      this.checkDone(f.partition, next);
    }
    return out;
  }

  /**
   * A partition's records up to `nextOffset` were read elsewhere (readerSpec) and are in the job's state:
   * its position moves there (what positions() reports, what a checkpoint saves), its high watermark as the
   * reader there last saw it (lag), and a bounded partition that reached its end is finished. This source's
   * own reader is not polled then.
   */
  readElsewhere(partition: number, nextOffset: number, highWatermark: number): void {
    if (highWatermark >= 0) this.hw.set(partition, highWatermark);
    this.positionsCache.set(partition, nextOffset);
    this.checkDone(partition, nextOffset);
  }

  /** How record values decode (createJsonDecoder's arguments): plain data, so a worker thread can build the same decoder. */
  decoding(): { readonly columns: readonly Column[]; readonly options: JsonDecoderOptions } {
    return this.decoderSpec;
  }

  /** Sends bad records to the dead-letter topic (if the table has one), each once per job (see deadLettered()). */
  async deadLetter(dead: readonly BadRecord[]): Promise<void> {
    if (dead.length === 0 || !this.dlq) return;
    // A record re-read after a restart (the checkpoint was older than the dead letter) is not sent again.
    const fresh = dead.filter((b) => !this.sent.get(b.partition)?.delete(b.offset));
    if (fresh.length > 0) {
      await this.dlq.send(
        fresh.map((b) => ({
          topic: this.opts.deadLetterTopic!,
          key: null,
          value: b.value,
          headers: [
            { key: 'weir.error', value: Buffer.from(b.error) },
            { key: 'weir.source.topic', value: Buffer.from(this.topic) },
            { key: 'weir.source.partition', value: Buffer.from(String(b.partition)) },
            { key: 'weir.source.offset', value: Buffer.from(String(b.offset)) },
            ...(this.jobId !== undefined ? [{ key: 'weir.job.id', value: Buffer.from(this.jobId) }] : []),
          ],
        })),
      );
    }
  }

  private readonly positionsCache = new Map<number, number>();

  positions(): Record<number, number> {
    const out: Record<number, number> = {};
    const live = this.reader.positions();
    for (const p of this.partitions) {
      const v = this.positionsCache.get(p) ?? live.get(p) ?? (this.ends?.get(p) ?? 0);
      out[p] = v;
    }
    return out;
  }

  endOffsets(): Record<number, number> | undefined {
    if (!this.ends) return undefined;
    return Object.fromEntries(this.ends);
  }

  finishedPartitions(): readonly number[] {
    return [...this.done];
  }

  finished(): boolean {
    return this.ends !== undefined && this.done.size >= this.partitions.length;
  }

  progress(): PartitionProgress[] {
    const pos = this.positions();
    return this.partitions.map((p) => ({ partition: p, offset: pos[p] ?? 0, highWatermark: Math.max(this.hw.get(p) ?? 0, pos[p] ?? 0) }));
  }

  async commitForMonitoring(): Promise<void> {
    await this.client.commitOffsets(this.groupId, this.topic, new Map(Object.entries(this.positions()).map(([p, v]) => [Number(p), v])));
  }

  async close(): Promise<void> {
    await this.reader.close().catch(() => undefined);
    await this.dlq?.close().catch(() => undefined);
    await this.client.close();
  }
}

/**
 * What this job dead-lettered from `topic` at or after `start` (the positions it resumes from): read once
 * when the source opens, from the whole dead-letter topic (read_uncommitted: the dead-letter writer is
 * not transactional). Each dead letter is sent and acknowledged before the batch it came from is
 * processed, so a dead letter is either here or will be sent again after the restart: re-read bad
 * records found here are skipped, the others sent. Offsets before `start` are never read again, so
 * they are not kept (the set stays as small as the dead letters of one checkpoint interval).
 */
async function deadLettered(client: KafkaClient, dlqTopic: string, topic: string, jobId: string, start: ReadonlyMap<number, number>): Promise<Map<number, Set<number>>> {
  const out = new Map<number, Set<number>>();
  const end = await client.listOffsets(dlqTopic, 'latest');
  const earliest = await client.listOffsets(dlqTopic, 'earliest');
  const want = new Map<number, number>();
  for (const [p, e] of end) if (e > (earliest.get(p) ?? 0)) want.set(p, earliest.get(p) ?? 0);
  if (want.size === 0) return out;
  const header = (r: { headers: readonly { key: string; value: Buffer | null }[] }, key: string): string | undefined => r.headers.find((h) => h.key === key)?.value?.toString('utf8');
  const reader = await client.openReader({ topic: dlqTopic, partitions: want });
  try {
    const deadline = Date.now() + 60_000;
    const done = (): boolean => [...want.keys()].every((p) => (reader.positions().get(p) ?? 0) >= end.get(p)!);
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`reading the dead-letter topic '${dlqTopic}' timed out`);
      for (const b of await reader.poll(200)) {
        for (const r of b.records) {
          if (r.offset >= end.get(b.partition)! || header(r, 'weir.job.id') !== jobId || header(r, 'weir.source.topic') !== topic) continue;
          const p = Number(header(r, 'weir.source.partition'));
          const offset = Number(header(r, 'weir.source.offset'));
          if (!(offset >= (start.get(p) ?? 0))) continue;
          let set = out.get(p);
          if (!set) out.set(p, (set = new Set()));
          set.add(offset);
        }
      }
    }
  } finally {
    await reader.close();
  }
  return out;
}

/** Kafka's fetch size properties, as the Java consumer names them (smaller fetches: smaller batches, less memory). */
function fetchLimits(props: Readonly<Record<string, string>>): { maxBytes?: number; maxPartitionBytes?: number } {
  const out: { maxBytes?: number; maxPartitionBytes?: number } = {};
  const num = (k: string): number | undefined => {
    const v = props[k];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new OptionError(`properties.${k}`, `'properties.${k}' must be a positive integer (bytes)`);
    return n;
  };
  const total = num('fetch.max.bytes');
  const part = num('max.partition.fetch.bytes');
  if (total !== undefined) out.maxBytes = total;
  if (part !== undefined) out.maxPartitionBytes = part;
  return out;
}

async function startOffsets(
  client: KafkaClient,
  o: KafkaOptions,
  partitions: readonly number[],
  groupId: string,
  saved: Readonly<Record<number, number>> | undefined,
): Promise<Map<number, number>> {
  const earliest = await client.listOffsets(o.topic, 'earliest');
  const out = new Map<number, number>();
  if (saved) {
    // Partitions added since the checkpoint start at their beginning.
    for (const p of partitions) out.set(p, saved[p] ?? earliest.get(p) ?? 0);
    return out;
  }
  let chosen: Map<number, number>;
  switch (o.startupMode) {
    case 'earliest-offset':
      chosen = earliest;
      break;
    case 'latest-offset':
      chosen = await client.listOffsets(o.topic, 'latest');
      break;
    case 'timestamp':
      chosen = await client.listOffsets(o.topic, { timestamp: o.startupTimestamp! });
      break;
    case 'specific-offsets':
      chosen = new Map([...earliest].map(([p, v]) => [p, o.specificOffsets.get(p) ?? v]));
      break;
    case 'group-offsets': {
      const committed = await client.fetchCommittedOffsets(groupId, o.topic);
      const reset = o.properties['auto.offset.reset'] === 'latest' ? await client.listOffsets(o.topic, 'latest') : earliest;
      chosen = new Map(partitions.map((p) => [p, committed.get(p) ?? reset.get(p) ?? 0]));
      break;
    }
    default: {
      const never: never = o.startupMode;
      return never;
    }
  }
  for (const p of partitions) out.set(p, chosen.get(p) ?? earliest.get(p) ?? 0);
  return out;
}

/**
 * A fetched batch cut at the bounded end (pollRaw): records at or past `end` are not the job's. A class,
 * not an object literal with a getter (see HandedOver in platformatic.ts).
 */
class BoundedBatch implements RawSourceBatch {
  readonly partition: number;
  readonly eachValue: ((f: ValueVisitor) => void) | undefined;
  #records: readonly KafkaRecord[] | undefined;

  constructor(
    private readonly batch: FetchedBatch,
    private readonly end: number,
    readonly nextOffset: number,
  ) {
    this.partition = batch.partition;
    const each = batch.eachValue;
    // Only a batch that reaches the end needs its values cut (every record is before the fetched next offset).
    this.eachValue = each === undefined || batch.nextOffset <= end ? each : (f) => each((bytes, start, stop, offset) => offset < end && f(bytes, start, stop, offset));
  }

  get records(): readonly KafkaRecord[] {
    if (this.#records === undefined) {
      let records: readonly KafkaRecord[] = this.batch.records;
      // Records are in offset order: only a batch whose last record reaches the end needs cutting.
      if (records.length > 0 && records[records.length - 1]!.offset >= this.end) records = records.slice(0, records.findIndex((r) => r.offset >= this.end));
      this.#records = records;
    }
    return this.#records;
  }
}
