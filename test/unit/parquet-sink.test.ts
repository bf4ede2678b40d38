// The filesystem (parquet) sink without a broker: hostile partition values, every column type read back by
// DuckDB (SNAPPY, GZIP, ZSTD, NONE), invisibility until commit, rolling by size, the committer's recovery
// from each crash point, and a crash of the encoding worker thread failing the flush.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesystemConnector } from '../../connectors/filesystem/index.ts';
import { EncodeWorker, EncodeWorkerError } from '../../connectors/filesystem/encoder.ts';
import { parseFileSystemOptions } from '../../connectors/filesystem/options.ts';
import type { FileSystemSink } from '../../connectors/filesystem/sink.ts';
import { DEFAULT_PARTITION, escapePathName, partitionDir, partitionText } from '../../connectors/filesystem/partition.ts';
import type { Row, Sink, SinkSpec } from '../../connectors/types.ts';
import type { Column } from '../../engine/plan/plan.ts';
import { T } from '../../engine/plan/types.ts';

const COLUMNS: Column[] = [
  { name: 'b', type: T.boolean },
  { name: 'i', type: T.int },
  { name: 'l', type: T.bigint },
  { name: 'd', type: T.double },
  { name: 'm', type: T.decimal(18, 2) },
  { name: 's', type: T.string },
  { name: 'ts', type: T.timestamp },
  { name: 'ltz', type: T.timestampLtz },
  { name: 'day', type: T.date },
  { name: 'tags', type: T.array(T.string) },
  { name: 'dt', type: T.string },
  { name: 'hr', type: T.int },
];
const DAY = 86_400_000;

/** All files under `root` relative to it, sorted. */
function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else out.push(relative(root, join(d, e.name)));
    }
  };
  if (existsSync(root)) walk(root);
  return out.sort();
}

const visibleParts = (root: string): string[] => listFiles(root).filter((f) => !f.split('/').some((s) => s.startsWith('.')) && f.endsWith('.parquet'));

function rows(n: number, seed = 1): Row[] {
  const out: Row[] = [];
  const base = Date.UTC(2026, 10, 25, 10, 0, 0);
  for (let k = 0; k < n; k++) {
    const x = k + seed * 1_000_000;
    const nul = k % 7 === 3;
    out.push([
      nul ? null : k % 2 === 0,
      nul ? null : (x % 100_000) - 50_000,
      nul ? null : x * 1_000_003 + 2 ** 40,
      nul ? null : x / 7,
      nul ? null : Math.round(x * 13.37) / 100,
      nul ? null : `微博 ${x} "q" \\ 🐼`,
      nul ? null : base + k * 997,
      nul ? null : base + k * 13,
      nul ? null : Math.floor((base + k * 3_600_000) / DAY) * DAY,
      nul ? null : k % 5 === 0 ? [] : ['话题', null, `t${k % 11}`],
      k % 3 === 0 ? '2026-11-25' : '2026-11-26',
      k % 2 === 0 ? 10 : 11,
    ]);
  }
  return out;
}

function spec(path: string, jobId: string, extra: Record<string, string> = {}): SinkSpec {
  return {
    table: 'lake',
    options: { connector: 'filesystem', path, format: 'parquet', ...extra },
    columns: COLUMNS,
    brokers: '',
    jobId,
    jobName: 'lake-test',
    timeZone: 'UTC',
    checkpointIntervalMs: 5000,
    partitionedBy: ['dt', 'hr'],
  };
}

/** A row as DuckDB answers the query in `readBack` (JSON: BIGINT and DECIMAL as strings). */
function canonical(r: Row): string {
  const iso = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
  const v = [
    r[0],
    r[1],
    r[2] === null ? null : String(r[2]),
    r[3],
    r[4] === null ? null : (r[4] as number).toFixed(2),
    r[5],
    r[6] === null ? null : String(r[6]),
    r[7] === null ? null : String(r[7]),
    r[8] === null ? null : iso(r[8] as number),
    r[9],
    r[10],
    String(r[11]),
  ];
  return JSON.stringify(v);
}

describe('parquet sink', () => {
  let dir: string;
  let duck: DuckDBInstance;
  let conn: DuckDBConnection;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'weir-lake-unit-'));
    duck = await DuckDBInstance.create(':memory:', { threads: '1' });
    conn = await duck.connect();
    await conn.run("SET TimeZone = 'UTC'");
  });
  afterAll(() => {
    conn.closeSync();
    duck.closeSync();
    rmSync(dir, { recursive: true, force: true });
  });

  async function readBack(path: string): Promise<string[]> {
    const r = await conn.runAndReadAll(
      `SELECT b, i, l, d, CAST(m AS VARCHAR), s, epoch_ms(ts), epoch_ms(ltz), CAST("day" AS VARCHAR), tags, dt, hr
       FROM read_parquet('${path}/**/*.parquet', hive_partitioning = true, hive_types_autocast = false)`,
    );
    return (r.getRowsJson() as unknown[][]).map((x) => JSON.stringify(x.map((v) => (typeof v === 'number' || v === null || typeof v === 'boolean' || Array.isArray(v) ? v : String(v))))).sort();
  }

  it('escapes partition values Hive-style so none leaves the table path', () => {
    expect(escapePathName('a/b')).toBe('a%2Fb');
    expect(escapePathName('../..')).toBe('..%2F..');
    expect(escapePathName('x=y:z%')).toBe('x%3Dy%3Az%25');
    expect(escapePathName('天气 晴')).toBe('天气 晴');
    expect(partitionText(null, T.string)).toBe(DEFAULT_PARTITION);
    expect(partitionText('', T.string)).toBe(DEFAULT_PARTITION);
    expect(partitionText(Date.UTC(2026, 10, 25), T.date)).toBe('2026-11-25');
    for (const v of ['..', '../../etc', '/abs', '.', 'a\\b', '\n']) {
      const d = partitionDir(['dt'], [partitionText(v, T.string)]);
      const root = '/lake/t';
      expect(resolve(root, d).startsWith(root + '/')).toBe(true);
      expect(d.split('/')).toHaveLength(1);
    }
  });

  it('checks options with Flink names and defaults', () => {
    const o = parseFileSystemOptions({ connector: 'filesystem', path: '/x', format: 'parquet' }, COLUMNS, ['dt', 'hr']);
    expect(o).toMatchObject({ fileSize: 128 * 1024 * 1024, rolloverIntervalMs: 30 * 60_000, checkIntervalMs: 60_000, codec: 'SNAPPY', parallelism: 1 });
    const bad = (opts: Record<string, string>, parts: string[] = []): string => {
      try {
        filesystemConnector.validate({ connector: 'filesystem', path: '/x', format: 'parquet', ...opts }, 'sink', COLUMNS, parts);
        return 'ok';
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(bad({ format: 'csv' })).toMatch(/format/);
    expect(bad({ 'parquet.compression': 'LZO' })).toMatch(/SNAPPY, GZIP, ZSTD or NONE/);
    expect(bad({ 'parquet.compression': 'zstd' })).toBe('ok');
    expect(bad({ 'sink.rolling-policy.file-size': 'huge' })).toMatch(/size/);
    expect(bad({ 'sink.partition-commit.policy.kind': 'success-file' })).toMatch(/partitioned table/);
    expect(bad({ 'sink.partition-commit.policy.kind': 'success-file' }, ['dt'])).toBe('ok');
    expect(bad({ 'sink.partition-commit.policy.kind': 'metastore,success-file' }, ['dt'])).toMatch(/metastore/);
    expect(bad({ 'sink.partition-commit.trigger': 'partition-time' }, ['dt'])).toMatch(/needs 'sink.partition-commit.policy.kind'/);
    expect(bad({ 'sink.partition-commit.policy.kind': 'success-file', 'sink.partition-commit.trigger': 'event-time' }, ['dt'])).toMatch(/process-time' or 'partition-time/);
    expect(bad({ 'sink.partition-commit.policy.kind': 'success-file', 'sink.partition-commit.delay': 'soon' }, ['dt'])).toMatch(/duration/);
    expect(bad({ 'sink.partition-commit.policy.kind': 'success-file', 'partition.time-extractor.timestamp-pattern': '$day $hr:00:00' }, ['dt', 'hr'])).toMatch(/\$day/);
    expect(bad({ 'sink.partition-commit.policy.kind': 'success-file', 'sink.partition-commit.success-file.name': '../x' }, ['dt'])).toMatch(/file name/);
    expect(bad({ 'sink.partition-commit.watermark-time-zone': 'Asia/Shanghai' }, ['dt'])).toMatch(/not supported yet/);
    expect(bad({ 'no.such': 'x' })).toMatch(/Unknown option/);
    expect(bad({}, ['tags'])).toMatch(/scalar/);
    expect(bad({ 'parquet.compression': 'gzip', 'sink.rolling-policy.rollover-interval': '10 s' })).toBe('ok');
    for (const v of ['0', '17', '1.5', 'two', '']) expect(bad({ 'sink.parallelism': v })).toMatch(/'sink.parallelism' must be a whole number from 1 to 16/);
    expect(bad({ 'sink.parallelism': '4' })).toBe('ok');
  });

  it('with sink.parallelism 2, writes each partition through two workers into two files, every row once', async () => {
    const path = join(dir, 'parallel');
    const sink = (await filesystemConnector.createSink!(spec(path, 'job-p', { 'sink.parallelism': '2' }))) as FileSystemSink;
    await sink.committer!.recover(undefined);
    const input = rows(8000, 4);
    for (let k = 0; k < input.length; k += 1000) {
      sink.write(input.slice(k, k + 1000));
      await sink.flush();
    }
    await sink.committer!.prepare(1);
    await sink.committer!.commit(1);
    const perPartition = new Map<string, number>();
    for (const f of visibleParts(path)) perPartition.set(f.split('/').slice(0, 2).join('/'), (perPartition.get(f.split('/').slice(0, 2).join('/')) ?? 0) + 1);
    expect([...perPartition.values()]).toEqual([2, 2, 2, 2]);
    expect(await readBack(path)).toEqual(input.map(canonical).sort());
    // A second checkpoint opens new files in the same workers.
    sink.write(rows(500, 5));
    await sink.flush();
    await sink.committer!.prepare(2);
    await sink.committer!.commit(2);
    expect(await readBack(path)).toEqual([...input, ...rows(500, 5)].map(canonical).sort());
    await sink.close();
  });

  it('writes every type into hive partitions, invisible until the checkpoint commits', async () => {
    const path = join(dir, 'all-types');
    const sink = await filesystemConnector.createSink!(spec(path, 'job-a', { 'parquet.compression': 'GZIP' }));
    expect(await sink.committer!.recover(undefined)).toBe(false);
    const input = rows(5000);
    sink.write(input.slice(0, 2500));
    await sink.flush();
    sink.write(input.slice(2500));
    await sink.flush();
    await sink.committer!.prepare(1);
    expect(visibleParts(path)).toEqual([]);
    expect(await readBack(path).catch(() => [])).toEqual([]);
    await sink.committer!.commit(1);
    const files = visibleParts(path);
    expect(new Set(files.map((f) => f.split('/').slice(0, 2).join('/')))).toEqual(new Set(['dt=2026-11-25/hr=10', 'dt=2026-11-25/hr=11', 'dt=2026-11-26/hr=10', 'dt=2026-11-26/hr=11']));
    for (const f of files) expect(f).toMatch(/\/part-job-a-1-\d+\.parquet$/);
    expect(await readBack(path)).toEqual(input.map(canonical).sort());
    // The file schema is the table minus its partition columns, with the SQL types.
    const d = await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${path}/**/*.parquet', hive_partitioning = false)`);
    expect((d.getRowsJson() as string[][]).map((r) => `${r[0]} ${r[1]}`)).toEqual([
      'b BOOLEAN', 'i INTEGER', 'l BIGINT', 'd DOUBLE', 'm DECIMAL(18,2)', 's VARCHAR',
      'ts TIMESTAMP', 'ltz TIMESTAMP WITH TIME ZONE', 'day DATE', 'tags VARCHAR[]',
    ]);
    await sink.close();
  });

  it('compresses with ZSTD and NONE too, which DuckDB reads back', async () => {
    const input = rows(3000, 9);
    for (const [option, codec] of [['ZSTD', 'ZSTD'], ['NONE', 'UNCOMPRESSED']] as const) {
      const path = join(dir, `codec-${option}`);
      const sink = await filesystemConnector.createSink!(spec(path, `job-${option}`, { 'parquet.compression': option }));
      await sink.committer!.recover(undefined);
      sink.write(input);
      await sink.flush();
      await sink.committer!.prepare(1);
      await sink.committer!.commit(1);
      expect(await readBack(path)).toEqual(input.map(canonical).sort());
      const m = await conn.runAndReadAll(`SELECT DISTINCT compression FROM parquet_metadata('${path}/**/*.parquet')`);
      expect((m.getRowsJson() as string[][]).map((x) => x[0])).toEqual([codec]);
      await sink.close();
    }
  });

  it('fails the flush when the encoding worker dies, and leaves no visible file', async () => {
    const path = join(dir, 'worker-crash');
    const sink = (await filesystemConnector.createSink!(spec(path, 'job-w'))) as FileSystemSink;
    await sink.committer!.recover(undefined);
    sink.write(rows(2000, 10));
    await sink.flush();
    // The thread dies as it would on a fatal error inside it (out of memory, a native crash).
    await sink.encodeThread!.terminate();
    sink.write(rows(2000, 11));
    await expect(sink.flush()).rejects.toThrow(EncodeWorkerError);
    await expect(sink.committer!.prepare(1)).rejects.toThrow(/encoding worker exited/);
    expect(visibleParts(path)).toEqual([]);
    await sink.close();
    // The job restarts from its checkpoint: the next incarnation drops the hidden leftovers.
    const again = await filesystemConnector.createSink!(spec(path, 'job-w'));
    expect(await again.committer!.recover(undefined)).toBe(false);
    expect(listFiles(path).filter((f) => !f.startsWith('.weir/'))).toEqual([]);
    again.write(rows(2000, 10));
    await again.committer!.prepare(1);
    await again.committer!.commit(1);
    expect(await readBack(path)).toEqual(rows(2000, 10).map(canonical).sort());
    await again.close();
  });

  it('rejects a request the encoding worker cannot carry out', async () => {
    const w = new EncodeWorker();
    try {
      await expect(w.request({ op: 'finish', file: 99 })).rejects.toThrow(/no open part file 99/);
    } finally {
      await w.terminate();
    }
  });

  it('rolls by size into several files per partition', async () => {
    const path = join(dir, 'rolling');
    const sink = await filesystemConnector.createSink!(spec(path, 'job-r', { 'sink.rolling-policy.file-size': '64kb' }));
    await sink.committer!.recover(undefined);
    const input = rows(20_000, 2);
    for (let k = 0; k < input.length; k += 1000) {
      sink.write(input.slice(k, k + 1000));
      await sink.flush();
    }
    expect(visibleParts(path)).toEqual([]);
    await sink.committer!.prepare(7);
    await sink.committer!.commit(7);
    const perPartition = new Map<string, number>();
    for (const f of visibleParts(path)) perPartition.set(f.split('/').slice(0, 2).join('/'), (perPartition.get(f.split('/').slice(0, 2).join('/')) ?? 0) + 1);
    for (const n of perPartition.values()) expect(n).toBeGreaterThan(1);
    expect(await readBack(path)).toEqual(input.map(canonical).sort());
    await sink.close();
  });

  it('puts hostile partition values in escaped directories that read back equal', async () => {
    const path = join(dir, 'hostile');
    const hostile = ['../../etc', '/abs/path', 'a b', '天气 晴', '..', 'x=1', '100%', null];
    const sink = await filesystemConnector.createSink!(spec(path, 'job-h'));
    await sink.committer!.recover(undefined);
    const input = hostile.map((h, k) => [true, k, 1, 1.5, 1, 's', 0, 0, 0, ['a'], h, 1] as Row);
    sink.write(input);
    await sink.committer!.prepare(1);
    await sink.committer!.commit(1);
    for (const f of listFiles(dir)) expect(resolve(dir, f).startsWith(path + '/') || !f.startsWith('hostile')).toBe(true);
    expect(listFiles(path).filter((f) => !f.startsWith('.weir')).every((f) => f.split('/').length === 3)).toBe(true);
    const r = await conn.runAndReadAll(`SELECT i, dt FROM read_parquet('${path}/**/*.parquet', hive_partitioning = true, hive_types_autocast = false) ORDER BY i`);
    expect((r.getRowsJson() as unknown[][]).map((x) => x[1])).toEqual(hostile);
    await sink.close();
  });

  describe('recovery', () => {
    // A small file size makes flush() encode at once, so in-progress (hidden) files exist mid-checkpoint.
    const open = async (path: string, jobId: string): Promise<Sink> => filesystemConnector.createSink!(spec(path, jobId, { 'sink.rolling-policy.file-size': '16kb' }));

    it('rolls a PENDING checkpoint forward and drops unrecorded output and in-progress leftovers', async () => {
      const path = join(dir, 'recover');
      const first = rows(3000, 3);
      const s1 = await open(path, 'job-x');
      await s1.committer!.recover(undefined);
      s1.write(first);
      await s1.committer!.prepare(1);
      await s1.committer!.commit(1);
      // Checkpoint 2 prepared and recorded PENDING, then the process dies before commit.
      const second = rows(2000, 4);
      s1.write(second);
      await s1.committer!.prepare(2);
      // ... and some output after it was in progress (hidden, never prepared).
      s1.write(rows(500, 5));
      await s1.flush();
      expect(listFiles(path).some((f) => /\/\.part-job-x-.*\.inprogress$/.test(f))).toBe(true);
      // A stray leftover of an earlier incarnation of the same job, and another job's in-progress file.
      writeFileSync(join(path, 'dt=2026-11-25', 'hr=10', '.part-job-x-dead-0.parquet.inprogress'), 'half');
      writeFileSync(join(path, 'dt=2026-11-25', 'hr=10', '.part-job-y-live-0.parquet.inprogress'), 'other job');
      const s2 = await open(path, 'job-x');
      expect(await s2.committer!.recover(2)).toBe(true);
      expect(await readBack(path)).toEqual([...first, ...second].map(canonical).sort());
      const hidden = listFiles(path).filter((f) => f.split('/').pop()!.startsWith('.part-'));
      expect(hidden).toEqual(['dt=2026-11-25/hr=10/.part-job-y-live-0.parquet.inprogress']);
      // Asked again (a crash after the renames, before COMPLETED): still committed, nothing doubled.
      const s3 = await open(path, 'job-x');
      expect(await s3.committer!.recover(2)).toBe(true);
      expect(await readBack(path)).toHaveLength(5000);
      await Promise.all([s1.close(), s2.close(), s3.close()]);
    });

    it('aborts a checkpoint prepared but never recorded PENDING', async () => {
      const path = join(dir, 'abort');
      const s1 = await open(path, 'job-z');
      await s1.committer!.recover(undefined);
      s1.write(rows(1000, 6));
      await s1.committer!.prepare(1);
      await s1.committer!.commit(1);
      s1.write(rows(1000, 7));
      await s1.committer!.prepare(2);
      // The store never recorded 2: the newest PENDING is none.
      const s2 = await open(path, 'job-z');
      expect(await s2.committer!.recover(undefined)).toBe(false);
      expect(await readBack(path)).toEqual(rows(1000, 6).map(canonical).sort());
      expect(listFiles(path).filter((f) => f.split('/').pop()!.startsWith('.part-'))).toEqual([]);
      // The replayed output commits under a new checkpoint id with new names.
      s2.write(rows(1000, 7));
      await s2.committer!.prepare(3);
      await s2.committer!.commit(3);
      expect(await readBack(path)).toEqual([...rows(1000, 6), ...rows(1000, 7)].map(canonical).sort());
      await Promise.all([s1.close(), s2.close()]);
    });
  });
});
