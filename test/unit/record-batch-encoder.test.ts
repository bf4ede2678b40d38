// Our record batch encoder against our decoder, the CRC-32C check value, and the batch header fields
// Kafka validates (magic, CRC, attributes, producer id/epoch/sequence, offsets and timestamps).
import zlib from 'node:zlib';
import { compressionsAlgorithms, crc32c } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import type { KafkaRecord } from '../../connectors/kafka/client.ts';
import { NO_PRODUCER, encodeRecordBatch, nextSequence } from '../../connectors/kafka/record-batch-encoder.ts';
import type { BatchCompressor, EncodableRecord } from '../../connectors/kafka/record-batch-encoder.ts';
import { decodeRecordBatches, makeDecompressor, nextOffsetAfter } from '../../connectors/kafka/record-batch.ts';
import { parseProduceResponse, produceRequestParts } from '../../connectors/kafka/produce-request.ts';
import { Reader } from '@platformatic/kafka';

const decompress = makeDecompressor({
  snappy: (b) => compressionsAlgorithms.snappy.decompressSync(b) as Buffer,
  lz4: (b) => compressionsAlgorithms.lz4.decompressSync(b) as Buffer,
});

function decode(batch: Buffer, base = 0): KafkaRecord[] {
  // The broker assigns the base offset; emulate it.
  const b = Buffer.from(batch);
  b.writeInt32BE(Math.floor(base / 2 ** 32), 0);
  b.writeUInt32BE(base % 2 ** 32, 4);
  const out: KafkaRecord[] = [];
  const res = decodeRecordBatches(b, base, false, null, decompress, out);
  expect(res.nextOffset).toBe(base + out.length);
  return out;
}

const T0 = 1_732_500_000_000;

const RECORDS: EncodableRecord[] = [
  { key: Buffer.from('k1'), value: Buffer.from('{"a":1}'), timestamp: T0 },
  { key: null, value: Buffer.from('{"a":2,"s":"Grüße 🚀"}'), timestamp: T0 + 5 },
  { key: Buffer.from('k3'), value: null, timestamp: T0 - 1000 }, // tombstone, timestamp before the base
  { key: Buffer.alloc(0), value: Buffer.alloc(0), timestamp: T0 + 3_000_000_000 }, // empty, not null; a 5-byte varlong delta
  {
    key: Buffer.from('k5'),
    value: Buffer.from('v5'),
    timestamp: T0 + 1,
    headers: [
      { key: 'trace', value: Buffer.from('abc') },
      { key: 'nullable', value: null },
      { key: 'trace', value: Buffer.from('dup') },
      { key: 'ключ', value: Buffer.alloc(300, 7) },
    ],
  },
];

function plain(r: KafkaRecord) {
  return {
    key: r.key === null ? null : r.key.toString('latin1'),
    value: r.value === null ? null : r.value.toString('latin1'),
    timestamp: r.timestamp,
    headers: r.headers.map((h) => [h.key, h.value === null ? null : h.value.toString('latin1')]),
  };
}

function expected(records: readonly EncodableRecord[], now: number) {
  return records.map((r) => ({
    key: r.key === null ? null : r.key.toString('latin1'),
    value: r.value === null ? null : r.value.toString('latin1'),
    timestamp: r.timestamp ?? now,
    headers: (r.headers ?? []).map((h) => [h.key, h.value === null ? null : h.value.toString('latin1')]),
  }));
}

describe('crc32c', () => {
  it('is CRC-32C (Castagnoli): the standard check value', () => {
    expect(crc32c(Buffer.from('123456789')) >>> 0).toBe(0xe3069283);
    // The encoder checksums a view into the batch: the view's offset must be honoured.
    const big = Buffer.from('xx123456789');
    expect(crc32c(big.subarray(2)) >>> 0).toBe(0xe3069283);
  });
});

describe('encodeRecordBatch', () => {
  it('round-trips keys, values, nulls, tombstones, timestamps and headers through our decoder', () => {
    const batch = encodeRecordBatch(RECORDS, NO_PRODUCER, null, T0);
    const out = decode(batch, 41);
    expect(out.map((r) => r.offset)).toEqual([41, 42, 43, 44, 45]);
    expect(out.map(plain)).toEqual(expected(RECORDS, T0));
    // Where each value lies in the fetched bytes (what a job's decoder reads): the value, or -1 for null.
    for (const [i, r] of out.entries()) {
      const want = RECORDS[i]!.value;
      if (want === null) expect(r.valueEnd).toBe(-1);
      else expect(Buffer.compare(r.bytes!.subarray(r.valueStart!, r.valueEnd!), want)).toBe(0);
    }
  });

  it('writes the header fields Kafka validates', () => {
    const batch = encodeRecordBatch(RECORDS, NO_PRODUCER, null, T0);
    expect(batch.readInt32BE(8)).toBe(batch.length - 12); // batch length
    expect(batch.readInt8(16)).toBe(2); // magic
    expect(batch.readUInt32BE(17)).toBe(crc32c(batch.subarray(21)) >>> 0);
    expect(batch.readInt16BE(21)).toBe(0); // attributes: no compression, not transactional
    expect(batch.readInt32BE(23)).toBe(RECORDS.length - 1); // last offset delta
    expect(Number(batch.readBigInt64BE(27))).toBe(T0); // base timestamp: the first record's
    expect(Number(batch.readBigInt64BE(35))).toBe(T0 + 3_000_000_000); // max timestamp
    expect(batch.readBigInt64BE(43)).toBe(-1n); // producer id
    expect(batch.readInt16BE(51)).toBe(-1); // producer epoch
    expect(batch.readInt32BE(53)).toBe(-1); // base sequence
    expect(batch.readInt32BE(57)).toBe(RECORDS.length);
  });

  it('carries producer id, epoch, sequence and the transactional flag', () => {
    const batch = encodeRecordBatch(RECORDS.slice(0, 2), { producerId: 2 ** 40 + 5, producerEpoch: 7, baseSequence: 123, transactional: true }, null, T0);
    expect(batch.readBigInt64BE(43)).toBe(BigInt(2 ** 40 + 5));
    expect(batch.readInt16BE(51)).toBe(7);
    expect(batch.readInt32BE(53)).toBe(123);
    expect(batch.readInt16BE(21) & 0x10).toBe(0x10);
    expect(batch.readUInt32BE(17)).toBe(crc32c(batch.subarray(21)) >>> 0);
    expect(decode(batch).map(plain)).toEqual(expected(RECORDS.slice(0, 2), T0));
  });

  it('defaults missing timestamps to now', () => {
    const out = decode(encodeRecordBatch([{ key: null, value: Buffer.from('x') }], NO_PRODUCER, null, T0 + 42));
    expect(out[0]!.timestamp).toBe(T0 + 42);
  });

  const codecs: [string, BatchCompressor][] = [
    ['gzip', { codec: 1, compress: (b) => zlib.gzipSync(b) }],
    ['snappy', { codec: 2, compress: (b) => compressionsAlgorithms.snappy.compressSync(b) as Buffer }],
    ['lz4', { codec: 3, compress: (b) => compressionsAlgorithms.lz4.compressSync(b) as Buffer }],
  ];
  for (const [name, c] of codecs) {
    it(`compresses with ${name}`, () => {
      const many: EncodableRecord[] = Array.from({ length: 500 }, (_, i) => ({ key: i % 3 === 0 ? null : Buffer.from(`k${i}`), value: Buffer.from(`{"i":${i},"pad":"${'x'.repeat(i % 50)}"}`), timestamp: T0 + i }));
      const batch = encodeRecordBatch(many, NO_PRODUCER, c, T0);
      expect(batch.readInt16BE(21) & 0x07).toBe(c.codec);
      expect(batch.readUInt32BE(17)).toBe(crc32c(batch.subarray(21)) >>> 0);
      expect(decode(batch).map(plain)).toEqual(expected(many, T0));
    });
  }

  it('refuses an empty batch', () => {
    expect(() => encodeRecordBatch([], NO_PRODUCER)).toThrow(RangeError);
  });

  it('wraps sequence numbers after Integer.MAX_VALUE as Kafka does', () => {
    expect(nextSequence(5, 10)).toBe(15);
    expect(nextSequence(2147483647 - 2, 3)).toBe(0);
    expect(nextSequence(2147483647, 5)).toBe(4);
  });
});

describe('nextOffsetAfter', () => {
  it('tells from the batch headers alone where decoding would end, also when the fetch cut the last batch', () => {
    // Three batches as a fetch response's records field holds them, at the offsets the broker gave.
    const batches = [RECORDS.slice(0, 2), RECORDS.slice(2, 3), RECORDS.slice(3)].map((rs) => Buffer.from(encodeRecordBatch(rs, NO_PRODUCER, null, T0)));
    let base = 1_000;
    for (const b of batches) {
      b.writeInt32BE(0, 0);
      b.writeUInt32BE(base, 4);
      base += b.readInt32BE(23) + 1;
    }
    const whole = Buffer.concat(batches);
    for (const cut of [whole.length, whole.length - 7, batches[0]!.length + batches[1]!.length, batches[0]!.length + 3, 10, 0]) {
      const buf = whole.subarray(0, cut);
      expect(nextOffsetAfter(buf), `cut at ${cut}`).toBe(decodeRecordBatches(buf, 0, false, null, decompress, []).nextOffset);
    }
    expect(nextOffsetAfter(whole)).toBe(1_000 + RECORDS.length);
  });
});

describe('produce request framing', () => {
  it('lays out a Produce v11 body with one batch per partition', () => {
    const b1 = encodeRecordBatch(RECORDS.slice(0, 1), NO_PRODUCER, null, T0);
    const b2 = encodeRecordBatch(RECORDS.slice(1, 2), NO_PRODUCER, null, T0);
    const body = Buffer.concat(produceRequestParts('tx-1', -1, 30_000, [
      { topic: 't', partition: 0, batch: b1, count: 1 },
      { topic: 't', partition: 3, batch: b2, count: 1 },
    ]));
    const r = Reader.from(body);
    expect(r.readNullableString(true)).toBe('tx-1');
    expect(r.readInt16()).toBe(-1);
    expect(r.readInt32()).toBe(30_000);
    expect(r.readUnsignedVarInt() - 1).toBe(1);
    expect(r.readString(true)).toBe('t');
    expect(r.readUnsignedVarInt() - 1).toBe(2);
    expect(r.readInt32()).toBe(0);
    expect(r.readBytes(true).equals(b1)).toBe(true);
    r.readTaggedFields();
    expect(r.readInt32()).toBe(3);
    expect(r.readBytes(true).equals(b2)).toBe(true);
    r.readTaggedFields();
    r.readTaggedFields();
    r.readTaggedFields();
    expect(r.position).toBe(body.length);
    const noTx = Buffer.concat(produceRequestParts(null, 1, 1000, [{ topic: 't', partition: 0, batch: b1, count: 1 }]));
    expect(noTx[0]).toBe(0); // null transactional id
  });

  it('parses per-partition errors of a Produce v11 response, skipping tagged fields', () => {
    const w: number[] = [];
    const push = (b: Buffer) => w.push(...b);
    const i16 = (v: number) => { const b = Buffer.alloc(2); b.writeInt16BE(v); push(b); };
    const i32 = (v: number) => { const b = Buffer.alloc(4); b.writeInt32BE(v); push(b); };
    const i64 = (v: bigint) => { const b = Buffer.alloc(8); b.writeBigInt64BE(v); push(b); };
    w.push(2, 2, 0x74, 3); // 1 topic 't', 2 partitions
    i32(0); i16(0); i64(100n); i64(-1n); i64(0n); w.push(1, 0, 0); // no record errors, null message, tags
    i32(1); i16(90); i64(-1n); i64(-1n); i64(-1n); w.push(1, 5, ...Buffer.from('fenc'));
    w.push(1, 0, 9, 0, 0, 0, 1, 0, 0, 0, 5, 0); // a tagged field: current_leader {leader 1, epoch 5}
    w.push(0); // topic tags
    i32(0); w.push(0);
    const res = parseProduceResponse(0, 0, 11, Reader.from(Buffer.from(w)));
    expect(res).toEqual([
      { topic: 't', partition: 0, errorCode: 0, errorMessage: null, baseOffset: 100 },
      { topic: 't', partition: 1, errorCode: 90, errorMessage: 'fenc', baseOffset: -1 },
    ]);
  });
});
