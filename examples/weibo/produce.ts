import { createKafkaClient } from '../../connectors/kafka/client.ts';
import { WeiboGenerator } from './generator.ts';

export interface ProduceOptions {
  readonly brokers: string;
  readonly topic: string;
  /** Events per second; 0 = as fast as possible. */
  readonly rate: number;
  /** Stop after this many events; 0 = run until stopped. */
  readonly count: number;
  readonly seed: number;
  readonly badRate: number;
  readonly partitions: number;
  readonly onProgress?: (total: number, ratePerSec: number) => void;
  readonly signal?: AbortSignal;
}

/**
 * Produces Weibo events to Kafka in batches: event time follows the wall clock when rate-limited
 * (a live feed), or advances 10 ms per event when producing flat out (a backfill).
 */
export async function produceWeibo(o: ProduceOptions): Promise<number> {
  const client = createKafkaClient({ brokers: o.brokers.split(','), clientId: 'weir-gen' });
  try {
    if (!(await client.topicExists(o.topic))) await client.createTopic(o.topic, o.partitions);
    const writer = await client.openWriter({ acks: 'all' });
    const live = o.rate > 0;
    const gen = new WeiboGenerator({
      seed: o.seed,
      startMs: live ? Date.now() : Date.UTC(2026, 10, 25, 8, 0, 0),
      stepMs: live ? 1000 / o.rate : 10,
      jitterMs: 2000,
      users: 5000,
      badRate: o.badRate,
    });
    let total = 0;
    const started = Date.now();
    let lastReport = started;
    let lastTotal = 0;
    while (!o.signal?.aborted && (o.count === 0 || total < o.count)) {
      let n = live ? Math.max(1, Math.floor(o.rate / 10)) : 2000;
      if (o.count > 0) n = Math.min(n, o.count - total);
      const records = [];
      for (let i = 0; i < n; i++) {
        const ev = gen.next();
        const value = typeof ev === 'string' ? ev : JSON.stringify(ev);
        const key = typeof ev === 'string' ? null : Buffer.from(String(ev.uid));
        records.push({ topic: o.topic, key, value: Buffer.from(value) });
      }
      await writer.send(records);
      total += n;
      const now = Date.now();
      if (o.onProgress && now - lastReport >= 1000) {
        o.onProgress(total, Math.round(((total - lastTotal) * 1000) / (now - lastReport)));
        lastReport = now;
        lastTotal = total;
      }
      if (live) {
        // Keep to the rate: the next batch is due when the wall clock catches up with the events sent.
        const due = started + (total * 1000) / o.rate;
        const wait = due - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
    }
    await writer.close();
    return total;
  } finally {
    await client.close();
  }
}
