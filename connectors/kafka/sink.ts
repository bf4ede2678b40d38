import { createJsonEncoder, createKeyEncoder } from '../formats/json.ts';
import type { Row, Sink, SinkCommitter, SinkSpec } from '../types.ts';
import { createKafkaClient } from './client.ts';
import type { KafkaClient, KafkaWriter, ProducerRecord } from './client.ts';
import { parseKafkaOptions } from './options.ts';
import { stableEndOffsets } from './stable.ts';

/**
 * The compacted topic where every exactly-once checkpoint leaves a marker inside its own transaction
 * (key: job id; value: {jobId, checkpointId}). A marker visible to a read_committed reader proves that
 * the checkpoint's transaction committed (docs/checkpoints.md).
 */
export const CHECKPOINT_MARKER_TOPIC = '__weir_checkpoint_markers';

/** Kafka refuses transaction timeouts above the broker's transaction.max.timeout.ms (default 15 min). */
export const MAX_TX_TIMEOUT_MS = 15 * 60_000;

/**
 * JSON values, keys from 'key.fields'. At-least-once / none: flush() resolves once the broker
 * acknowledged every record. Exactly-once: records go into a Kafka transaction that the job's
 * checkpoint commits (the committer below), so read_committed readers see each row once.
 */
export class KafkaSink implements Sink {
  private buffer: ProducerRecord[] = [];
  readonly committer: SinkCommitter | undefined;

  private constructor(
    private readonly client: KafkaClient,
    private readonly writer: KafkaWriter,
    private readonly topic: string,
    private readonly encode: (row: readonly unknown[]) => Buffer,
    private readonly encodeKey: ((row: readonly unknown[]) => Buffer) | undefined,
    jobId: string,
  ) {
    this.committer = writer.transactional ? new KafkaCommitter(client, writer, jobId, () => this.flush()) : undefined;
  }

  static async open(spec: SinkSpec): Promise<KafkaSink> {
    const o = parseKafkaOptions(spec.options, spec.columns);
    const client = createKafkaClient({ brokers: (o.brokers ?? spec.brokers).split(','), clientId: `weir-${spec.jobName}-sink`, properties: o.properties });
    try {
      if (!(await client.topicExists(o.topic))) await client.createTopic(o.topic, o.sinkPartitions);
      let writer: KafkaWriter;
      if (o.deliveryGuarantee === 'exactly-once') {
        // Before the writer opens: recover() reads the markers only after the writer's InitProducerId
        // settled the previous run's transaction, and the topic must exist by then.
        await client.createTopic(CHECKPOINT_MARKER_TOPIC, 1, 1, { 'cleanup.policy': 'compact', 'segment.ms': String(10 * 60_000) });
        // One writer per job instance; opening it fences a previous incarnation and aborts (or completes)
        // the transaction that incarnation left open.
        writer = await client.openWriter({
          transactionalId: `${o.transactionalIdPrefix ?? `weir-${spec.jobId}`}-0`,
          transactionTimeoutMs: Math.min(MAX_TX_TIMEOUT_MS, Math.max(60_000, 4 * spec.checkpointIntervalMs)),
        });
      } else {
        writer = await client.openWriter({ acks: o.deliveryGuarantee === 'none' ? 1 : 'all' });
      }
      const encOpts = { timestampStandard: o.timestampStandard, timeZone: spec.timeZone };
      const keyIdx = o.keyFields.map((k) => spec.columns.findIndex((c) => c.name === k));
      const encodeKey = keyIdx.length > 0 ? createKeyEncoder(spec.columns, keyIdx, encOpts) : undefined;
      return new KafkaSink(client, writer, o.topic, createJsonEncoder(spec.columns, encOpts), encodeKey, spec.jobId);
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
    if (this.committer) {
      // Inside the open transaction: a failure here fails the job, whose restart aborts the
      // transaction and replays from the last checkpoint, so the records need not be kept.
      await (this.committer as KafkaCommitter).begin();
      await this.writer.send(batch);
      return;
    }
    try {
      await this.writer.send(batch);
    } catch (e) {
      // Keep the records: the job restarts from its last saved progress and writes them again.
      this.buffer = batch.concat(this.buffer);
      throw e;
    }
  }

  async close(): Promise<void> {
    this.buffer = [];
    // A transaction still open here is the output since the last checkpoint, which the restarted job
    // writes again: abort it now rather than leave read_committed readers waiting for its timeout.
    if (this.committer) await this.committer.abort().catch(() => undefined);
    await this.writer.close().catch(() => undefined);
    await this.client.close();
  }
}

/** The Kafka transaction behind an exactly-once sink, committed by the job's checkpoints. */
export class KafkaCommitter implements SinkCommitter {
  private open = false;

  constructor(
    private readonly client: KafkaClient,
    private readonly writer: KafkaWriter,
    private readonly jobId: string,
    private readonly flush: () => Promise<void>,
  ) {}

  /** Starts the transaction if none is open (lazily: a job without output opens none). */
  async begin(): Promise<void> {
    if (this.open) return;
    await this.writer.begin();
    this.open = true;
  }

  async recover(pending: number | undefined): Promise<boolean> {
    // The writer is open: its InitProducerId has aborted the previous incarnation's open transaction
    // or, if that one's commit had begun, waited for it to complete. So the markers a read_committed
    // reader sees now are final.
    if (pending === undefined) return false;
    return (await this.lastMarker()) >= pending;
  }

  async prepare(checkpointId: number): Promise<void> {
    await this.flush();
    await this.begin();
    const marker = { jobId: this.jobId, checkpointId };
    await this.writer.send([{ topic: CHECKPOINT_MARKER_TOPIC, partition: 0, key: Buffer.from(this.jobId), value: Buffer.from(JSON.stringify(marker)) }]);
  }

  async commit(_checkpointId: number): Promise<void> {
    if (!this.open) return;
    this.open = false;
    await this.writer.commit();
  }

  async abort(): Promise<void> {
    if (!this.open) return;
    this.open = false;
    await this.writer.abort();
  }

  /** The highest checkpoint id this job committed a marker for, read with read_committed; 0 if none. */
  private async lastMarker(): Promise<number> {
    // Another job's short prepare→commit transaction on this shared topic holds the LSO back; a marker
    // of ours behind it would be missed, so wait until the topic is stable.
    const { offsets: end, stable } = await stableEndOffsets(this.client, CHECKPOINT_MARKER_TOPIC, 60_000);
    if (!stable) throw new Error(`${CHECKPOINT_MARKER_TOPIC} has had an open transaction for 60 s; cannot decide the pending checkpoint yet`);
    const start = await this.client.listOffsets(CHECKPOINT_MARKER_TOPIC, 'earliest');
    const want = new Map<number, number>();
    for (const [p, e] of end) if (e > (start.get(p) ?? 0)) want.set(p, start.get(p) ?? 0);
    if (want.size === 0) return 0;
    const reader = await this.client.openReader({ topic: CHECKPOINT_MARKER_TOPIC, partitions: want, isolationLevel: 'read_committed' });
    let last = 0;
    try {
      const deadline = Date.now() + 60_000;
      const done = (): boolean => [...want.keys()].every((p) => (reader.positions().get(p) ?? 0) >= end.get(p)!);
      while (!done()) {
        if (Date.now() > deadline) throw new Error(`reading ${CHECKPOINT_MARKER_TOPIC} timed out`);
        for (const b of await reader.poll(200)) {
          for (const r of b.records) {
            if (r.offset >= end.get(b.partition)! || r.key?.toString() !== this.jobId || !r.value) continue;
            const m = parseMarker(r.value);
            if (m?.jobId === this.jobId) last = Math.max(last, m.checkpointId);
          }
        }
      }
    } finally {
      await reader.close();
    }
    return last;
  }
}

/** A marker record's value; undefined for anything else (the topic is ours, but a stray record must not stop recovery). */
function parseMarker(value: Buffer): { jobId: string; checkpointId: number } | undefined {
  try {
    const m = JSON.parse(value.toString('utf8')) as { jobId?: unknown; checkpointId?: unknown };
    return typeof m.jobId === 'string' && typeof m.checkpointId === 'number' ? { jobId: m.jobId, checkpointId: m.checkpointId } : undefined;
  } catch {
    return undefined;
  }
}
