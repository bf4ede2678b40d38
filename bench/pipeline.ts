/**
 * Pipeline benchmark (issue 2): records/s of a filter+projection job and of a TUMBLE COUNT GROUP BY
 * job over the same N events (default 1,000,000), each as a ratio of the raw consume rate of the same
 * topic measured in the same run (the ceiling: the median of `--ceiling-rounds` reads, default 3). Jobs
 * run in-process on a platform with a temp data dir, bounded ('scan.bounded.mode' = 'latest-offset'),
 * so "done" is exact: the job FINISHED.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPlatform } from '../jobs/platform.ts';
import type { JobInfo, Platform } from '../jobs/api.ts';
import { DEFAULT_BROKERS, fmtRate, measureRawConsume, parseArgs, produceEvents } from './util.ts';
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
  'tumble-count': {
    sink: (t: string) => `CREATE TABLE out_tc (ws TIMESTAMP(3), we TIMESTAMP(3), loc STRING, n BIGINT) WITH ('connector' = 'kafka', 'topic' = '${t}', 'format' = 'json')`,
    insert: `INSERT INTO out_tc SELECT window_start, window_end, loc, COUNT(*) FROM TABLE(TUMBLE(TABLE posts, DESCRIPTOR(\`time\`), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end, loc`,
  },
} as const;

async function runJob(platform: Platform, name: keyof typeof JOBS, suffix: string, count: number): Promise<{ rate: RateResult; job: JobInfo }> {
  const j = JOBS[name];
  await platform.execute(`${j.sink(`bench_out_${name}_${suffix}`)};`);
  const submitted = performance.now();
  let t0 = 0;
  const [res] = await platform.execute(`SET 'pipeline.name' = '${name}'; ${j.insert};`).then((r) => r.filter((x) => x.kind === 'job'));
  const id = res!.jobId!;
  for (;;) {
    const info = platform.getJob(id)!;
    // Like the ceiling (timed after its reader is open), time from the first record read: job
    // start-up (connections, offsets, sink topic) is reported separately.
    if (t0 === 0 && info.metrics.recordsIn > 0) t0 = performance.now();
    if (info.state === 'FINISHED') {
      const now = performance.now();
      const seconds = (now - (t0 || submitted)) / 1000;
      console.log(`  ${name}: start-up ${Math.round((t0 || now) - submitted)} ms, total ${((now - submitted) / 1000).toFixed(2)} s`);
      return { rate: { records: count, bytes: 0, seconds, recordsPerSecond: Math.round(count / seconds), megabytesPerSecond: 0 }, job: info };
    }
    if (info.state === 'FAILED') throw new Error(`job ${name} failed: ${info.error}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

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
  const rounds = Math.max(1, Number(args.get('ceiling-rounds') ?? 3));
  const reads: RateResult[] = [];
  for (let r = 1; r <= rounds; r++) {
    const c = await measureRawConsume(topic);
    reads.push(c);
    console.log(fmtRate(`raw consume, round ${r}`, c));
  }
  const ceiling = [...reads].sort((a, b) => a.recordsPerSecond - b.recordsPerSecond)[Math.floor((rounds - 1) / 2)]!;
  console.log(fmtRate(`raw consume (ceiling: median of ${rounds})`, ceiling));
  const dir = mkdtempSync(join(tmpdir(), 'weir-bench-'));
  const platform = await createPlatform({ dataDir: dir, brokers: DEFAULT_BROKERS.join(',') });
  try {
    await platform.execute(`${TABLE(topic)};`);
    const results: string[] = [];
    const only = args.get('only');
    for (const name of (Object.keys(JOBS) as (keyof typeof JOBS)[]).filter((n) => !only || n === only)) {
      const { rate, job } = await runJob(platform, name, suffix, count);
      const ratio = rate.recordsPerSecond / ceiling.recordsPerSecond;
      const lat = job.metrics.batchLatencyMs;
      const line = `${fmtRate(`job ${name}`, rate)}  ratio ${ratio.toFixed(2)} of ceiling; batch latency p50 ${lat?.p50} ms, p95 ${lat?.p95} ms, p99 ${lat?.p99} ms; out ${job.metrics.recordsOut}`;
      console.log(line);
      results.push(line);
    }
  } finally {
    await platform.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
