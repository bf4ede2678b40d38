import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Column } from '../../engine/plan/plan.ts';
import type { Row, Sink, SinkCommitter, SinkSpec } from '../types.ts';
import { PartitionCommitter } from './commit.ts';
import type { PartitionSnapshot } from './commit.ts';
import { fsyncDir, writeAtomic } from './durable.ts';
import { EncodeWorker } from './encoder.ts';
import { parseFileSystemOptions } from './options.ts';
import type { FileSystemOptions } from './options.ts';
import { packColumn, wireFor } from './column-wire.ts';
import type { ColumnWire } from './column-wire.ts';
import { partitionDir, partitionText } from './partition.ts';

/** Rows buffered per part file (in the encoding worker) before they are encoded as one row group (large groups read fast). */
const ROW_GROUP_ROWS = 50_000;
/** Upper bound on a part file's buffered (not yet encoded) bytes, estimated. */
const ROW_GROUP_BYTES = 64 * 1024 * 1024;
/**
 * Rows shipped to an encoding worker and not yet taken by it (estimated bytes) that flush() lets run
 * on; beyond that it waits (back-pressure). Enough for the job's thread to go on decoding while the
 * worker encodes a row group (ROW_GROUP_ROWS), so the two threads overlap: with at most two requests in
 * flight, as before, they mostly took turns (docs/benchmarks.md, lake: +28 % rows/s).
 */
const MAX_QUEUED_BYTES_PER_WORKER = 32 * 1024 * 1024;
/** And requests (each bucket ships its own per flush): many small ones cost a message each. */
const MAX_IN_FLIGHT_PER_WORKER = 64;
/** Partition directories remembered by raw values (cleared when full: a lake has few live partitions). */
const DIR_CACHE_SIZE = 4096;
/** The sink's own directory under the table's path: hidden from lake readers by its '.' prefix. */
export const META_DIR = '.weir';

/** One entry of a checkpoint's manifest: a finished hidden part file and its visible name (relative to the table path). */
interface ManifestEntry {
  readonly from: string;
  readonly to: string;
}

/** What prepare(n) writes to `.weir/<job>/pending-<n>.json`. */
interface Manifest {
  readonly jobId: string;
  readonly checkpointId: number;
  readonly files: ManifestEntry[];
  /** Present with partition commit: the pending partitions and the watermark when n was prepared. */
  readonly partitions?: PartitionSnapshot;
}

/** A part file being written by the encoding worker: hidden until the checkpoint that covers it commits. */
interface OpenPart {
  readonly rel: string;
  /** Id of the file in the worker. */
  readonly file: number;
  /** Opened and closed here (not in the worker), so a crashed worker leaks no descriptor. */
  readonly fd: number;
  readonly openedAt: number;
  /** How each column's values travel to the worker, fixed for the file (column-wire.ts). */
  readonly wires: readonly ColumnWire[];
  /** The worker that encodes it (every request for a file goes to one worker, in order). */
  readonly encoder: EncodeWorker;
  /** Bytes on disk, as the worker last reported. */
  bytes: number;
  /** Estimated bytes of rows shipped to it that the worker has not taken yet (they may make `bytes` grow). */
  queued: number;
}

/** The rows of one partition since the last flush, column by column, already converted. */
interface Bucket {
  readonly dir: string;
  columns: unknown[][];
  rows: number;
  estBytes: number;
  /**
   * One part file per encoding worker at most ('sink.parallelism', as Flink's parallel writers each
   * write their own file per bucket): successive shipments of the partition go to them in turn.
   */
  readonly parts: (OpenPart | undefined)[];
  /** Which of `parts` takes the next shipment. */
  turn: number;
}

/**
 * The filesystem sink (format parquet): rows go to Hive-style partition directories of the table's path
 * as part files that are written hidden (`.part-...inprogress`) and renamed into place when the
 * checkpoint covering them commits (docs/lake.md). Like Flink's bulk formats, every part file is closed
 * at each checkpoint; between checkpoints one rolls by size and by age. Encoding and writing run in a
 * worker thread (encode-worker.ts) so the job's event loop never waits on them.
 */
export class FileSystemSink implements Sink {
  readonly committer: SinkCommitter;
  private readonly buckets = new Map<string, Bucket>();
  /** Part files finished (or being finished) since the last prepare. */
  private finished: string[] = [];
  private seq = 0;
  private lastRollCheck = Date.now();
  /** Unique per incarnation, so a restarted job never reuses an in-progress name of its predecessor. */
  private readonly run = randomUUID().slice(0, 8);
  private readonly fileColumns: readonly Column[];
  private readonly fileIndex: readonly number[];
  private readonly partIndex: readonly number[];
  private readonly partNames: readonly string[];
  private readonly partitions: PartitionCommitter | undefined;
  /** Started on first use, up to 'sink.parallelism' of them. */
  private readonly encoders: EncodeWorker[] = [];
  /** Worker requests not yet awaited; each settles without throwing (a failure lands in `failure`). */
  private inFlight: Promise<void>[] = [];
  /** Estimated bytes of the rows in `inFlight` requests. */
  private queuedBytes = 0;
  private failure: Error | undefined;
  private readonly fds = new Set<number>();
  private wm: number | undefined;
  private closed = false;
  private readonly dirCache = new Map<string, string>();

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
    const meta = join(opts.path, META_DIR, spec.jobId);
    this.partitions = opts.partitionCommit ? new PartitionCommitter(opts.partitionCommit, partitionedBy, opts.path, join(meta, 'partitions.json')) : undefined;
    this.committer = new FileSystemCommitter(opts.path, spec.jobId, (id) => this.prepare(id), this.partitions, (dir) => this.buckets.has(dir));
  }

  static async open(spec: SinkSpec): Promise<FileSystemSink> {
    const partitionedBy = spec.partitionedBy ?? [];
    const opts = parseFileSystemOptions(spec.options, spec.columns, partitionedBy);
    mkdirSync(join(opts.path, META_DIR, spec.jobId), { recursive: true });
    return new FileSystemSink(opts, spec, partitionedBy);
  }

  write(rows: Row[]): void {
    let prev: Row | undefined;
    let b: Bucket | undefined;
    for (const r of rows) {
      // Consecutive rows mostly share a partition: then they share the bucket, found once.
      if (b === undefined || !this.samePartition(r, prev!)) b = this.bucketOf(r);
      prev = r;
      for (let j = 0; j < this.fileIndex.length; j++) {
        const v = r[this.fileIndex[j]!];
        // Engine values as they are: packing them for the worker happens at flush (column-wire.ts).
        b.columns[j]!.push(v === undefined ? null : v);
        b.estBytes += typeof v === 'string' ? v.length * 3 : Array.isArray(v) ? JSON.stringify(v).length : 8;
      }
      b.rows++;
    }
  }

  private samePartition(r: Row, prev: Row): boolean {
    for (const i of this.partIndex) if (r[i] !== prev[i]) return false;
    return true;
  }

  private bucketOf(r: Row): Bucket {
    const dir = this.dirOf(r);
    let b = this.buckets.get(dir);
    if (!b) {
      b = { dir, columns: this.fileColumns.map(() => []), rows: 0, estBytes: 0, parts: new Array<OpenPart | undefined>(this.opts.parallelism).fill(undefined), turn: 0 };
      this.buckets.set(dir, b);
      this.partitions?.touched(dir, Date.now());
    }
    return b;
  }

  /** A row's partition directory; cached by its raw values, since escaping every row's values is costly. */
  private dirOf(r: Row): string {
    let key = '';
    for (const i of this.partIndex) {
      const v = r[i];
      key += v === null || v === undefined ? '\u0001\u0000' : `${String(v)}\u0000`;
    }
    let dir = this.dirCache.get(key);
    if (dir === undefined) {
      const cols = this.spec.columns;
      dir = partitionDir(this.partNames, this.partIndex.map((i) => partitionText(r[i], cols[i]!.type)));
      if (this.dirCache.size >= DIR_CACHE_SIZE) this.dirCache.clear();
      this.dirCache.set(key, dir);
    }
    return dir;
  }

  watermark(wm: number): void {
    if (this.wm === undefined || wm > this.wm) this.wm = wm;
  }

  /**
   * Hands each partition's new rows to an encoding worker and rolls files by size and age. Waits only
   * when more than MAX_QUEUED_BYTES_PER_WORKER (or MAX_IN_FLIGHT_PER_WORKER requests) per worker are
   * outstanding, or when a file has as much shipped to it as its size limit but not yet reported (so
   * that rolling by size sees it). Rows not yet in a finished file are not lost on a crash: the job
   * replays them from its last checkpoint. Throws once a worker failed.
   */
  async flush(): Promise<void> {
    this.check();
    for (const b of this.buckets.values()) this.ship(b);
    const n = this.opts.parallelism;
    while (this.inFlight.length > 0 && (this.queuedBytes > MAX_QUEUED_BYTES_PER_WORKER * n || this.inFlight.length > MAX_IN_FLIGHT_PER_WORKER * n || this.partOverSize())) {
      await this.inFlight.shift();
    }
    for (const b of this.buckets.values()) {
      for (let lane = 0; lane < b.parts.length; lane++) {
        const part = b.parts[lane];
        if (part && part.bytes >= this.opts.fileSize) this.roll(b, lane);
      }
    }
    const now = Date.now();
    if (now - this.lastRollCheck >= this.opts.checkIntervalMs) {
      this.lastRollCheck = now;
      for (const b of this.buckets.values()) {
        if (b.parts.some((p) => p && now - p.openedAt >= this.opts.rolloverIntervalMs)) this.rollAll(b);
      }
    }
    this.check();
  }

  /** Whether an open file may have reached its size limit with rows its worker has not reported on. */
  private partOverSize(): boolean {
    for (const b of this.buckets.values()) for (const p of b.parts) if (p && p.queued > 0 && p.bytes + p.queued >= this.opts.fileSize) return true;
    return false;
  }

  /** The first encoding worker's thread, once started (tests make it crash). */
  get encodeThread(): EncodeWorker['thread'] | undefined {
    return this.encoders[0]?.thread;
  }

  private check(): void {
    if (this.failure) throw this.failure;
    if (this.closed) throw new Error('the filesystem sink is closed');
  }

  private encoderFor(lane: number): EncodeWorker {
    while (this.encoders.length <= lane) this.encoders.push(new EncodeWorker());
    return this.encoders[lane]!;
  }

  /** `part`: the file an 'add' ships `queued` estimated bytes to, counted as queued until the worker answers. */
  private send(encoder: EncodeWorker, req: Parameters<EncodeWorker['request']>[0], then: (bytes: number) => void, transfer: ArrayBuffer[] = [], part?: OpenPart, queued = 0): void {
    this.queuedBytes += queued;
    if (part) part.queued += queued;
    const settled = (): void => {
      this.queuedBytes -= queued;
      if (part) part.queued -= queued;
    };
    this.inFlight.push(
      encoder.request(req, transfer).then(
        (bytes) => {
          settled();
          then(bytes);
        },
        (e: unknown) => {
          settled();
          this.failure ??= e instanceof Error ? e : new Error(String(e));
        },
      ),
    );
  }

  /** Sends the bucket's rows to the part file whose turn it is (opening one if needed). */
  private ship(b: Bucket): void {
    if (b.rows === 0) return;
    const lane = b.turn;
    b.turn = (b.turn + 1) % b.parts.length;
    let part = b.parts[lane];
    if (!part) {
      const rel = join(b.dir, `.part-${this.spec.jobId}-${this.run}-${this.seq}.parquet.inprogress`);
      mkdirSync(join(this.opts.path, b.dir), { recursive: true });
      const fd = openSync(join(this.opts.path, rel), 'wx');
      this.fds.add(fd);
      // The file's first rows choose how its text travels (dictionary codes or UTF-8), for all its rows.
      const wires = this.fileColumns.map((c, j) => wireFor(c.type, b.columns[j]!));
      part = { rel, file: this.seq++, fd, openedAt: Date.now(), wires, encoder: this.encoderFor(lane), bytes: 0, queued: 0 };
      b.parts[lane] = part;
      const rowGroupBytes = Math.min(ROW_GROUP_BYTES, this.opts.fileSize);
      this.send(part.encoder, { op: 'open', file: part.file, fd, columns: this.fileColumns, wires, codec: this.opts.codec, rowGroupRows: ROW_GROUP_ROWS, rowGroupBytes }, () => undefined);
    }
    const target = part;
    const transfer: ArrayBuffer[] = [];
    const columns = b.columns.map((values, j) => packColumn(values, target.wires[j]!, transfer));
    // Transferred buffers move to the worker and cloned arrays are copied now: fresh arrays take the next rows.
    this.send(target.encoder, { op: 'add', file: target.file, columns, rows: b.rows, estBytes: b.estBytes }, (bytes) => {
      target.bytes = bytes;
    }, transfer, target, b.estBytes);
    b.columns = this.fileColumns.map(() => []);
    b.rows = 0;
    b.estBytes = 0;
  }

  /** Ships the bucket's last rows and finishes all its part files. */
  private rollAll(b: Bucket): void {
    this.ship(b);
    for (let lane = 0; lane < b.parts.length; lane++) this.roll(b, lane);
  }

  /** Finishes one part file of the bucket; it stays hidden until the next checkpoint commits. */
  private roll(b: Bucket, lane: number): void {
    const part = b.parts[lane];
    if (!part) return;
    b.parts[lane] = undefined;
    const release = (): void => {
      this.fds.delete(part.fd);
      closeSync(part.fd);
    };
    this.finished.push(part.rel);
    this.inFlight.push(
      part.encoder.request({ op: 'finish', file: part.file }).then(
        () => release(),
        (e: unknown) => {
          release();
          this.failure ??= e instanceof Error ? e : new Error(String(e));
        },
      ),
    );
  }

  /** Finishes every part file, and returns what checkpoint `id` makes visible (with unique names carrying `id`). */
  private async prepare(id: number): Promise<Pick<Manifest, 'files' | 'partitions'>> {
    this.check();
    for (const b of this.buckets.values()) this.rollAll(b);
    const waiting = this.inFlight;
    this.inFlight = [];
    await Promise.all(waiting);
    this.check();
    this.buckets.clear();
    const files = this.finished.map((from, k) => ({ from, to: join(dirname(from), `part-${this.spec.jobId}-${id}-${k}.parquet`) }));
    this.finished = [];
    return this.partitions ? { files, partitions: this.partitions.snapshot(this.wm) } : { files };
  }

  async close(): Promise<void> {
    this.closed = true;
    // Whatever is open here is output after the last checkpoint, which a restarted job writes again.
    this.buckets.clear();
    const encoders = this.encoders.splice(0);
    await Promise.all(encoders.map((e) => e.terminate()));
    await Promise.all(this.inFlight);
    this.inFlight = [];
    for (const fd of this.fds) closeSync(fd);
    this.fds.clear();
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
    private readonly finish: (id: number) => Promise<Pick<Manifest, 'files' | 'partitions'>>,
    private readonly partitions: PartitionCommitter | undefined,
    private readonly rewritten: (dir: string) => boolean,
  ) {
    this.meta = join(root, META_DIR, jobId);
  }

  async recover(pending: number | undefined): Promise<boolean> {
    let committed = pending !== undefined && this.lastCommitted() >= pending;
    this.partitions?.load();
    for (const id of this.manifests()) {
      const m = this.readManifest(id);
      if (id === pending) {
        // Prepared and recorded PENDING: the commit was decided; finish it (renames and _SUCCESS are idempotent).
        await this.complete(m);
        committed = true;
      } else {
        // Prepared but never recorded PENDING (or superseded): the job replays this output; drop it.
        for (const e of m.files) rmSync(join(this.root, e.from), { force: true });
      }
      rmSync(this.manifestPath(id), { force: true });
    }
    // In-progress files of earlier incarnations: their rows are replayed from the checkpoint.
    removeHidden(this.root, `.part-${this.jobId}-`);
    return committed;
  }

  async prepare(checkpointId: number): Promise<void> {
    const body = await this.finish(checkpointId);
    await writeAtomic(this.manifestPath(checkpointId), JSON.stringify({ jobId: this.jobId, checkpointId, ...body } satisfies Manifest));
  }

  async commit(checkpointId: number): Promise<void> {
    const file = this.manifestPath(checkpointId);
    if (!existsSync(file)) return;
    await this.complete(this.readManifest(checkpointId));
    rmSync(file, { force: true });
  }

  /**
   * Makes a prepared checkpoint's files visible, then commits the partitions that are complete: a
   * `_SUCCESS` is written only after the files it vouches for were renamed into place.
   */
  private async complete(m: Manifest): Promise<void> {
    await this.renameAll(m.files);
    if (this.partitions && m.partitions) await this.partitions.settle(m.partitions, Date.now(), this.rewritten);
    await writeAtomic(join(this.meta, 'committed'), String(m.checkpointId));
  }

  async abort(): Promise<void> {
    // Nothing to do eagerly: recover() on the next start drops unrecorded manifests and hidden files.
  }

  private async renameAll(entries: readonly ManifestEntry[]): Promise<void> {
    const dirs = new Set<string>();
    for (const e of entries) {
      const from = join(this.root, e.from);
      const to = join(this.root, e.to);
      if (existsSync(from)) await rename(from, to);
      else if (!existsSync(to)) throw new Error(`part file ${e.from} of a prepared checkpoint is missing`);
      dirs.add(dirname(to));
    }
    await Promise.all([...dirs].map(fsyncDir));
  }

  private lastCommitted(): number {
    try {
      return Number(readFileSync(join(this.meta, 'committed'), 'utf8')) || 0;
    } catch {
      return 0;
    }
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

  private readManifest(id: number): Manifest {
    return JSON.parse(readFileSync(this.manifestPath(id), 'utf8')) as Manifest;
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
