// Test input that is never late: events spread round-robin over a topic's partitions, each partition's
// clock only moving forward, an event's time its clock minus a jitter kept below the watermark delay.
import type { ProducerRecord } from '../../connectors/kafka/client.ts';
import { formatTs, rng } from '../../examples/weibo/generator.ts';

export interface ClockedOptions {
  readonly topic: string;
  readonly partitions: number;
  readonly count: number;
  readonly seed: number;
  /** Each partition's clock advances by 1..maxStepMs ms per event. */
  readonly maxStepMs: number;
  /** An event's time is its partition's clock minus 0..jitterMs ms (keep it below the watermark delay). */
  readonly jitterMs: number;
  /** Partition p's clock starts at `start + p * stagger` (default 2026-11-25 10:00 UTC, 3 s). */
  readonly start?: number;
  readonly stagger?: number;
}

/**
 * The events `make` builds (given the seeded random source, the event time and the index), and their
 * records: JSON of the event with `ts` written as a TIMESTAMP(3) text.
 */
export function clockedEvents<E extends { readonly ts: number }>(o: ClockedOptions, make: (r: () => number, ts: number, i: number) => E): { records: ProducerRecord[]; events: E[] } {
  const r = rng(o.seed);
  const start = o.start ?? Date.UTC(2026, 10, 25, 10, 0, 0);
  const clocks = Array.from({ length: o.partitions }, (_, p) => start + p * (o.stagger ?? 3000));
  const records: ProducerRecord[] = [];
  const events: E[] = [];
  for (let i = 0; i < o.count; i++) {
    const p = i % o.partitions;
    clocks[p]! += 1 + Math.floor(r() * o.maxStepMs);
    const ev = make(r, clocks[p]! - Math.floor(r() * o.jitterMs), i);
    events.push(ev);
    records.push({ topic: o.topic, partition: p, key: null, value: Buffer.from(JSON.stringify({ ...ev, ts: formatTs(ev.ts) })) });
  }
  return { records, events };
}
