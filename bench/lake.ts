/**
 * `node --import tsx bench/lake.ts [--count N] [--codec SNAPPY|GZIP|NONE]`: the filesystem (parquet) sink
 * alone, fed cleaned Weibo-like rows in batches as a job feeds it, partitioned by dt/hr, with a checkpoint
 * (prepare + commit) every 50,000 rows. Prints rows/s, MB/s of Parquet written, and the event-loop delay
 * p99 while writing (encoding runs on the event loop; docs/lake.md). No broker: compare with
 * `npm run bench -- kafka-raw` for the consume ceiling.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { filesystemConnector } from '../connectors/filesystem/index.ts';
import type { Row } from '../connectors/types.ts';
import { T } from '../engine/plan/types.ts';
import { WeiboGenerator } from '../examples/weibo/generator.ts';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : dflt;
}

function totalBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? totalBytes(p) : statSync(p).size;
  }
  return n;
}

const count = Number(arg('--count', '500000'));
const codec = arg('--codec', 'SNAPPY');
const columns = [
  { name: 'uid', type: T.bigint }, { name: 'tid', type: T.bigint }, { name: 'time', type: T.timestamp },
  { name: 'text', type: T.string }, { name: 'loc', type: T.string }, { name: 'type', type: T.string },
  { name: 'rt', type: T.boolean }, { name: 'rtid', type: T.bigint }, { name: 'ret', type: T.int },
  { name: 'mre', type: T.int }, { name: 'att', type: T.int }, { name: 'dt', type: T.string }, { name: 'hr', type: T.string },
];
const gen = new WeiboGenerator({ seed: 7, startMs: Date.UTC(2026, 10, 25, 0, 0, 0), stepMs: 200, jitterMs: 2000, users: 10_000, badRate: 0 });
const rows: Row[] = [];
while (rows.length < count) {
  const e = gen.next();
  if (typeof e === 'string') continue;
  const ms = Date.parse(e.time.replace(' ', 'T') + 'Z');
  rows.push([e.uid, e.tid, ms, e.text, e.loc, e.type, e.rt, e.rtid, e.ret, e.mre, e.att, e.time.slice(0, 10), e.time.slice(11, 13)]);
}
const dir = mkdtempSync(join(tmpdir(), 'weir-bench-lake-'));
const sink = await filesystemConnector.createSink!({
  table: 'lake', columns, brokers: '', jobId: 'bench', jobName: 'bench', timeZone: 'UTC', checkpointIntervalMs: 5000,
  options: { connector: 'filesystem', path: dir, format: 'parquet', 'parquet.compression': codec }, partitionedBy: ['dt', 'hr'],
});
await sink.committer!.recover(undefined);
const h = monitorEventLoopDelay({ resolution: 10 });
h.enable();
const t0 = performance.now();
let ckpt = 0;
for (let i = 0; i < rows.length; i += 2000) {
  sink.write(rows.slice(i, i + 2000));
  await sink.flush();
  if ((i + 2000) % 50_000 === 0 || i + 2000 >= rows.length) {
    await sink.committer!.prepare(++ckpt);
    await sink.committer!.commit(ckpt);
  }
  // A job awaits its source between batches: let timers run, as they would.
  await new Promise<void>((r) => setImmediate(r));
}
const secs = (performance.now() - t0) / 1000;
h.disable();
const bytes = totalBytes(dir);
console.log(
  JSON.stringify({ rows: count, codec, seconds: +secs.toFixed(2), rowsPerSec: Math.round(count / secs), mbPerSec: +(bytes / 1e6 / secs).toFixed(1), fileMB: +(bytes / 1e6).toFixed(1), eventLoopP99Ms: +(h.percentile(99) / 1e6).toFixed(1), eventLoopMaxMs: +(h.max / 1e6).toFixed(1) }),
);
await sink.close();
rmSync(dir, { recursive: true, force: true });
