import { WeiboGenerator } from '../../examples/weibo/generator.ts';
import { BadRecordError, createJsonDecoder } from '../formats/json.ts';
import type { BadRecord, PartitionProgress, Row, Source, SourceBatch, SourceSpec } from '../types.ts';
import { parseDatagenOptions } from './options.ts';
import type { DatagenOptions } from './options.ts';

/** Rows per partition per poll: keeps batches (and the time between checkpoints) small. */
const MAX_BATCH = 1000;

/**
 * One split of the generated stream. The whole stream is one deterministic sequence (the same events,
 * for a seed, as `weir gen weibo`); partition p of P takes global events p, p+P, p+2P, ... and its offset k
 * is its k-th event, global index k*P + p. The generator is sequential (its random state and the posts a
 * repost can point at depend on every earlier event), so resuming at an offset replays the sequence up to
 * there without emitting it: a restored job sees exactly the events it had not yet checkpointed.
 */
class Split {
  private readonly gen: WeiboGenerator;
  /** Global index of the generator's next event. */
  private global = 0;

  constructor(
    readonly partition: number,
    private readonly o: DatagenOptions,
    startMs: number,
    public offset: number,
    readonly end: number | undefined,
  ) {
    this.gen = new WeiboGenerator({ seed: o.seed, startMs, stepMs: o.stepMs, jitterMs: 2000, users: o.users, badRate: o.badRate });
    this.skipTo(offset * o.partitions + partition);
  }

  private skipTo(global: number): void {
    while (this.global < global) {
      this.gen.next();
      this.global++;
    }
  }

  /** This partition's next event, as the JSON text a Kafka record would carry. */
  next(): string {
    this.skipTo(this.offset * this.o.partitions + this.partition);
    const ev = this.gen.next();
    this.global++;
    this.offset++;
    return typeof ev === 'string' ? ev : JSON.stringify(ev);
  }
}

/** Rows of partition p among the first n global events. */
export function rowsOfPartition(n: number, p: number, partitions: number): number {
  return n > p ? Math.ceil((n - p) / partitions) : 0;
}

/**
 * `'connector' = 'weibo'` (or `'datagen'` with `'kind' = 'weibo'`): generated events with no broker, for
 * demos and tests. Rows are decoded like a Kafka JSON payload, by column name, so a table declares the
 * fields it wants (missing ones are NULL) and malformed events ('bad-rate') follow the bad-record policy.
 */
export class DatagenSource implements Source {
  readonly topic: string;
  readonly partitions: readonly number[];
  private readonly splits: Split[];
  private readonly decode: ReturnType<typeof createJsonDecoder>;
  private readonly openedAt = Date.now();
  private emittedSinceOpen = 0;

  constructor(spec: SourceSpec) {
    const o = parseDatagenOptions(spec.options);
    this.topic = `datagen:${o.kind}`;
    this.partitions = [...Array(o.partitions).keys()];
    const start = (p: number): number => spec.startOffsets?.[p] ?? 0;
    // Live event time: row k*P+p is stamped start + (k*P+p)*step, with start chosen so the next row is
    // about now: stable across a restart (a restored job's clock does not jump forward by its whole past).
    const resumedRows = this.partitions.reduce((s, p) => s + start(p), 0);
    const startMs = o.startTime ?? Date.now() - resumedRows * o.stepMs;
    this.splits = this.partitions.map((p) => {
      const end = spec.endOffsets?.[p] ?? (o.numberOfRows !== undefined ? rowsOfPartition(o.numberOfRows, p, o.partitions) : undefined);
      return new Split(p, o, startMs, start(p), end);
    });
    this.rate = o.rowsPerSecond;
    this.decode = createJsonDecoder(spec.columns, {
      ignoreParseErrors: false,
      timestampStandard: 'SQL',
      ...(spec.projection && spec.projection.includes(false) ? { fields: spec.projection } : {}),
    });
  }

  private readonly rate: number | undefined;

  async poll(maxWaitMs: number): Promise<SourceBatch[]> {
    const live = this.splits.filter((s) => s.end === undefined || s.offset < s.end);
    if (live.length === 0) return [];
    let budget = MAX_BATCH * live.length;
    if (this.rate !== undefined) {
      const due = Math.floor(((Date.now() - this.openedAt) / 1000) * this.rate) - this.emittedSinceOpen;
      if (due <= 0) {
        // Wait for the next row to fall due (or the caller's limit), then produce what is due.
        await new Promise((r) => setTimeout(r, Math.max(1, Math.min(maxWaitMs, 1000 / this.rate!))));
        return [];
      }
      budget = Math.min(budget, due);
    }
    const per = Math.max(1, Math.floor(budget / live.length));
    const out: SourceBatch[] = [];
    for (const s of live) {
      const rows: Row[] = [];
      const bad: BadRecord[] = [];
      const n = Math.min(per, s.end === undefined ? per : s.end - s.offset);
      for (let k = 0; k < n; k++) {
        const offset = s.offset;
        const text = s.next();
        try {
          const row = this.decode(text);
          if (row) rows.push(row);
        } catch (e) {
          if (!(e instanceof BadRecordError)) throw e;
          bad.push({ partition: s.partition, offset, error: e.message, value: Buffer.from(text) });
        }
      }
      this.emittedSinceOpen += n;
      out.push({ partition: s.partition, rows, nextOffset: s.offset, bad });
    }
    return out;
  }

  positions(): Record<number, number> {
    return Object.fromEntries(this.splits.map((s) => [s.partition, s.offset]));
  }

  endOffsets(): Record<number, number> | undefined {
    if (this.splits.some((s) => s.end === undefined)) return undefined;
    return Object.fromEntries(this.splits.map((s) => [s.partition, s.end!]));
  }

  finishedPartitions(): readonly number[] {
    return this.splits.filter((s) => s.end !== undefined && s.offset >= s.end).map((s) => s.partition);
  }

  finished(): boolean {
    return this.splits.every((s) => s.end !== undefined && s.offset >= s.end);
  }

  progress(): PartitionProgress[] {
    return this.splits.map((s) => ({ partition: s.partition, offset: s.offset, highWatermark: s.end ?? s.offset }));
  }

  async commitForMonitoring(): Promise<void> {
    // No consumer group: positions are visible in the job's progress.
  }

  async close(): Promise<void> {}
}
