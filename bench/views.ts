/**
 * Materialized-view benchmark (issue 4), `npm run bench -- views [--count 10000000] [--keys 100000]
 * [--clients 50] [--mode updating|windowed] [--rate 20000] [--seconds 10] [--checkpoint '1 s'] [--slice-ms 4|Infinity] [--only maintenance]
 * [--parallelism 1,2,2rows,1mb,1off,1floor,1lean,2lean,...] [--mini-batch '5 s',1000000] [--clients-in process|worker] [--client http|fetch] [--job-slice-ms 5|Infinity]`:
 *
 * (a) view maintenance rate: events/s into a view of a GROUP BY with `--keys` distinct keys, over a
 *     bounded topic, beside the raw consume rate of the same topic measured in the same run (the ceiling).
 *     10M events by default: the run ends with one checkpoint of every key (~0.1 s for 100,000), which a
 *     1M-event run (~0.12 s of raw reading here) weighed as if the view checkpointed ten times a second of
 *     reading; a view that keeps running checkpoints every 5 s (15–35M events at these rates). Runs of 1M
 *     and 3M are in docs/benchmarks.md;
 * (b) POST /v1/query point lookups (one key per query) with `--clients` concurrent HTTP clients while the
 *     same view over a live topic follows a producer (another process) writing `--rate` events/s for
 *     `--seconds`: latency p50/p95/p99 (target p99 < 20 ms), and the server's event-loop delay meanwhile;
 * (c) the same lookups on the view once it no longer changes; (d) the same straight into a QueryPool (no HTTP).
 *
 * `--parallelism` runs (a) once per item, in order, each with its own view job and `SET 'parallelism.default'`
 * to the number (default: one run, the server's default); `Nrows` is N instances that hand the GROUP BY
 * rows instead of partial aggregates (WEIR_GROUP_PARTIALS=off, the code path before local pre-aggregation);
 * `Nmb` is N with mini-batch aggregation as `--mini-batch` says (table.exec.mini-batch.*, default '5 s' and
 * 1,000,000 rows), `Noff` N with it off; plain `N` has a view's default (a mini-batch per checkpoint);
 * `Nfloor` a view that keeps nothing (`WHERE uid < 0`), the most any view over this topic can do; after the
 * first floor item (updating mode), the view's best case here: that floor plus bench/views-least.ts.
 * `Nlean` (updating mode): no view, the same GROUP BY as a lean loop in N threads with their own readers,
 * decoding and folding each event at once, then plain sorted SQLite writes (bench/views-lean.ts).
 * (b)-(d) use the first item.
 *
 * The platform and its REST server run in this process, as `weir server` does; the clients run in a
 * process of their own (`--clients-in process`, the default; `worker`: a worker thread of this process, as
 * before 2026-11-26), so their own work does not count into the server's latency. `--client`: node:http
 * requests over kept-alive connections (the default) or fetch() (before 2026-11-26, ~10x the CPU per request).
 * 'updating' is `SELECT uid, COUNT(*), SUM(att) ... GROUP BY uid`; 'windowed' a TUMBLE of one day with
 * GROUP BY window_start, window_end, uid (one window holds every key).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fork, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { createKafkaClient } from '../connectors/kafka/client.ts';
import type { ProducerRecord } from '../connectors/kafka/client.ts';
import { formatTimestamp } from '../connectors/formats/timestamp.ts';
import { QueryPool } from '../connectors/sqlite/query-pool.ts';
import { ViewStore } from '../connectors/sqlite/view-store.ts';
import { CheckpointStore } from '../jobs/checkpoint-store.ts';
import { pollSlicing } from '../jobs/poll-slices.ts';
import type { JobInfo, Platform } from '../jobs/api.ts';
import { createPlatform } from '../jobs/platform.ts';
import { buildServer } from '../server/app.ts';
import { DEFAULT_BROKERS, EVENT_EPOCH_MS, benchTopic, cpuPerRecord, fmtRate, measureCeiling, measureRawConsume, parseArgs, produceEvents, sampleCpu, startProfile } from './util.ts';
import type { RateResult } from './util.ts';
import { leanView } from './views-lean.ts';
import { leastViewWork } from './views-least.ts';
import type { ReadOrder } from './views-least.ts';

type Mode = 'updating' | 'windowed';

/** The i-th event: a microblog post whose uid cycles through `keys` distinct values (7919 is prime to 10^5). */
function keyedEvent(keys: number): (i: number) => string {
  return (i) =>
    `{"uid":${(i * 7919) % keys},"tid":${4_000_000_000 + i},"time":"${formatTimestamp(EVENT_EPOCH_MS + i * 10)}","loc":"city${i % 8}","att":${i % 11}}`;
}

const TABLE = (topic: string) => `CREATE TABLE posts (uid BIGINT, tid BIGINT, \`time\` TIMESTAMP(3), loc STRING, att INT,
  WATERMARK FOR \`time\` AS \`time\` - INTERVAL '5' SECOND
) WITH ('connector' = 'kafka', 'topic' = '${topic}', 'format' = 'json', 'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset')`;

function viewSql(mode: Mode, name: string, table = 'posts'): string {
  switch (mode) {
    case 'updating':
      return `CREATE MATERIALIZED VIEW ${name} AS SELECT uid, COUNT(*) AS posts, SUM(att) AS att FROM ${table} GROUP BY uid`;
    case 'windowed':
      return `CREATE MATERIALIZED VIEW ${name} AS SELECT window_start, window_end, uid, COUNT(*) AS posts, SUM(att) AS att
FROM TABLE(TUMBLE(TABLE ${table}, DESCRIPTOR(\`time\`), INTERVAL '1' DAY)) GROUP BY window_start, window_end, uid`;
    default: {
      const never: never = mode;
      return never;
    }
  }
}

/** A point lookup by the view's key (the windowed view's key starts with the window bounds). */
function lookupTemplate(mode: Mode, name: string): string {
  const day = formatTimestamp(EVENT_EPOCH_MS);
  const next = formatTimestamp(EVENT_EPOCH_MS + 86_400_000);
  return mode === 'updating'
    ? `SELECT uid, posts, att FROM ${name} WHERE uid = $KEY`
    : `SELECT uid, posts, att FROM ${name} WHERE window_start = '${day}' AND window_end = '${next}' AND uid = $KEY`;
}

/**
 * The clients: `clients` loops, each POSTing one lookup after the other until told to stop. Run either in a
 * worker thread of this process or in a child process of their own (`--clients-in`): in a worker, their
 * fetch() work shares this process (its heap, GC and libuv) with the server it measures.
 * Also reports the clients' own event-loop utilization (how busy their thread was).
 */
const CLIENTS = `
const wt = require('node:worker_threads');
const port = wt.parentPort ?? { on: (e, f) => process.on(e, f), postMessage: (m) => process.send(m) };
const { url, template, keys, clients, client } = wt.parentPort ? wt.workerData : JSON.parse(process.env.WEIR_BENCH_CLIENTS);
let stop = false;
const lat = [];
let errors = 0;
let lastError = '';
let rows = 0;
port.on('message', () => { stop = true; });
const elu0 = performance.eventLoopUtilization();
const cpu0 = process.cpuUsage();
// fetch() costs ~0.3 ms of the clients' CPU per request (WHATWG streams over undici), several times the
// server's work for a lookup: with it the clients' own thread is the bottleneck (docs/benchmarks.md). 'http' is node:http over kept-alive
// connections, one per client loop.
const agent = new (require('node:http').Agent)({ keepAlive: true, maxSockets: clients });
const target = new URL(url);
function post(body) {
  return new Promise((resolve, reject) => {
    const req = require('node:http').request({ agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => { try { resolve({ status: res.statusCode, body: JSON.parse(Buffer.concat(chunks).toString()) }); } catch (e) { reject(e); } });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
async function fetchPost(body) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: res.status, body: await res.json() };
}
const send = client === 'fetch' ? fetchPost : post;
async function loop(c) {
  let k = c * 7;
  while (!stop) {
    k = (k * 48271 + 11) % keys;
    const t0 = performance.now();
    try {
      const res = await send(JSON.stringify({ sql: template.replace('$KEY', String(k)) }));
      if (res.status !== 200) { errors++; lastError = JSON.stringify(res.body).slice(0, 200); }
      else rows += res.body.rows.length;
    } catch (e) { errors++; lastError = String(e); }
    lat.push(performance.now() - t0);
  }
}
Promise.all(Array.from({ length: clients }, (_, c) => loop(c))).then(() => {
  const cpu = process.cpuUsage(cpu0);
  port.postMessage({ lat, errors, lastError, rows, elu: performance.eventLoopUtilization(elu0).utilization, cpuMs: wt.parentPort ? undefined : (cpu.user + cpu.system) / 1000 });
});
`;

type ClientsIn = 'worker' | 'process';
type ClientKind = 'http' | 'fetch';

interface LoadResult {
  readonly lat: number[];
  readonly errors: number;
  readonly lastError: string;
  readonly rows: number;
  /** The clients' event-loop utilization (0..1). */
  readonly elu: number;
  /** The client process's CPU time (process mode only: in a worker, process.cpuUsage counts the server too). */
  readonly cpuMs?: number;
}

function startClients(
  where: ClientsIn,
  client: ClientKind,
  dir: string,
  url: string,
  template: string,
  keys: number,
  clients: number,
): { stop: () => Promise<LoadResult> } {
  const workerData = { url, template, keys, clients, client };
  switch (where) {
    case 'worker': {
      const w = new Worker(CLIENTS, { eval: true, workerData });
      const done = new Promise<LoadResult>((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
      });
      return {
        stop: async () => {
          w.postMessage('stop');
          const r = await done;
          await w.terminate();
          return r;
        },
      };
    }
    case 'process': {
      const script = join(dir, 'clients.cjs');
      writeFileSync(script, CLIENTS);
      const child = fork(script, [], { env: { ...process.env, WEIR_BENCH_CLIENTS: JSON.stringify(workerData) }, execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      const done = new Promise<LoadResult>((resolve, reject) => {
        child.once('message', (m) => resolve(m as LoadResult));
        child.once('error', reject);
        child.once('exit', (code) => reject(new Error(`query clients exited with ${code}`)));
      });
      return {
        stop: async () => {
          child.send('stop');
          const r = await done;
          child.kill();
          return r;
        },
      };
    }
    default: {
      const never: never = where;
      throw new Error(`unknown --clients-in ${String(never)}`);
    }
  }
}

/** The server thread's event-loop utilization and this process's CPU time since `start()`. */
function serverLoad(): { end: () => string } {
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  return {
    end: () => {
      const cpu = process.cpuUsage(cpu0);
      const s = (performance.now() - t0) / 1000;
      return `server thread busy ${(performance.eventLoopUtilization(elu0).utilization * 100).toFixed(0)} %, server process CPU ${((cpu.user + cpu.system) / 1e6 / s).toFixed(2)} cores`;
    },
  };
}

/** What the clients cost themselves: their loop's utilization, and their process's CPU when they have one. */
function clientLoad(r: LoadResult, seconds: number): string {
  return `clients' thread busy ${(r.elu * 100).toFixed(0)} %${r.cpuMs !== undefined ? `, client process CPU ${(r.cpuMs / 1000 / seconds).toFixed(2)} cores` : ''}`;
}

/**
 * Produces `rate` events/s for `seconds` from a child process (this file, see the bottom), so that the
 * feed costs the server's process nothing; resolves with the count produced.
 */
function startProducer(topic: string, keys: number, rate: number, seconds: number): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
    env: { ...process.env, WEIR_BENCH_VIEWS_PRODUCER: JSON.stringify({ topic, keys, rate, seconds }) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(Number(out.trim())) : reject(new Error(`producer exited with ${code}`))));
  });
}

async function runProducer(cfg: { topic: string; keys: number; rate: number; seconds: number }): Promise<number> {
  const client = createKafkaClient({ brokers: DEFAULT_BROKERS, clientId: 'weir-bench-live-producer' });
  await client.createTopic(cfg.topic, 4);
  const writer = await client.openWriter({ acks: 1 });
  const event = keyedEvent(cfg.keys);
  const tickMs = 50;
  const perTick = Math.max(1, Math.round((cfg.rate * tickMs) / 1000));
  const t0 = performance.now();
  let i = 0;
  while (performance.now() - t0 < cfg.seconds * 1000) {
    const records: ProducerRecord[] = [];
    for (let j = 0; j < perTick; j++, i++) records.push({ topic: cfg.topic, key: null, value: Buffer.from(event(i)) });
    await writer.send(records);
    const ahead = t0 + (i / cfg.rate) * 1000 - performance.now();
    if (ahead > 0) await new Promise((r) => setTimeout(r, ahead));
  }
  await writer.close();
  await client.close();
  return i;
}

function pct(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 10) / 10;
}

/**
 * One --parallelism item: `N`, `Nrows` (N instances handing the aggregate rows, not partials), `Nmb`
 * (mini-batch as --mini-batch says), `Noff` (mini-batch off) or `Nfloor` (not the GROUP BY but a view
 * that keeps nothing: every event read and its key decoded, no state, no rows; the floor of any view here).
 */
function parseParallelism(item: string): { n: number; rows: boolean; miniBatch: boolean; noMiniBatch: boolean; floor: boolean; lean: boolean } {
  const m = /^(\d+)(rows|mb|off|floor|lean)?$/.exec(item.trim());
  if (!m || Number(m[1]) < 1) throw new Error(`--parallelism takes a list of N, Nrows, Nmb, Noff, Nfloor or Nlean (N >= 1), not ${item}`);
  return { n: Number(m[1]), rows: m[2] === 'rows', miniBatch: m[2] === 'mb', noMiniBatch: m[2] === 'off', floor: m[2] === 'floor', lean: m[2] === 'lean' };
}

/** The topic's events' uid and att in the order a reader gets them (one more read, not timed). */
async function readOrder(topic: string, count: number): Promise<ReadOrder> {
  const uid = new Float64Array(count);
  const att = new Float64Array(count);
  let n = 0;
  await measureRawConsume(topic, DEFAULT_BROKERS, {
    onBatch: (records) => {
      for (const r of records) {
        if (n >= count || r.value === null) continue;
        const e = JSON.parse(r.value.toString()) as { uid: number; att: number };
        uid[n] = e.uid;
        att[n++] = e.att;
      }
    },
  });
  if (n !== count) throw new Error(`read ${n} events of ${count} back from ${topic}`);
  return { uid, att };
}

/** The topic's end offsets per partition (what a bounded read stops at). */
async function endOffsets(topic: string): Promise<Map<number, number>> {
  const client = createKafkaClient({ brokers: DEFAULT_BROKERS, clientId: 'weir-bench-views-ends' });
  try {
    return await client.listOffsets(topic, 'latest');
  } finally {
    await client.close();
  }
}

/** Submits the view and waits for its bounded job to finish; the rate counts from the first record read. */
async function maintain(platform: Platform, sql: string, count: number): Promise<{ rate: RateResult; job: JobInfo; startupMs: number; cpu: string }> {
  const submitted = performance.now();
  // CPU per event from the first record read to FINISHED (not the start-up, e.g. instances' boot): steadier
  // than the wall time between runs.
  let cpu0 = sampleCpu();
  // WEIR_BENCH_PROFILE=dir: a CPU profile of this thread while the job runs (not the produce and ceiling before it).
  const profiling = process.env['WEIR_BENCH_PROFILE'] ? await startProfile() : undefined;
  const res = await platform.execute(`${sql};`);
  const id = res.find((r) => r.kind === 'job')?.jobId;
  if (!id) throw new Error(`no job from: ${sql}`);
  let t0 = 0;
  for (;;) {
    const info = platform.getJob(id)!;
    if (t0 === 0 && info.metrics.recordsIn > 0) {
      t0 = performance.now();
      cpu0 = sampleCpu();
    }
    if (info.state === 'FINISHED') {
      const seconds = (performance.now() - (t0 || submitted)) / 1000;
      if (profiling) await profiling.stop(join(process.env['WEIR_BENCH_PROFILE']!, `view-job-${Date.now()}.cpuprofile`));
      return {
        rate: { records: count, bytes: 0, seconds, recordsPerSecond: Math.round(count / seconds), megabytesPerSecond: 0 },
        job: info,
        startupMs: Math.round((t0 || performance.now()) - submitted),
        cpu: cpuPerRecord(cpu0, sampleCpu(), count),
      };
    }
    if (info.state === 'FAILED') throw new Error(`view job failed: ${info.error}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export async function runViewsBench(argv: readonly string[]): Promise<void> {
  const args = parseArgs(argv);
  const count = Number(args.get('count') ?? 10_000_000);
  const keys = Number(args.get('keys') ?? 100_000);
  const clients = Number(args.get('clients') ?? 50);
  const mode = (args.get('mode') ?? 'updating') as Mode;
  const rate = Number(args.get('rate') ?? 20_000);
  const seconds = Number(args.get('seconds') ?? 10);
  const checkpoint = args.get('checkpoint') ?? '1 s';
  // How long one slice of a checkpoint's SQLite work may hold the thread; Infinity: in one go (the code path
  // before the sliced writes, kept for comparison).
  const sliceMs = args.has('slice-ms') ? Number(args.get('slice-ms')) : undefined;
  if (sliceMs !== undefined) {
    if (!(sliceMs > 0)) throw new Error(`--slice-ms must be a positive number of ms or Infinity, not ${args.get('slice-ms')}`);
    ViewStore.sliceMs = sliceMs;
    CheckpointStore.sliceMs = sliceMs;
  }
  const parallelisms = (args.get('parallelism') ?? '').split(',').filter((x) => x !== '').map(parseParallelism);
  const miniBatch = (args.get('mini-batch') ?? '5 s,1000000').split(',');
  // How long the job may push one poll's rows before the event loop gets a turn; Infinity: the whole poll at once.
  if (args.has('job-slice-ms')) {
    const ms = Number(args.get('job-slice-ms'));
    if (!(ms > 0)) throw new Error(`--job-slice-ms must be a positive number of ms or Infinity, not ${args.get('job-slice-ms')}`);
    pollSlicing.ms = ms;
  }
  const clientsIn = (args.get('clients-in') ?? 'process') as ClientsIn;
  if (clientsIn !== 'process' && clientsIn !== 'worker') throw new Error(`--clients-in process|worker, not ${clientsIn}`);
  const clientKind = (args.get('client') ?? 'http') as ClientKind;
  if (clientKind !== 'http' && clientKind !== 'fetch') throw new Error(`--client http|fetch, not ${clientKind}`);
  const only = args.get('only');
  if (only !== undefined && only !== 'maintenance') throw new Error(`--only maintenance (or nothing: every part), not ${only}`);
  if (mode !== 'updating' && mode !== 'windowed') throw new Error(`--mode updating|windowed, not ${mode}`);
  const suffix = Date.now().toString(36);
  const topic = `bench_views_${suffix}`;
  console.log(
    `views benchmark (${mode}): ${count.toLocaleString('en-US')} events, ${keys.toLocaleString('en-US')} keys, 4 partitions, ${clients} query clients, ` +
      `checkpoint slices of ${ViewStore.sliceMs} ms, job slices of ${pollSlicing.ms} ms, topic ${topic}`,
  );
  const produced = await produceEvents({ topic, count, partitions: 4, brokers: DEFAULT_BROKERS, event: keyedEvent(keys) });
  console.log(fmtRate('produce', produced));
  const ceiling = await measureCeiling(topic);
  const ends = await endOffsets(topic);
  const dir = mkdtempSync(join(tmpdir(), 'weir-bench-views-'));
  const platform = await createPlatform({ dataDir: dir, brokers: DEFAULT_BROKERS.join(',') });
  const app = await buildServer(platform);
  try {
    const url = `${await app.listen({ port: 0, host: '127.0.0.1' })}/v1/query`;
    await platform.execute(`${TABLE(topic)};`);

    // (a) maintenance alone (once per --parallelism item).
    let floorSeconds: number | undefined;
    for (const [i, par] of (parallelisms.length > 0 ? parallelisms : [undefined]).entries()) {
      if (par?.lean) {
        if (mode !== 'updating') throw new Error('--parallelism Nlean: the updating view only');
        const profilingL = process.env['WEIR_BENCH_PROFILE'] ? await startProfile() : undefined;
        const lean = await leanView(topic, ends, par.n, dir);
        if (profilingL) await profilingL.stop(join(process.env['WEIR_BENCH_PROFILE']!, `view-lean-${Date.now()}.cpuprofile`));
        const rate = { records: count, bytes: 0, seconds: lean.seconds, recordsPerSecond: Math.round(count / lean.seconds), megabytesPerSecond: 0 };
        console.log(
          `${fmtRate(`(a) the same GROUP BY as a lean loop, ${par.n} thread${par.n > 1 ? 's' : ''} (no engine; bench/views-lean.ts)`, rate)}  ratio ${(rate.recordsPerSecond / ceiling.recordsPerSecond).toFixed(2)} of ceiling; ` +
            `read, decode and fold ${lean.foldMs.map((ms) => ms.toFixed(0)).join('/')} ms, merge, sort and write ${lean.groups.toLocaleString('en-US')} rows and their state ${lean.writeMs.toFixed(0)} ms`,
        );
        continue;
      }
      const view = i === 0 ? 'stats_a' : `stats_a${i}`;
      if (par?.rows) process.env['WEIR_GROUP_PARTIALS'] = 'off';
      try {
        const set =
          (par ? `SET 'parallelism.default' = '${par.n}'; ` : '') +
          (par?.miniBatch
            ? `SET 'table.exec.mini-batch.enabled' = 'true'; SET 'table.exec.mini-batch.allow-latency' = '${miniBatch[0]}'; SET 'table.exec.mini-batch.size' = '${miniBatch[1]}'; `
            : par?.noMiniBatch
              ? "SET 'table.exec.mini-batch.enabled' = 'false'; "
              : '');
        // The job runs on the server's thread: how long it held that thread at most (a request would wait).
        const aDelay = monitorEventLoopDelay({ resolution: 5 });
        aDelay.enable();
        const sql = par?.floor ? `CREATE MATERIALIZED VIEW ${view} AS SELECT uid FROM posts WHERE uid < 0` : viewSql(mode, view);
        const a = await maintain(platform, `${set}${sql}`, count);
        aDelay.disable();
        if (par?.floor) floorSeconds ??= a.rate.seconds;
        const rows = await platform.execute(`SELECT COUNT(*) AS n FROM ${view};`);
        const label = par ? `, p=${par.n}${par.floor ? ' (floor: a view that keeps nothing)' : ''}${par.rows ? ' (rows, no pre-aggregation)' : ''}${par.miniBatch ? `, mini-batch ${miniBatch.join('/')}` : par.noMiniBatch ? ', mini-batch off' : ''}` : '';
        console.log(
          `${fmtRate(`(a) view maintenance, ${mode}${label}`, a.rate)}  ratio ${(a.rate.recordsPerSecond / ceiling.recordsPerSecond).toFixed(2)} of ceiling; start-up ${a.startupMs} ms; view rows ${JSON.stringify(rows[0]?.rows?.[0]?.[0])}; ` +
            `last checkpoint ${a.job.metrics.lastCheckpoint?.durationMs ?? '-'} ms; ${a.cpu}; event-loop delay p99 ${(aDelay.percentile(99) / 1e6).toFixed(1)} ms, max ${(aDelay.max / 1e6).toFixed(1)} ms`,
        );
      } finally {
        if (par?.rows) delete process.env['WEIR_GROUP_PARTIALS'];
      }
    }

    if (floorSeconds !== undefined && mode === 'updating') {
      // The floor plus the least the GROUP BY must add (bench/views-least.ts): no view of it can do better here.
      const least = leastViewWork(await readOrder(topic, count), dir);
      const best = floorSeconds + (least.aggregateMs + least.writeMs) / 1000;
      console.log(
        `(a) best case of this view here: the floor's ${floorSeconds.toFixed(2)} s + ${least.aggregateMs.toFixed(0)} ms folding the events into ${keys.toLocaleString('en-US')} keys in a plain Map ` +
          `+ ${least.writeMs.toFixed(0)} ms writing the view's rows and state with plain better-sqlite3 = ${best.toFixed(2)} s: ` +
          `at most ${Math.round(count / best).toLocaleString('en-US')} events/s, ratio ${(count / best / ceiling.recordsPerSecond).toFixed(2)} of ceiling`,
      );
    }

    if (only === 'maintenance') return;

    // (b) lookups while a view is kept up to date from a live feed (a producer in another process at a
    // fixed rate), as a dashboard would query it.
    const liveTopic = benchTopic(`${topic}_live`);
    await platform.execute(`${TABLE(liveTopic).replace('CREATE TABLE posts', 'CREATE TABLE posts_live').replace(", 'scan.bounded.mode' = 'latest-offset'", '')};`);
    const producer = startProducer(liveTopic, keys, rate, seconds);
    // A view shows what its last checkpoint committed: checkpoint every second, as a live dashboard would.
    const liveSet = parallelisms[0] ? `SET 'parallelism.default' = '${parallelisms[0].n}'; ` : '';
    if (parallelisms[0]?.rows) process.env['WEIR_GROUP_PARTIALS'] = 'off';
    const live = await platform.execute(`${liveSet}SET 'execution.checkpointing.interval' = '${checkpoint}'; ${viewSql(mode, 'stats_live', 'posts_live')};`);
    delete process.env['WEIR_GROUP_PARTIALS'];
    const liveId = live.find((x) => x.kind === 'job')!.jobId!;
    // The server's event loop runs the job too: its stalls are the floor of every answer's latency.
    const loopDelay = monitorEventLoopDelay({ resolution: 5 });
    loopDelay.enable();
    const serverB = serverLoad();
    const profilingB = process.env['WEIR_BENCH_PROFILE'] ? await startProfile() : undefined;
    const load = startClients(clientsIn, clientKind, dir, url, lookupTemplate(mode, 'stats_live'), keys, clients);
    const t0 = performance.now();
    const produced = await producer;
    const r = await load.stop();
    const elapsed = (performance.now() - t0) / 1000;
    const serverBLoad = serverB.end();
    if (profilingB) await profilingB.stop(join(process.env['WEIR_BENCH_PROFILE']!, `view-lookups-${Date.now()}.cpuprofile`));
    loopDelay.disable();
    const info = platform.getJob(liveId)!;
    await platform.stopJob(liveId);
    const sorted = [...r.lat].sort((x, y) => x - y);
    console.log(
      `(b) POST /v1/query point lookups, ${clients} clients, while the view follows ${produced.toLocaleString('en-US')} events at ${rate.toLocaleString('en-US')}/s ` +
        `(job read ${info.metrics.recordsIn.toLocaleString('en-US')} by the end): ${r.lat.length.toLocaleString('en-US')} queries (${Math.round(r.lat.length / elapsed)}/s, ${r.rows} rows found), ` +
        `p50 ${pct(sorted, 0.5)} ms, p95 ${pct(sorted, 0.95)} ms, p99 ${pct(sorted, 0.99)} ms, max ${pct(sorted, 1)} ms, errors ${r.errors}${r.errors ? ` (${r.lastError})` : ''}`,
    );
    console.log(`    server event-loop delay meanwhile: p50 ${(loopDelay.percentile(50) / 1e6).toFixed(1)} ms, p99 ${(loopDelay.percentile(99) / 1e6).toFixed(1)} ms, max ${(loopDelay.max / 1e6).toFixed(1)} ms; ${serverBLoad}; ${clientLoad(r, elapsed)}`);

    // (c) the same lookups on the finished view: the query path alone.
    const serverC = serverLoad();
    const idle = startClients(clientsIn, clientKind, dir, url, lookupTemplate(mode, 'stats_live'), keys, clients);
    await new Promise((res) => setTimeout(res, 3000));
    const c = await idle.stop();
    const serverCLoad = serverC.end();
    const cs = [...c.lat].sort((x, y) => x - y);
    console.log(
      `(c) POST /v1/query point lookups on the idle view, ${clients} clients: ${c.lat.length.toLocaleString('en-US')} queries (${Math.round(c.lat.length / 3)}/s), ` +
        `p50 ${pct(cs, 0.5)} ms, p95 ${pct(cs, 0.95)} ms, p99 ${pct(cs, 0.99)} ms, max ${pct(cs, 1)} ms, errors ${c.errors}; ${serverCLoad}; ${clientLoad(c, 3)}`,
    );

    // (d) the same lookups straight into a query pool over the same store: the query path without HTTP.
    const pool = new QueryPool({ path: join(dir, 'views.db') });
    try {
      const template = lookupTemplate(mode, 'stats_live');
      const lat: number[] = [];
      let stop = false;
      const loop = async (c: number): Promise<void> => {
        let k = c * 7;
        while (!stop) {
          k = (k * 48271 + 11) % keys;
          const t = performance.now();
          await pool.run(template.replace('$KEY', String(k)));
          lat.push(performance.now() - t);
        }
      };
      setTimeout(() => (stop = true), 3000);
      await Promise.all(Array.from({ length: clients }, (_, c) => loop(c)));
      const ds = lat.sort((x, y) => x - y);
      console.log(`(d) the same lookups through the query pool alone (no HTTP), ${clients} at once: ${Math.round(ds.length / 3)}/s, p50 ${pct(ds, 0.5)} ms, p99 ${pct(ds, 0.99)} ms`);
    } finally {
      pool.close();
    }
  } finally {
    await app.close();
    await platform.close();
    rmSync(dir, { recursive: true, force: true });
    const client = createKafkaClient({ brokers: DEFAULT_BROKERS, clientId: 'weir-bench-cleanup' });
    await client.deleteTopic(topic).catch(() => undefined);
    await client.deleteTopic(`${topic}_live`).catch(() => undefined);
    await client.close();
  }
}

const producerTask = process.env['WEIR_BENCH_VIEWS_PRODUCER'];
if (producerTask) {
  process.stdout.write(`${await runProducer(JSON.parse(producerTask) as Parameters<typeof runProducer>[0])}\n`);
  process.exit(0);
}
