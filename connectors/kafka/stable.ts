import type { KafkaClient } from './client.ts';

/**
 * The end offsets a read_committed reader can rely on: waits until the last stable offset of every
 * partition has caught up with its high watermark, i.e. no transaction is open and every commit or
 * abort marker has been written. Kafka writes those markers after EndTxn answers, so right after a
 * commit (and above all on a fresh broker) the LSO can lag for a moment. Gives up after `timeoutMs`
 * and returns the LSO as it is then (a transaction may legitimately stay open).
 */
export async function stableEndOffsets(client: KafkaClient, topic: string, timeoutMs: number): Promise<{ offsets: Map<number, number>; stable: boolean }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lso = await client.listOffsets(topic, 'latest', { isolationLevel: 'read_committed' });
    const hw = await client.listOffsets(topic, 'latest', { isolationLevel: 'read_uncommitted' });
    const stable = [...hw].every(([p, h]) => (lso.get(p) ?? 0) >= h);
    if (stable || Date.now() >= deadline) return { offsets: lso, stable };
    await new Promise((r) => setTimeout(r, 50));
  }
}
