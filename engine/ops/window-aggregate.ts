import { aggregateInputs } from './aggregate-inputs.ts';
import type { CompiledExpr } from '../expr/bound.ts';
import type { GroupKey, WindowSpec } from '../plan/plan.ts';
import { sameWindowsRange, windowStarts } from '../time/windows.ts';
import type { Accumulator } from './accumulators.ts';
import { GroupColumns } from './group-layout.ts';
import { GroupNumbers } from './int-key-table.ts';
import { keyedChanges } from '../state/keyed.ts';
import type { KeyedChanges, KeyedState } from '../state/keyed.ts';
import type { Downstream, OpCounters, Operator, Row } from './operator.ts';

/**
 * One group of one window: what is read once per window or checkpoint. Its accumulators and dirtiness lie
 * in the operator's columns at its number (GroupColumns, shared by all windows, as a GROUP BY's): a row
 * reads the window's int table and those arrays, never the group object.
 */
interface Group {
  /** Its number in the columns, held until its window fires. */
  readonly n: number;
  readonly key: readonly unknown[];
  /** Keyed state (see keyedChanges): the window it belongs to, its entry key once computed, and whether the store holds it. */
  readonly start: number;
  /** Creation order: a window emits its groups in it, also after a keyed restore (entries load in no particular order). */
  readonly seq: number;
  entry: string | undefined;
  stored: boolean;
  /** Its window fired: its number may belong to another group now. */
  fired: boolean;
}

/**
 * The groups of one window: their numbers by key, and the groups in creation order (a window never drops
 * a group alone). The groups by number are the operator's (WindowAggregateOp.groupAt), for all windows.
 */
class WindowGroups {
  private readonly numbers = new GroupNumbers();
  readonly list: Group[] = [];

  get size(): number {
    return this.list.length;
  }

  /** The number of the group of key k, or -1. */
  numberOf(k: unknown): number {
    return this.numbers.numberOf(k);
  }

  add(k: unknown, g: Group): void {
    this.numbers.set(k, g.n);
    this.list.push(g);
  }
}

/** A keyed state entry of one group: [window start, group key, saved accumulators, creation order]. */
type GroupEntry = [start: number, key: unknown[], accs: unknown[], seq: number];

/** The keyed entry holding the operator's watermark (group entries' keys start with a digit or '-'). */
const WM_ENTRY = 'wm';

/**
 * What a parallel instance hands over for a batch of rows (the local half of a two-phase aggregation,
 * LocalWindowAggregate in a worker):
 * - `partials`: per window start, per group key, accumulators over the batch's rows; windows and groups in
 *   the order the rows first reached them; and per last (latest) window start, how many rows had it, which
 *   is what the late check needs.
 * - `inputs`: the rows as the aggregate reads them, in order: row i has event time times[i], key values
 *   keys[i*nk ..] and argument values args[i*na ..]. For batches whose groups barely repeat, where
 *   pre-aggregating costs the instance more than it saves the merge.
 */
export type WindowPartials =
  | {
      readonly kind: 'partials';
      readonly windows: [start: number, groups: [key: unknown[], accs: unknown[]][]][];
      readonly lastStarts: [start: number, rows: number][];
    }
  | { readonly kind: 'inputs'; readonly times: number[]; readonly keys: unknown[]; readonly args: unknown[]; readonly count: number };

/** The aggregate's state, as snapshots store it. */
interface WindowAggSnapshot {
  readonly watermark: number;
  readonly windows: [start: number, groups: [key: unknown[], accs: unknown[]][]][];
}

export interface WindowAggConfig {
  readonly spec: WindowSpec;
  readonly timeIndex: number;
  readonly keys: readonly GroupKey[];
  /** Compiled GROUP BY expressions, one per key of kind 'expr' (in order). */
  readonly keyExprs: readonly CompiledExpr[];
  readonly accumulators: readonly Accumulator[];
  /** Compiled aggregate arguments (undefined for COUNT(*)). */
  readonly aggArgs: readonly (CompiledExpr | undefined)[];
}

/** Rows push() takes at a time through its passes (bounds its buffers). */
const PUSH_CHUNK = 1024;

/**
 * Groups in a window beyond which push() looks a chunk's groups up in a loop of their own: more than the
 * CPU's caches keep between two rows of one group.
 */
const MANY_GROUPS = 4096;

/**
 * Window aggregate on event time: state is the groups of each open window (WindowGroups), by window start.
 * A window fires once, when the watermark reaches its end - 1 ms (as Flink), and its state is freed.
 * A row whose every window has fired is late: dropped and counted.
 */
export class WindowAggregateOp implements Operator, KeyedState {
  readonly name = 'windowAggregate';
  private readonly windows = new Map<number, WindowGroups>();
  private wm = Number.MIN_SAFE_INTEGER;
  private readonly exprKeyCount: number;
  private readonly starts: number[] = [];
  /** push()'s cache: the open windows of the current event-time range and their groups (nOpen). */
  private readonly openStarts: number[] = [];
  private readonly openMaps: WindowGroups[] = [];
  /** Keyed state: off until the first checkpoint asks for changes (the in-memory driver never does). */
  private tracking = false;
  /** The next keyedChanges() returns every entry (first checkpoint, or after a whole-snapshot restore). */
  private full = true;
  private dirtyGroups: Group[] = [];
  /** Entry keys of stored groups whose window fired since the last checkpoint. */
  private firedEntries: string[] = [];
  private storedWm = Number.NaN;
  private seq = 0;
  /** Every open group's accumulators and dirtiness, by group number; and the group of each number. */
  private readonly cols: GroupColumns;
  private groupAt: (Group | undefined)[] = [];

  constructor(
    private readonly cfg: WindowAggConfig,
    private readonly out: Downstream,
    private readonly counters: OpCounters,
  ) {
    this.exprKeyCount = cfg.keyExprs.length;
    this.cols = new GroupColumns(cfg.accumulators);
  }

  push(rows: Row[]): void {
    // Consecutive rows mostly fall in the same windows: while event time stays in the range where the
    // windows of the last openWindows() call hold, a row goes to the same open windows (the watermark
    // does not move within a push) without the window arithmetic and the `windows` lookups. The cache
    // lives for one push: firing deletes windows.
    this.range.lo = Infinity;
    this.range.hi = -Infinity;
    this.nOpen = 0;
    for (let from = 0; from < rows.length; from += PUSH_CHUNK) {
      const to = Math.min(rows.length, from + PUSH_CHUNK);
      if (this.manyGroups) this.pushAhead(rows, from, to);
      else this.pushDirect(rows, from, to);
      let most = 0;
      for (let w = 0; w < this.nOpen; w++) most = Math.max(most, this.openMaps[w]!.size);
      this.manyGroups = most > MANY_GROUPS;
    }
    this.openMaps.length = 0;
  }

  /**
   * Sets openStarts / openMaps (nOpen of them) to the windows of a row at `ts` that the watermark has not
   * passed, creating their groups (windows keep the order of their first rows), and `range` to the
   * event times they hold for (sameWindowsRange).
   */
  private openWindows(ts: number): number {
    const spec = this.cfg.spec;
    const starts = this.starts;
    const nw = windowStarts(ts, spec, starts);
    sameWindowsRange(starts, nw, spec, this.range);
    let n = 0;
    for (let w = 0; w < nw; w++) {
      const start = starts[w]!;
      if (start + spec.size - 1 <= this.wm) continue;
      let groups = this.windows.get(start);
      if (!groups) this.windows.set(start, (groups = new WindowGroups()));
      this.openStarts[n] = start;
      this.openMaps[n++] = groups;
    }
    this.nOpen = n;
    return n;
  }

  /**
   * A row's key and argument values (keyVals, argVals) and how many open windows it goes to (openStarts,
   * openMaps); 0 for a row that goes nowhere: a NULL event time (no window, as in Flink), a bad key or
   * value (counted as bad), or late (every window of it fired; counted).
   */
  private windowsOf(r: Row): number {
    const { timeIndex, keyExprs, aggArgs } = this.cfg;
    const ts = r[timeIndex];
    if (typeof ts !== 'number') return 0;
    if (!aggregateInputs(keyExprs, aggArgs, r, this.keyVals, this.argVals, this.counters)) return 0;
    const range = this.range;
    const n = ts >= range.lo && ts < range.hi ? this.nOpen : this.openWindows(ts);
    if (n === 0) this.counters.late++;
    return n;
  }

  /** Rows [from, to) one after the other: into each of its windows' groups (few groups: they stay in the caches). */
  private pushDirect(rows: Row[], from: number, to: number): void {
    const nk = this.exprKeyCount;
    const keyVals = this.keyVals;
    const argVals = this.argVals;
    const open = this.openStarts;
    const openMaps = this.openMaps;
    const cols = this.cols;
    for (let i = from; i < to; i++) {
      const nOpen = this.windowsOf(rows[i]!);
      if (nOpen === 0) continue;
      const mapKey = nk === 0 ? '' : nk === 1 ? keyVals[0] : JSON.stringify(keyVals);
      for (let w = 0; w < nOpen; w++) cols.add(cols.accs, this.groupIn(openMaps[w]!, open[w]!, mapKey, keyVals, true), argVals, 0);
    }
  }

  /**
   * Rows [from, to) in passes, for windows of many groups: each row's windows, key and argument values
   * (bad and late rows counted, in row order); then every (window, key) looked up in a loop that does
   * nothing else, so that the CPU waits for several cache misses at once (as GroupAggregateOp.pushFound);
   * then the folds, in row order, creating the groups not found in the order pushDirect would have.
   */
  private pushAhead(rows: Row[], from: number, to: number): void {
    const nk = this.exprKeyCount;
    const na = this.cfg.accumulators.length;
    const keyVals = this.keyVals;
    const argVals = this.argVals;
    const open = this.openStarts;
    const openMaps = this.openMaps;
    // One entry per (row, open window): its window's groups, the row's Map key, and where the row's key
    // and argument values lie in rowKeys / rowArgs.
    const maps = this.entryMaps;
    const mapKeys = this.entryKeys;
    const entryStarts = this.entryStarts;
    const entryRow = this.entryRow;
    const rowKeys = this.rowKeys;
    const rowArgs = this.rowArgs;
    let entries = 0;
    let nRows = 0;
    for (let i = from; i < to; i++) {
      const nOpen = this.windowsOf(rows[i]!);
      if (nOpen === 0) continue;
      const mapKey = nk === 0 ? '' : nk === 1 ? keyVals[0] : JSON.stringify(keyVals);
      for (let k = 0; k < nk; k++) rowKeys[nRows * nk + k] = keyVals[k];
      for (let a = 0; a < na; a++) rowArgs[nRows * na + a] = argVals[a];
      for (let w = 0; w < nOpen; w++) {
        maps[entries] = openMaps[w]!;
        mapKeys[entries] = mapKey;
        entryStarts[entries] = open[w]!;
        entryRow[entries++] = nRows;
      }
      nRows++;
    }
    this.foldEntries(entries, rowKeys, rowArgs);
  }

  /**
   * The lookups and folds of pushAhead: entries [0, n) of entryMaps / entryKeys / entryStarts / entryRow,
   * the key and argument values of row r at rowKeys[r*nk ..] and rowArgs[r*na ..].
   */
  private foldEntries(n: number, rowKeys: readonly unknown[], rowArgs: readonly unknown[]): void {
    const nk = this.exprKeyCount;
    const na = this.cfg.accumulators.length;
    const maps = this.entryMaps;
    const mapKeys = this.entryKeys;
    const entryStarts = this.entryStarts;
    const entryRow = this.entryRow;
    const found = this.found;
    for (let e = 0; e < n; e++) found[e] = maps[e]!.numberOf(mapKeys[e]);
    const cols = this.cols;
    const accs = cols.accs;
    const tracking = this.tracking;
    let dirty = cols.dirty;
    for (let e = 0; e < n; e++) {
      const row = entryRow[e]!;
      let g = found[e]!;
      // Not found: new, or created by an earlier entry of this chunk (groupIn looks again).
      if (g < 0) {
        g = this.groupIn(maps[e]!, entryStarts[e]!, mapKeys[e], rowKeys.slice(row * nk, row * nk + nk), false);
        // A new group may have grown the columns.
        dirty = cols.dirty;
      } else if (tracking && dirty[g] === 0) {
        dirty[g] = 1;
        this.dirtyGroups.push(this.groupAt[g]!);
      }
      cols.add(accs, g, rowArgs, row * na);
      maps[e] = undefined;
      mapKeys[e] = undefined;
    }
  }

  /**
   * Rows a parallel instance evaluated (WindowPartials `inputs`), folded as push() folds rows: each row
   * judged late against this operator's watermark, into its open windows' groups, in passes as pushAhead.
   */
  private mergeInputs(times: readonly number[], keys: readonly unknown[], args: readonly unknown[], count: number): void {
    const nk = this.exprKeyCount;
    const range = this.range;
    range.lo = Infinity;
    range.hi = -Infinity;
    let nOpen = (this.nOpen = 0);
    const open = this.openStarts;
    const openMaps = this.openMaps;
    const maps = this.entryMaps;
    const mapKeys = this.entryKeys;
    const entryStarts = this.entryStarts;
    const entryRow = this.entryRow;
    for (let from = 0; from < count; from += PUSH_CHUNK) {
      const to = Math.min(count, from + PUSH_CHUNK);
      let entries = 0;
      for (let i = from; i < to; i++) {
        const ts = times[i]!;
        if (!(ts >= range.lo && ts < range.hi)) nOpen = this.openWindows(ts);
        if (nOpen === 0) {
          this.counters.late++;
          continue;
        }
        const mapKey = nk === 0 ? '' : nk === 1 ? keys[i] : JSON.stringify(keys.slice(i * nk, i * nk + nk));
        for (let w = 0; w < nOpen; w++) {
          maps[entries] = openMaps[w]!;
          mapKeys[entries] = mapKey;
          entryStarts[entries] = open[w]!;
          entryRow[entries++] = i;
        }
      }
      this.foldEntries(entries, keys, args);
    }
    openMaps.length = 0;
  }

  /** push()'s cache of open windows: the event-time range they hold for, how many. */
  private readonly range = { lo: Infinity, hi: -Infinity };
  private nOpen = 0;
  /** pushAhead()'s buffers, reused: per entry (row and window) and per row. */
  private readonly keyVals: unknown[] = [];
  private readonly argVals: unknown[] = [];
  private readonly entryMaps: (WindowGroups | undefined)[] = [];
  private readonly entryKeys: unknown[] = [];
  private readonly entryStarts: number[] = [];
  private readonly entryRow: number[] = [];
  private readonly rowKeys: unknown[] = [];
  private readonly rowArgs: unknown[] = [];
  private readonly found: number[] = [];
  /** Whether the windows the last chunk reached held more than MANY_GROUPS groups (see pushAhead). */
  private manyGroups = false;

  /**
   * The number of the group of `mapKey` in the window, created (with fresh accumulators) if new; marked
   * dirty for the next checkpoint.
   */
  private group(start: number, mapKey: unknown, keyVals: unknown[], copyKey: boolean): number {
    let groups = this.windows.get(start);
    if (!groups) {
      groups = new WindowGroups();
      this.windows.set(start, groups);
    }
    return this.groupIn(groups, start, mapKey, keyVals, copyKey);
  }

  /** group() in the window's own groups (the caller found them). */
  private groupIn(groups: WindowGroups, start: number, mapKey: unknown, keyVals: unknown[], copyKey: boolean): number {
    let n = groups.numberOf(mapKey);
    if (n < 0) {
      n = this.cols.takeEmpty();
      this.addGroup(groups, mapKey, newGroupObject(n, copyKey ? keyVals.slice() : keyVals, start, this.seq++, false));
    }
    const dirty = this.cols.dirty;
    if (this.tracking && dirty[n] === 0) {
      dirty[n] = 1;
      this.dirtyGroups.push(this.groupAt[n]!);
    }
    return n;
  }

  private addGroup(groups: WindowGroups, mapKey: unknown, g: Group): void {
    groups.add(mapKey, g);
    while (this.groupAt.length < g.n) this.groupAt.push(undefined);
    this.groupAt[g.n] = g;
  }

  /**
   * The global half of a two-phase aggregation: folds partial accumulators that a worker built over some
   * rows (LocalWindowAggregate) into the state, with the late check of push() done per window against
   * this operator's watermark; or the rows' inputs, judged and folded row by row as push() does. Merged in the order the rows would have been pushed, the state, the late
   * count and the order of output rows are those of pushing the rows themselves (up to the rounding of
   * floating-point sums, which add in another order).
   */
  mergePartials(p: WindowPartials): void {
    switch (p.kind) {
      case 'partials':
        return this.mergeAccumulators(p.windows, p.lastStarts);
      case 'inputs':
        return this.mergeInputs(p.times, p.keys, p.args, p.count);
      default: {
        const never: never = p;
        throw new Error(`unknown window partials ${String(never)}`);
      }
    }
  }

  private mergeAccumulators(windows: Extract<WindowPartials, { kind: 'partials' }>['windows'], lastStarts: Extract<WindowPartials, { kind: 'partials' }>['lastStarts']): void {
    const size = this.cfg.spec.size;
    const nk = this.exprKeyCount;
    // A row is late when its last window fired (windows fire in start order): all its windows have.
    for (const [start, rows] of lastStarts) if (start + size - 1 <= this.wm) this.counters.late += rows;
    for (const [start, groups] of windows) {
      if (start + size - 1 <= this.wm) continue;
      for (const [key, accs] of groups) {
        const g = this.group(start, nk === 0 ? '' : nk === 1 ? key[0] : JSON.stringify(key), key, false);
        this.cols.merge(this.cols.accs, g, accs, 0);
      }
    }
  }

  watermark(wm: number): void {
    if (wm <= this.wm) return;
    this.wm = wm;
    const size = this.cfg.spec.size;
    const due = [...this.windows.keys()].filter((start) => start + size - 1 <= wm).sort((a, b) => a - b);
    if (due.length > 0) {
      const out: Row[] = [];
      for (const start of due) {
        for (const g of this.windows.get(start)!.list) {
          out.push(this.resultRow(start, g));
          if (g.stored) this.firedEntries.push(g.entry!);
          g.stored = false;
          g.fired = true;
          this.groupAt[g.n] = undefined;
          this.cols.release(g.n);
        }
        this.windows.delete(start);
      }
      if (out.length > 0) this.out.push(out);
    }
    this.out.watermark(wm);
  }

  private resultRow(start: number, g: Group): Row {
    const { keys, accumulators } = this.cfg;
    const end = start + this.cfg.spec.size;
    const row: Row = new Array(keys.length + accumulators.length);
    let e = 0;
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k]!;
      switch (key.kind) {
        case 'windowStart':
          row[k] = start;
          break;
        case 'windowEnd':
          row[k] = end;
          break;
        case 'windowTime':
          row[k] = end - 1;
          break;
        case 'expr':
          row[k] = g.key[e++];
          break;
        default: {
          const never: never = key;
          throw new Error(`unknown key ${String(never)}`);
        }
      }
    }
    // Read where they lie (no accsOf copy per fired row).
    const cols = this.cols.accs;
    const n = g.n;
    for (let a = 0; a < accumulators.length; a++) row[keys.length + a] = accumulators[a]!.result(cols[a]![n]);
    return row;
  }

  /** Group numbers in the columns, taken or free to take again (tests: fired windows give theirs back). */
  columnSlots(): number {
    return this.cols.slots;
  }

  /** Number of open groups over all windows (for metrics and tests). */
  openGroups(): number {
    let n = 0;
    for (const g of this.windows.values()) n += g.size;
    return n;
  }

  snapshot(): WindowAggSnapshot {
    const accs = this.cfg.accumulators;
    return {
      watermark: this.wm,
      windows: [...this.windows].map(([start, groups]) => [start, groups.list.map((g) => [[...g.key], this.cols.accsOf(g.n).map((a, i) => accs[i]!.save(a))])]),
    };
  }

  restore(state: unknown): void {
    const s = state as WindowAggSnapshot;
    this.wm = s.watermark;
    this.windows.clear();
    this.cols.clear();
    this.groupAt = [];
    for (const [start, groups] of s.windows) {
      for (const [key, saved] of groups) this.restoreGroup(start, key, saved, this.seq++, false);
    }
    // The store does not hold this state as entries (an in-memory restore, or a checkpoint of the whole-snapshot format).
    this.full = true;
    this.dirtyGroups = [];
    this.firedEntries = [];
  }

  private restoreGroup(start: number, key: unknown[], saved: unknown[], seq: number, stored: boolean): Group {
    const accs = this.cfg.accumulators;
    const nk = this.exprKeyCount;
    let m = this.windows.get(start);
    if (!m) this.windows.set(start, (m = new WindowGroups()));
    const mapKey = nk === 0 ? '' : nk === 1 ? key[0] : JSON.stringify(key);
    const g = newGroupObject(
      this.cols.take(
        saved.map((d, i) => accs[i]!.load(d)),
        0,
      ),
      key,
      start,
      seq,
      stored,
    );
    this.addGroup(m, mapKey, g);
    return g;
  }

  /**
   * Keyed state: one entry per (window, group) plus one for the watermark, so a checkpoint writes the
   * groups that received rows since the previous one and deletes those of the windows that fired.
   */
  keyedChanges(all = false): KeyedChanges {
    const accs = this.cfg.accumulators;
    const entry = (g: Group): [string, GroupEntry] => {
      g.entry ??= `${g.start}/${JSON.stringify(g.key)}`;
      this.cols.dirty[g.n] = 0;
      g.stored = true;
      return [g.entry, [g.start, [...g.key], this.cols.accsOf(g.n).map((a, i) => accs[i]!.save(a)), g.seq]];
    };
    const upserts: [string, unknown][] = [];
    let deletes: string[] = [];
    const full = all || !this.tracking || this.full;
    if (full) {
      for (const groups of this.windows.values()) for (const g of groups.list) upserts.push(entry(g));
    } else {
      // A dirty group whose window fired meanwhile is no longer stored nor dirty (and its number may be
      // another group's now).
      for (const g of this.dirtyGroups) if (!g.fired && this.cols.dirty[g.n] === 1) upserts.push(entry(g));
      deletes = this.firedEntries;
    }
    if (full || !Object.is(this.storedWm, this.wm)) upserts.push([WM_ENTRY, this.wm]);
    this.storedWm = this.wm;
    this.tracking = true;
    this.full = false;
    this.dirtyGroups = [];
    this.firedEntries = [];
    return keyedChanges(full, upserts, deletes);
  }

  restoreKeyed(entries: ReadonlyMap<string, unknown>, stored = true): void {
    this.windows.clear();
    this.cols.clear();
    this.groupAt = [];
    this.wm = Number.MIN_SAFE_INTEGER;
    const groups: [string, GroupEntry][] = [];
    for (const [k, v] of entries) {
      if (k === WM_ENTRY) this.wm = v as number;
      else groups.push([k, v as GroupEntry]);
    }
    // Windows fire in start order; within one, groups come out in creation order, as in a run that never stopped.
    groups.sort((a, b) => a[1][3] - b[1][3]);
    for (const [k, [start, key, saved, seq]] of groups) this.restoreGroup(start, key, saved, seq, stored).entry = k;
    this.seq = groups.length > 0 ? groups[groups.length - 1]![1][3] + 1 : 0;
    this.storedWm = this.wm;
    this.tracking = true;
    this.full = !stored;
    this.dirtyGroups = [];
    this.firedEntries = [];
  }
}

/** A group's object: every group gets its fields in the same order (one hidden class). */
function newGroupObject(n: number, key: readonly unknown[], start: number, seq: number, stored: boolean): Group {
  return { n, key, start, seq, entry: undefined, stored, fired: false };
}
