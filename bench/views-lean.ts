/**
 * The view bench's GROUP BY (`SELECT uid, COUNT(*), SUM(att) ... GROUP BY uid`) as a lean loop, with no
 * engine around it: `threads` threads (this one and workers), each with its own Kafka reader over its share
 * of the topic's partitions, decoding every record with the job's JSON decoder (the same three columns) and
 * folding it at once into its own groups (an IntNumberTable and typed arrays); then the partial groups
 * merged, sorted by key, and written with plain better-sqlite3 into tables shaped as the view store's and
 * the checkpoint store's (WAL, synchronous FULL; view rows 64 per statement, state as JSON segments of 512
 * entries). What a view of this query costs on this machine with nothing but the work itself
 * (`views --parallelism 1lean,2lean`), measured in the same run as the ceiling; bench/views-least.ts adds
 * up separately timed parts instead.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createJsonDecoder } from '../connectors/formats/json.ts';
import { createKafkaClient, eachValueOf } from '../connectors/kafka/client.ts';
import { IntNumberTable } from '../engine/ops/int-key-table.ts';
import { T } from '../engine/plan/types.ts';
import type { SqlType } from '../engine/plan/types.ts';
import { DEFAULT_BROKERS } from './util.ts';

/** One thread's groups: key, COUNT(*) and SUM(att) of group i at index i. */
interface Partials {
  readonly keys: Int32Array<ArrayBuffer>;
  readonly posts: Float64Array<ArrayBuffer>;
  readonly att: Float64Array<ArrayBuffer>;
  /** Wall time of this thread's reading, decoding and folding. */
  readonly ms: number;
}

export interface LeanResult {
  readonly seconds: number;
  /** Each thread's reading, decoding and folding. */
  readonly foldMs: readonly number[];
  /** Merging the threads' groups, sorting them and writing view rows and state. */
  readonly writeMs: number;
  readonly groups: number;
}

/** The view bench's events as a table (bench/views.ts TABLE): uid, time and att read, tid and loc not. */
const COLUMNS: readonly { name: string; type: SqlType }[] = [
  { name: 'uid', type: T.bigint },
  { name: 'tid', type: T.bigint },
  { name: 'time', type: { kind: 'TIMESTAMP', precision: 3 } as SqlType },
  { name: 'loc', type: T.string },
  { name: 'att', type: T.int },
];

/** Reads `partitions` up to their end offsets, folding every event into this thread's groups. */
async function foldPartitions(topic: string, partitions: readonly number[], ends: ReadonlyMap<number, number>): Promise<Partials> {
  const decode = createJsonDecoder(COLUMNS, { ignoreParseErrors: false, timestampStandard: 'SQL', fields: [true, false, true, false, true] });
  const at = decode.at!;
  const client = createKafkaClient({ brokers: DEFAULT_BROKERS, clientId: 'weir-bench-lean' });
  const reader = await client.openReader({ topic, partitions: new Map(partitions.map((p) => [p, 0])) });
  const table = new IntNumberTable();
  let cap = 1 << 16;
  let keys = new Int32Array(cap);
  let posts = new Float64Array(cap);
  let att = new Float64Array(cap);
  let n = 0;
  const remaining = new Map(partitions.filter((p) => (ends.get(p) ?? 0) > 0).map((p) => [p, ends.get(p)!]));
  const t0 = performance.now();
  while (remaining.size > 0) {
    for (const b of await reader.poll(1000)) {
      const end = remaining.get(b.partition);
      if (end === undefined) continue;
      eachValueOf(b)((bytes, start, stop, offset) => {
        if (offset >= end) return;
        const row = at(bytes, start, stop)!;
        const k = row[0] as number;
        let g = table.get(k);
        if (g < 0) {
          if (n === cap) {
            cap *= 2;
            keys = grown(keys, new Int32Array(cap));
            posts = grown(posts, new Float64Array(cap));
            att = grown(att, new Float64Array(cap));
          }
          g = n++;
          table.set(k, g);
          keys[g] = k;
        }
        posts[g]++;
        att[g] += row[4] as number;
      });
      if (b.nextOffset >= end) {
        remaining.delete(b.partition);
        reader.remove(b.partition);
      }
    }
  }
  const ms = performance.now() - t0;
  await reader.close();
  await client.close();
  return { keys: keys.slice(0, n), posts: posts.slice(0, n), att: att.slice(0, n), ms };
}

function grown<A extends Int32Array<ArrayBuffer> | Float64Array<ArrayBuffer>>(old: A, into: A): A {
  into.set(old);
  return into;
}

/** The threads' groups merged, in key order (the cheapest order for SQLite's B-trees), written as a view's rows and state. */
function writeView(parts: readonly Partials[], file: string): { ms: number; groups: number } {
  const t0 = performance.now();
  const table = new IntNumberTable();
  const total = parts.reduce((s, p) => s + p.keys.length, 0);
  const keys = new Int32Array(total);
  const posts = new Float64Array(total);
  const att = new Float64Array(total);
  let n = 0;
  for (const p of parts) {
    for (let i = 0; i < p.keys.length; i++) {
      const k = p.keys[i]!;
      let g = table.get(k);
      if (g < 0) {
        g = n++;
        table.set(k, g);
        keys[g] = k;
      }
      posts[g] += p.posts[i]!;
      att[g] += p.att[i]!;
    }
  }
  // Key order through one native sort: key and group number packed into a double.
  const packed = new Float64Array(n);
  for (let g = 0; g < n; g++) packed[g] = (keys[g]! + 2 ** 31) * 2 ** 21 + g;
  packed.sort();
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec(`CREATE TABLE v (uid INTEGER, posts INTEGER, att INTEGER);
      CREATE UNIQUE INDEX v__key ON v (uid);
      CREATE TABLE state (op INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (op, key));`);
    const ROWS = 64;
    const many = db.prepare(`INSERT INTO v VALUES ${Array(ROWS).fill('(?, ?, ?)').join(', ')}`);
    const one = db.prepare('INSERT INTO v VALUES (?, ?, ?)');
    const segment = db.prepare('INSERT INTO state VALUES (0, ?, ?)');
    const groupAt = (i: number): number => packed[i]! % 2 ** 21;
    db.transaction(() => {
      const params = new Array<number>(ROWS * 3);
      let i = 0;
      for (; i + ROWS <= n; i += ROWS) {
        for (let j = 0; j < ROWS; j++) {
          const g = groupAt(i + j);
          params[3 * j] = keys[g]!;
          params[3 * j + 1] = posts[g]!;
          params[3 * j + 2] = att[g]!;
        }
        many.run(params);
      }
      for (; i < n; i++) {
        const g = groupAt(i);
        one.run(keys[g], posts[g], att[g]);
      }
    })();
    // The GROUP BY's entries as the checkpoint store writes them: [key, [accumulators], rows, null], 512 a row.
    db.transaction(() => {
      for (let i = 0, seq = 0; i < n; i += 512, seq++) {
        const values: unknown[] = [];
        const entryKeys: string[] = [];
        for (let j = i; j < Math.min(n, i + 512); j++) {
          const g = groupAt(j);
          values.push([[keys[g]], [posts[g], att[g]], posts[g], null]);
          entryKeys.push(`[${keys[g]}]`);
        }
        segment.run(`f${seq}`, `${JSON.stringify(values)}\n${entryKeys.join('\n')}`);
      }
    })();
    return { ms: performance.now() - t0, groups: n };
  } finally {
    db.close();
  }
}

/**
 * The lean view over `topic` up to `ends` with `threads` threads (partitions dealt in turns), written into
 * `dir`. Workers start before the clock does.
 */
export async function leanView(topic: string, ends: ReadonlyMap<number, number>, threads: number, dir: string): Promise<LeanResult> {
  const partitions = [...ends.keys()].sort((a, b) => a - b);
  const shares = Array.from({ length: threads }, (_, t) => partitions.filter((_, i) => i % threads === t));
  const workers = await Promise.all(
    shares.slice(1).map(async (share) => {
      const w = new Worker(new URL('./views-lean-worker.mjs', import.meta.url), { workerData: { viewsLean: { topic, partitions: share, ends: [...ends] } } });
      await new Promise<void>((resolve, reject) => {
        w.once('message', () => resolve());
        w.once('error', reject);
      });
      return w;
    }),
  );
  try {
    const t0 = performance.now();
    const theirs = workers.map(
      (w) =>
        new Promise<Partials>((resolve, reject) => {
          w.once('message', resolve);
          w.once('error', reject);
          w.postMessage('go');
        }),
    );
    const mine = await foldPartitions(topic, shares[0]!, ends);
    const parts = [mine, ...(await Promise.all(theirs))];
    const wrote = writeView(parts, join(dir, `lean-${threads}-${Date.now()}.db`));
    return { seconds: (performance.now() - t0) / 1000, foldMs: parts.map((p) => p.ms), writeMs: wrote.ms, groups: wrote.groups };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

// A worker of leanView(): folds its partitions when told to, and hands its groups back.
if (!isMainThread && (workerData as { viewsLean?: unknown } | undefined)?.viewsLean !== undefined) {
  const { topic, partitions, ends } = (workerData as { viewsLean: { topic: string; partitions: number[]; ends: [number, number][] } }).viewsLean;
  parentPort!.once('message', () => {
    void foldPartitions(topic, partitions, new Map(ends)).then((p) => parentPort!.postMessage(p, [p.keys.buffer, p.posts.buffer, p.att.buffer]));
  });
  parentPort!.postMessage('ready');
}
