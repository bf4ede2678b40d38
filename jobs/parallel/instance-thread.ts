import { Worker } from 'node:worker_threads';
import { codeStamp } from './code-stamp.ts';
import type { InstanceInit } from './protocol.ts';

/** What an instance's thread answers: 'ready' once when it has booted, then replies to requests by id. */
export type ThreadReply = { readonly kind: 'ready' } | { readonly kind: 'error'; readonly id: number; readonly error: string } | { readonly kind: string; readonly id: number };

/**
 * The job's end of one pipeline instance's worker thread (instance.ts, through instance-boot.mjs): its
 * boot, its requests in flight (answered by id, in any order) and its end. A thread that fails or exits
 * fails every request in flight and every later one: the job restarts with new instances.
 */
export class InstanceThread<R extends ThreadReply> {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { readonly resolve: (r: R) => void; readonly reject: (e: Error) => void }>();
  private nextId = 0;
  private failure: Error | undefined;
  private closing = false;
  /** Settles when the thread has loaded its code and set itself up (or failed to). */
  readonly ready: Promise<void>;
  private booted!: { resolve: () => void; reject: (e: Error) => void };

  constructor(workerData: InstanceInit & { readonly owned?: unknown }, index: number) {
    this.worker = new Worker(new URL('./instance-boot.mjs', import.meta.url), { workerData: { ...workerData, codeStamp: workerData.codeStamp ?? codeStamp() }, name: `weir-instance-${index}` });
    this.ready = new Promise((resolve, reject) => (this.booted = { resolve, reject }));
    // Until someone awaits it, a failed boot must not count as an unhandled rejection.
    this.ready.catch(() => undefined);
    this.worker.on('message', (m: R) => {
      if (m.kind === 'ready') {
        this.booted.resolve();
        return;
      }
      const id = (m as { readonly id: number }).id;
      const p = this.pending.get(id);
      if (!p) return;
      this.pending.delete(id);
      if (m.kind === 'error') p.reject(new Error((m as { readonly error: string }).error));
      else p.resolve(m);
    });
    this.worker.on('error', (e) => this.fail(new Error(`pipeline instance ${index} failed: ${e.message}`)));
    this.worker.on('exit', (code) => {
      if (!this.closing) this.fail(new Error(`pipeline instance ${index} exited (code ${code})`));
    });
  }

  private fail(e: Error): void {
    this.failure ??= e;
    this.booted.reject(this.failure);
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
  }

  /** Sends `payload` with a new id (buffers in `transfer` moved, not copied); resolves with the reply to it. */
  request(payload: Record<string, unknown>, transfer: readonly ArrayBuffer[] = []): Promise<R> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...payload, id }, transfer as ArrayBuffer[]);
    });
  }

  /** Sends a message that gets no reply. */
  tell(message: unknown): void {
    if (!this.failure) this.worker.postMessage(message);
  }

  async close(): Promise<void> {
    this.closing = true;
    this.fail(new Error('pipeline instance closed'));
    await this.worker.terminate();
  }
}
