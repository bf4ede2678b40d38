import { aggregateArgs, aggregateInputs } from './aggregate-inputs.ts';
import type { CompiledExpr } from '../expr/bound.ts';
import { compileExpr } from '../expr/index.ts';
import { isUpdating } from '../plan/plan.ts';
import type { MiniBatch, PlanNode } from '../plan/plan.ts';
import { insertOnlyAccumulatorFor, retractableAccumulatorFor } from './accumulators.ts';
import type { RetractableAccumulator } from './accumulators.ts';
import { GroupColumns, retractFold } from './group-layout.ts';
import type { ColumnFold, Group, RowFold } from './group-layout.ts';
import { isAccumulate, sameRow } from './changelog.ts';
import type { Change, ChangeDownstream } from './changelog.ts';
import { NumberedGroupIndex, isIntKey } from './int-key-table.ts';
import { keyedChanges } from '../state/keyed.ts';
import type { KeyedChanges, KeyedState } from '../state/keyed.ts';
import { WATERMARK_END } from './operator.ts';
import type { OpCounters, Operator, Row } from './operator.ts';

/** A keyed state entry of one group: the same values as one snapshot entry. */
type GroupEntry = [key: unknown[], accs: unknown[], rows: number, touched: number | null];

/**
 * The aggregate's state as snapshots store it: the same shape of convention as WindowAggregateOp (one
 * plain entry per group, key values then saved accumulators), so generic snapshot handling covers both.
 */
export interface GroupAggSnapshot {
  readonly groups: [key: unknown[], accs: unknown[], rows: number, touched: number][];
}

export interface GroupAggConfig {
  /** Compiled GROUP BY expressions over the input row. */
  readonly keyExprs: readonly CompiledExpr[];
  readonly accumulators: readonly RetractableAccumulator[];
  /** Compiled aggregate arguments (undefined for COUNT(*)). */
  readonly aggArgs: readonly (CompiledExpr | undefined)[];
  /** table.exec.state.ttl in ms; 0 keeps every key forever. */
  readonly stateTtlMs: number;
  /** table.exec.mini-batch.*: undefined emits every batch's net change. */
  readonly miniBatch?: MiniBatch | undefined;
  /**
   * When every GROUP BY expression and every argument is a plain column of the input (the usual
   * `GROUP BY uid` ... `SUM(att)`): their column numbers (undefined for COUNT(*)), which the rows' fast path
   * reads in place of calling the compiled expressions (each is `r[i] ?? null`, and cannot fail).
   */
  readonly columns?: { readonly keys: readonly number[]; readonly args: readonly (number | undefined)[] } | undefined;
}

/**
 * A GROUP BY's compiled configuration (also what a parallel instance pre-aggregates with: its partial
 * accumulators must be of the same kind as the ones they merge into).
 */
export function groupAggConfig(node: Extract<PlanNode, { kind: 'groupAggregate' }>, timeZone: string): GroupAggConfig {
  const ctx = { timeZone };
  return {
    keyExprs: node.keys.map((k) => compileExpr(k, ctx)),
    // Retractable state (multisets for MIN/MAX, counts for SUM) only when the input can retract.
    accumulators: node.aggs.map(isUpdating(node.input) ? retractableAccumulatorFor : insertOnlyAccumulatorFor),
    aggArgs: node.aggs.map((a) => (a.arg ? compileExpr(a.arg, ctx) : undefined)),
    stateTtlMs: node.stateTtlMs,
    miniBatch: node.miniBatch,
    columns: plainColumns(node),
  };
}

/** GroupAggConfig.columns of a GROUP BY, or undefined when a key or an argument is more than a column. */
function plainColumns(node: Extract<PlanNode, { kind: 'groupAggregate' }>): GroupAggConfig['columns'] {
  const keys: number[] = [];
  for (const k of node.keys) {
    if (k.kind !== 'input') return undefined;
    keys.push(k.index);
  }
  const args: (number | undefined)[] = [];
  for (const a of node.aggs) {
    if (a.arg === undefined) args.push(undefined);
    else if (a.arg.kind === 'input') args.push(a.arg.index);
    else return undefined;
  }
  return { keys, args };
}

/**
 * What a parallel instance hands over for one batch of insert-only rows (the local half of a two-phase
 * aggregation, engine/parallel/local-group-aggregate.ts), column-wise so that it crosses threads as flat
 * arrays:
 * - `partials`: the batch pre-aggregated. Group i has key values keys[i*nk ..], accumulators accs[i*na ..]
 *   and rows[i] input rows, the groups in the order the batch first had their keys.
 * - `inputs`: the batch's rows as the aggregate reads them, in order: row i has key values keys[i*nk ..]
 *   and argument values args[i*na ..]. For batches whose keys barely repeat, where pre-aggregating costs
 *   the instance more than it saves the merge.
 */
export type GroupPartials =
  | { readonly kind: 'partials'; readonly keys: unknown[]; readonly accs: unknown[]; readonly rows: number[] }
  | { readonly kind: 'inputs'; readonly keys: unknown[]; readonly args: unknown[]; readonly count: number };

/**
 * Partials in pieces of at most `max` groups, in order (merging them one after the other is merging the
 * whole: groups are taken or created in the same order). null stays one null (no row reached the aggregate).
 */
export function partialPieces(p: GroupPartials | null, max: number): (GroupPartials | null)[] {
  if (p === null || p.kind !== 'partials' || p.rows.length <= max) return [p];
  const n = p.rows.length;
  const nk = p.keys.length / n;
  const na = p.accs.length / n;
  const out: GroupPartials[] = [];
  for (let i = 0; i < n; i += max) {
    const j = Math.min(n, i + max);
    out.push({ kind: 'partials', keys: p.keys.slice(i * nk, j * nk), accs: p.accs.slice(i * na, j * na), rows: p.rows.slice(i, j) });
  }
  return out;
}

/**
 * The Map key of a group's key values. NULL and undefined are one key (a missing field is NULL); JSON
 * keeps NULL distinct from the string 'null'.
 */
export function groupMapKey(vals: readonly unknown[], nk: number): unknown {
  return nk === 0 ? '' : nk === 1 ? (vals[0] === undefined ? null : vals[0]) : JSON.stringify(vals.map((v) => (v === undefined ? null : v)));
}

/** Not more often than this, however short the TTL: a sweep walks every key. */
const MIN_SWEEP_INTERVAL_MS = 1000;

/**
 * Non-windowed GROUP BY (an updating aggregate): one group per key, kept until its rows are all retracted.
 * Takes plain rows (an append-only input: all inserts) or a changelog (an aggregate over an aggregate), and
 * emits per input batch the net change of every key it touched — +I for a new key, -U/+U with the result
 * before and after the batch, -D when the last row of a key was retracted; a key whose result did not
 * change emits nothing. Keys not updated for `stateTtlMs` of processing time are dropped silently (as
 * Flink's table.exec.state.ttl): a later row for such a key starts from zero.
 *
 * With a mini-batch (MiniBatch in plan.ts) the "batch" whose net change is emitted spans several input
 * batches: a key updated by every one of them emits one -U/+U pair for all of them. This is where a GROUP
 * BY over many keys spends its time otherwise (a change object, a result row and a sink write per input
 * row when keys rarely repeat within one input batch).
 */
export class GroupAggregateOp implements Operator, KeyedState {
  readonly name = 'groupAggregate';
  /**
   * Every group by its Map key (groupMapKey), with its number in the columns: an int32 key's number is
   * found in an IntNumberTable (one cache miss, and not the group object's).
   */
  private readonly groups = new NumberedGroupIndex<Group>();
  private readonly nk: number;
  private lastSweep: number;
  /** The current batch's stamp (see GroupColumns.batch). */
  private batchNo = 1;
  /** The groups the current batch touched, in the order it first touched their keys. */
  private touched: Group[] = [];
  /**
   * Groups the current batch touched and then dropped (retracted to zero, by key): a new group for the
   * same key within the batch takes over their place and their result before the batch. Rarely used.
   */
  private readonly droppedInBatch = new Map<unknown, Group>();
  private readonly keyVals: unknown[];
  private readonly argVals: unknown[];
  /** What every row updates, by group number. */
  private readonly cols: GroupColumns;
  /** GroupAggConfig.columns with one key: the key's column (-1: none), and the fold that reads a row's arguments itself. */
  private readonly keyColumn: number = -1;
  private readonly rowFold: RowFold | undefined;
  private readonly retract: ColumnFold;
  /** Keyed state: off until the first checkpoint asks for changes (the in-memory driver never does). */
  private tracking = false;
  /** The next keyedChanges() returns every entry (first checkpoint, or after a whole-snapshot restore). */
  private full = true;
  private dirtyGroups: Group[] = [];
  /** Entry keys the store holds whose group is gone (retracted to zero rows, or expired by the TTL). */
  private readonly removed = new Set<string>();
  /** Input rows of the open mini-batch, and when its first batch came (-1: none open). */
  private held = 0;
  private heldSince = -1;

  constructor(
    private readonly cfg: GroupAggConfig,
    private readonly out: ChangeDownstream,
    private readonly counters: OpCounters,
    private readonly now: () => number = Date.now,
  ) {
    this.nk = cfg.keyExprs.length;
    this.cols = new GroupColumns(cfg.accumulators);
    this.retract = retractFold(cfg.accumulators);
    this.keyVals = new Array(this.nk);
    this.argVals = new Array(cfg.accumulators.length);
    this.lastSweep = now();
    const plain = cfg.columns;
    if (plain !== undefined && plain.keys.length === 1 && plain.args.length === cfg.accumulators.length) {
      this.keyColumn = plain.keys[0]!;
      this.rowFold = this.cols.rowFold(plain.args);
    }
  }

  push(rows: Row[]): void {
    const t = this.now();
    if (this.nk === 1 && this.cfg.stateTtlMs === 0) this.pushFound(rows, t);
    else for (let i = 0; i < rows.length; i++) this.apply(rows[i]!, true, t);
    this.endBatch(t, rows.length);
  }

  /** The numbers of the groups looked up ahead of their rows (pushFound), -1 for none. */
  private found: number[] = [];

  /**
   * push() of rows with one key column and no TTL, in two passes: every row's group number looked up first,
   * in a loop that does nothing else, then the rows folded into the columns at those numbers. With many
   * groups each lookup misses the CPU caches; in a loop of lookups alone the CPU waits for several misses at
   * once, where a row's whole update between two lookups makes it wait for each in turn (100,000 groups in
   * random key order: ~20 % less time, docs/benchmarks.md). A row whose group is new, or not yet touched by
   * the batch, takes the full path (apply), which looks it up again, now from the cache.
   */
  private pushFound(rows: Row[], t: number): void {
    const n = rows.length;
    const keyExpr = this.cfg.keyExprs[0]!;
    const groups = this.groups;
    const found = this.found;
    const kc = this.keyColumn;
    const rowFold = this.rowFold;
    for (let i = 0; i < n; i++) {
      let k: unknown;
      if (kc >= 0) k = rows[i]![kc];
      else {
        try {
          k = keyExpr(rows[i]!);
        } catch {
          found[i] = -1; // apply() judges the row (a bad row, counted once)
          continue;
        }
      }
      found[i] = groups.numberOf(k ?? null); // the Map key of one key value, as groupMapKey
    }
    const { aggArgs } = this.cfg;
    const argVals = this.argVals;
    const cols = this.cols;
    const accs = cols.accs;
    const tracking = this.tracking;
    const batch = this.batchNo;
    let stamps = cols.batch;
    let counts = cols.rows;
    let dirty = cols.dirty;
    for (let i = 0; i < n; i++) {
      const g = found[i]!;
      // A found group is live (push only accumulates, and without a TTL nothing expires), and its update
      // time is not kept (Group.touched).
      if (g < 0 || stamps[g] !== batch) {
        this.apply(rows[i]!, true, t);
        // A new group may have grown the columns.
        stamps = cols.batch;
        counts = cols.rows;
        dirty = cols.dirty;
        continue;
      }
      if (rowFold !== undefined) {
        if (tracking && dirty[g] === 0) this.markDirty(groups.at(g));
        rowFold(accs, g, rows[i]!);
      } else {
        if (!aggregateArgs(aggArgs, rows[i]!, argVals, this.counters)) continue;
        if (tracking && dirty[g] === 0) this.markDirty(groups.at(g));
        cols.add(accs, g, argVals, 0);
      }
      counts[g]++;
    }
  }

  pushChanges(changes: Change[]): void {
    const t = this.now();
    for (let i = 0; i < changes.length; i++) {
      const c = changes[i]!;
      this.apply(c.row, isAccumulate(c), t);
    }
    this.endBatch(t, changes.length);
  }

  watermark(wm: number): void {
    // No event-time state: watermarks pass through; the end of the input closes an open mini-batch first.
    if (wm >= WATERMARK_END) this.flush();
    this.out.watermark(wm);
  }

  /** An input batch is in the state: emit its net change, or keep gathering while the mini-batch is open. */
  private endBatch(t: number, rows: number): void {
    const mb = this.cfg.miniBatch;
    if (mb !== undefined) {
      if (this.heldSince < 0) this.heldSince = t;
      this.held += rows;
      if (this.held < mb.size && t - this.heldSince < mb.latencyMs) return;
    }
    this.held = 0;
    this.heldSince = -1;
    this.finishBatch(t);
  }

  flush(): boolean {
    if (this.heldSince < 0) return false;
    this.held = 0;
    this.heldSince = -1;
    this.finishBatch(this.now());
    return true;
  }

  tick(): boolean {
    const mb = this.cfg.miniBatch;
    if (mb === undefined || this.heldSince < 0 || this.now() - this.heldSince < mb.latencyMs) return false;
    return this.flush();
  }

  /**
   * Folds what an instance made of one batch of insert-only rows (partial aggregates, or the rows' inputs)
   * into the state, exactly as push() of that batch would (only the order in which floating-point sums of
   * partials are added differs): groups are taken or created in the same order, and the batch emits the
   * net change of each key it touched.
   */
  mergePartials(p: GroupPartials): void {
    switch (p.kind) {
      case 'partials':
        return this.mergeAccumulators(p.keys, p.accs, p.rows);
      case 'inputs':
        return this.mergeInputs(p.keys, p.args, p.count);
      default: {
        const never: never = p;
        throw new Error(`unknown group partials ${String(never)}`);
      }
    }
  }

  private mergeAccumulators(keys: unknown[], partial: unknown[], rows: number[]): void {
    const t = this.now();
    const nk = this.nk;
    const na = this.cfg.accumulators.length;
    const keyVals = this.keyVals;
    let input = 0;
    for (let i = 0; i < rows.length; i++) {
      for (let k = 0; k < nk; k++) keyVals[k] = keys[i * nk + k];
      const mk = this.mapKey(keyVals);
      const g = this.liveGroup(mk, t) ?? this.newGroup(mk, keyVals, t);
      this.markDirty(g);
      this.cols.merge(this.cols.accs, g.n, partial, i * na);
      this.cols.rows[g.n] += rows[i]!;
      input += rows[i]!;
      g.touched = t;
    }
    this.endBatch(t, input);
  }

  /** Rows an instance evaluated (keys and arguments), folded in as push() folds rows. */
  private mergeInputs(keys: unknown[], args: unknown[], n: number): void {
    const t = this.now();
    const nk = this.nk;
    const na = this.cfg.accumulators.length;
    const keyVals = this.keyVals;
    if (nk === 1 && this.cfg.stateTtlMs === 0) {
      // pushFound's two passes: every lookup first, then the folds into the groups found.
      const groups = this.groups;
      const found = this.found;
      for (let i = 0; i < n; i++) found[i] = groups.numberOf(keys[i]);
      const cols = this.cols;
      const accs = cols.accs;
      const tracking = this.tracking;
      const batch = this.batchNo;
      let stamps = cols.batch;
      let counts = cols.rows;
      let dirty = cols.dirty;
      for (let i = 0; i < n; i++) {
        const g = found[i]!;
        if (g < 0 || stamps[g] !== batch) {
          keyVals[0] = keys[i];
          this.accumulate(keys[i], keyVals, args, i * na, t);
          stamps = cols.batch;
          counts = cols.rows;
          dirty = cols.dirty;
          continue;
        }
        if (tracking && dirty[g] === 0) this.markDirty(groups.at(g));
        cols.add(accs, g, args, i * na);
        counts[g]++;
      }
    } else {
      for (let i = 0; i < n; i++) {
        for (let k = 0; k < nk; k++) keyVals[k] = keys[i * nk + k];
        this.accumulate(this.mapKey(keyVals), keyVals, args, i * na, t);
      }
    }
    this.endBatch(t, n);
  }

  /** One row's argument values (args[off ..]) into the group of its key, created if the state has none. */
  private accumulate(mk: unknown, keyVals: readonly unknown[], args: readonly unknown[], off: number, t: number): void {
    const g = this.liveGroup(mk, t) ?? this.newGroup(mk, keyVals, t);
    this.markDirty(g);
    this.cols.add(this.cols.accs, g.n, args, off);
    this.cols.rows[g.n]++;
    g.touched = t;
  }

  private mapKey(vals: readonly unknown[]): unknown {
    return groupMapKey(vals, this.nk);
  }

  /** The group of a Map key, if the state holds one (expired or not). */
  private groupOf(mk: unknown): Group | undefined {
    return this.groups.get(mk);
  }

  private setGroup(mk: unknown, g: Group): void {
    this.groups.set(mk, g);
  }

  private apply(r: Row, accumulate: boolean, t: number): void {
    const { keyExprs, aggArgs } = this.cfg;
    const keyVals = this.keyVals;
    const argVals = this.argVals;
    if (!aggregateInputs(keyExprs, aggArgs, r, keyVals, argVals, this.counters)) return;
    const mk = this.mapKey(keyVals);
    if (accumulate) {
      this.accumulate(mk, keyVals, argVals, 0, t);
      return;
    }
    const g = this.liveGroup(mk, t);
    // A retraction for a key we do not hold (dropped by the state TTL) is ignored, as Flink does.
    if (!g) return;
    this.retract(this.cols.accs, g.n, argVals, 0);
    this.cols.rows[g.n]--;
    g.touched = t;
    this.markDirty(g);
    if (this.cols.rows[g.n]! <= 0) this.dropGroup(mk, g);
  }

  /** The group of a key if it holds one that has not expired, touched by the current batch. */
  private liveGroup(mk: unknown, t: number): Group | undefined {
    const g = this.groupOf(mk);
    if (!g) return undefined;
    const ttl = this.cfg.stateTtlMs;
    if (ttl > 0 && t - g.touched >= ttl) {
      // Expired but not swept yet: as if it had been (silently gone; this row starts from zero).
      this.dropGroup(mk, g);
      return undefined;
    }
    if (this.cols.batch[g.n] !== this.batchNo) this.touch(mk, g, g.last ?? this.resultRow(g));
    return g;
  }

  /** A new, empty group for a key the state does not hold, touched by the current batch. */
  private newGroup(mk: unknown, keyVals: readonly unknown[], t: number): Group {
    const g = newGroupObject(
      this.cols.takeEmpty(),
      keyVals.map((v) => (v === undefined ? null : v)),
      t,
      false,
    );
    this.setGroup(mk, g);
    this.touch(mk, g, null);
    if (this.tracking && this.removed.size > 0) {
      // The store still holds this key's previous group: the new one overwrites that entry.
      const e = this.entryOf(g);
      if (this.removed.delete(e)) g.stored = true;
    }
    return g;
  }

  /** The batch's first touch of `g`: remember its result before the batch and its place in the output. */
  private touch(mk: unknown, g: Group, before: Row | null): void {
    this.cols.batch[g.n] = this.batchNo;
    const prev = this.droppedInBatch.size > 0 ? this.droppedInBatch.get(mk) : undefined;
    if (prev) {
      // The key was touched earlier in this batch, then dropped: it changes from its state before the batch.
      this.droppedInBatch.delete(mk);
      g.before = prev.before;
      g.slot = prev.slot;
      this.touched[prev.slot] = g;
      return;
    }
    g.before = before;
    g.slot = this.touched.length;
    this.touched.push(g);
  }

  private markDirty(g: Group): void {
    const dirty = this.cols.dirty;
    if (this.tracking && dirty[g.n] === 0) {
      dirty[g.n] = 1;
      this.dirtyGroups.push(g);
    }
  }

  /** Removes a group from state; its stored entry (if any) is deleted at the next checkpoint. */
  private dropGroup(mk: unknown, g: Group): void {
    this.groups.delete(mk);
    g.gone = true;
    if (this.cols.batch[g.n] === this.batchNo) this.droppedInBatch.set(mk, g);
    // Its number may be taken again now: nothing reads a gone group's columns (a checkpoint skips it).
    this.cols.release(g.n);
    if (g.stored) this.removed.add(this.entryOf(g));
    g.stored = false;
  }

  private entryOf(g: Group): string {
    // One int32 key: the text JSON.stringify gives (-0 is 0 in both), without its walk.
    g.entry ??= g.key.length === 1 && isIntKey(g.key[0]) ? `[${g.key[0]}]` : JSON.stringify(g.key);
    return g.entry;
  }

  private finishBatch(t: number): void {
    const touched = this.touched;
    if (touched.length > 0) {
      const out: Change[] = [];
      for (let i = 0; i < touched.length; i++) {
        const g = touched[i]!;
        const b = g.before;
        g.before = null;
        const a = g.gone ? null : this.resultRow(g);
        if (a !== null) g.last = a;
        if (b === null) {
          if (a !== null) out.push({ op: '+I', row: a });
        } else if (a === null) out.push({ op: '-D', row: b });
        else if (!sameRow(b, a)) out.push({ op: '-U', row: b }, { op: '+U', row: a });
      }
      this.touched = [];
      this.droppedInBatch.clear();
      this.batchNo++;
      if (out.length > 0) this.out.pushChanges(out);
    }
    const ttl = this.cfg.stateTtlMs;
    if (ttl > 0 && t - this.lastSweep >= Math.max(MIN_SWEEP_INTERVAL_MS, ttl / 2)) this.sweep(t);
  }

  /** Drops every key not updated for the TTL (silently: the downstream keeps its last row, as in Flink). */
  private sweep(t: number): void {
    const ttl = this.cfg.stateTtlMs;
    this.lastSweep = t;
    for (const g of [...this.groups.values()]) if (t - g.touched >= ttl) this.dropGroup(this.mapKey(g.key), g);
  }

  private resultRow(g: Group): Row {
    const accumulators = this.cfg.accumulators;
    const nk = this.nk;
    const row: Row = new Array(nk + accumulators.length);
    for (let k = 0; k < nk; k++) row[k] = g.key[k];
    // Read where they lie (no accsOf copy: a view's checkpoint makes a result row for every key it touched).
    const cols = this.cols.accs;
    const n = g.n;
    for (let a = 0; a < accumulators.length; a++) row[nk + a] = accumulators[a]!.result(cols[a]![n]);
    return row;
  }

  /** Group numbers in the columns, taken or free to take again (tests: dropped groups give theirs back). */
  columnSlots(): number {
    return this.cols.slots;
  }

  /** Number of keys held (metrics and tests). */
  openGroups(): number {
    return this.groups.size;
  }

  /** The group's accumulators as their save() has them (in the copy accsOf makes: no second array). */
  private savedAccs(g: Group): unknown[] {
    const accs = this.cfg.accumulators;
    const saved = this.cols.accsOf(g.n);
    for (let i = 0; i < saved.length; i++) saved[i] = accs[i]!.save(saved[i]);
    return saved;
  }

  snapshot(): GroupAggSnapshot {
    return { groups: [...this.groups.values()].map((g) => [[...g.key], this.savedAccs(g), this.cols.rows[g.n]!, g.touched]) };
  }

  restore(state: unknown): void {
    const s = state as GroupAggSnapshot;
    this.groups.clear();
    this.cols.clear();
    this.touched = [];
    this.droppedInBatch.clear();
    this.held = 0;
    this.heldSince = -1;
    for (const [key, saved, rows, touched] of s.groups) this.restoreGroup(key, saved, rows, false, touched);
    // The store does not hold this state as entries (an in-memory restore, or a whole-snapshot checkpoint).
    this.full = true;
    this.dirtyGroups = [];
    this.removed.clear();
  }

  private restoreGroup(key: unknown[], saved: unknown[], rows: number, stored: boolean, touchedOrNull: number | null): Group {
    const accs = this.cfg.accumulators;
    // null: stored without a TTL (keyedChanges), so not known: a TTL set since counts from the restart.
    const touched = touchedOrNull ?? this.now();
    const g = newGroupObject(
      this.cols.take(
        saved.map((d, i) => accs[i]!.load(d)),
        rows,
      ),
      key,
      touched,
      stored,
    );
    this.setGroup(this.mapKey(key), g);
    return g;
  }

  /**
   * Keyed state (engine/state/keyed.ts): one entry per key, so a checkpoint writes the keys updated since
   * the previous one and deletes those whose last row was retracted or whose state expired.
   */
  keyedChanges(all = false): KeyedChanges {
    // The last update's time only matters with a TTL: without one it is stored as null ("not kept"), which
    // restoreGroup reads as the restart's time. Writing a 13-digit time takes JSON as long as the rest of
    // the entry (~20-30 ms per 100,000 keys per checkpoint).
    const keepTime = this.cfg.stateTtlMs > 0;
    const entry = (g: Group): [string, GroupEntry] => {
      this.cols.dirty[g.n] = 0;
      g.stored = true;
      // The key array itself: a group's key never changes (its accumulators do, so they are saved).
      return [this.entryOf(g), [g.key as unknown[], this.savedAccs(g), this.cols.rows[g.n]!, keepTime ? g.touched : null]];
    };
    const upserts: [string, unknown][] = [];
    let deletes: string[] = [];
    const full = all || !this.tracking || this.full;
    if (full) {
      for (const g of this.groups.values()) upserts.push(entry(g));
    } else {
      // A dirty group dropped meanwhile is no longer dirty (its entry, if stored, is in `removed`).
      // (Its number may have been taken since, so `gone` is read first.)
      for (const g of this.dirtyGroups) if (!g.gone && this.cols.dirty[g.n] === 1) upserts.push(entry(g));
      deletes = [...this.removed];
    }
    this.tracking = true;
    this.full = false;
    this.dirtyGroups = [];
    this.removed.clear();
    return keyedChanges(full, upserts, deletes);
  }

  /**
   * `stored` false: the entries are a copy from elsewhere (e.g. progress kept in the catalog), not what this
   * job's store holds, so the next keyedChanges() is full, as after restore(). The groups' order does not
   * matter for what comes out: a batch emits the keys it touched in the order it first touched them.
   */
  restoreKeyed(entries: ReadonlyMap<string, unknown>, stored = true): void {
    this.groups.clear();
    this.cols.clear();
    this.touched = [];
    this.droppedInBatch.clear();
    this.held = 0;
    this.heldSince = -1;
    for (const [k, v] of entries) {
      const [key, saved, rows, touched] = v as GroupEntry;
      this.restoreGroup(key, saved, rows, stored, touched).entry = k;
    }
    this.tracking = true;
    this.full = !stored;
    this.dirtyGroups = [];
    this.removed.clear();
  }
}

/** A group's object: every group gets its fields in the same order (one hidden class). */
function newGroupObject(n: number, key: readonly unknown[], touched: number, stored: boolean): Group {
  return { n, touched, key, last: undefined, entry: undefined, stored, before: null, slot: -1, gone: false };
}
