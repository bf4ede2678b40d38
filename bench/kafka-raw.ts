/**
 * Raw Kafka throughput on this machine: produce N microblog events (~150 bytes) to a 4-partition topic,
 * then read them all back by assignment with no processing. The consume rate is the ceiling that the
 * other benchmarks (JSON decoding, filters, windows) compare with.
 *
 *   npx tsx bench/kafka-raw.ts [--count 1000000] [--brokers 127.0.0.1:9092] [--rounds 3] [--keep]
 *                              [--compare]   also measure kafkajs 2.2.4 and @platformatic/kafka's own
 *                                            consumer decoding, for docs/kafka-client.md
 *                              [--produce-only]  only producing: Weir's writer against @platformatic/kafka's
 *                                            Producer.send, alternating, twice each
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Admin, Consumer, Producer } from '@platformatic/kafka';
import { createKafkaClient } from '../connectors/kafka/client.ts';
import { DEFAULT_BROKERS, fmtRate, measureRawConsume, microblogEvent, parseArgs, produceEvents } from './util.ts';
import type { RateResult } from './util.ts';
import type { ProducerRecord } from '../connectors/kafka/client.ts';

export interface KafkaRawResult {
  readonly topic: string;
  readonly produce: RateResult;
  readonly consume: RateResult[];
}

export async function runKafkaRaw(opts: { count?: number; brokers?: readonly string[]; rounds?: number; keep?: boolean } = {}): Promise<KafkaRawResult> {
  const count = opts.count ?? 1_000_000;
  const brokers = opts.brokers ?? DEFAULT_BROKERS;
  const topic = `bench-raw-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
  const produce = await produceEvents({ topic, count, brokers, partitions: 4 });
  console.log(fmtRate('weir produce (own record batches)', produce));
  const consume: RateResult[] = [];
  for (let i = 0; i < (opts.rounds ?? 3); i++) {
    const r = await measureRawConsume(topic, brokers);
    consume.push(r);
    console.log(fmtRate(`weir raw consume by assignment, round ${i + 1}`, r));
  }
  if (!opts.keep) {
    const client = createKafkaClient({ brokers, clientId: 'weir-bench-cleanup' });
    await client.deleteTopic(topic);
    await client.close();
  }
  return { topic, produce, consume };
}

// ------------------------------------------------------------------------------------ comparisons

/* eslint-disable @typescript-eslint/no-explicit-any */
async function compareKafkajs(count: number, brokers: readonly string[]): Promise<void> {
  const require = createRequire(import.meta.url);
  const kafkajs = require('kafkajs');
  const Cluster = require('kafkajs/src/cluster');
  const { createLogger, LEVELS } = require('kafkajs/src/loggers');
  const LoggerConsole = require('kafkajs/src/loggers/console');
  const socketFactory = require('kafkajs/src/network/socketFactory');
  const kafka = new kafkajs.Kafka({ brokers: [...brokers], clientId: 'bench-kafkajs', logLevel: kafkajs.logLevel.WARN });
  const admin = kafka.admin();
  await admin.connect();
  const topic = `bench-kafkajs-${Date.now().toString(36)}`;
  await admin.createTopics({ topics: [{ topic, numPartitions: 4 }], waitForLeaders: true });
  const producer = kafka.producer({ createPartitioner: kafkajs.Partitioners.DefaultPartitioner });
  await producer.connect();
  let bytes = 0;
  let t0 = performance.now();
  for (let i = 0; i < count; i += 20_000) {
    const messages = [];
    for (let j = i; j < Math.min(count, i + 20_000); j++) {
      const value = Buffer.from(microblogEvent(j));
      bytes += value.length;
      messages.push({ partition: j & 3, value });
    }
    await producer.send({ topic, acks: 1, messages });
  }
  let s = (performance.now() - t0) / 1000;
  console.log(fmtRate('kafkajs 2.2.4 produce', { records: count, bytes, seconds: s, recordsPerSecond: Math.round(count / s), megabytesPerSecond: Math.round((bytes / s / 1e6) * 10) / 10 }));
  await producer.disconnect();

  // kafkajs has no public assign(): its internal Cluster and Broker.fetch do assignment-based fetching.
  const cluster: any = new Cluster({
    logger: createLogger({ level: LEVELS.WARN, logCreator: LoggerConsole }),
    brokers: [...brokers],
    clientId: 'bench-kafkajs-reader',
    connectionTimeout: 1000,
    requestTimeout: 30000,
    enforceRequestTimeout: true,
    maxInFlightRequests: null,
    isolationLevel: 0,
    socketFactory: socketFactory(),
    offsets: new Map(),
    metadataMaxAge: 300000,
    allowAutoTopicCreation: false,
    retry: {},
  });
  await cluster.connect();
  await cluster.addTargetTopic(topic);
  const leaders = cluster.findLeaderForPartitions(topic, [0, 1, 2, 3]);
  const broker = await cluster.findBroker({ nodeId: Object.keys(leaders)[0] });
  for (let round = 1; round <= 3; round++) {
    const offsets = [0, 0, 0, 0];
    let got = 0;
    bytes = 0;
    t0 = performance.now();
    while (got < count) {
      const res = await broker.fetch({
        isolationLevel: 0,
        maxWaitTime: 100,
        minBytes: 1,
        maxBytes: 16 << 20,
        topics: [{ topic, partitions: [0, 1, 2, 3].map((p) => ({ partition: p, fetchOffset: String(offsets[p]), maxBytes: 4 << 20 })) }],
      });
      for (const t of res.responses) {
        for (const p of t.partitions) {
          for (const m of p.messages) {
            if (Number(m.offset) < offsets[p.partition]!) continue;
            got++;
            bytes += m.value.length;
          }
          if (p.messages.length) offsets[p.partition] = Number(p.messages[p.messages.length - 1].offset) + 1;
        }
      }
    }
    s = (performance.now() - t0) / 1000;
    console.log(fmtRate(`kafkajs internals raw consume, round ${round}`, { records: got, bytes, seconds: s, recordsPerSecond: Math.round(got / s), megabytesPerSecond: Math.round((bytes / s / 1e6) * 10) / 10 }));
  }
  await cluster.disconnect();
  await admin.deleteTopics({ topics: [topic] });
  await admin.disconnect();
}

async function comparePlatformaticOwnDecoder(count: number, brokers: readonly string[]): Promise<void> {
  const topic = `bench-plt-${Date.now().toString(36)}`;
  const admin = new Admin({ clientId: 'bench-plt-admin', bootstrapBrokers: [...brokers] });
  await admin.createTopics({ topics: [topic], partitions: 4, replicas: 1 });
  await new Promise((r) => setTimeout(r, 500));
  const producer = new Producer({ clientId: 'bench-plt-producer', bootstrapBrokers: [...brokers], acks: 1 });
  let bytes = 0;
  let t0 = performance.now();
  for (let i = 0; i < count; i += 20_000) {
    const messages = [];
    for (let j = i; j < Math.min(count, i + 20_000); j++) {
      const value = Buffer.from(microblogEvent(j));
      bytes += value.length;
      messages.push({ topic, partition: j & 3, value });
    }
    await producer.send({ messages, acks: 1 });
  }
  let s = (performance.now() - t0) / 1000;
  console.log(fmtRate('@platformatic/kafka Producer.send directly', { records: count, bytes, seconds: s, recordsPerSecond: Math.round(count / s), megabytesPerSecond: Math.round((bytes / s / 1e6) * 10) / 10 }));
  await producer.close();
  const consumer = new Consumer({ clientId: 'bench-plt-consumer', groupId: 'bench-plt-unused', bootstrapBrokers: [...brokers] });
  const md = await consumer.metadata({ topics: [topic] });
  const tm = md.topics.get(topic)!;
  for (let round = 1; round <= 3; round++) {
    const offsets = [0n, 0n, 0n, 0n];
    let got = 0;
    bytes = 0;
    t0 = performance.now();
    while (got < count) {
      const res = await consumer.fetch({
        node: tm.partitions[0]!.leader,
        maxWaitTime: 100,
        minBytes: 1,
        maxBytes: 16 << 20,
        isolationLevel: 0,
        topics: [{ topicId: tm.id, partitions: [0, 1, 2, 3].map((p) => ({ partition: p, currentLeaderEpoch: -1, fetchOffset: offsets[p]!, lastFetchedEpoch: -1, partitionMaxBytes: 4 << 20 })) }],
      });
      for (const t of res.responses) {
        for (const p of t.partitions) {
          for (const b of p.records ?? []) {
            for (const r of b.records) {
              if (b.firstOffset + BigInt(r.offsetDelta) < offsets[p.partitionIndex]!) continue;
              got++;
              bytes += r.value?.length ?? 0;
            }
            offsets[p.partitionIndex] = b.firstOffset + BigInt(b.lastOffsetDelta) + 1n;
          }
        }
      }
    }
    s = (performance.now() - t0) / 1000;
    console.log(fmtRate(`@platformatic/kafka Consumer.fetch decoding, round ${round}`, { records: got, bytes, seconds: s, recordsPerSecond: Math.round(got / s), megabytesPerSecond: Math.round((bytes / s / 1e6) * 10) / 10 }));
  }
  await consumer.close();
  await admin.deleteTopics({ topics: [topic] });
  await admin.close();
}

/**
 * The produce path alone, ours against @platformatic/kafka's own encoder, alternating (ours, library,
 * ours, library) so that both see the same machine load: N events each to a fresh 4-partition topic,
 * 20,000 records per send, acks=1, values built before the clock starts.
 */
async function compareProduce(count: number, brokers: readonly string[]): Promise<void> {
  const values = Array.from({ length: count }, (_, j) => Buffer.from(microblogEvent(j)));
  const bytes = values.reduce((n, v) => n + v.length, 0);
  const client = createKafkaClient({ brokers, clientId: 'bench-produce' });
  const topics: string[] = [];
  const report = (what: string, s: number) =>
    console.log(fmtRate(what, { records: count, bytes, seconds: s, recordsPerSecond: Math.round(count / s), megabytesPerSecond: Math.round((bytes / s / 1e6) * 10) / 10 }));
  try {
    for (let round = 1; round <= 2; round++) {
      const ours = `bench-produce-weir-${Date.now().toString(36)}`;
      topics.push(ours);
      await client.createTopic(ours, 4);
      const writer = await client.openWriter({ acks: 1 });
      let t0 = performance.now();
      for (let i = 0; i < count; i += 20_000) {
        const records: ProducerRecord[] = [];
        for (let j = i; j < Math.min(count, i + 20_000); j++) records.push({ topic: ours, partition: j & 3, key: null, value: values[j]! });
        await writer.send(records);
      }
      report(`weir writer (own record batches), round ${round}`, (performance.now() - t0) / 1000);
      await writer.close();

      const lib = `bench-produce-plt-${Date.now().toString(36)}`;
      topics.push(lib);
      await client.createTopic(lib, 4);
      const producer = new Producer({ clientId: 'bench-plt-producer', bootstrapBrokers: [...brokers], acks: 1 });
      t0 = performance.now();
      for (let i = 0; i < count; i += 20_000) {
        const messages = [];
        for (let j = i; j < Math.min(count, i + 20_000); j++) messages.push({ topic: lib, partition: j & 3, value: values[j]! });
        await producer.send({ messages, acks: 1 });
      }
      report(`@platformatic/kafka Producer.send, round ${round}`, (performance.now() - t0) / 1000);
      await producer.close();
    }
  } finally {
    for (const t of topics) await client.deleteTopic(t).catch(() => undefined);
    await client.close();
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const count = Number(args.get('count') ?? 1_000_000);
  const brokers = (args.get('brokers') ?? DEFAULT_BROKERS.join(',')).split(',');
  const rounds = Number(args.get('rounds') ?? 3);
  console.log(`kafka-raw: ${count.toLocaleString('en-US')} events, brokers ${brokers.join(',')}, node ${process.version}`);
  if (args.has('produce-only')) {
    await compareProduce(count, brokers);
    return;
  }
  await runKafkaRaw({ count, brokers, rounds, keep: args.has('keep') });
  if (args.has('compare')) {
    process.env['KAFKAJS_NO_PARTITIONER_WARNING'] = '1';
    await compareKafkajs(count, brokers);
    await comparePlatformaticOwnDecoder(count, brokers);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
