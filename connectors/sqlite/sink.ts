import { formatTimestamp } from '../../engine/expr/index.ts';
import type { Change } from '../../engine/ops/changelog.ts';
import type { Column } from '../../engine/plan/plan.ts';
import type { Row, Sink, SinkCommitter } from '../types.ts';
import { encodeValue } from './values.ts';
import type { StoredValue } from './values.ts';
import { runSliced } from './slices.ts';
import type { Steps } from './slices.ts';
import { ViewStore } from './view-store.ts';
import type { StoredChange } from './view-store.ts';

/**
 * The sink of a materialized view. Rows wait in memory until a checkpoint commits them: the view store
 * writes a checkpoint's rows and its id in one SQLite transaction (commit), which is the whole two-phase
 * protocol for SQLite — there is no partial external state to settle after a crash. If the process dies
 * before that transaction, the view does not hold the checkpoint, recover() answers false, the checkpoint
 * is aborted and the job replays from the previous one, producing the same rows again.
 */
export class ViewSink implements Sink {
  private buffer: Row[] = [];
  /** The changelog of an updating query (writeChanges); a job writes either rows or changes, never both. */
  private changes: Change[] = [];
  /**
   * For a keyed view, the last change of each key since the last checkpoint instead of `changes`: the store
   * applies only the net change per key anyway, so memory stays bounded by the keys touched, not by the
   * updates (a hot key updated in every batch between two checkpoints).
   */
  private netChanges = new Map<unknown, Change>();
  /**
   * A keyed view's changes while only one batch came since the last checkpoint (the usual case: an
   * aggregate emits its mini-batch at the checkpoint), its -U of each update pair dropped, instead of the
   * map: an aggregate's batch has one net change per key already, so building a map of 100,000 keys per
   * checkpoint would only repeat that. Were a key there twice, the store applying the changes in order
   * would still end at the same rows.
   */
  private single: Change[] | undefined;
  /** Positions of the view's key columns (null: no key, every change is kept in order). */
  private readonly keyIdx: readonly number[] | null;
  private prepared: StoredValue[][] | undefined;
  private preparedChanges: StoredChange[] | undefined;
  private wm: number | undefined;
  readonly committer: SinkCommitter;

  constructor(
    private readonly store: ViewStore,
    private readonly view: string,
    private readonly jobId: string,
    private readonly columns: readonly Column[],
  ) {
    const key = store.meta(view)?.key ?? null;
    this.keyIdx = key ? key.map((k) => columns.findIndex((c) => c.name === k)) : null;
    this.committer = {
      recover: async (pending) => {
        this.reset();
        const held = this.store.lastCheckpoint(this.view, this.jobId);
        return pending !== undefined && held !== undefined && held >= pending;
      },
      prepare: async () => {
        // Encoding here, before the checkpoint is recorded PENDING: a value that cannot be stored fails
        // the checkpoint, not the commit. In slices: 100,000 changed keys take long enough to hold up HTTP.
        const rows = this.buffer;
        this.buffer = [];
        const changes = this.single ?? (this.netChanges.size > 0 ? [...this.netChanges.values()] : this.changes);
        this.changes = [];
        this.netChanges = new Map();
        this.single = undefined;
        this.prepared = await runSliced(
          encodeAll(rows, this.columns, (r) => r, (_, e) => e as StoredValue[]),
          ViewStore.sliceMs,
        );
        if (changes.length > 0) {
          this.preparedChanges = await runSliced(
            // A change whose row needs no encoding is its own stored change (the same two fields).
            encodeAll(changes, this.columns, (ch) => ch.row, (ch, e, same): StoredChange => (same ? (ch as StoredChange) : { op: ch.op, row: e })),
            ViewStore.sliceMs,
          );
        }
      },
      commit: async (checkpointId) => {
        const wm = this.wm === undefined ? undefined : this.wm >= Number.MAX_SAFE_INTEGER ? 'END' : formatTimestamp(this.wm);
        // A keyed view's changes are netted here already (netChanges): one per key, nothing to net again. Its
        // rows (an append-only query: a windowed aggregate emits each key once) need no netting either: they
        // are all inserts, and applied in order a later row of a key wins, as netting would make it, while
        // netting 100,000 keys of several columns costs ~70-100 ms per checkpoint.
        const netted = this.keyIdx !== null;
        const changes = this.preparedChanges ?? (this.prepared ?? []).map((row): StoredChange => ({ op: '+I', row }));
        this.prepared = undefined;
        this.preparedChanges = undefined;
        await this.store.commitChangesSliced(this.view, this.jobId, checkpointId, changes, wm, ViewStore.sliceMs, netted);
      },
      abort: async () => this.reset(),
    };
  }

  private reset(): void {
    this.buffer = [];
    this.changes = [];
    this.netChanges = new Map();
    this.single = undefined;
    this.prepared = undefined;
    this.preparedChanges = undefined;
  }

  write(rows: Row[]): void {
    for (const r of rows) this.buffer.push(r);
  }

  /** An updating query's changes: kept in order until the checkpoint commits them with its id. */
  writeChanges(changes: readonly Change[]): void {
    const keyIdx = this.keyIdx;
    if (!keyIdx) {
      for (const c of changes) this.changes.push(c);
      return;
    }
    // The last change of a key decides (a trailing -U with no +U deletes, as the store reads it); a Map keeps
    // the key's first position, so keys commit in the order they first changed.
    if (this.single === undefined && this.netChanges.size === 0) {
      this.single = withoutUpdateBefores(changes, keyIdx);
      return;
    }
    if (this.single !== undefined) {
      for (const c of this.single) this.netChanges.set(keyOf(c.row, keyIdx), c);
      this.single = undefined;
    }
    for (const c of withoutUpdateBefores(changes, keyIdx)) this.netChanges.set(keyOf(c.row, keyIdx), c);
  }

  /** Nothing to send: the rows reach SQLite only with their checkpoint (see the class comment). */
  async flush(): Promise<void> {}

  watermark(wm: number): void {
    this.wm = wm;
  }

  async close(): Promise<void> {
    this.reset();
    this.store.close();
  }
}

/**
 * Rows (of rows or changes: `rowOf`) encoded for SQLite in the view's column order, each wrapped as the
 * commit takes it, as steps (connectors/sqlite/slices.ts). A row whose values are all stored as they are
 * (numbers and strings: most aggregates' rows) is not copied; `wrap` hears so (`same`) and may pass its
 * item on as it is. Nothing downstream changes rows, so sharing them is safe; not copying 100,000 rows
 * per checkpoint keeps them out of the garbage collector's way (they live through the sliced commit).
 */
function* encodeAll<T, R>(items: readonly T[], cols: readonly Column[], rowOf: (item: T) => Row, wrap: (item: T, encoded: readonly StoredValue[], same: boolean) => R): Steps<R[]> {
  const out: R[] = new Array(items.length);
  const nc = cols.length;
  for (let i = 0; i < items.length; i++) {
    const r = rowOf(items[i]!);
    let e: StoredValue[] | undefined;
    for (let c = 0; c < nc; c++) {
      const v = encodeValue(r[c], cols[c]!.type);
      if (e) e[c] = v;
      else if (v !== r[c] || r.length !== nc) {
        e = new Array(nc);
        for (let p = 0; p < c; p++) e[p] = r[p] as StoredValue;
        e[c] = v;
      }
    }
    out[i] = e ? wrap(items[i]!, e, false) : wrap(items[i]!, r as readonly StoredValue[], true);
    if ((i & 63) === 63) yield;
  }
  return out;
}

/** The changes without the -U of each update (a -U right before the +U of the same key, which overrides it). */
function withoutUpdateBefores(changes: readonly Change[], keyIdx: readonly number[]): Change[] {
  const out: Change[] = [];
  const n = changes.length;
  for (let i = 0; i < n; i++) {
    const c = changes[i]!;
    if (c.op === '-U' && i + 1 < n && changes[i + 1]!.op === '+U' && sameKey(c.row, changes[i + 1]!.row, keyIdx)) continue;
    out.push(c);
  }
  return out;
}

/**
 * A key's identity as a Map key: a single-column key of a primitive type is its own value (a Map compares
 * those by value; NULL is null), anything else its text (keyString).
 */
function keyOf(row: Row, keyIdx: readonly number[]): unknown {
  if (keyIdx.length === 1) {
    const v = row[keyIdx[0]!];
    if (v === null || v === undefined) return null;
    const t = typeof v;
    if (t === 'number' || t === 'string' || t === 'bigint' || t === 'boolean') return v;
  }
  return keyString(row, keyIdx);
}

function sameKey(a: Row, b: Row, keyIdx: readonly number[]): boolean {
  for (const i of keyIdx) if (!Object.is(a[i] ?? null, b[i] ?? null)) return false;
  return true;
}

/** A key's identity as text: NULL, numbers (NaN and Infinity included) and strings never collide. */
function keyString(row: Row, keyIdx: readonly number[]): string {
  let k = '';
  for (const i of keyIdx) {
    const v = row[i];
    k += v === null || v === undefined ? '\u0000N' : typeof v === 'number' ? `\u0000n${v}` : typeof v === 'string' ? `\u0000s${JSON.stringify(v)}` : `\u0000j${JSON.stringify(v)}`;
  }
  return k;
}
