/**
 * Checkpoint benchmark (issue 3), `npm run bench -- checkpoint [--count N] [--keys K] [--only part]`:
 *
 * 1. throughput (N events, default 3,000,000, so that a 5 s interval checkpoints during the run): the windowed job (TUMBLE 1 min GROUP BY loc, uid) into an exactly-once Kafka sink with
 *    checkpoints every 5 s, every 1 s and "off" (an interval of 1 h: only the final checkpoint at the
 *    end, which commits the sink's one transaction), each as a ratio of the raw consume ceiling of the
 *    same topic in the same run (median of 3 reads). Jobs run in-process, bounded, timed from the first
 *    record read to FINISHED.
 * 2. state: a window aggregate holding K (default 1,000,000) keys, checkpointed into a real
 *    CheckpointStore: the first (full) checkpoint, then one after 1,000 keys changed (incremental), one
 *    after nothing changed, one after every key changed (old versions closed, new ones written, the
 *    versions no kept checkpoint reads any more pruned), and,
 *    for comparison, the same state written as one whole snapshot (the pre-keyed format).
 * 3. recovery: a real `weir server` child process running the windowed job (exactly-once, checkpoints
 *    every 1 s) is killed with SIGKILL mid-job and started again on the same data dir: the time from
 *    the kill to the first new committed output (read_committed end offsets of the sink topic grow).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKafkaClient } from '../connectors/kafka/client.ts';
import { buildPipeline } from '../engine/ops/build.ts';
import type { Downstream } from '../engine/ops/operator.ts';
import { SourceStage } from '../engine/ops/source-stage.ts';
import { checkpointState } from '../engine/state/keyed.ts';
import { createPlatform } from '../jobs/platform.ts';
import type { Platform } from '../jobs/api.ts';
import { CheckpointStore } from '../jobs/checkpoint-store.ts';
import { planGolden } from '../test/support/golden.ts';
import { ServerProcess } from '../test/support/server-process.ts';
import { DEFAULT_BROKERS, benchTopic, fmtRate, measureCeiling, parseArgs, produceEvents } from './util.ts';
import type { RateResult } from './util.ts';

const SOURCE = (topic: string) => `CREATE TABLE posts (
  uid BIGINT, tid BIGINT, \`time\` TIMESTAMP(3), text STRING, loc STRING, type STRING, rt BOOLEAN, rtid BIGINT, ret INT, mre INT, att INT,
  WATERMARK FOR \`time\` AS \`time\` - INTERVAL '5' SECOND
) WITH ('connector' = 'kafka', 'topic' = '${topic}', 'format' = 'json', 'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset')`;

const SINK = (name: string, topic: string) =>
  `CREATE TABLE ${name} (ws TIMESTAMP(3), loc STRING, uid BIGINT, n BIGINT, eng BIGINT) WITH ('connector' = 'kafka', 'topic' = '${topic}', 'format' = 'json',
    'sink.topic.partitions' = '4', 'sink.delivery-guarantee' = 'exactly-once')`;

const INSERT = (sink: string) =>
  `INSERT INTO ${sink} SELECT window_start, loc, uid, COUNT(*), SUM(ret + att) FROM TABLE(TUMBLE(TABLE posts, DESCRIPTOR(\`time\`), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end, loc, uid`;

const INTERVALS = [
  ['5 s', '5 s'],
  ['1 s', '1 s'],
  ['off', '1 h'],
] as const;

async function runJob(platform: Platform, label: string, interval: string, suffix: string, count: number): Promise<{ rate: RateResult; checkpoints: string }> {
  const sink = `out_${label.replace(/\W/g, '')}`;
  await platform.execute(`${SINK(sink, benchTopic(`bench_cp_out_${label.replace(/\W/g, '')}_${suffix}`))};`);
  const submitted = performance.now();
  let t0 = 0;
  const res = (await platform.execute(`SET 'execution.checkpointing.interval' = '${interval}'; SET 'pipeline.name' = 'cp-${label.replace(/\W/g, '')}'; ${INSERT(sink)};`)).filter((x) => x.kind === 'job');
  const id = res[0]!.jobId!;
  let lastId = 0;
  const durations: number[] = [];
  for (;;) {
    const info = platform.getJob(id)!;
    if (t0 === 0 && info.metrics.recordsIn > 0) t0 = performance.now();
    const cp = info.metrics.lastCheckpoint;
    if (cp && cp.id !== lastId) {
      lastId = cp.id;
      durations.push(cp.durationMs);
    }
    if (info.state === 'FINISHED') {
      const seconds = (performance.now() - (t0 || submitted)) / 1000;
      const n = info.metrics.lastCheckpoint?.id ?? 0;
      return {
        rate: { records: count, bytes: 0, seconds, recordsPerSecond: Math.round(count / seconds), megabytesPerSecond: 0 },
        checkpoints: `${n} checkpoints, durations (sampled) ${durations.map((d) => `${Math.round(d)} ms`).join(', ')}; state at the end ${info.metrics.lastCheckpoint?.stateBytes} B`,
      };
    }
    if (info.state === 'FAILED') throw new Error(`job ${label} failed: ${info.error}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function throughput(count: number, suffix: string): Promise<void> {
  const topic = `bench_cp_posts_${suffix}`;
  console.log(`\n1. throughput: ${count.toLocaleString('en-US')} events, 4 partitions, topic ${topic}`);
  console.log(fmtRate('produce', await produceEvents({ topic, count, partitions: 4, brokers: DEFAULT_BROKERS })));
  const ceiling = await measureCeiling(topic);
  const dir = mkdtempSync(join(tmpdir(), 'weir-bench-cp-'));
  const platform = await createPlatform({ dataDir: dir, brokers: DEFAULT_BROKERS.join(',') });
  try {
    await platform.execute(`${SOURCE(topic)};`);
    for (const [label, interval] of INTERVALS) {
      const { rate, checkpoints } = await runJob(platform, label, interval, suffix, count);
      console.log(`${fmtRate(`windowed, exactly-once, checkpoints ${label}`, rate)}  ratio ${(rate.recordsPerSecond / ceiling.recordsPerSecond).toFixed(2)} of ceiling; ${checkpoints}`);
    }
  } finally {
    await platform.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The windowed operator with `keys` groups in one open window, checkpointed into a real store. */
function stateSize(keys: number): void {
  console.log(`\n2. checkpoint duration and size with ${keys.toLocaleString('en-US')} keys of window state`);
  const setup = `CREATE TABLE s (uid BIGINT, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '5' SECOND) WITH ('connector' = 'kafka', 'topic' = 's');
CREATE TABLE o (ws TIMESTAMP(3), uid BIGINT, n BIGINT, total BIGINT) WITH ('connector' = 'kafka', 'topic' = 'o');`;
  const plan = planGolden({ file: 'bench', setup, query: `INSERT INTO o SELECT window_start, uid, COUNT(*), SUM(v) FROM TABLE(TUMBLE(TABLE s, DESCRIPTOR(ts), INTERVAL '1' HOUR)) GROUP BY window_start, window_end, uid`, inputs: [] });
  const sink: Downstream = { push: () => undefined, watermark: () => undefined };
  const counters = { late: 0, bad: 0, lastError: null };
  const p = buildPipeline(plan, sink, counters, 'UTC');
  const stage = new SourceStage(p.source.table, [0], p.entry, counters, { timeZone: 'UTC', idleTimeoutMs: 0, now: 0 });
  const t0 = Date.UTC(2026, 0, 1);
  for (let i = 0; i < keys; i += 10_000) {
    stage.push(0, Array.from({ length: Math.min(10_000, keys - i) }, (_, j) => [i + j, (i + j) % 100, t0 + ((i + j) % 1000)]), 0);
  }
  stage.advance(0);
  const dir = mkdtempSync(join(tmpdir(), 'weir-bench-cp-state-'));
  const store = CheckpointStore.open(dir, 'job');
  try {
    const cp = (id: number, label: string): void => {
      const t = performance.now();
      const operators = p.operators.map((op) => checkpointState(op));
      const total = store.write(id, { offsets: { 0: keys }, endOffsets: undefined, watermarks: stage.watermarks.snapshot(), operators }, 'COMPLETED');
      const ms = performance.now() - t;
      console.log(`  ${label.padEnd(48)} ${ms.toFixed(0).padStart(6)} ms; wrote ${store.lastWrite.rows.toLocaleString('en-US')} rows, ${(store.lastWrite.bytes / 1e6).toFixed(2)} MB; whole state ${(total / 1e6).toFixed(1)} MB`);
    };
    cp(1, 'first checkpoint (full)');
    stage.push(0, Array.from({ length: 1000 }, (_, j) => [j * 997, 1, t0 + 1]), 0);
    stage.advance(0);
    cp(2, 'second checkpoint, 1,000 keys changed');
    cp(3, 'third checkpoint, nothing changed');
    // Every key updated since the last checkpoint: a busy view's (or GROUP BY's) checkpoint in a steady state.
    for (let i = 0; i < keys; i += 10_000) {
      stage.push(0, Array.from({ length: Math.min(10_000, keys - i) }, (_, j) => [i + j, 1, t0 + 2]), 0);
    }
    stage.advance(0);
    cp(4, 'fourth checkpoint, every key changed');
    // The same state as one whole snapshot (the format before keyed state): every checkpoint rewrites it.
    const op = p.operators.find((o) => o.snapshot)!;
    const t = performance.now();
    const whole = store;
    whole.write(5, { offsets: { 0: keys }, endOffsets: undefined, watermarks: {}, operators: p.operators.map((o) => (o === op ? o.snapshot!() : null)) }, 'COMPLETED');
    console.log(`  ${'the same state as one whole snapshot (old format)'.padEnd(48)} ${(performance.now() - t).toFixed(0).padStart(6)} ms; wrote ${whole.lastWrite.rows} row, ${(whole.lastWrite.bytes / 1e6).toFixed(2)} MB, on every checkpoint`);
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function recovery(count: number, suffix: string): Promise<void> {
  const topic = `bench_cp_rec_${suffix}`;
  const out = benchTopic(`bench_cp_rec_out_${suffix}`);
  console.log(`\n3. recovery: kill -9 of the server mid-job, to the first new committed output (${count.toLocaleString('en-US')} events)`);
  await produceEvents({ topic, count, partitions: 4, brokers: DEFAULT_BROKERS });
  const client = createKafkaClient({ brokers: DEFAULT_BROKERS, clientId: 'weir-bench-recovery' });
  const dir = mkdtempSync(join(tmpdir(), 'weir-bench-cp-rec-'));
  const server = new ServerProcess(dir);
  try {
    await server.start();
    const sql = `${SOURCE(topic)}; ${SINK('out', out)}; SET 'execution.checkpointing.interval' = '1 s'; SET 'pipeline.name' = 'recovery'; ${INSERT('out')};`;
    const id = (await server.call('POST', '/v1/statements', { sql })).results.at(-1).jobId as string;
    const committed = async (): Promise<number> => {
      const m = await client.listOffsets(out, 'latest', { isolationLevel: 'read_committed' }).catch(() => new Map<number, number>());
      return [...m.values()].reduce((s, v) => s + v, 0);
    };
    for (;;) {
      const j = await server.call('GET', `/v1/jobs/${id}`);
      const read = (j.metrics.partitions as { offset: number }[]).reduce((s, p) => s + p.offset, 0);
      if (j.state === 'FINISHED') throw new Error('the job finished before the kill: use a larger --count');
      if (read >= count / 3 && (await committed()) > 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await server.kill('SIGKILL');
    // A commit the killed process had already sent completes on the broker by itself: let it land, so
    // that it is not taken for output of the restarted job. The restart is timed from its spawn.
    await new Promise((r) => setTimeout(r, 300));
    const from = await client.listOffsets(out, 'latest', { isolationLevel: 'read_committed' });
    const restartAt = performance.now();
    await server.start();
    const up = performance.now() - restartAt;
    // New output: a data record visible to read_committed after the offsets above (an aborted
    // transaction also moves the last stable offset, so offsets alone would not do).
    const reader = await client.openReader({ topic: out, partitions: from, isolationLevel: 'read_committed' });
    let firstOutput = 0;
    try {
      for (;;) {
        const batches = await reader.poll(100);
        if (batches.some((b) => b.records.length > 0)) {
          firstOutput = performance.now() - restartAt;
          break;
        }
        if (performance.now() - restartAt > 120_000) throw new Error('no new output within 120 s of the restart');
      }
    } finally {
      await reader.close();
    }
    console.log(
      `  restart (300 ms after kill -9) → server answers /health: ${up.toFixed(0)} ms; → first new committed output: ${firstOutput.toFixed(0)} ms ` +
        `(recovery of the job from its last checkpoint, reopening the sink, replay; output becomes visible at a checkpoint, every 1 s)`,
    );
    await server.call('POST', `/v1/jobs/${id}/stop`).catch(() => undefined);
  } finally {
    await server.kill('SIGTERM');
    for (const t of [topic, out]) await client.deleteTopic(t).catch(() => undefined);
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runCheckpointBench(argv: readonly string[]): Promise<void> {
  const args = parseArgs(argv);
  const count = Number(args.get('count') ?? 3_000_000);
  const keys = Number(args.get('keys') ?? 1_000_000);
  const only = args.get('only');
  const suffix = Date.now().toString(36);
  if (!only || only === 'throughput') await throughput(count, suffix);
  if (!only || only === 'state') stateSize(keys);
  if (!only || only === 'recovery') await recovery(count, suffix);
}
