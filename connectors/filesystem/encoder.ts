import { Worker } from 'node:worker_threads';
import type { EncodeReply, EncodeRequest } from './encode-protocol.ts';

/** Encoding failed in the worker thread, or the thread died: the flush fails and the job restarts from its checkpoint. */
export class EncodeWorkerError extends Error {
  override readonly name = 'EncodeWorkerError';
}

type Request = EncodeRequest extends infer R ? (R extends EncodeRequest ? Omit<R, 'seq'> : never) : never;

/**
 * The main thread's end of one Parquet encoding worker (encode-worker.ts): requests are answered in
 * order; a crash of the thread rejects every request in flight and every later one.
 */
export class EncodeWorker {
  private readonly worker: Worker;
  private seq = 0;
  private readonly waiting = new Map<number, { resolve: (bytes: number) => void; reject: (e: Error) => void }>();
  private dead: EncodeWorkerError | undefined;
  private terminating = false;

  constructor() {
    this.worker = new Worker(new URL('./encode-worker-boot.mjs', import.meta.url));
    this.worker.on('message', (r: EncodeReply) => {
      const w = this.waiting.get(r.seq);
      if (!w) return;
      this.waiting.delete(r.seq);
      if (r.ok) w.resolve(r.bytes);
      else w.reject(new EncodeWorkerError(`Parquet encoding failed: ${r.message}`));
    });
    this.worker.on('error', (e) => this.fail(`the Parquet encoding worker crashed: ${e.message}`));
    this.worker.on('exit', (code) => {
      if (!this.terminating) this.fail(`the Parquet encoding worker exited (code ${code})`);
    });
  }

  /** Resolves with the file's bytes on disk after the request. `transfer`: buffers moved to the worker, not copied. */
  request(req: Request, transfer: readonly ArrayBuffer[] = []): Promise<number> {
    if (this.dead) return Promise.reject(this.dead);
    const seq = ++this.seq;
    return new Promise<number>((resolve, reject) => {
      this.waiting.set(seq, { resolve, reject });
      this.worker.postMessage({ ...req, seq }, transfer as ArrayBuffer[]);
    });
  }

  /** The thread itself, for tests that make it crash. */
  get thread(): Worker {
    return this.worker;
  }

  async terminate(): Promise<void> {
    this.terminating = true;
    this.fail('the Parquet encoding worker was stopped');
    await this.worker.terminate();
  }

  private fail(message: string): void {
    this.dead ??= new EncodeWorkerError(message);
    for (const w of this.waiting.values()) w.reject(this.dead);
    this.waiting.clear();
  }
}
