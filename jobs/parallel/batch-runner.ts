/**
 * What a pipeline instance does with one partition batch: decode the record values, run the plan's front
 * (engine/parallel/front.ts) and, when the job says so, encode the output as the sink's records. The same
 * code runs in a worker thread (instance.ts) and, for the partitions the job's own thread takes
 * (instances.ts, LocalInstance), in the job's thread.
 */
import { BadRecordError, createJsonDecoder } from '../../connectors/formats/json.ts';
import { createRecordEncoder, encodedTransferables } from '../../connectors/formats/record-encoder.ts';
import type { JsonDecoder } from '../../connectors/formats/json.ts';
import type { ValueVisitor } from '../../connectors/kafka/client.ts';
import { PipelineFront } from '../../engine/parallel/front.ts';
import type { Row } from '../../engine/ops/operator.ts';
import type { GroupPartials } from '../../engine/ops/group-aggregate.ts';
import type { BatchResult, InstanceInit } from './protocol.ts';

/**
 * Calls `f` with where every record value of a batch lies, bytes[start, end) (end -1: a null value), and
 * its offset, in offset order: the decoder reads it there, no Buffer view is made per record.
 */
export type EachValue = (f: ValueVisitor) => void;

export class BatchRunner {
  private readonly decode: JsonDecoder;
  private readonly front: PipelineFront;
  private readonly encode: ReturnType<typeof createRecordEncoder> | undefined;

  /** `holdGroups`: a GROUP BY front keeps its partials until takeHeld() (PipelineFront). */
  constructor(init: InstanceInit, holdGroups = false) {
    this.decode = createJsonDecoder(init.decoding.columns, init.decoding.options);
    this.front = new PipelineFront(init.root, init.timeZone, holdGroups);
    this.encode = init.encoding ? createRecordEncoder(init.encoding) : undefined;
  }

  /** The partials held since the last call (holdGroups). */
  takeHeld(): GroupPartials | null {
    return this.front.takeHeld();
  }

  /**
   * One batch's result. Bad records keep their values: copied when `copyBad` (a view would take the whole
   * buffer it points into along to the job's thread), else as they are. Buffers of the result that can be
   * transferred rather than copied to another thread are added to `transfer`.
   */
  run(each: EachValue, copyBad: boolean, transfer: ArrayBuffer[]): BatchResult {
    const rows: Row[] = [];
    const badRecords: BatchResult['badRecords'][number][] = [];
    const decode = this.decode;
    const at = decode.at;
    each((bytes, start, end, offset) => {
      try {
        const row = end < 0 ? decode(null) : at !== undefined ? at(bytes, start, end) : decode(bytes.subarray(start, end));
        if (row) rows.push(row);
      } catch (e) {
        if (!(e instanceof BadRecordError)) throw e;
        badRecords.push({ offset, error: e.message, value: end < 0 ? null : copyBad ? new Uint8Array(bytes.subarray(start, end)) : bytes.subarray(start, end) });
      }
    });
    const out = this.front.run(rows);
    const result: BatchResult = { records: rows.length + badRecords.length, badRecords, front: out };
    if (!this.encode || out.output.kind !== 'rows') return result;
    // Encoded here, the rows need not reach the job's part of the pipeline at all.
    const encoded = this.encode(out.output.rows);
    transfer.push(...encodedTransferables(encoded));
    return { ...result, front: { ...out, output: { kind: 'rows', rows: [] } }, encoded };
  }
}
