import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Column } from '../../engine/plan/plan.ts';
import type { Row, Sink, SinkCommitter, SinkSpec } from '../types.ts';
import { parseFileSystemOptions } from './options.ts';
import type { FileSystemOptions } from './options.ts';
import { openParquetFile, parquetConverter } from './parquet.ts';
import type { PartFileWriter } from './parquet.ts';
import { partitionDir, partitionText } from './partition.ts';

/** Rows buffered per partition before they are encoded as one row group (large groups read fast). */
const ROW_GROUP_ROWS = 100_000;
/** Upper bound on a partition's buffered (not yet encoded) bytes, estimated. */
const ROW_GROUP_BYTES = 64 * 1024 * 1024;
/** The sink's own directory under the table's path: hidden from lake readers by its '.' prefix. */
export const META_DIR = '.weir';

/** One entry of a checkpoint's manifest: a finished hidden part file and its visible name (relative to the table path). */
interface ManifestEntry {
  readonly from: string;
  readonly to: string;
}

/** A part file being written: hidden until the checkpoint that covers it commits. */
interface OpenPart {
  readonly rel: string;
  readonly writer: PartFileWriter;
  readonly openedAt: number;
}

/** The rows of one partition since they were last encoded, column by column. */
interface Bucket {
  readonly dir: string;
  readonly columns: unknown[][];
  rows: number;
  estBytes: number;
  part?: OpenPart;
}

/**
 * The filesystem sink (format parquet): rows go to Hive-style partition directories of the table's path
 * as part files that are written hidden (`.part-...inprogress`) and renamed into place when the
 * checkpoint covering them commits (docs/lake.md). Like Flink's bulk formats, every part file is closed
 * at each checkpoint; between checkpoints one rolls by size and by age.
 */
export class FileSystemSink implements Sink {
  readonly committer: SinkCommitter;
  private readonly buckets = new Map<string, Bucket>();
  /** Part files closed since the last prepare (rolled, or closed by prepare itself). */
  private finished: string[] = [];
  private seq = 0;
  private lastRollCheck = Date.now();
  /** Unique per incarnation, so a restarted job never reuses an in-progress name of its predecessor. */
  private readonly run = randomUUID().slice(0, 8);
  private readonly fileColumns: readonly Column[];
  private readonly fileIndex: readonly number[];
  private readonly partIndex: readonly number[];
  private readonly partNames: readonly string[];
  private readonly converters: readonly ((v: unknown) => unknown)[];

  private constructor(
    private readonly opts: FileSystemOptions,
    private readonly spec: SinkSpec,
    partitionedBy: readonly string[],
  ) {
    this.partNames = partitionedBy;
    this.partIndex = partitionedBy.map((p) => spec.columns.findIndex((c) => c.name === p));
    // Partition columns live in the path only (as Hive and Flink do): the file schema is the rest.
    this.fileIndex = spec.columns.map((_, i) => i).filter((i) => !this.partIndex.includes(i));
    this.fileColumns = this.fileIndex.map((i) => spec.columns[i]!);
    this.converters = this.fileColumns.map((c) => parquetConverter(c.type));
    this.committer = new FileSystemCommitter(this.opts.path, spec.jobId, (id) => this.prepare(id));
  }

  static async open(spec: SinkSpec): Promise<FileSystemSink> {
    const partitionedBy = spec.partitionedBy ?? [];
    const opts = parseFileSystemOptions(spec.options, spec.columns, partitionedBy);
    mkdirSync(join(opts.path, META_DIR, spec.jobId), { recursive: true });
    return new FileSystemSink(opts, spec, partitionedBy);
  }

  write(rows: Row[]): void {
    const cols = this.spec.columns;
    for (const r of rows) {
      const dir = partitionDir(this.partNames, this.partIndex.map((i) => partitionText(r[i], cols[i]!.type)));
      let b = this.buckets.get(dir);
      if (!b) {
        b = { dir, columns: this.fileColumns.map(() => []), rows: 0, estBytes: 0 };
        this.buckets.set(dir, b);
      }
      for (let j = 0; j < this.fileIndex.length; j++) {
        const v = r[this.fileIndex[j]!];
        b.columns[j]!.push(this.converters[j]!(v));
        b.estBytes += typeof v === 'string' ? v.length * 3 : Array.isArray(v) ? JSON.stringify(v).length : 8;
      }
      b.rows++;
    }
  }

  /**
   * Encodes partitions whose buffer is a full row group and rolls files by size and age. Rows still
   * buffered are not lost on a crash: the job replays them from its last checkpoint.
   */
  async flush(): Promise<void> {
    const rowGroupBytes = Math.min(ROW_GROUP_BYTES, this.opts.fileSize);
    for (const b of this.buckets.values()) {
      if (b.rows >= ROW_GROUP_ROWS || b.estBytes >= rowGroupBytes) {
        this.encode(b);
        // Encoding is synchronous: give the event loop a turn between partitions.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    const now = Date.now();
    if (now - this.lastRollCheck >= this.opts.checkIntervalMs) {
      this.lastRollCheck = now;
      for (const b of this.buckets.values()) {
        if (b.part && now - b.part.openedAt >= this.opts.rolloverIntervalMs) {
          this.encode(b);
          this.roll(b);
        }
      }
    }
  }

  private encode(b: Bucket): void {
    if (b.rows === 0) return;
    if (!b.part) {
      const rel = join(b.dir, `.part-${this.spec.jobId}-${this.run}-${this.seq++}.parquet.inprogress`);
      mkdirSync(join(this.opts.path, b.dir), { recursive: true });
      b.part = { rel, writer: openParquetFile(join(this.opts.path, rel), this.fileColumns, this.opts.codec), openedAt: Date.now() };
    }
    b.part.writer.append(b.columns, b.rows);
    for (const c of b.columns) c.length = 0;
    b.rows = 0;
    b.estBytes = 0;
    if (b.part.writer.bytes >= this.opts.fileSize) this.roll(b);
  }

  /** Closes the bucket's part file; it stays hidden until the next checkpoint commits. */
  private roll(b: Bucket): void {
    if (!b.part) return;
    b.part.writer.finish();
    this.finished.push(b.part.rel);
    b.part = undefined;
  }

  /** Closes every part file, and returns what checkpoint `id` makes visible (with unique names carrying `id`). */
  private async prepare(id: number): Promise<ManifestEntry[]> {
    for (const b of this.buckets.values()) {
      this.encode(b);
      this.roll(b);
      // Each partition's encoding is synchronous: give the event loop a turn between them.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    this.buckets.clear();
    const entries = this.finished.map((from, k) => ({ from, to: join(dirname(from), `part-${this.spec.jobId}-${id}-${k}.parquet`) }));
    this.finished = [];
    return entries;
  }

  async close(): Promise<void> {
    // Whatever is open here is output after the last checkpoint, which a restarted job writes again.
    for (const b of this.buckets.values()) b.part?.writer.discard();
    this.buckets.clear();
  }
}

/**
 * Two-phase commit on a file system (docs/lake.md). prepare(n) finishes the part files (fsync) and
 * atomically writes the manifest `.weir/<job>/pending-<n>.json`; commit(n) renames the files into place,
 * records n in `.weir/<job>/committed`, and deletes the manifest. recover() rolls a PENDING checkpoint's
 * manifest forward, drops any other manifest's files, and deletes this job's leftover hidden files.
 */
class FileSystemCommitter implements SinkCommitter {
  private readonly meta: string;

  constructor(
    private readonly root: string,
    private readonly jobId: string,
    private readonly finish: (id: number) => Promise<ManifestEntry[]>,
  ) {
    this.meta = join(root, META_DIR, jobId);
  }

  async recover(pending: number | undefined): Promise<boolean> {
    let committed = pending !== undefined && this.lastCommitted() >= pending;
    for (const id of this.manifests()) {
      const entries = this.readManifest(id);
      if (id === pending) {
        // Prepared and recorded PENDING: the commit was decided; finish it (renames are idempotent).
        this.renameAll(entries);
        this.markCommitted(id);
        committed = true;
      } else {
        // Prepared but never recorded PENDING (or superseded): the job replays this output; drop it.
        for (const e of entries) rmSync(join(this.root, e.from), { force: true });
      }
      rmSync(this.manifestPath(id), { force: true });
    }
    // In-progress files of earlier incarnations: their rows are replayed from the checkpoint.
    removeHidden(this.root, `.part-${this.jobId}-`);
    return committed;
  }

  async prepare(checkpointId: number): Promise<void> {
    const entries = await this.finish(checkpointId);
    writeAtomic(this.manifestPath(checkpointId), JSON.stringify({ jobId: this.jobId, checkpointId, files: entries }));
  }

  async commit(checkpointId: number): Promise<void> {
    const file = this.manifestPath(checkpointId);
    if (!existsSync(file)) return;
    this.renameAll(this.readManifest(checkpointId));
    this.markCommitted(checkpointId);
    rmSync(file, { force: true });
  }

  async abort(): Promise<void> {
    // Nothing to do eagerly: recover() on the next start drops unrecorded manifests and hidden files.
  }

  private renameAll(entries: readonly ManifestEntry[]): void {
    const dirs = new Set<string>();
    for (const e of entries) {
      const from = join(this.root, e.from);
      const to = join(this.root, e.to);
      if (existsSync(from)) renameSync(from, to);
      else if (!existsSync(to)) throw new Error(`part file ${e.from} of a prepared checkpoint is missing`);
      dirs.add(dirname(to));
    }
    for (const d of dirs) fsyncDir(d);
  }

  private lastCommitted(): number {
    try {
      return Number(readFileSync(join(this.meta, 'committed'), 'utf8')) || 0;
    } catch {
      return 0;
    }
  }

  private markCommitted(id: number): void {
    writeAtomic(join(this.meta, 'committed'), String(id));
  }

  private manifestPath(id: number): string {
    return join(this.meta, `pending-${id}.json`);
  }

  private manifests(): number[] {
    const ids: number[] = [];
    for (const f of readdirSync(this.meta)) {
      const m = /^pending-(\d+)\.json$/.exec(f);
      if (m) ids.push(Number(m[1]));
    }
    return ids.sort((a, b) => a - b);
  }

  private readManifest(id: number): ManifestEntry[] {
    return (JSON.parse(readFileSync(this.manifestPath(id), 'utf8')) as { files: ManifestEntry[] }).files;
  }
}

/** Write-then-rename, with fsyncs: the file is either absent or complete, also after power loss. */
function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, text);
  const fd = openSync(tmp, 'r+');
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, file);
  fsyncDir(dirname(file));
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Deletes the hidden files starting with `prefix` anywhere under `root` (not under the sink's own directory). */
function removeHidden(root: string, prefix: string): void {
  if (!existsSync(root)) return;
  for (const e of readdirSync(root, { withFileTypes: true })) {
    if (e.isDirectory()) {
      if (e.name !== META_DIR) removeHidden(join(root, e.name), prefix);
    } else if (e.name.startsWith(prefix)) {
      rmSync(join(root, e.name), { force: true });
    }
  }
}
