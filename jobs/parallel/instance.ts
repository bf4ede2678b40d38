/**
 * A parallel pipeline instance in a worker thread: runs each partition batch its job sends through a
 * BatchRunner (decoding and the plan's front), stateless between requests, so a restarted job just starts
 * new instances. With `owned` in its workerData it reads its own partitions instead and keeps its partial
 * groups until the job flushes them (owned.ts). Loaded through instance-boot.mjs (tsx's loader).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BatchRunner } from './batch-runner.ts';
import { serveOwned } from './owned.ts';
import type { OwnedInit, OwnedReply, OwnedRequest } from './owned.ts';
import { forEachValue } from './protocol.ts';
import type { BatchRequest, BatchResult, InstanceInit, InstanceReply } from './protocol.ts';

const port = parentPort!;
const init = workerData as InstanceInit & { readonly owned?: OwnedInit };

if (init.owned !== undefined) {
  await serveOwned(init, init.owned, {
    postMessage: (m: OwnedReply) => port.postMessage(m),
    on: (e: 'message', f: (m: OwnedRequest) => void) => port.on(e, f),
  });
} else {
  const runner = new BatchRunner(init);
  port.on('message', (req: BatchRequest) => {
    let reply: InstanceReply;
    const transfer: ArrayBuffer[] = [];
    try {
      const results: BatchResult[] = req.batches.map((b) => runner.run((f) => forEachValue(b, f), true, transfer));
      reply = { kind: 'results', id: req.id, results };
    } catch (e) {
      // Not a bad record but a failure (as it would be in the job's thread): the job restarts.
      reply = { kind: 'error', id: req.id, error: e instanceof Error ? e.message : String(e) };
    }
    port.postMessage(reply, reply.kind === 'results' ? transfer : []);
  });
  port.postMessage({ kind: 'ready' } satisfies InstanceReply);
}
