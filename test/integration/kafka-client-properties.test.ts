// Flink `properties.*` → client settings, and the record batch decoder on bytes made by the library's
// encoder. No broker needed (kept next to the other kafka-client tests).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRecordsBatch } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import type { KafkaRecord } from '../../connectors/kafka/client.ts';
import { KafkaClientError } from '../../connectors/kafka/errors.ts';
import { parseClientProperties, parseJaasConfig } from '../../connectors/kafka/properties.ts';
import { decodeRecordBatches, makeDecompressor, unwrapSnappy } from '../../connectors/kafka/record-batch.ts';

describe('properties', () => {
  it('parses JAAS entries', () => {
    expect(
      parseJaasConfig('org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="s3cr\\"et";'),
    ).toEqual({ module: 'org.apache.kafka.common.security.plain.PlainLoginModule', options: { username: 'alice', password: 's3cr"et' } });
    expect(parseJaasConfig('org.apache.kafka.common.security.scram.ScramLoginModule required username=bob password="p w"').options).toEqual({
      username: 'bob',
      password: 'p w',
    });
    expect(() => parseJaasConfig('username="x"')).toThrow(KafkaClientError);
  });

  it('maps SASL_SSL with SCRAM and a PEM truststore', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-props-'));
    const ca = path.join(dir, 'ca.pem');
    fs.writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const s = parseClientProperties({
      'security.protocol': 'SASL_SSL',
      'sasl.mechanism': 'SCRAM-SHA-512',
      'sasl.jaas.config': 'org.apache.kafka.common.security.scram.ScramLoginModule required username="u" password="p";',
      'ssl.truststore.type': 'PEM',
      'ssl.truststore.location': ca,
      'ssl.endpoint.identification.algorithm': '',
      'request.timeout.ms': '15000',
      'isolation.level': 'read_committed',
      'auto.offset.reset': 'latest',
      'group.id': 'g1',
    });
    fs.rmSync(dir, { recursive: true, force: true });
    expect(s.sasl).toEqual({ mechanism: 'SCRAM-SHA-512', username: 'u', password: 'p' });
    expect(s.tls?.ca?.toString()).toContain('BEGIN CERTIFICATE');
    expect(typeof s.tls?.checkServerIdentity).toBe('function');
    expect(s.requestTimeoutMs).toBe(15000);
    expect(s.isolationLevel).toBe('read_committed');
    expect(s.autoOffsetReset).toBe('latest');
    expect(s.warnings).toEqual([]);
  });

  it('maps writer defaults', () => {
    const s = parseClientProperties({ acks: 'all', 'enable.idempotence': 'true', 'compression.type': 'LZ4', 'transaction.timeout.ms': '900000' });
    expect([s.acks, s.idempotent, s.compression, s.transactionTimeoutMs]).toEqual([-1, true, 'lz4', 900000]);
  });

  it('refuses what it cannot honour and warns about the rest', () => {
    const refuse = (props: Record<string, string>, msg: RegExp): void => {
      let err: unknown;
      try {
        parseClientProperties(props);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(props)).toBeInstanceOf(KafkaClientError);
      expect((err as KafkaClientError).kind).toBe('config');
      expect((err as Error).message).toMatch(msg);
    };
    refuse({ 'security.protocol': 'SASL_PLAINTEXT' }, /GSSAPI/);
    refuse({ 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanism': 'OAUTHBEARER' }, /OAUTHBEARER/);
    refuse({ 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanism': 'PLAIN' }, /sasl.jaas.config' is required/);
    refuse(
      {
        'security.protocol': 'SASL_PLAINTEXT',
        'sasl.mechanism': 'PLAIN',
        'sasl.jaas.config': 'org.apache.kafka.common.security.scram.ScramLoginModule required username="u" password="p";',
      },
      /needs ...PlainLoginModule/,
    );
    refuse({ 'security.protocol': 'SSL', 'ssl.truststore.type': 'JKS', 'ssl.truststore.location': '/x.jks' }, /JKS/);
    refuse({ 'security.protocol': 'SSL', 'ssl.truststore.location': '/does/not/exist.pem' }, /cannot read/);
    refuse({ 'security.protocol': 'KERBEROS' }, /security.protocol/);
    refuse({ 'isolation.level': 'serializable' }, /isolation.level/);
    refuse({ 'request.timeout.ms': 'soon' }, /request.timeout.ms/);
    const s = parseClientProperties({ 'sasl.mechanism': 'PLAIN', 'ssl.keystore.location': '/k', 'fancy.option': '1' });
    expect(s.warnings).toHaveLength(3);
    expect(s.sasl).toBeUndefined();
    expect(s.tls).toBeUndefined();
  });
});

describe('record batch decoding', () => {
  const decompress = makeDecompressor({});

  function batch(base: number, n: number, compression: 'none' | 'gzip' = 'none'): Buffer {
    const msgs = Array.from({ length: n }, (_, i) => ({
      topic: 't',
      partition: 0,
      key: i % 2 === 0 ? Buffer.from(`k${i}`) : undefined,
      value: Buffer.from(`v${base + i}`),
      timestamp: BigInt(1_700_000_000_000 + i * 1000),
      headers: i === 1 ? new Map([[Buffer.from('h'), Buffer.from('x')]]) : new Map<Buffer, Buffer>(),
    }));
    const b = createRecordsBatch(msgs as never, { compression }).buffer as Buffer;
    b.writeBigInt64BE(BigInt(base), 0); // the broker assigns the base offset
    return b;
  }

  it('decodes records with offsets, keys, headers and timestamps; skips offsets before the fetch offset', () => {
    const buf = Buffer.concat([batch(0, 3), batch(3, 3, 'gzip')]);
    const out: KafkaRecord[] = [];
    const res = decodeRecordBatches(buf, 1, false, null, decompress, out);
    expect(res.nextOffset).toBe(6);
    expect(out.map((r) => r.offset)).toEqual([1, 2, 3, 4, 5]);
    expect(out.map((r) => r.value!.toString())).toEqual(['v1', 'v2', 'v3', 'v4', 'v5']);
    expect(out.map((r) => r.key?.toString() ?? null)).toEqual([null, 'k2', 'k0', null, 'k2']);
    expect(out[0]!.headers).toEqual([{ key: 'h', value: Buffer.from('x') }]);
    expect(out[1]!.timestamp).toBe(1_700_000_002_000);
  });

  it('ignores a partial batch at the end and refuses old message formats', () => {
    const full = Buffer.concat([batch(0, 2), batch(2, 2)]);
    const out: KafkaRecord[] = [];
    expect(decodeRecordBatches(full.subarray(0, full.length - 5), 0, false, null, decompress, out).nextOffset).toBe(2);
    expect(out).toHaveLength(2);
    expect(decodeRecordBatches(Buffer.alloc(0), 0, false, null, decompress, []).nextOffset).toBe(-1);
    const old = batch(0, 1);
    old.writeInt8(1, 16);
    expect(() => decodeRecordBatches(old, 0, false, null, decompress, [])).toThrow(/message format v1/);
  });

  it('unwraps the xerial snappy framing', () => {
    const header = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0, 0, 0, 0, 1, 0, 0, 0, 1]);
    const block = (s: string): Buffer => {
      const b = Buffer.from(s);
      const len = Buffer.alloc(4);
      len.writeInt32BE(b.length);
      return Buffer.concat([len, b]);
    };
    const framed = Buffer.concat([header, block('ab'), block('cd')]);
    expect(unwrapSnappy(framed, (b) => Buffer.from(b.toString().toUpperCase())).toString()).toBe('ABCD');
    expect(unwrapSnappy(Buffer.from('raw'), (b) => Buffer.from(`<${b.toString()}>`)).toString()).toBe('<raw>');
  });
});
