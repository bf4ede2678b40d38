/**
 * Pipeline benchmark (issue 2): records/s of a filter+projection job, of a TUMBLE COUNT GROUP BY job and
 * of a filter that passes nothing (the floor: reading and decoding alone) over the same N events (default
 * 1,000,000), each as a ratio of the raw consume rate of the same topic measured in the same run (the
 * ceiling: the median of `--ceiling-rounds` reads, default 3). Jobs run in-process on a platform with a
 * temp data dir, bounded ('scan.bounded.mode' = 'latest-offset'), so "done" is exact: the job FINISHED. `--parallelism 1,2` runs every job once per value (parallel pipeline
 * instances, jobs/parallel), alternating, `--rounds` times, and prints the ratios per value; `--only NAME`
 * runs one job.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPlatform } from '../jobs/platform.ts';
import type { JobInfo, Platform } from '../jobs/api.ts';
import { DEFAULT_BROKERS, benchTopic, cpuPerRecord, fmtRate, measureCeiling, parseArgs, produceEvents, sampleCpu, startProfile } from './util.ts';
import type { CpuSample } from './util.ts';
import type { RateResult } from './util.ts';

const TABLE = (topic: string) => `CREATE TABLE posts (
  uid BIGINT, tid BIGINT, \`time\` TIMESTAMP(3), text STRING, loc STRING, type STRING, rt BOOLEAN, rtid BIGINT, ret INT, mre INT, att INT,
  WATERMARK FOR \`time\` AS \`time\` - INTERVAL '5' SECOND
) WITH ('connector' = 'kafka', 'topic' = '${topic}', 'format' = 'json', 'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset')`;

const JOBS = {
  'filter-project': {
    sink: (t: string) => `CREATE TABLE out_fp (uid BIGINT, tid BIGINT, loc STRING, engagement INT, hr STRING) WITH ('connector' = 'kafka', 'topic' = '${t}', 'format' = 'json', 'sink.topic.partitions' = '4')`,
    insert: `INSERT INTO out_fp SELECT uid, tid, UPPER(loc), ret + att, DATE_FORMAT(\`time\`, 'HH') FROM posts WHERE type <> 'comment' AND att > 2`,
  },
  // The floor of any job over this topic: every record read and validated, one column converted, nothing
  // out. No job that reads JSON can be faster here, so its ratio bounds every other job's.
  'filter-none': {
    sink: (t: string) => `CREATE TABLE out_fn (uid BIGINT) WITH ('connector' = 'kafka', 'topic' = '${t}', 'format' = 'json')`,
    insert: `INSERT INTO out_fn SELECT uid FROM posts WHERE uid < 0`,
  },
  'tumble-count': {
    sink: (t: string) => `CREATE TABLE out_tc (ws TIMESTAMP(3), we TIMESTAMP(3), loc STRING, n BIGINT) WITH ('connector' = 'kafka', 'topic' = '${t}', 'format' = 'json')`,
    insert: `INSERT INTO out_tc SELECT window_start, window_end, loc, COUNT(*) FROM TABLE(TUMBLE(TABLE posts, DESCRIPTOR(\`time\`), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end, loc`,
  },
} as const;

async function runJob(platform: Platform, name: keyof typeof JOBS, suffix: string, count: number, parallelism: number | undefined): Promise<{ rate: RateResult; job: JobInfo; mainBusy: number; cpu: string }> {
  const j = JOBS[name];
  const run = parallelism === undefined ? name : `${name}-p${parallelism}-${runs++}`;
  // Each run its own sink (and output topic), so alternating runs do not share anything but the input.
  await platform.execute(`${j.sink(benchTopic(`bench_out_${run}_${suffix}`)).replace(/CREATE TABLE (\w+)/, `CREATE TABLE $1_${runs}`)};`);
  const insert = j.insert.replace(/INSERT INTO (\w+)/, `INSERT INTO $1_${runs}`);
  // The job's SET option, and WEIR_PARALLELISM for a platform that does not pass the option on yet.
  if (parallelism !== undefined) process.env['WEIR_PARALLELISM'] = String(parallelism);
  const set = parallelism === undefined ? '' : `SET 'table.exec.resource.default-parallelism' = '${parallelism}'; `;
  const submitted = performance.now();
  let t0 = 0;
  // How busy the job's (main) thread was while the job read: near 1 means it, not the instances, limits.
  let elu0: ReturnType<typeof performance.eventLoopUtilization> | undefined;
  let cpu0: CpuSample | undefined;
  // WEIR_BENCH_PROFILE=dir: a CPU profile of this (the job's) thread while the job reads.
  let profiling: Awaited<ReturnType<typeof startProfile>> | undefined;
  const [res] = await platform.execute(`SET 'pipeline.name' = '${run}'; ${set}${insert};`).then((r) => r.filter((x) => x.kind === 'job'));
  const id = res!.jobId!;
  for (;;) {
    const info = platform.getJob(id)!;
    // Like the ceiling (timed after its reader is open), time from the first record read: job
    // start-up (connections, offsets, sink topic) is reported separately.
    if (t0 === 0 && info.metrics.recordsIn > 0) {
      t0 = performance.now();
      elu0 = performance.eventLoopUtilization();
      cpu0 = sampleCpu();
      if (process.env['WEIR_BENCH_PROFILE']) profiling = await startProfile();
    }
    if (info.state === 'FINISHED') {
      const now = performance.now();
      const seconds = (now - (t0 || submitted)) / 1000;
      console.log(`  ${run}: start-up ${Math.round((t0 || now) - submitted)} ms, total ${((now - submitted) / 1000).toFixed(2)} s`);
      const mainBusy = elu0 ? performance.eventLoopUtilization(elu0).utilization : Number.NaN;
      const cpu = cpu0 ? cpuPerRecord(cpu0, sampleCpu(), count) : '';
      if (profiling) await profiling.stop(join(process.env['WEIR_BENCH_PROFILE']!, `${run}.cpuprofile`));
      return { rate: { records: count, bytes: 0, seconds, recordsPerSecond: Math.round(count / seconds), megabytesPerSecond: 0 }, job: info, mainBusy, cpu };
    }
    if (info.state === 'FAILED') throw new Error(`job ${name} failed: ${info.error}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

let runs = 0;

export async function runPipelineBench(argv: readonly string[]): Promise<void> {
  const args = parseArgs(argv);
  const count = Number(args.get('count') ?? 1_000_000);
  const suffix = Date.now().toString(36);
  const topic = `bench_posts_${suffix}`;
  console.log(`pipeline benchmark: ${count.toLocaleString('en-US')} events, 4 partitions, topic ${topic}`);
  const produced = await produceEvents({ topic, count, partitions: 4, brokers: DEFAULT_BROKERS });
  console.log(fmtRate('produce', produced));
  // The ceiling's single ~0.5 s read swings by ±30 % between back-to-back runs on the shared machine:
  // read the topic several times and divide by the median, so ratios of different runs compare.
  const ceiling = await measureCeiling(topic, Math.max(1, Number(args.get('ceiling-rounds') ?? 3)));
  const dir = mkdtempSync(join(tmpdir(), 'weir-bench-'));
  const platform = await createPlatform({ dataDir: dir, brokers: DEFAULT_BROKERS.join(',') });
  try {
    await platform.execute(`${TABLE(topic)};`);
    const only = args.get('only');
    // --parallelism 1,2: every job once per value, alternating, --rounds times (default 1); ratios per value.
    const levels = args.get('parallelism')?.split(',').map(Number) ?? [undefined];
    const rounds = Math.max(1, Number(args.get('rounds') ?? 1));
    for (const name of (Object.keys(JOBS) as (keyof typeof JOBS)[]).filter((n) => !only || n === only)) {
      const ratios = new Map<number | undefined, number[]>();
      for (let round = 0; round < rounds; round++) {
        for (const p of levels) {
          const { rate, job, mainBusy, cpu } = await runJob(platform, name, suffix, count, p);
          const ratio = rate.recordsPerSecond / ceiling.recordsPerSecond;
          ratios.set(p, [...(ratios.get(p) ?? []), ratio]);
          const lat = job.metrics.batchLatencyMs;
          const label = p === undefined ? `job ${name}` : `job ${name} p=${p}`;
          console.log(`${fmtRate(label, rate)}  ratio ${ratio.toFixed(2)} of ceiling; batch latency p50 ${lat?.p50} ms, p95 ${lat?.p95} ms, p99 ${lat?.p99} ms; out ${job.metrics.recordsOut}, late ${job.metrics.recordsLate}; main thread busy ${(mainBusy * 100).toFixed(0)} %; ${cpu}`);
        }
      }
      if (levels.length > 1 || rounds > 1) {
        const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
        const summary = [...ratios].map(([p, xs]) => `p=${p ?? 'default'}: median ${med(xs).toFixed(2)} (${xs.map((x) => x.toFixed(2)).join(', ')})`).join('; ');
        console.log(`  ${name} ratio of ceiling by parallelism: ${summary}`);
      }
    }
    if (levels.some((p) => p !== undefined)) delete process.env['WEIR_PARALLELISM'];
  } finally {
    await platform.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
