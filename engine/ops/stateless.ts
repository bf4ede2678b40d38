import type { CompiledExpr } from '../expr/bound.ts';
import type { Change, ChangeDownstream } from './changelog.ts';
import { isDataError } from './errors.ts';
import type { Downstream, OpCounters, Operator, Row } from './operator.ts';

/** Rows whose predicate is TRUE pass; FALSE and NULL don't. A row the predicate fails on is skipped and counted. */
export class FilterOp implements Operator {
  readonly name = 'filter';
  constructor(
    private readonly predicate: CompiledExpr,
    private readonly out: Downstream,
    private readonly counters: OpCounters,
  ) {}

  push(rows: Row[]): void {
    const pred = this.predicate;
    const kept: Row[] = [];
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      try {
        if (pred(r) === true) kept.push(r);
      } catch (e) {
        badRow(this.counters, e);
      }
    }
    if (kept.length > 0) this.out.push(kept);
  }

  watermark(wm: number): void {
    this.out.watermark(wm);
  }
}

export class ProjectOp implements Operator {
  readonly name = 'project';
  /** `identity`: each output row equals its input row (build.ts isIdentity), so the rows go on as they are. */
  constructor(
    private readonly exprs: readonly CompiledExpr[],
    private readonly out: Downstream,
    private readonly counters: OpCounters,
    private readonly identity = false,
  ) {
    this.nulls = Array.from({ length: exprs.length }, () => null);
  }

  /**
   * Output rows are copies of this (`slice()`), not `new Array(n)`: V8 tracks the allocation site of an
   * Array constructor call, and rows that wait in a sink until its flush made it allocate every row in the
   * old generation (pretenuring; filter-project: ~1.4 MB promoted per scavenge, ~0.3 MB now).
   */
  private readonly nulls: unknown[];

  push(rows: Row[]): void {
    if (this.identity) {
      if (rows.length > 0) this.out.push(rows);
      return;
    }
    const exprs = this.exprs;
    const n = exprs.length;
    const result: Row[] = [];
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      try {
        const o = this.nulls.slice();
        for (let k = 0; k < n; k++) o[k] = exprs[k]!(r);
        result.push(o);
      } catch (e) {
        badRow(this.counters, e);
      }
    }
    if (result.length > 0) this.out.push(result);
  }

  watermark(wm: number): void {
    this.out.watermark(wm);
  }
}

/**
 * WHERE/HAVING over a changelog. Each change is tested on its own row, except an update: its -U/+U pair
 * becomes what the downstream must see when the predicate flips — both pass: the pair; only the old row
 * passed: -D of it; only the new one passes: +I of it; neither: nothing.
 */
export class ChangelogFilterOp implements Operator {
  readonly name = 'filter';
  constructor(
    private readonly predicate: CompiledExpr,
    private readonly out: ChangeDownstream,
    private readonly counters: OpCounters,
  ) {}

  /** Plain rows are inserts (not reached in a planned job: an updating filter sits above an aggregate). */
  push(rows: Row[]): void {
    this.pushChanges(rows.map((row) => ({ op: '+I', row })));
  }

  private passes(r: Row): boolean {
    try {
      return this.predicate(r) === true;
    } catch (e) {
      badRow(this.counters, e);
      return false;
    }
  }

  pushChanges(changes: Change[]): void {
    const kept: Change[] = [];
    for (let i = 0; i < changes.length; i++) {
      const c = changes[i]!;
      const next = changes[i + 1];
      if (c.op === '-U' && next?.op === '+U') {
        i++;
        const was = this.passes(c.row);
        const is = this.passes(next.row);
        if (was && is) kept.push(c, next);
        else if (was) kept.push({ op: '-D', row: c.row });
        else if (is) kept.push({ op: '+I', row: next.row });
        continue;
      }
      if (this.passes(c.row)) kept.push(c);
    }
    if (kept.length > 0) this.out.pushChanges(kept);
  }

  watermark(wm: number): void {
    this.out.watermark(wm);
  }
}

/**
 * A projection over a changelog: every change keeps its op; a row the expressions fail on is skipped and
 * counted. `identity` (build.ts isIdentity): the changes go on as they are — a view's aggregate renamed
 * emits a change per key at each checkpoint, and copying 100,000 of them cost ~14 MB of young objects that
 * live until the commit (docs/benchmarks.md, 2026-11-27).
 */
export class ChangelogProjectOp implements Operator {
  readonly name = 'project';
  constructor(
    private readonly exprs: readonly CompiledExpr[],
    private readonly out: ChangeDownstream,
    private readonly counters: OpCounters,
    private readonly identity = false,
  ) {}

  push(rows: Row[]): void {
    this.pushChanges(rows.map((row) => ({ op: '+I', row })));
  }

  pushChanges(changes: Change[]): void {
    if (this.identity) {
      if (changes.length > 0) this.out.pushChanges(changes);
      return;
    }
    const exprs = this.exprs;
    const n = exprs.length;
    const result: Change[] = [];
    for (let i = 0; i < changes.length; i++) {
      const c = changes[i]!;
      try {
        const o = new Array(n);
        for (let k = 0; k < n; k++) o[k] = exprs[k]!(c.row);
        result.push({ op: c.op, row: o } as Change);
      } catch (e) {
        badRow(this.counters, e);
      }
    }
    if (result.length > 0) this.out.pushChanges(result);
  }

  watermark(wm: number): void {
    this.out.watermark(wm);
  }
}

export function badRow(counters: OpCounters, e: unknown): void {
  if (!isDataError(e)) throw e;
  counters.bad++;
  counters.lastError = (e as Error).message;
}
