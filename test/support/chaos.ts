// What the chaos tests share: waiting for a job (in a `weir server` child process) to reach a point of
// its input before a SIGKILL, and waiting for it to finish. A FAILED job ends the wait at once.
import type { ProducerRecord } from '../../connectors/kafka/client.ts';
import { formatTs, rng } from '../../examples/weibo/generator.ts';
import { waitFor } from './kafka.ts';
import type { ServerProcess } from './server-process.ts';

interface JobView {
  readonly state: string;
  readonly error?: string;
  readonly metrics: { readonly partitions: readonly { readonly offset: number }[]; readonly parallelism?: number; readonly instancesRead?: boolean };
}

async function job(server: ServerProcess, id: string): Promise<JobView> {
  const j = (await server.call('GET', `/v1/jobs/${id}`)) as JobView;
  if (j.state === 'FAILED') throw Object.assign(new Error(`job FAILED: ${j.error}`), { fatal: true });
  return j;
}

/**
 * Waits until the job has read at least `target` records (summed over its partitions), or finished.
 * Returns what a kill right now interrupts ("RUNNING at 1234", or "FINISHED") and how far the job read.
 */
export async function waitForRead(server: ServerProcess, id: string, target: number, timeoutMs = 90_000): Promise<{ at: string; read: number; metrics: JobView['metrics'] }> {
  return waitFor(
    `the job to read ${Math.round(target)} events`,
    async () => {
      const j = await job(server, id);
      const read = j.metrics.partitions.reduce((s, p) => s + p.offset, 0);
      if (j.state === 'FINISHED') return { at: 'FINISHED', read, metrics: j.metrics };
      return read < target ? undefined : { at: `${j.state} at ${read}`, read, metrics: j.metrics };
    },
    timeoutMs,
    20,
  );
}

/** Waits until the job is FINISHED and returns it as GET /v1/jobs/:id answers. */
export async function waitForFinished(server: ServerProcess, id: string, timeoutMs = 120_000): Promise<JobView> {
  return waitFor('the job to finish', async () => {
    const j = await job(server, id);
    return j.state === 'FINISHED' ? j : undefined;
  }, timeoutMs, 200);
}

/** One event of the chaos tests: key (NULL in a share of them), value, event time (ms). */
export type ChaosEvent = [k: string | null, v: number, ts: number];

/**
 * The chaos tests' input: `count` events on random partitions, each partition's clock monotone up to a
 * jitter below 2.5 s (under the tests' 3 s watermark bound, so nothing is late in any run), keys k0..k{keys-1}
 * (NULL in `nullKeyShare` of them), values in [vMin, vMin + 1000). Deterministic for a seed.
 */
export function chaosEvents(
  topic: string,
  o: { readonly count: number; readonly partitions: number; readonly seed: number; readonly keys: number; readonly nullKeyShare: number; readonly vMin: number },
): { records: ProducerRecord[]; events: ChaosEvent[] } {
  const r = rng(o.seed);
  const clocks = Array.from({ length: o.partitions }, (_, p) => Date.UTC(2026, 10, 25) + p * 900);
  const records: ProducerRecord[] = [];
  const events: ChaosEvent[] = [];
  for (let i = 0; i < o.count; i++) {
    const p = Math.floor(r() * o.partitions);
    clocks[p]! += Math.floor(r() * 20);
    const k = o.nullKeyShare > 0 && r() < o.nullKeyShare ? null : `k${Math.floor(r() * o.keys)}`;
    const v = Math.floor(r() * 1000) + o.vMin;
    const ts = clocks[p]! - Math.floor(r() * 2500);
    events.push([k, v, ts]);
    records.push({ topic, partition: p, key: null, value: Buffer.from(JSON.stringify({ k, v, ts: formatTs(ts) })) });
  }
  return { records, events };
}
