/**
 * Shared benchmark helpers: microblog-like events, producing them to a topic, and the raw consume
 * "ceiling" (read everything by assignment, no processing) that other benchmarks compare with.
 */
import { createKafkaClient } from '../connectors/kafka/client.ts';
import type { KafkaClient, ProducerRecord } from '../connectors/kafka/client.ts';
import { formatTimestamp } from '../connectors/formats/timestamp.ts';
import { readFileSync, writeFileSync } from 'node:fs';

export const DEFAULT_BROKERS: readonly string[] = [process.env['WEIR_KAFKA_BROKERS'] ?? '127.0.0.1:9092'];

const CITIES = ['Beijing', 'Shanghai', 'Guangzhou', 'Shenzhen', 'Chengdu', 'Hangzhou', 'Wuhan', "Xi'an"];
const TYPES = ['original', 'repost', 'comment'];

/** Start of the generated event times: 2024-01-01 00:00:00 UTC. */
export const EVENT_EPOCH_MS = 1_704_067_200_000;

/**
 * The i-th microblog post as JSON (~150 bytes), with the Weibo columns of DESIGN.md:
 * uid, tid, time, text, loc, type, rt, rtid, ret, mre, att. Events are 10 ms apart in time.
 */
export function microblogEvent(i: number): string {
  const uid = 100_000 + ((i * 7919) % 50_000);
  const rt = i % 5 === 0;
  return (
    `{"uid":${uid},"tid":${4_000_000_000 + i},"time":"${formatTimestamp(EVENT_EPOCH_MS + i * 10)}",` +
    `"text":"post ${i} #topic${i % 37}#","loc":"${CITIES[i % CITIES.length]}","type":"${TYPES[i % 3]}",` +
    `"rt":${rt},"rtid":${rt ? 4_000_000_000 + i - 1 - (i % 97) : null},"ret":${i % 13},"mre":${i % 7},"att":${i % 11}}`
  );
}

export interface RateResult {
  readonly records: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly recordsPerSecond: number;
  readonly megabytesPerSecond: number;
}

function rate(records: number, bytes: number, seconds: number): RateResult {
  return {
    records,
    bytes,
    seconds,
    recordsPerSecond: Math.round(records / seconds),
    megabytesPerSecond: Math.round((bytes / seconds / 1e6) * 10) / 10,
  };
}

export interface ProduceOptions {
  readonly topic: string;
  readonly count: number;
  readonly brokers?: readonly string[];
  /** Partitions of the topic if it has to be created (default 4). */
  readonly partitions?: number;
  /** Records per send() call (default 20,000). */
  readonly batchSize?: number;
  /** First event index (default 0), to append more events to a topic. */
  readonly startIndex?: number;
  readonly event?: (i: number) => string;
  /** Key each record by uid (default false: no key, round robin over partitions). */
  readonly keyed?: boolean;
}

/** Creates the topic if needed and writes `count` events to it; returns the produce rate. */
/**
 * Topics this benchmark run created (its input topics and its jobs' output topics): deleted when the run
 * ends (bench/run.ts). Each run makes new ones, and a 3M-event topic is ~0.5 GB: kept, they filled the disk.
 */
const createdTopics = new Set<string>();

/** Registers `topic` for deletion at the end of the run; returns it. */
export function benchTopic(topic: string): string {
  createdTopics.add(topic);
  return topic;
}

/** Deletes every topic benchTopic() registered (and produceEvents created). */
export async function deleteBenchTopics(brokers: readonly string[] = DEFAULT_BROKERS): Promise<void> {
  if (createdTopics.size === 0) return;
  const client = createKafkaClient({ brokers, clientId: 'weir-bench-cleanup' });
  try {
    for (const t of createdTopics) await client.deleteTopic(t).catch(() => undefined);
    createdTopics.clear();
  } finally {
    await client.close();
  }
}

export async function produceEvents(opts: ProduceOptions): Promise<RateResult> {
  const client = createKafkaClient({ brokers: opts.brokers ?? DEFAULT_BROKERS, clientId: 'weir-bench-producer' });
  try {
    await client.createTopic(benchTopic(opts.topic), opts.partitions ?? 4);
    const writer = await client.openWriter({ acks: 1 });
    const batchSize = opts.batchSize ?? 20_000;
    const event = opts.event ?? microblogEvent;
    const start = opts.startIndex ?? 0;
    let bytes = 0;
    const t0 = performance.now();
    for (let i = 0; i < opts.count; i += batchSize) {
      const n = Math.min(batchSize, opts.count - i);
      const records: ProducerRecord[] = new Array(n);
      for (let j = 0; j < n; j++) {
        const value = Buffer.from(event(start + i + j));
        const key = opts.keyed ? Buffer.from(String(100_000 + (((start + i + j) * 7919) % 50_000))) : null;
        bytes += value.length + (key?.length ?? 0);
        records[j] = { topic: opts.topic, key, value };
      }
      await writer.send(records);
    }
    const seconds = (performance.now() - t0) / 1000;
    await writer.close();
    return rate(opts.count, bytes, seconds);
  } finally {
    await client.close();
  }
}

export interface ConsumeOptions {
  readonly maxBytes?: number;
  readonly isolationLevel?: 'read_committed' | 'read_uncommitted';
  /** Called for every batch (for benchmarks that add processing); default: only counts. */
  readonly onBatch?: (records: readonly { value: Buffer | null }[]) => void;
  readonly client?: KafkaClient;
}

/**
 * Reads the whole topic (earliest to the end offsets seen at start) by assignment, with no processing,
 * and returns the rate: the ceiling for any job reading this topic on this machine.
 */
export async function measureRawConsume(topic: string, brokers: readonly string[] = DEFAULT_BROKERS, opts: ConsumeOptions = {}): Promise<RateResult> {
  const client = opts.client ?? createKafkaClient({ brokers, clientId: 'weir-bench-consumer' });
  try {
    const iso = opts.isolationLevel ?? 'read_uncommitted';
    const start = await client.listOffsets(topic, 'earliest');
    const end = await client.listOffsets(topic, 'latest', { isolationLevel: iso });
    const remaining = new Map<number, number>();
    for (const [p, e] of end) if (e > (start.get(p) ?? 0)) remaining.set(p, e);
    const reader = await client.openReader({
      topic,
      partitions: new Map([...start].filter(([p]) => remaining.has(p))),
      isolationLevel: iso,
      ...(opts.maxBytes !== undefined ? { maxBytes: opts.maxBytes } : {}),
    });
    let records = 0;
    let bytes = 0;
    const t0 = performance.now();
    while (remaining.size > 0) {
      const batches = await reader.poll(1000);
      for (const b of batches) {
        const endOffset = remaining.get(b.partition);
        if (endOffset === undefined) continue;
        const recs = b.records;
        for (let i = 0; i < recs.length; i++) {
          const r = recs[i]!;
          if (r.offset >= endOffset) break;
          records++;
          bytes += (r.value?.length ?? 0) + (r.key?.length ?? 0);
        }
        opts.onBatch?.(recs);
        if (b.nextOffset >= endOffset) {
          remaining.delete(b.partition);
          reader.remove(b.partition);
        }
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    await reader.close();
    return rate(records, bytes, seconds);
  } finally {
    if (!opts.client) await client.close();
  }
}

/** Simple `--name value` / `--flag` argument parsing for the bench scripts. */
export function parseArgs(argv: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) continue;
    const eq = a.indexOf('=');
    if (eq > 0) out.set(a.slice(2, eq), a.slice(eq + 1));
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) out.set(a.slice(2), argv[++i]!);
    else out.set(a.slice(2), 'true');
  }
  return out;
}

export function fmtRate(label: string, r: RateResult): string {
  return `${label.padEnd(44)} ${r.records.toLocaleString('en-US').padStart(11)} records in ${r.seconds.toFixed(2).padStart(6)} s = ${r.recordsPerSecond.toLocaleString('en-US').padStart(9)} records/s, ${String(r.megabytesPerSecond).padStart(6)} MB/s`;
}

/** CPU seconds used so far, by this process's threads (main, others) and by the broker's process (Linux /proc; empty elsewhere). */
export interface CpuSample {
  readonly threads: ReadonlyMap<string, number>;
  readonly broker: number;
}

const TICK = 100; // USER_HZ: /proc reports utime and stime in 1/100 s on Linux

function procCpu(statFile: string): number {
  // Fields after the command (which may hold spaces, hence the last ')'): utime is the 14th, stime the 15th.
  const s = readFileSync(statFile, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / TICK;
}

export function sampleCpu(): CpuSample {
  const threads = new Map<string, number>();
  // getrusage counts threads that have ended too (a job's instances end with it); /proc the main one alone.
  const u = process.cpuUsage();
  const all = (u.user + u.system) / 1e6;
  try {
    const main = procCpu(`/proc/self/task/${process.pid}/stat`);
    threads.set('main', main);
    // Node does not name its threads for the OS: worker threads (pipeline instances, encoders), V8's GC
    // helpers and libuv's pool, together.
    threads.set('other threads', all - main);
  } catch {
    threads.set('process', all);
  }
  let broker = 0;
  try {
    const pid = readFileSync(new URL('../.cache/kafka/broker.pid', import.meta.url), 'utf8').trim();
    broker = procCpu(`/proc/${pid}/stat`);
  } catch {
    // a broker this repository did not start
  }
  return { threads, broker };
}

/** CPU used between two samples, in microseconds per record: "CPU 0.9 µs/rec (main 0.5, other threads 0.3, broker 0.1)". */
export function cpuPerRecord(a: CpuSample, b: CpuSample, records: number): string {
  const parts: string[] = [];
  let total = 0;
  for (const [name, s] of b.threads) {
    const d = s - (a.threads.get(name) ?? 0);
    if (d <= 0) continue;
    total += d;
    parts.push(`${name} ${((d * 1e6) / records).toFixed(2)}`);
  }
  const br = b.broker - a.broker;
  total += br;
  parts.push(`broker ${((br * 1e6) / records).toFixed(2)}`);
  return `CPU ${((total * 1e6) / records).toFixed(2)} µs/rec (${parts.join(', ')})`;
}

/**
 * The ceiling of a benchmark: the median of `rounds` raw reads of the topic (one read of a 1M-record topic
 * lasts ~0.2 s and swings by ±30 % on a shared machine), each printed with its CPU per record.
 */
export async function measureCeiling(topic: string, rounds = 3): Promise<RateResult> {
  const reads: RateResult[] = [];
  for (let r = 1; r <= rounds; r++) {
    const cpu0 = sampleCpu();
    const c = await measureRawConsume(topic);
    reads.push(c);
    console.log(`${fmtRate(`raw consume, round ${r}`, c)}  ${cpuPerRecord(cpu0, sampleCpu(), c.records)}`);
  }
  const ceiling = [...reads].sort((a, b) => a.recordsPerSecond - b.recordsPerSecond)[Math.floor((rounds - 1) / 2)]!;
  console.log(fmtRate(`raw consume (ceiling: median of ${rounds})`, ceiling));
  return ceiling;
}

/** A CPU profile of this thread from now until stop() (WEIR_BENCH_PROFILE=dir in the benches that support it). */
export async function startProfile(): Promise<{ stop(file: string): Promise<void> }> {
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  const heap = process.env['WEIR_BENCH_HEAP'] === '1';
  if (heap) {
    await session.post('HeapProfiler.enable');
    await session.post('HeapProfiler.startSampling', { samplingInterval: 8192, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } as never);
  } else {
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  return {
    async stop(file) {
      const { profile } = heap ? await session.post('HeapProfiler.stopSampling') as never as { profile: object } : await session.post('Profiler.stop');
      if (heap) file = file.replace(/cpuprofile$/, 'heapprofile');
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
      console.log(`  CPU profile of the job's thread: ${file}`);
    },
  };
}
