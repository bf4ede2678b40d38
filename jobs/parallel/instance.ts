/**
 * A parallel pipeline instance: a worker thread that decodes record values and runs a plan's front
 * (engine/parallel/front.ts) for the partition batches its job sends. Stateless between requests, so a
 * restarted job just starts new instances. Loaded through instance-boot.mjs (tsx's loader).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BadRecordError, createJsonDecoder } from '../../connectors/formats/json.ts';
import { PipelineFront } from '../../engine/parallel/front.ts';
import type { Row } from '../../engine/ops/operator.ts';
import { forEachValue } from './protocol.ts';
import { createRecordEncoder, encodedTransferables } from '../../connectors/formats/record-encoder.ts';
import type { BatchRequest, BatchResult, InstanceInit, InstanceReply } from './protocol.ts';

const init = workerData as InstanceInit;
const decode = createJsonDecoder(init.decoding.columns, init.decoding.options);
const front = new PipelineFront(init.root, init.timeZone);
const encode = init.encoding ? createRecordEncoder(init.encoding) : undefined;
const port = parentPort!;

port.on('message', (req: BatchRequest) => {
  let reply: InstanceReply;
  const transfer: ArrayBuffer[] = [];
  try {
    const results: BatchResult[] = req.batches.map((b) => {
      const rows: Row[] = [];
      const badRecords: BatchResult['badRecords'][number][] = [];
      forEachValue(b, (value, offset) => {
        try {
          const row = decode(value);
          if (row) rows.push(row);
        } catch (e) {
          if (!(e instanceof BadRecordError)) throw e;
          // A copy: a view would take the whole transferred buffer along.
          badRecords.push({ offset, error: e.message, value: value === null ? null : new Uint8Array(value) });
        }
      });
      const out = front.run(rows);
      const result: BatchResult = { records: rows.length + badRecords.length, badRecords, front: out };
      if (!encode || out.output.kind !== 'rows') return result;
      // Encoded here, the rows need not cross to the job's thread at all.
      const encoded = encode(out.output.rows);
      transfer.push(...encodedTransferables(encoded));
      return { ...result, front: { ...out, output: { kind: 'rows', rows: [] } }, encoded };
    });
    reply = { kind: 'results', id: req.id, results };
  } catch (e) {
    // Not a bad record but a failure (as it would be in the job's thread): the job restarts.
    reply = { kind: 'error', id: req.id, error: e instanceof Error ? e.message : String(e) };
  }
  port.postMessage(reply, reply.kind === 'results' ? transfer : []);
});

port.postMessage({ kind: 'ready' } satisfies InstanceReply);
