/**
 * A parallel pipeline instance in a worker thread: runs each partition batch its job sends through a
 * BatchRunner (decoding and the plan's front). Stateless between requests, so a restarted job just starts
 * new instances. Loaded through instance-boot.mjs (tsx's loader).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BatchRunner } from './batch-runner.ts';
import { forEachValue } from './protocol.ts';
import type { BatchRequest, BatchResult, InstanceInit, InstanceReply } from './protocol.ts';

const runner = new BatchRunner(workerData as InstanceInit);
const port = parentPort!;

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
