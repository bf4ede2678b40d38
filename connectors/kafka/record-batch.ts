/**
 * Decoding of Kafka record batches (message format v2, magic 2) straight from the fetch response bytes:
 * one pass over a single Buffer, varints inline, offsets and timestamps as JS numbers, keys and values as
 * zero-copy subarrays. About 3x the rate of the decoders of kafkajs and @platformatic/kafka (see
 * docs/kafka-client.md). Handles compressed batches, LogAppendTime, control batches and, for
 * read_committed, the aborted-transaction filtering of Kafka's Java consumer (Fetcher/CompletedFetch).
 *
 * Message formats v0/v1 (magic 0/1) are not supported: Kafka 4 no longer writes them.
 */
import zlib from 'node:zlib';
import type { KafkaHeader, KafkaRecord } from './client.ts';
import { KafkaClientError } from './errors.ts';

export const EMPTY_HEADERS: readonly KafkaHeader[] = Object.freeze([]) as readonly KafkaHeader[];

const BATCH_HEADER = 61;
const ATTR_COMPRESSION = 0x07;
const ATTR_LOG_APPEND_TIME = 0x08;
const ATTR_TRANSACTIONAL = 0x10;
const ATTR_CONTROL = 0x20;
const TWO_32 = 4294967296;

export interface AbortedTransaction {
  readonly producerId: number;
  readonly firstOffset: number;
}

/** Decompresses the records section of a batch; codec 1 gzip, 2 snappy, 3 lz4, 4 zstd. */
export type Decompressor = (codec: number, data: Buffer) => Buffer;

export interface DecodeResult {
  /** Offset after the last complete batch, or -1 when the bytes held no complete batch. */
  nextOffset: number;
}

function readInt64(buf: Buffer, p: number): number {
  return buf.readInt32BE(p) * TWO_32 + buf.readUInt32BE(p + 4);
}

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);

/**
 * Kafka's Java producer writes snappy in the xerial framing (magic, version, compat, then [int32 length,
 * raw snappy block]*); librdkafka and others write a bare snappy block. Both are accepted.
 */
export function unwrapSnappy(data: Buffer, rawDecompress: (block: Buffer) => Buffer): Buffer {
  if (data.length >= 16 && data.subarray(0, 8).equals(XERIAL_MAGIC)) {
    const parts: Buffer[] = [];
    let p = 16;
    while (p + 4 <= data.length) {
      const len = data.readInt32BE(p);
      p += 4;
      parts.push(rawDecompress(data.subarray(p, p + len)));
      p += len;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }
  return rawDecompress(data);
}

/** gzip always; the rest through `more` (the library's wasm snappy/lz4, Node's zstd where it exists). */
export function makeDecompressor(more: {
  snappy?: (b: Buffer) => Buffer;
  lz4?: (b: Buffer) => Buffer;
}): Decompressor {
  const zstd = (zlib as unknown as { zstdDecompressSync?: (b: Buffer) => Buffer }).zstdDecompressSync;
  return (codec, data) => {
    switch (codec) {
      case 1:
        return zlib.gunzipSync(data);
      case 2:
        if (!more.snappy) break;
        return unwrapSnappy(data, more.snappy);
      case 3:
        if (!more.lz4) break;
        return more.lz4(data);
      case 4:
        if (!zstd) {
          throw new KafkaClientError('fatal', 'the topic holds zstd-compressed batches, which need Node.js 22.15 or later to read');
        }
        return zstd(data);
      default:
        break;
    }
    throw new KafkaClientError('fatal', `unsupported compression codec ${codec} in a record batch`);
  };
}

/**
 * A record as decodeRecordBatches() reads it: its value is a Buffer view of the fetched bytes made when
 * first asked for (a job's decoder reads most values where they lie, KafkaRecord.bytes).
 */
export class FetchedRecord implements KafkaRecord {
  #value: Buffer | null | undefined;

  constructor(
    readonly offset: number,
    readonly key: Buffer | null,
    readonly timestamp: number,
    readonly headers: readonly KafkaHeader[],
    readonly bytes: Buffer,
    readonly valueStart: number,
    readonly valueEnd: number,
  ) {}

  get value(): Buffer | null {
    if (this.#value === undefined) this.#value = this.valueEnd < 0 ? null : this.bytes.subarray(this.valueStart, this.valueEnd);
    return this.#value;
  }
}

/**
 * Where one record lies in the bytes it was read from (`data`: the fetch response's, or a decompressed
 * batch's): its key at [keyStart, keyEnd) (keyEnd -1: null), value at [valueStart, valueEnd) (valueEnd -1:
 * null), `nHeaders` headers from `headersAt` (readHeaders).
 */
export type RecordVisitor = (
  data: Buffer,
  offset: number,
  timestamp: number,
  keyStart: number,
  keyEnd: number,
  valueStart: number,
  valueEnd: number,
  headersAt: number,
  nHeaders: number,
) => void;

/**
 * Reads the record batches in `buf` (the records field of one partition of a fetch response), calling
 * `visit` for each record with offset >= fetchOffset, in offset order, with where its parts lie: no object
 * is made per record. A partial batch at the end (the broker cuts at maxBytes) is ignored. With
 * `readCommitted`, `aborted` (the response's aborted transactions for the partition) drives the filtering
 * of aborted batches; control batches are never visited.
 */
export function visitRecordBatches(
  buf: Buffer,
  fetchOffset: number,
  readCommitted: boolean,
  aborted: readonly AbortedTransaction[] | null,
  decompress: Decompressor,
  visit: RecordVisitor,
): DecodeResult {
  const end = buf.length;
  let p = 0;
  let nextOffset = -1;
  // read_committed bookkeeping (only allocated when there are aborted transactions)
  let abortedSorted: AbortedTransaction[] | null = null;
  let abortedIdx = 0;
  let abortedPids: Set<number> | null = null;
  if (readCommitted && aborted !== null && aborted.length > 0) {
    abortedSorted = [...aborted].sort((a, b) => a.firstOffset - b.firstOffset);
    abortedPids = new Set();
  }

  while (p + 17 <= end) {
    const baseOffset = readInt64(buf, p);
    const batchLength = buf.readInt32BE(p + 8);
    const batchEnd = p + 12 + batchLength;
    if (batchEnd > end) break; // partial batch at the end of the response
    const magic = buf.readInt8(p + 16);
    if (magic !== 2) {
      throw new KafkaClientError('fatal', `record batch at offset ${baseOffset} has message format v${magic}; only v2 (Kafka 0.11+) is supported`);
    }
    if (batchLength < BATCH_HEADER - 12) throw new KafkaClientError('fatal', `corrupt record batch at offset ${baseOffset} (length ${batchLength})`);
    const attributes = buf.readInt16BE(p + 21);
    const lastOffsetDelta = buf.readInt32BE(p + 23);
    const lastOffset = baseOffset + lastOffsetDelta;
    const batchNext = lastOffset + 1;
    const isControl = (attributes & ATTR_CONTROL) !== 0;
    const producerId = readInt64(buf, p + 43);

    let skip = isControl || lastOffset < fetchOffset;
    if (abortedSorted !== null && producerId >= 0) {
      while (abortedIdx < abortedSorted.length && abortedSorted[abortedIdx]!.firstOffset <= lastOffset) {
        abortedPids!.add(abortedSorted[abortedIdx]!.producerId);
        abortedIdx++;
      }
      if (isControl) {
        // Control record key: version int16, type int16 (0 = ABORT, 1 = COMMIT).
        if (abortMarker(buf, p, batchEnd, decompress, attributes)) abortedPids!.delete(producerId);
      } else if ((attributes & ATTR_TRANSACTIONAL) !== 0 && abortedPids!.has(producerId)) {
        skip = true;
      }
    }

    if (!skip) {
      const baseTimestamp = readInt64(buf, p + 27);
      const logAppendTime = (attributes & ATTR_LOG_APPEND_TIME) !== 0;
      const maxTimestamp = logAppendTime ? readInt64(buf, p + 35) : 0;
      const count = buf.readInt32BE(p + 57);
      const codec = attributes & ATTR_COMPRESSION;
      let data = buf;
      let q = p + BATCH_HEADER;
      let dataEnd = batchEnd;
      if (codec !== 0) {
        data = decompress(codec, buf.subarray(q, batchEnd));
        q = 0;
        dataEnd = data.length;
      }
      for (let i = 0; i < count; i++) {
        // length (varint, zigzag)
        let b = 0;
        let v = 0;
        let shift = 0;
        do {
          b = data[q++]!;
          v |= (b & 0x7f) << shift;
          shift += 7;
        } while (b & 0x80);
        const recEnd = q + ((v >>> 1) ^ -(v & 1));
        if (recEnd > dataEnd) throw new KafkaClientError('fatal', `corrupt record in batch at offset ${baseOffset}`);
        q++; // record attributes (unused)
        // timestamp delta (varlong, zigzag), as a number
        let t = 0;
        let mul = 1;
        do {
          b = data[q++]!;
          t += (b & 0x7f) * mul;
          mul *= 128;
        } while (b & 0x80);
        const tsDelta = t % 2 === 0 ? t / 2 : -(t + 1) / 2;
        // offset delta
        v = 0;
        shift = 0;
        do {
          b = data[q++]!;
          v |= (b & 0x7f) << shift;
          shift += 7;
        } while (b & 0x80);
        const offset = baseOffset + ((v >>> 1) ^ -(v & 1));
        if (offset < fetchOffset) {
          q = recEnd;
          continue;
        }
        // key
        v = 0;
        shift = 0;
        do {
          b = data[q++]!;
          v |= (b & 0x7f) << shift;
          shift += 7;
        } while (b & 0x80);
        let len = (v >>> 1) ^ -(v & 1);
        const keyStart = q;
        const keyEnd = len >= 0 ? q + len : -1;
        if (len >= 0) q += len;
        // value
        v = 0;
        shift = 0;
        do {
          b = data[q++]!;
          v |= (b & 0x7f) << shift;
          shift += 7;
        } while (b & 0x80);
        len = (v >>> 1) ^ -(v & 1);
        const valueStart = q;
        const valueEnd = len >= 0 ? q + len : -1;
        if (len >= 0) q += len;
        // headers
        v = 0;
        shift = 0;
        do {
          b = data[q++]!;
          v |= (b & 0x7f) << shift;
          shift += 7;
        } while (b & 0x80);
        const nHeaders = (v >>> 1) ^ -(v & 1);
        const headersAt = q;
        if (nHeaders > 0) q = skipHeaders(data, q, nHeaders);
        if (q !== recEnd) throw new KafkaClientError('fatal', `corrupt record at offset ${offset} (length mismatch)`);
        visit(data, offset, logAppendTime ? maxTimestamp : baseTimestamp + tsDelta, keyStart, keyEnd, valueStart, valueEnd, headersAt, nHeaders);
      }
    }
    nextOffset = batchNext;
    p = batchEnd;
  }
  return { nextOffset };
}

/** The value readVarint() read last. */
let varint = 0;

/**
 * Reads the zigzag varint at `at` into `varint` and returns the position after it: for headers, which jobs
 * rarely read (the record loop above has its varints inline, the hot path).
 */
function readVarint(data: Buffer, at: number): number {
  let b = 0;
  let v = 0;
  let shift = 0;
  do {
    b = data[at++]!;
    v |= (b & 0x7f) << shift;
    shift += 7;
  } while (b & 0x80);
  varint = (v >>> 1) ^ -(v & 1);
  return at;
}

/** The position after `n` headers starting at `at`. */
function skipHeaders(data: Buffer, at: number, n: number): number {
  for (let h = 0; h < n; h++) {
    at = readVarint(data, at);
    if (varint > 0) at += varint;
    at = readVarint(data, at);
    if (varint > 0) at += varint;
  }
  return at;
}

/** The `n` headers starting at `at` (RecordVisitor's headersAt, nHeaders). */
function readHeaders(data: Buffer, at: number, n: number): readonly KafkaHeader[] {
  if (n <= 0) return EMPTY_HEADERS;
  const hs: KafkaHeader[] = [];
  for (let h = 0; h < n; h++) {
    at = readVarint(data, at);
    const hk = varint > 0 ? data.toString('utf8', at, at + varint) : '';
    if (varint > 0) at += varint;
    at = readVarint(data, at);
    const hv = varint >= 0 ? data.subarray(at, at + varint) : null;
    if (varint > 0) at += varint;
    hs.push({ key: hk, value: hv });
  }
  return hs;
}

/**
 * visitRecordBatches() into record objects (FetchedRecord), appended to `out`: for readers that want the
 * records as values.
 */
export function decodeRecordBatches(
  buf: Buffer,
  fetchOffset: number,
  readCommitted: boolean,
  aborted: readonly AbortedTransaction[] | null,
  decompress: Decompressor,
  out: KafkaRecord[],
): DecodeResult {
  return visitRecordBatches(buf, fetchOffset, readCommitted, aborted, decompress, (data, offset, timestamp, keyStart, keyEnd, valueStart, valueEnd, headersAt, nHeaders) => {
    const key = keyEnd < 0 ? null : data.subarray(keyStart, keyEnd);
    out.push(new FetchedRecord(offset, key, timestamp, readHeaders(data, headersAt, nHeaders), data, valueStart, valueEnd));
  });
}

/**
 * The offset after the last complete record batch in `buf` (the records field of one partition of a fetch
 * response), -1 when there is none: what decodeRecordBatches() returns, from the batches' headers alone.
 */
export function nextOffsetAfter(buf: Buffer): number {
  const end = buf.length;
  let p = 0;
  let nextOffset = -1;
  while (p + 17 <= end) {
    const baseOffset = readInt64(buf, p);
    const batchEnd = p + 12 + buf.readInt32BE(p + 8);
    if (batchEnd > end) break;
    if (p + 27 > end) break;
    nextOffset = baseOffset + buf.readInt32BE(p + 23) + 1;
    p = batchEnd;
  }
  return nextOffset;
}

function abortMarker(buf: Buffer, p: number, batchEnd: number, decompress: Decompressor, attributes: number): boolean {
  let data = buf;
  let q = p + BATCH_HEADER;
  const codec = attributes & ATTR_COMPRESSION;
  if (codec !== 0) {
    data = decompress(codec, buf.subarray(q, batchEnd));
    q = 0;
  }
  // record: length, attributes, timestampDelta, offsetDelta, keyLength, key...
  const skipVarint = (): number => {
    let b = 0;
    let v = 0;
    let shift = 0;
    do {
      b = data[q++]!;
      v |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80 && shift < 70);
    return (v >>> 1) ^ -(v & 1);
  };
  skipVarint(); // length
  q++; // attributes
  skipVarint(); // timestamp delta
  skipVarint(); // offset delta
  const keyLen = skipVarint();
  if (keyLen < 4) return false;
  return data.readInt16BE(q + 2) === 0;
}
