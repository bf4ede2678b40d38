/**
 * Lake benchmark (issue 5), `npm run bench -- lake [--count N] [--codec SNAPPY|GZIP|ZSTD|NONE] [--only job|sink] [--sink-mode worker|event-loop] [--parallelism N] [--fetch-bytes N] [--floor]`:
 *
 * 1. End to end: N Weibo-like events (examples/weibo's generator) in a topic; the raw consume rate of
 *    that topic (the ceiling, bench/util.ts) and then the example's `clean-feed` job (examples/weibo/
 *    jobs.sql) into a dt/hr-partitioned Parquet lake with partition commit, bounded, in-process. Reports
 *    rows/s and MB/s of Parquet, the ratio to the ceiling, and the event-loop delay p99 while the job runs.
 *    `--floor`: the same job with `AND uid < 0` in its WHERE: every record read and every column the job
 *    reads decoded, nothing written — the most the lake job could reach with a Parquet writer that cost nothing.
 * 2. The sink alone, fed as a job feeds it, with encoding in the worker thread (the sink as it is) and
 *    with the same row groups encoded on the event loop (as the sink did before): the event-loop delay
 *    p99 of each, from the same run.
 */
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { filesystemConnector } from '../connectors/filesystem/index.ts';
import { parquetConverter, parquetOnFd } from '../connectors/filesystem/parquet.ts';
import type { ParquetCodec } from '../connectors/filesystem/options.ts';
import type { Row } from '../connectors/types.ts';
import type { Column } from '../engine/plan/plan.ts';
import { T } from '../engine/plan/types.ts';
import { WeiboGenerator } from '../examples/weibo/generator.ts';
import type { WeiboEvent } from '../examples/weibo/generator.ts';
import { createPlatform } from '../jobs/platform.ts';
import { DEFAULT_BROKERS, fmtRate, measureCeiling, parseArgs, produceEvents } from './util.ts';

function totalBytes(dir: string, suffix: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n += totalBytes(p, suffix);
    else if (e.name.endsWith(suffix)) n += statSync(p).size;
  }
  return n;
}

/** 50 ms of event time apart: 500,000 events span about 7 hours, so several dt/hr partitions. */
function generator(): WeiboGenerator {
  return new WeiboGenerator({ seed: 7, startMs: Date.UTC(2026, 10, 25, 20, 0, 0), stepMs: 50, jitterMs: 2000, users: 10_000, badRate: 0 });
}

const ms = (ns: number): number => Math.round(ns / 1e5) / 10;
const cpuPerRow = (c: NodeJS.CpuUsage, rows: number): number => +((c.user + c.system) / rows).toFixed(2);

/**
 * A full GC before a measurement: producing the events leaves hundreds of MB of garbage in this process,
 * whose collection would otherwise land in the job's event-loop delay.
 */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

async function endToEnd(count: number, codec: string, fetch: string | undefined, parallelism: string | undefined, floor: boolean): Promise<Record<string, number>> {
  const suffix = Date.now().toString(36);
  const topic = `bench_lake_${suffix}`;
  const gen = generator();
  const produced = await produceEvents({ topic, count, partitions: 4, event: () => JSON.stringify(gen.next()) });
  console.log(fmtRate('produce', produced));
  const ceiling = await measureCeiling(topic);
  const dir = mkdtempSync(join(tmpdir(), 'weir-bench-lake-'));
  const lake = join(dir, 'lake');
  const platform = await createPlatform({ dataDir: dir, brokers: DEFAULT_BROKERS.join(',') });
  try {
    await platform.execute(`
CREATE TABLE weibo (
  uid BIGINT, tid BIGINT, \`time\` TIMESTAMP(3), text STRING, loc STRING,
  type STRING, rt BOOLEAN, rtid BIGINT, rtt TIMESTAMP(3), ret INT, mre INT, att INT,
  WATERMARK FOR \`time\` AS \`time\` - INTERVAL '5' SECOND
) WITH ('connector' = 'kafka', 'topic' = '${topic}', 'format' = 'json', 'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset'${fetch ? `, 'properties.max.partition.fetch.bytes' = '${fetch}'` : ''});
CREATE TABLE weibo_lake (
  uid BIGINT, tid BIGINT, \`time\` TIMESTAMP(3), text STRING, loc STRING, type STRING,
  rtid BIGINT, ret INT, mre INT, att INT, dt STRING, hr STRING
) PARTITIONED BY (dt, hr) WITH (
  'connector' = 'filesystem', 'path' = '${lake}', 'format' = 'parquet', 'parquet.compression' = '${codec}',${parallelism ? ` 'sink.parallelism' = '${parallelism}',` : ''}
  'sink.partition-commit.policy.kind' = 'success-file', 'sink.partition-commit.trigger' = 'partition-time',
  'partition.time-extractor.timestamp-pattern' = '$dt $hr:00:00', 'sink.partition-commit.delay' = '1 h'
);`);
    collectGarbage();
    const h = monitorEventLoopDelay({ resolution: 10 });
    const submitted = performance.now();
    const [res] = (
      await platform.execute(`SET 'pipeline.name' = 'clean-feed';
INSERT INTO weibo_lake
SELECT uid, tid, \`time\`, TRIM(text) AS text, loc, type, rtid, ret, mre, att,
       DATE_FORMAT(\`time\`, 'yyyy-MM-dd') AS dt, DATE_FORMAT(\`time\`, 'HH') AS hr
FROM weibo
WHERE uid IS NOT NULL AND tid IS NOT NULL AND \`time\` IS NOT NULL AND text IS NOT NULL AND CHAR_LENGTH(TRIM(text)) > 0${floor ? ' AND uid < 0' : ''};`)
    ).filter((r) => r.kind === 'job');
    const id = res!.jobId!;
    let t0 = 0;
    let cpu0 = process.cpuUsage();
    for (;;) {
      const info = platform.getJob(id)!;
      // Timed from the first record read, like the ceiling (timed once its reader is open).
      if (t0 === 0 && info.metrics.recordsIn > 0) {
        t0 = performance.now();
        cpu0 = process.cpuUsage();
        h.enable();
      }
      if (info.state === 'FINISHED') break;
      if (info.state === 'FAILED') throw new Error(`lake job failed: ${info.error}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    const now = performance.now();
    const cpu = process.cpuUsage(cpu0);
    h.disable();
    const seconds = (now - (t0 || submitted)) / 1000;
    const info = platform.getJob(id)!;
    const bytes = totalBytes(lake, '.parquet');
    const success = readdirSync(lake, { recursive: true }).filter((f) => String(f).endsWith('_SUCCESS')).length;
    const out = {
      rows: info.metrics.recordsOut,
      seconds: +seconds.toFixed(2),
      rowsPerSec: Math.round(count / seconds),
      parquetMBPerSec: +(bytes / 1e6 / seconds).toFixed(1),
      inputMBPerSec: +(produced.bytes / 1e6 / seconds).toFixed(1),
      parquetMB: +(bytes / 1e6).toFixed(1),
      ceilingRowsPerSec: ceiling.recordsPerSecond,
      ratio: +(count / seconds / ceiling.recordsPerSecond).toFixed(2),
      // CPU of the whole process (all threads) per row: what the job costs, less sensitive than rows/s to
      // what else runs on the machine.
      cpuUsPerRow: cpuPerRow(cpu, count),
      eventLoopP99Ms: ms(h.percentile(99)),
      eventLoopMaxMs: ms(h.max),
      // The job's own synchronous work per poll (decode, operators, sink.write): what the loop delay is made of.
      batchLatencyP50Ms: info.metrics.batchLatencyMs?.p50 ?? 0,
      batchLatencyP99Ms: info.metrics.batchLatencyMs?.p99 ?? 0,
      partitionsCommitted: success,
    };
    console.log(`  clean-feed → lake${floor ? ' (floor: every row filtered out, nothing written)' : ''}: start-up ${Math.round((t0 || now) - submitted)} ms`);
    console.log(JSON.stringify(out));
    return out;
  } finally {
    await platform.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const COLUMNS: Column[] = [
  { name: 'uid', type: T.bigint }, { name: 'tid', type: T.bigint }, { name: 'time', type: T.timestamp },
  { name: 'text', type: T.string }, { name: 'loc', type: T.string }, { name: 'type', type: T.string },
  { name: 'rtid', type: T.bigint }, { name: 'ret', type: T.int }, { name: 'mre', type: T.int }, { name: 'att', type: T.int },
  { name: 'dt', type: T.string }, { name: 'hr', type: T.string },
];

function cleanRows(count: number): Row[] {
  const gen = generator();
  const rows: Row[] = [];
  while (rows.length < count) {
    const e = gen.next() as WeiboEvent;
    const t = Date.parse(e.time.replace(' ', 'T') + 'Z');
    rows.push([e.uid, e.tid, t, e.text.trim(), e.loc, e.type, e.rtid, e.ret, e.mre, e.att, e.time.slice(0, 10), e.time.slice(11, 13)]);
  }
  return rows;
}

/**
 * The sink's former way, for comparison: rows buffered per partition and encoded on the event loop,
 * 100,000-row groups, every file finished at each checkpoint.
 */
function inlineWriter(dir: string, codec: ParquetCodec): { write(rows: Row[]): void; checkpoint(): void } {
  const fileCols = COLUMNS.slice(0, 10);
  const conv = fileCols.map((c) => parquetConverter(c.type));
  const open = new Map<string, { fd: number; w: ReturnType<typeof parquetOnFd>; cols: unknown[][]; rows: number }>();
  let seq = 0;
  const encode = (b: { w: ReturnType<typeof parquetOnFd>; cols: unknown[][]; rows: number }): void => {
    b.w.append(b.cols, b.rows);
    b.cols = fileCols.map(() => []);
    b.rows = 0;
  };
  return {
    write(rows) {
      for (const r of rows) {
        const key = `dt=${r[10]}/hr=${r[11]}`;
        let b = open.get(key);
        if (!b) {
          mkdirSync(join(dir, key), { recursive: true });
          const fd = openSync(join(dir, key, `part-${seq++}.parquet`), 'wx');
          b = { fd, w: parquetOnFd(fd, fileCols, codec), cols: fileCols.map(() => []), rows: 0 };
          open.set(key, b);
        }
        for (let j = 0; j < 10; j++) b.cols[j]!.push(conv[j]!(r[j]));
        if (++b.rows >= 100_000) encode(b);
      }
    },
    checkpoint() {
      for (const b of open.values()) {
        if (b.rows > 0) encode(b);
        b.w.finish();
        closeSync(b.fd);
      }
      open.clear();
    },
  };
}

async function sinkAlone(rows: Row[], codec: string, mode: 'worker' | 'event loop', parallelism: string | undefined): Promise<Record<string, number | string>> {
  const dir = mkdtempSync(join(tmpdir(), 'weir-bench-lake-sink-'));
  const opts = { connector: 'filesystem', path: dir, format: 'parquet', 'parquet.compression': codec, ...(parallelism ? { 'sink.parallelism': parallelism } : {}) };
  const sink = mode === 'worker' ? await filesystemConnector.createSink!({ table: 'lake', columns: COLUMNS, brokers: '', jobId: 'bench', jobName: 'bench', timeZone: 'UTC', checkpointIntervalMs: 5000, options: opts, partitionedBy: ['dt', 'hr'] }) : undefined;
  await sink?.committer!.recover(undefined);
  const inline = mode === 'event loop' ? inlineWriter(dir, (codec === 'NONE' ? 'UNCOMPRESSED' : codec) as ParquetCodec) : undefined;
  collectGarbage();
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let ckpt = 0;
  for (let i = 0; i < rows.length; i += 2000) {
    const batch = rows.slice(i, i + 2000);
    if (sink) {
      sink.write(batch);
      await sink.flush();
    } else inline!.write(batch);
    if ((i + 2000) % 50_000 === 0 || i + 2000 >= rows.length) {
      if (sink) {
        await sink.committer!.prepare(++ckpt);
        await sink.committer!.commit(ckpt);
      } else inline!.checkpoint();
    }
    // A job awaits its source between batches: let timers run, as they would.
    await new Promise<void>((r) => setImmediate(r));
  }
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  h.disable();
  await sink?.close();
  const bytes = totalBytes(dir, '.parquet');
  rmSync(dir, { recursive: true, force: true });
  const out = { mode: parallelism ? `${mode} x${parallelism}` : mode, rowsPerSec: Math.round(rows.length / secs), cpuUsPerRow: cpuPerRow(cpu, rows.length), parquetMB: +(bytes / 1e6).toFixed(1), eventLoopP99Ms: ms(h.percentile(99)), eventLoopMaxMs: ms(h.max) };
  console.log(JSON.stringify(out));
  return out;
}

export async function runLakeBench(argv: readonly string[]): Promise<void> {
  const args = parseArgs(argv);
  const count = Number(args.get('count') ?? 500_000);
  const codec = (args.get('codec') ?? 'SNAPPY').toUpperCase();
  const only = args.get('only');
  console.log(`lake benchmark: ${count.toLocaleString('en-US')} Weibo-like events, ${codec}`);
  const parallelism = args.get('parallelism');
  if (only !== 'sink') await endToEnd(count, codec, args.get('fetch-bytes'), parallelism, args.has('floor'));
  if (only === 'job') return;
  console.log(`the sink alone, ${count.toLocaleString('en-US')} cleaned rows in batches of 2,000, a checkpoint every 50,000 rows:`);
  const rows = cleanRows(count);
  const mode = args.get('sink-mode');
  if (mode !== 'worker') await sinkAlone(rows, codec, 'event loop', undefined);
  if (mode !== 'event-loop') await sinkAlone(rows, codec, 'worker', parallelism);
}
