// Reading what other producers write: compressed batches from our own writer (gzip, snappy, lz4) and from
// Kafka's Java producer (the kafka-clients jar next to the broker; snappy in the xerial framing Java
// uses), plus the refusal of zstd on Node.js versions without zstd.
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient, KafkaClientError } from '../../connectors/kafka/client.ts';
import type { KafkaClient, KafkaRecord } from '../../connectors/kafka/client.ts';
import { CACHE_DIR } from '../../scripts/kafka.mjs';

const BROKERS = [process.env['WEIR_KAFKA_BROKERS'] ?? '127.0.0.1:9092'];
const suffix = (): string => `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
const LIB = path.join(CACHE_DIR, 'lib');
/** A JDK (java with the compiler module, for single-file source launch) and the kafka-clients jar. */
function javaAvailable(): boolean {
  if (!fs.existsSync(LIB) || !fs.readdirSync(LIB).some((f) => f.startsWith('kafka-clients-'))) return false;
  try {
    return execFileSync('java', ['--list-modules'], { encoding: 'utf8', timeout: 20_000 }).includes('jdk.compiler');
  } catch {
    return false;
  }
}
const hasJava = javaAvailable();
const nodeHasZstd = typeof (zlib as unknown as { zstdDecompressSync?: unknown }).zstdDecompressSync === 'function';
/**
 * The Java producer's record timestamps start here, at this run and not at a fixed date: the broker's time
 * retention (7 days by default, checked every 5 minutes) deletes segments whose newest record is older,
 * and a check between writing and reading back would delete what the test reads.
 */
const TS0 = Math.floor(Date.now() / 1000) * 1000;

let client: KafkaClient;
const topics: string[] = [];

async function newTopic(): Promise<string> {
  const t = `kc-interop-${suffix()}`;
  topics.push(t);
  await client.createTopic(t, 1);
  return t;
}

async function readAll(topic: string): Promise<KafkaRecord[]> {
  const end = (await client.listOffsets(topic, 'latest')).get(0)!;
  const reader = await client.openReader({ topic, partitions: new Map([[0, 0]]) });
  const out: KafkaRecord[] = [];
  const deadline = Date.now() + 15_000;
  try {
    while ((reader.positions().get(0) ?? 0) < end && Date.now() < deadline) {
      for (const b of await reader.poll(300)) out.push(...b.records);
    }
  } finally {
    await reader.close();
  }
  return out;
}

const JAVA_PRODUCER = `
import java.util.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.header.internals.RecordHeader;

public class WeirTestProducer {
  public static void main(String[] args) throws Exception {
    String brokers = args[0], topic = args[1];
    int n = Integer.parseInt(args[2]);
    long ts0 = Long.parseLong(args[3]);
    for (int a = 4; a < args.length; a++) {
      String codec = args[a];
      Properties p = new Properties();
      p.put("bootstrap.servers", brokers);
      p.put("compression.type", codec);
      p.put("linger.ms", "5");
      p.put("key.serializer", ByteArraySerializer.class.getName());
      p.put("value.serializer", ByteArraySerializer.class.getName());
      try (KafkaProducer<byte[], byte[]> prod = new KafkaProducer<>(p)) {
        for (int i = 0; i < n; i++) {
          ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(topic, 0, ts0 + i,
              ("k" + i).getBytes(), (codec + ":" + i + ":" + "x".repeat(40 + i % 50)).getBytes());
          if (i % 100 == 0) r.headers().add(new RecordHeader("codec", codec.getBytes()));
          prod.send(r);
        }
        prod.flush();
      }
    }
  }
}
`;

function runJava(args: string[]): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-java-'));
  const src = path.join(dir, 'WeirTestProducer.java');
  fs.writeFileSync(src, JAVA_PRODUCER);
  return new Promise((resolve, reject) => {
    execFile('java', ['-cp', `${LIB}/*`, src, ...args], { timeout: 90_000 }, (err, _stdout, stderr) => {
      fs.rmSync(dir, { recursive: true, force: true });
      if (err) reject(new Error(`java producer failed: ${err.message}\n${stderr}`));
      else resolve();
    });
  });
}

beforeAll(() => {
  client = createKafkaClient({ brokers: BROKERS, clientId: 'weir-test-interop' });
});

afterAll(async () => {
  for (const t of topics) await client.deleteTopic(t).catch(() => undefined);
  await client.close();
});

describe('compressed batches', () => {
  for (const compression of ['gzip', 'snappy', 'lz4'] as const) {
    it(`reads back what our writer wrote with ${compression}`, async () => {
      const t = await newTopic();
      const w = await client.openWriter({ compression, acks: 1 });
      await w.send(Array.from({ length: 2000 }, (_, i) => ({ topic: t, key: Buffer.from(`k${i}`), value: Buffer.from(`${compression}:${i}:${'y'.repeat(i % 80)}`) })));
      await w.close();
      const recs = await readAll(t);
      expect(recs.map((r) => r.offset)).toEqual(Array.from({ length: 2000 }, (_, i) => i));
      expect(recs.map((r) => Number(r.value!.toString().split(':')[1]))).toEqual(Array.from({ length: 2000 }, (_, i) => i));
    });
  }

  it.skipIf(!hasJava)("reads what Kafka's Java producer writes: none, gzip, snappy (xerial), lz4", async () => {
    const t = await newTopic();
    await runJava([BROKERS[0]!, t, '500', String(TS0), 'none', 'gzip', 'snappy', 'lz4']);
    const recs = await readAll(t);
    expect(recs.length).toBe(2000);
    const byCodec = new Map<string, number[]>();
    for (const r of recs) {
      const [codec, i, pad] = r.value!.toString().split(':') as [string, string, string];
      const n = Number(i);
      expect(pad.length).toBe(40 + (n % 50));
      expect(r.key!.toString()).toBe(`k${n}`);
      expect(r.timestamp).toBe(TS0 + n);
      expect(r.headers.length).toBe(n % 100 === 0 ? 1 : 0);
      if (n % 100 === 0) expect(r.headers[0]!.value!.toString()).toBe(codec);
      let l = byCodec.get(codec);
      if (!l) byCodec.set(codec, (l = []));
      l.push(n);
    }
    for (const codec of ['none', 'gzip', 'snappy', 'lz4']) expect(byCodec.get(codec)).toEqual(Array.from({ length: 500 }, (_, i) => i));
  });

  it.skipIf(!hasJava || nodeHasZstd)('refuses zstd batches on this Node.js with a clear fatal error', async () => {
    const t = await newTopic();
    await runJava([BROKERS[0]!, t, '10', String(TS0), 'zstd']);
    const err = await readAll(t).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KafkaClientError);
    expect((err as KafkaClientError).kind).toBe('fatal');
    expect((err as Error).message).toMatch(/zstd/);
  });
});
