import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeAtomic } from './durable.ts';
import { DEFAULT_PARTITION } from './partition.ts';

/** Flink's `sink.partition-commit.trigger`. */
export type CommitTrigger = 'process-time' | 'partition-time';

/** Partition commit (Flink's sink.partition-commit.*), present when a policy is configured. */
export interface PartitionCommitOptions {
  readonly trigger: CommitTrigger;
  /** sink.partition-commit.delay (ms). */
  readonly delayMs: number;
  /** partition.time-extractor.timestamp-pattern, e.g. '$dt $hr:00:00'; undefined: the first partition column's value. */
  readonly pattern: string | undefined;
  /** sink.partition-commit.success-file.name (the success-file policy is the only one). */
  readonly successFileName: string;
}

/** A partition whose files (some or all) are visible but that is not committed since it last got rows. */
export interface PendingPartition {
  /** Relative directory, escaped (`dt=2026-11-25/hr=10`). */
  readonly dir: string;
  /** When the sink first wrote into it since its last commit (epoch ms, process time). */
  readonly createdAt: number;
}

/** What a checkpoint's manifest records for partition commit: enough to decide again after a crash. */
export interface PartitionSnapshot {
  readonly watermark: number | null;
  readonly pending: readonly PendingPartition[];
}

/** The watermark a bounded job emits at its end (jobs/job.ts shows it as 'END'). */
const END_OF_TIME = Number.MAX_SAFE_INTEGER;

/** Hive escapes %XX; the partition time is read from the value itself. */
function unescape(s: string): string {
  return s.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

const TIME = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,3}))?)?)?$/;

/** `yyyy-MM-dd HH:mm:ss[.SSS]` or `yyyy-MM-dd` as a wall clock (UTC epoch ms, as TIMESTAMP(3) values are). */
export function parsePartitionTime(text: string): number | undefined {
  const m = TIME.exec(text.trim());
  if (!m) return undefined;
  const n = (i: number): number => Number(m[i] ?? 0);
  const ms = m[7] ? Number(m[7].padEnd(3, '0')) : 0;
  const t = Date.UTC(n(1), n(2) - 1, n(3), n(4), n(5), n(6), ms);
  return Number.isNaN(t) ? undefined : t;
}

/**
 * Flink's default partition time extractor: `$name` in the pattern becomes that partition column's value
 * (longest names first, so `$dt` never eats `$dt2`); without a pattern, the first partition column's value.
 * Undefined when a value is NULL or the text is no timestamp: such a partition commits only at END.
 */
export function partitionTime(pattern: string | undefined, names: readonly string[], dir: string): number | undefined {
  const values = dir.split('/').map((level) => level.slice(level.indexOf('=') + 1));
  if (values.some((v) => v === DEFAULT_PARTITION)) return undefined;
  const raw = values.map(unescape);
  if (pattern === undefined) return parsePartitionTime(raw[0] ?? '');
  const order = names.map((n, i) => [n, i] as const).sort((a, b) => b[0].length - a[0].length);
  let text = pattern;
  for (const [n, i] of order) text = text.split(`$${n}`).join(raw[i]!);
  return parsePartitionTime(text);
}

/** `$names` of the pattern that are no partition column (checked when the table is created). */
export function unknownPatternNames(pattern: string, names: readonly string[]): string[] {
  const sorted = [...names].sort((a, b) => b.length - a.length);
  const out: string[] = [];
  for (const m of pattern.matchAll(/\$([A-Za-z_][A-Za-z0-9_]*)/g)) {
    if (!sorted.some((n) => m[1]!.startsWith(n))) out.push(m[1]!);
  }
  return out;
}

/** Whether a partition is complete by its trigger, given the watermark recorded with its checkpoint. */
export function committable(o: PartitionCommitOptions, names: readonly string[], p: PendingPartition, watermark: number | null, now: number): boolean {
  if (watermark !== null && watermark >= END_OF_TIME) return true;
  switch (o.trigger) {
    case 'process-time':
      return now >= p.createdAt + o.delayMs;
    case 'partition-time': {
      if (watermark === null) return false;
      const t = partitionTime(o.pattern, names, p.dir);
      return t !== undefined && watermark > t + o.delayMs;
    }
    default: {
      const never: never = o.trigger;
      return never;
    }
  }
}

interface StateFile {
  readonly pending: PendingPartition[];
  readonly committed: string[];
}

/**
 * Partition commit of one sink (docs/lake.md). The sink records a partition pending when it writes into
 * it; a checkpoint's manifest snapshots the pending partitions with the watermark; once that checkpoint's
 * files are visible (commit, or recovery rolling it forward), `settle` writes `_SUCCESS` into each
 * partition its trigger says is complete and records what stays pending in `.weir/<job>/partitions.json`.
 * Writing `_SUCCESS` again is harmless, so settling the same checkpoint twice (a crash in between) is too.
 */
export class PartitionCommitter {
  private pending = new Map<string, PendingPartition>();
  private readonly committed = new Set<string>();

  constructor(
    private readonly opts: PartitionCommitOptions,
    private readonly names: readonly string[],
    private readonly root: string,
    private readonly stateFile: string,
  ) {}

  /** Loads what the last commit recorded (called by recovery before anything is written). */
  load(): void {
    if (!existsSync(this.stateFile)) return;
    const s = JSON.parse(readFileSync(this.stateFile, 'utf8')) as StateFile;
    this.pending = new Map(s.pending.map((p) => [p.dir, p]));
    for (const d of s.committed) this.committed.add(d);
  }

  /** The sink wrote rows into `dir`: it is pending until a commit after these rows are visible. */
  touched(dir: string, now: number): void {
    if (!this.pending.has(dir)) this.pending.set(dir, { dir, createdAt: now });
  }

  snapshot(watermark: number | undefined): PartitionSnapshot {
    return { watermark: watermark ?? null, pending: [...this.pending.values()] };
  }

  /**
   * Commits the partitions of `snap` that are complete; the checkpoint `snap` came with is visible.
   * `rewritten` tells whether the sink wrote into a partition again after the snapshot (it stays pending).
   */
  async settle(snap: PartitionSnapshot, now: number, rewritten: (dir: string) => boolean): Promise<void> {
    const stay: PendingPartition[] = [];
    for (const p of snap.pending) {
      if (!committable(this.opts, this.names, p, snap.watermark, now)) {
        stay.push(p);
        continue;
      }
      const dir = join(this.root, p.dir);
      // A partition whose files all went to an aborted checkpoint has no directory: nothing to vouch for.
      if (!existsSync(dir)) {
        if (!rewritten(p.dir)) this.pending.delete(p.dir);
        continue;
      }
      // Replaced atomically (a re-commit after late rows rewrites it); the temp name is hidden from readers.
      await writeAtomic(join(dir, this.opts.successFileName), '', join(dir, `.${this.opts.successFileName}.tmp`));
      this.committed.add(p.dir);
      if (!rewritten(p.dir)) this.pending.delete(p.dir);
    }
    await writeAtomic(this.stateFile, JSON.stringify({ pending: stay, committed: [...this.committed] } satisfies StateFile));
  }

  /** Partitions committed so far (each with its success file). */
  committedDirs(): string[] {
    return [...this.committed].sort();
  }
}
