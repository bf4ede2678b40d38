// What the chaos tests share: waiting for a job (in a `weir server` child process) to reach a point of
// its input before a SIGKILL, and waiting for it to finish. A FAILED job ends the wait at once.
import { waitFor } from './kafka.ts';
import type { ServerProcess } from './server-process.ts';

interface JobView {
  readonly state: string;
  readonly error?: string;
  readonly metrics: { readonly partitions: readonly { readonly offset: number }[] };
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
export async function waitForRead(server: ServerProcess, id: string, target: number, timeoutMs = 90_000): Promise<{ at: string; read: number }> {
  return waitFor(
    `the job to read ${Math.round(target)} events`,
    async () => {
      const j = await job(server, id);
      const read = j.metrics.partitions.reduce((s, p) => s + p.offset, 0);
      if (j.state === 'FINISHED') return { at: 'FINISHED', read };
      return read < target ? undefined : { at: `${j.state} at ${read}`, read };
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
