import type { CompiledExpr } from '../expr/bound.ts';
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
  constructor(
    private readonly exprs: readonly CompiledExpr[],
    private readonly out: Downstream,
    private readonly counters: OpCounters,
  ) {}

  push(rows: Row[]): void {
    const exprs = this.exprs;
    const n = exprs.length;
    const result: Row[] = [];
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      try {
        const o = new Array(n);
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

export function badRow(counters: OpCounters, e: unknown): void {
  if (!isDataError(e)) throw e;
  counters.bad++;
  counters.lastError = (e as Error).message;
}
