// Partition commit of the filesystem sink, on the sink alone: when `_SUCCESS` appears (partition-time and
// process-time triggers, delay, END), that it never precedes the files it vouches for, re-commit after a
// late row, and the pending/committed partitions across a restart and a crash between the renames and it.
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parsePartitionTime, partitionTime } from '../../connectors/filesystem/commit.ts';
import { filesystemConnector } from '../../connectors/filesystem/index.ts';
import type { Row, Sink, SinkSpec } from '../../connectors/types.ts';
import { T } from '../../engine/plan/types.ts';

const dir = mkdtempSync(join(tmpdir(), 'weir-partition-commit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const H = 3_600_000;
const T0 = Date.UTC(2026, 10, 25, 22, 0, 0);
const END = Number.MAX_SAFE_INTEGER;

function spec(path: string, jobId: string, extra: Record<string, string>): SinkSpec {
  return {
    table: 'lake',
    options: { connector: 'filesystem', path, format: 'parquet', 'sink.partition-commit.policy.kind': 'success-file', ...extra },
    columns: [
      { name: 'id', type: T.bigint },
      { name: 'ts', type: T.timestamp },
      { name: 'dt', type: T.string },
      { name: 'hr', type: T.string },
    ],
    brokers: '',
    jobId,
    jobName: 'commit-test',
    timeZone: 'UTC',
    checkpointIntervalMs: 5000,
    partitionedBy: ['dt', 'hr'],
  };
}

/** One row per hour offset from T0 (22:00 on 2026-11-25), in that hour's partition. */
const at = (id: number, hour: number): Row => {
  const ts = T0 + hour * H + 60_000;
  const iso = new Date(ts).toISOString();
  return [id, ts, iso.slice(0, 10), iso.slice(11, 13)];
};

function files(root: string): string[] {
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

/** Partitions holding a `_SUCCESS`. */
const committed = (root: string): string[] => files(root).filter((f) => f.endsWith('/_SUCCESS')).map((f) => f.slice(0, -'/_SUCCESS'.length));
/** Partitions holding a visible part file. */
const withData = (root: string): string[] => [...new Set(files(root).filter((f) => /\/part-[^/]+\.parquet$/.test(f)).map((f) => f.slice(0, f.lastIndexOf('/'))))].sort();

async function checkpoint(sink: Sink, id: number, between?: () => void): Promise<void> {
  await sink.flush();
  await sink.committer!.prepare(id);
  between?.();
  await sink.committer!.commit(id);
}

describe('partition time', () => {
  it('extracts it with Flink\'s pattern, or from the first partition column', () => {
    expect(partitionTime('$dt $hr:00:00', ['dt', 'hr'], 'dt=2026-11-25/hr=09')).toBe(Date.UTC(2026, 10, 25, 9));
    expect(partitionTime(undefined, ['dt', 'hr'], 'dt=2026-11-25/hr=09')).toBe(Date.UTC(2026, 10, 25));
    // Hive escapes ':' in a TIMESTAMP partition value; the time is read from the unescaped value.
    expect(partitionTime(undefined, ['t'], 't=2026-11-25 10%3A30%3A00')).toBe(Date.UTC(2026, 10, 25, 10, 30));
    expect(partitionTime('$dt $hr:00:00', ['dt', 'hr'], 'dt=__HIVE_DEFAULT_PARTITION__/hr=09')).toBeUndefined();
    expect(partitionTime('$d-$m-$day', ['d', 'm', 'day'], 'd=2026/m=11/day=25')).toBe(Date.UTC(2026, 10, 25));
    expect(parsePartitionTime('not a time')).toBeUndefined();
  });
});

describe('partition commit', () => {
  it('partition-time: _SUCCESS once the watermark passes partition time + delay, after the files are visible', async () => {
    const path = join(dir, 'ptime');
    const sink = await filesystemConnector.createSink!(
      spec(path, 'job-p', { 'sink.partition-commit.trigger': 'partition-time', 'sink.partition-commit.delay': '1 h', 'partition.time-extractor.timestamp-pattern': '$dt $hr:00:00' }),
    );
    await sink.committer!.recover(undefined);
    // Hours 22, 23 (2026-11-25) and 00 (2026-11-26); the watermark reaches 23:30.
    sink.write([at(1, 0), at(2, 1), at(3, 2)]);
    sink.watermark!(T0 + 1.5 * H);
    await sink.flush();
    await sink.committer!.prepare(1);
    // Prepared is not visible, and nothing is committed before its files are.
    expect(withData(path)).toEqual([]);
    expect(committed(path)).toEqual([]);
    await sink.committer!.commit(1);
    expect(withData(path)).toEqual(['dt=2026-11-25/hr=22', 'dt=2026-11-25/hr=23', 'dt=2026-11-26/hr=00']);
    // 22:00 + 1 h < 23:30: hr=22 is complete; hr=23 needs the watermark past 00:00.
    expect(committed(path)).toEqual(['dt=2026-11-25/hr=22']);

    // Exactly at 00:00 is not past it; a row of hour 01 comes with the watermark.
    sink.write([at(4, 3)]);
    sink.watermark!(T0 + 2 * H);
    await checkpoint(sink, 2);
    expect(committed(path)).toEqual(['dt=2026-11-25/hr=22']);
    sink.write([at(5, 3)]);
    sink.watermark!(T0 + 2 * H + 1);
    await checkpoint(sink, 3);
    expect(committed(path)).toEqual(['dt=2026-11-25/hr=22', 'dt=2026-11-25/hr=23']);

    // A late row into a committed partition is written, and the partition is committed again.
    const before = files(path).filter((f) => f.startsWith('dt=2026-11-25/hr=22/part-')).length;
    const success = join(path, 'dt=2026-11-25/hr=22/_SUCCESS');
    const ino = statSync(success).ino;
    sink.write([at(6, 0)]);
    await checkpoint(sink, 4);
    expect(files(path).filter((f) => f.startsWith('dt=2026-11-25/hr=22/part-')).length).toBe(before + 1);
    // Rewritten (replaced by rename), not merely left in place.
    expect(statSync(success).ino).not.toBe(ino);
    expect(committed(path)).toEqual(['dt=2026-11-25/hr=22', 'dt=2026-11-25/hr=23']);

    // The end of a bounded job: every partition is committed.
    sink.watermark!(END);
    await checkpoint(sink, 5);
    expect(committed(path)).toEqual(withData(path));
    expect(committed(path)).toHaveLength(4);
    await sink.close();
  });

  it('process-time with delay 0: each partition with the checkpoint that makes its files visible', async () => {
    const path = join(dir, 'proctime');
    const sink = await filesystemConnector.createSink!(spec(path, 'job-q', {}));
    await sink.committer!.recover(undefined);
    sink.write([at(1, 0), at(2, 1)]);
    await sink.flush();
    await sink.committer!.prepare(1);
    expect(committed(path)).toEqual([]);
    await sink.committer!.commit(1);
    expect(committed(path)).toEqual(['dt=2026-11-25/hr=22', 'dt=2026-11-25/hr=23']);
    sink.write([at(3, 2)]);
    await checkpoint(sink, 2);
    expect(committed(path)).toEqual(withData(path));
    await sink.close();
  });

  it('process-time with a delay waits; pending partitions survive a restart', async () => {
    const path = join(dir, 'delay');
    const opts = { 'sink.partition-commit.delay': '1 h', 'sink.partition-commit.success-file.name': '_DONE' };
    const s1 = await filesystemConnector.createSink!(spec(path, 'job-d', opts));
    await s1.committer!.recover(undefined);
    s1.write([at(1, 0)]);
    await checkpoint(s1, 1);
    expect(files(path).some((f) => f.endsWith('_DONE'))).toBe(false);
    await s1.close();
    // Restarted from checkpoint 1: the partition is still pending, and END commits it.
    const s2 = await filesystemConnector.createSink!(spec(path, 'job-d', opts));
    expect(await s2.committer!.recover(undefined)).toBe(false);
    s2.watermark!(END);
    await checkpoint(s2, 2);
    expect(files(path).filter((f) => f.endsWith('_DONE'))).toEqual(['dt=2026-11-25/hr=22/_DONE']);
    await s2.close();
  });

  it('a crash between the renames and _SUCCESS: recovery commits the partition, once', async () => {
    const path = join(dir, 'crash');
    const opts = { 'sink.partition-commit.trigger': 'partition-time', 'partition.time-extractor.timestamp-pattern': '$dt $hr:00:00' };
    const s1 = await filesystemConnector.createSink!(spec(path, 'job-c', opts));
    await s1.committer!.recover(undefined);
    s1.write([at(1, 0), at(2, 1)]);
    s1.watermark!(T0 + 0.5 * H);
    await s1.flush();
    await s1.committer!.prepare(1);
    // The job recorded 1 PENDING and died before commit(1).
    await s1.close();
    const s2 = await filesystemConnector.createSink!(spec(path, 'job-c', opts));
    expect(await s2.committer!.recover(1)).toBe(true);
    expect(withData(path)).toEqual(['dt=2026-11-25/hr=22', 'dt=2026-11-25/hr=23']);
    expect(committed(path)).toEqual(['dt=2026-11-25/hr=22']);
    // Asked again (a crash after that): the same answer, and hr=23 is still pending.
    const s3 = await filesystemConnector.createSink!(spec(path, 'job-c', opts));
    expect(await s3.committer!.recover(1)).toBe(true);
    expect(committed(path)).toEqual(['dt=2026-11-25/hr=22']);
    s3.watermark!(T0 + 1.5 * H);
    s3.write([at(3, 1)]);
    await checkpoint(s3, 2);
    expect(committed(path)).toEqual(['dt=2026-11-25/hr=22', 'dt=2026-11-25/hr=23']);
    await Promise.all([s2.close(), s3.close()]);
  });
});
