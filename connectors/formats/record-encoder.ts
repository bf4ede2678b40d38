import type { Row } from '../../engine/ops/operator.ts';
import type { EncodedRecords, RecordEncoding } from '../types.ts';
import { createJsonTextEncoder, createKeyTextEncoder } from './json.ts';

/**
 * Encodes rows into a sink's records (RecordEncoding), all into one buffer: each record's text is written
 * straight into it, with no Buffer per record, and the buffer is the worker's own to transfer.
 */
export function createRecordEncoder(enc: RecordEncoding): (rows: readonly Row[]) => EncodedRecords {
  const value = createJsonTextEncoder(enc.columns, enc.options);
  const key = enc.keyFields.length > 0 ? createKeyTextEncoder(enc.columns, enc.keyFields, enc.options) : undefined;
  return (rows) => {
    const n = rows.length;
    const keyStarts = new Int32Array(n);
    const keyLengths = new Int32Array(n);
    const valueStarts = new Int32Array(n);
    const valueLengths = new Int32Array(n);
    // allocUnsafeSlow: not a slice of Buffer's shared pool, so its ArrayBuffer can be transferred.
    let buf = Buffer.allocUnsafeSlow(Math.max(1024, n * 128));
    let at = 0;
    const put = (text: string): number => {
      // A UTF-16 unit takes at most 3 bytes in UTF-8 (a surrogate pair: 4 for 2 units).
      const need = at + text.length * 3;
      if (need > buf.length) {
        const bigger = Buffer.allocUnsafeSlow(Math.max(need, buf.length * 2));
        buf.copy(bigger, 0, 0, at);
        buf = bigger;
      }
      const w = buf.write(text, at, 'utf8');
      at += w;
      return w;
    };
    for (let i = 0; i < n; i++) {
      const r = rows[i]!;
      if (key) {
        keyStarts[i] = at;
        keyLengths[i] = put(key(r));
      } else keyLengths[i] = -1;
      valueStarts[i] = at;
      valueLengths[i] = put(value(r));
    }
    return { count: n, bytes: new Uint8Array(buf.buffer as ArrayBuffer, buf.byteOffset, at), keyStarts, keyLengths, valueStarts, valueLengths };
  };
}

/** The buffers of encoded records, to transfer rather than copy. */
export function encodedTransferables(r: EncodedRecords): ArrayBuffer[] {
  return [r.bytes.buffer, r.keyStarts.buffer, r.keyLengths.buffer, r.valueStarts.buffer, r.valueLengths.buffer];
}
