/**
 * Compiles a BoundExpr once into a JavaScript function (generated source through `new Function`):
 * the whole tree becomes straight-line code over local variables, with NULL checks only where a
 * value can be NULL, constants folded, and per-call-site precompiled helpers (LIKE patterns, regular
 * expressions, date formats) bound as closure constants. Nothing is interpreted per row.
 */
import type { SqlType } from '../plan/types.ts';
import { typeToString } from '../plan/types.ts';
import { SqlError } from '../sql/errors.ts';
import type { BoundExpr, CompiledExpr } from './bound.ts';
import { CAST_FAIL, castConverter, castError } from './cast.ts';
import { lookupFunction } from './functions.ts';
import { getZone } from './tz.ts';
import type { Zone } from './tz.ts';

export interface CompileContext {
  /** Session time zone (table.local-time-zone): TIMESTAMP_LTZ conversions and formatting. */
  readonly timeZone: string;
}

/** A value in generated code: an atom (variable, literal or `r[i]`) safe to reference repeatedly. */
export interface Val {
  readonly code: string;
  /** False when the value is known never to be NULL. */
  readonly nullable: boolean;
}

export const NULL_VAL: Val = { code: 'null', nullable: true };

type CallNode = Extract<BoundExpr, { kind: 'call' }>;

export class Gen {
  readonly zone: Zone;
  readonly timeZone: string;
  private readonly lines: string[] = [];
  private depth = 1;
  private nvars = 0;
  private readonly consts: unknown[] = [];
  private readonly constIndex = new Map<unknown, number>();
  private readonly fold: boolean;

  constructor(ctx: CompileContext, fold = true) {
    this.timeZone = ctx.timeZone;
    try {
      this.zone = getZone(ctx.timeZone);
    } catch {
      throw new SqlError('option', `Unknown time zone '${ctx.timeZone}' (table.local-time-zone)`);
    }
    this.fold = fold;
  }

  /** A fresh local variable. */
  tmp(): string {
    return 'v' + this.nvars++;
  }

  /** The name of a closure constant holding `value` (functions, regexps, sets, ...). */
  k(value: unknown): string {
    let i = this.constIndex.get(value);
    if (i === undefined) {
      i = this.consts.length;
      this.consts.push(value);
      this.constIndex.set(value, i);
    }
    return 'k' + i;
  }

  line(s: string): void {
    this.lines.push('  '.repeat(this.depth) + s);
  }

  open(head: string): void {
    this.line(head + ' {');
    this.depth++;
  }

  close(): void {
    this.depth--;
    this.line('}');
  }

  /** A literal as code. */
  lit(v: unknown): Val {
    if (v === null || v === undefined) return NULL_VAL;
    switch (typeof v) {
      case 'number':
        if (!Number.isFinite(v)) return { code: this.k(v), nullable: false };
        return { code: v < 0 || Object.is(v, -0) ? `(${v})` : String(v), nullable: false };
      case 'string':
        return { code: JSON.stringify(v), nullable: false };
      case 'boolean':
        return { code: v ? 'true' : 'false', nullable: false };
      default:
        return { code: this.k(v), nullable: false };
    }
  }

  /** Emits `e` and returns its value. */
  emit(e: BoundExpr): Val {
    switch (e.kind) {
      case 'literal':
        return this.lit(e.value);
      case 'input':
        return { code: `r[${e.index}]`, nullable: true };
      default:
        break;
    }
    if (this.fold && isConstant(e)) {
      const folded = tryFold(e, this.timeZone);
      if (folded.ok) return this.lit(folded.value);
    }
    switch (e.kind) {
      case 'call': {
        const def = lookupFunction(e.fn);
        if (!def) throw new Error(`No implementation for function '${e.fn}'`);
        return def.gen(this, e);
      }
      case 'cast':
        return this.emitCast(e);
      case 'case':
        return this.emitCase(e);
      default: {
        const never: never = e;
        throw new Error(`Unknown bound expression ${(never as { kind: string }).kind}`);
      }
    }
  }

  /**
   * A NULL-propagating call: evaluates `args` in order, stops at the first NULL (result NULL), else
   * assigns `build(codes)`. `nullable`: the result can be NULL even when no argument is.
   */
  strict(args: readonly BoundExpr[], build: (codes: string[]) => string, nullable = false): Val {
    return this.strictBlock(args, (codes, out) => this.line(`${out} = ${build(codes)};`), nullable);
  }

  /** Like strict() but `body` writes statements that assign `out`. */
  strictBlock(args: readonly BoundExpr[], body: (codes: string[], out: string) => void, nullable = false): Val {
    for (const a of args) if (a.kind === 'literal' && (a.value === null || a.value === undefined)) return NULL_VAL;
    const out = this.tmp();
    const codes: string[] = [];
    let opened = 0;
    let anyNull = false;
    for (const a of args) {
      const v = this.emit(a);
      if (v.code === 'null') {
        while (opened-- > 0) this.close();
        return NULL_VAL;
      }
      codes.push(v.code);
      if (v.nullable) {
        if (!anyNull) this.line(`${out} = null;`);
        anyNull = true;
        this.open(`if (${v.code} != null)`);
        opened++;
      }
    }
    if (!anyNull && nullable) this.line(`${out} = null;`);
    body(codes, out);
    while (opened-- > 0) this.close();
    return { code: out, nullable: anyNull || nullable };
  }

  private emitCast(e: Extract<BoundExpr, { kind: 'cast' }>): Val {
    const from = e.operand.type;
    const conv = castConverter(from, e.type, this.zone);
    if (!conv) return this.emit(e.operand);
    const target = typeToString(e.type);
    return this.strictBlock(
      [e.operand],
      ([x], out) => {
        this.line(`${out} = ${this.k(conv)}(${x});`);
        if (e.safe) this.line(`if (${out} === ${this.k(CAST_FAIL)}) ${out} = null;`);
        else this.line(`if (${out} === ${this.k(CAST_FAIL)}) throw ${this.k(castError)}(${x}, ${JSON.stringify(target)});`);
      },
      true,
    );
  }

  private emitCase(e: Extract<BoundExpr, { kind: 'case' }>): Val {
    const out = this.tmp();
    let nullable = e.else === undefined;
    let opened = 0;
    for (const w of e.whens) {
      const c = this.emit(w.when);
      if (c.code === 'false' || c.code === 'null') continue;
      if (c.code === 'true') {
        const t = this.emit(w.then);
        nullable ||= t.nullable;
        this.line(`${out} = ${t.code};`);
        while (opened-- > 0) this.close();
        return { code: out, nullable };
      }
      this.open(`if (${c.code} === true)`);
      const t = this.emit(w.then);
      nullable ||= t.nullable;
      this.line(`${out} = ${t.code};`);
      this.close();
      this.open('else');
      opened++;
    }
    if (e.else) {
      const v = this.emit(e.else);
      nullable ||= v.nullable;
      this.line(`${out} = ${v.code};`);
    } else {
      this.line(`${out} = null;`);
    }
    while (opened-- > 0) this.close();
    return { code: out, nullable };
  }

  /** Generated source of the function body (for tests and EXPLAIN debugging). */
  source(result: Val): string {
    const decl = this.nvars > 0 ? `  let ${Array.from({ length: this.nvars }, (_, i) => 'v' + i).join(', ')};\n` : '';
    const ret = result.nullable ? `${result.code} ?? null` : result.code;
    return `${decl}${this.lines.join('\n')}${this.lines.length ? '\n' : ''}  return ${ret};`;
  }

  /** Builds the function from the emitted body: `(r) => value`. */
  finish(result: Val, name = 'weirExpr'): CompiledExpr {
    return this.finishWith(`function ${name}(r) {\n${this.source(result)}\n}`);
  }

  /** Builds a function from custom source that uses the emitted lines (see compileProjection). */
  finishWith(fnSource: string): CompiledExpr {
    const names = this.consts.map((_, i) => 'k' + i);
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const factory = new Function(...names, `'use strict';\nreturn ${fnSource};`) as (...k: unknown[]) => CompiledExpr;
    return factory(...this.consts);
  }

  /** The emitted statements so far (for callers composing several expressions). */
  body(): string {
    return this.lines.join('\n');
  }

  varDecl(): string {
    return this.nvars > 0 ? `let ${Array.from({ length: this.nvars }, (_, i) => 'v' + i).join(', ')};` : '';
  }
}

function isConstant(e: BoundExpr): boolean {
  switch (e.kind) {
    case 'literal':
      return true;
    case 'input':
      return false;
    case 'cast':
      return isConstant(e.operand);
    case 'case':
      return e.whens.every((w) => isConstant(w.when) && isConstant(w.then)) && (e.else === undefined || isConstant(e.else));
    case 'call': {
      const def = lookupFunction(e.fn);
      return !!def && !def.volatile && e.args.every(isConstant);
    }
    default:
      return false;
  }
}

function tryFold(e: BoundExpr, timeZone: string): { ok: true; value: unknown } | { ok: false } {
  try {
    const g = new Gen({ timeZone }, false);
    const fn = g.finish(g.emit(e));
    const value = fn([]);
    if (value === null || value === undefined || typeof value !== 'object') return { ok: true, value: value ?? null };
    return { ok: false };
  } catch {
    return { ok: false };
  }
}

/** Compiles a bound expression into a function of the input row. */
export function compileExpr(e: BoundExpr, ctx: CompileContext): CompiledExpr {
  const g = new Gen(ctx);
  return g.finish(g.emit(e));
}

/** Compiles a predicate: true only when the expression is TRUE (NULL and FALSE both reject). */
export function compilePredicate(e: BoundExpr, ctx: CompileContext): (row: readonly unknown[]) => boolean {
  const g = new Gen(ctx);
  const v = g.emit(e);
  return g.finishWith(`function weirPredicate(r) {\n  ${g.varDecl()}\n${g.body()}\n  return ${v.code} === true;\n}`) as (row: readonly unknown[]) => boolean;
}

/**
 * Compiles several expressions into one function producing the output row (a projection): one call and
 * one array allocation per row.
 */
export function compileProjection(exprs: readonly BoundExpr[], ctx: CompileContext): (row: readonly unknown[]) => unknown[] {
  const g = new Gen(ctx);
  // Every temporary is assigned once, so values emitted earlier stay valid while later ones run.
  const vals = exprs.map((e) => g.emit(e));
  const items = vals.map((v) => (v.nullable ? `${v.code} ?? null` : v.code));
  return g.finishWith(`function weirProjection(r) {\n  ${g.varDecl()}\n${g.body()}\n  return [${items.join(', ')}];\n}`) as (
    row: readonly unknown[],
  ) => unknown[];
}

/** The generated JavaScript of an expression (debugging aid). */
export function generatedSource(e: BoundExpr, ctx: CompileContext): string {
  const g = new Gen(ctx);
  const v = g.emit(e);
  return g.source(v);
}

export type { CallNode, SqlType };
