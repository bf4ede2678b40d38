import type { SinkCommitter } from '../types.ts';
import type { KafkaClient, KafkaWriter } from './client.ts';
import { stableEndOffsets } from './stable.ts';

/**
 * The compacted topic where every exactly-once checkpoint leaves a marker inside its own transaction
 * (key: job id; value: {jobId, checkpointId}). A marker visible to a read_committed reader proves that
 * the checkpoint's transaction committed (docs/checkpoints.md).
 */
export const CHECKPOINT_MARKER_TOPIC = '__weir_checkpoint_markers';

/** Kafka refuses transaction timeouts above the broker's transaction.max.timeout.ms (default 15 min). */
export const MAX_TX_TIMEOUT_MS = 15 * 60_000;

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
