import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';

/** A query the pool will not run, or that SQLite rejected: the user's mistake (400). */
export class QueryRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueryRefused';
  }
}

export interface QueryAnswer {
  readonly columns: readonly { readonly name: string; readonly table: string | null; readonly column: string | null; readonly declType: string | null }[];
  readonly rows: unknown[][];
}

export interface QueryPoolOptions {
  /** The view store file, opened read-only by every child. */
  readonly path: string;
  /** Children running queries at once (default 2). */
  readonly size?: number;
  /** Per-query time limit (default 5000 ms): the child is killed and replaced. */
  readonly timeLimitMs?: number;
  /** Most rows one answer may have (default 100,000). */
  readonly maxRows?: number;
}

/**
 * The child's program. It opens the view store read-only and answers a batch of queries per message, in
 * one message. better-sqlite3 refuses several statements in one prepare(); `reader && readonly` refuses
 * writes and PRAGMAs that set things; the parent already allowed only SELECT / WITH / VALUES, which keeps
 * ATTACH out (ATTACH counts as read-only for SQLite). Integers come as BigInt so none beyond 2^53 is
 * rounded: those travel as strings.
 */
const CHILD = `
const Database = require(process.argv[2]);
let db;
function one(m) {
  try {
    db ??= new Database(process.argv[1], { readonly: true, fileMustExist: true });
    const stmt = db.prepare(m.sql);
    if (!stmt.reader || !stmt.readonly) return { id: m.id, ok: false, user: true, message: 'Only read-only queries that return rows can run here' };
    stmt.raw(true).safeIntegers(true);
    const columns = stmt.columns().map((c) => ({ name: c.name, table: c.table, column: c.column, declType: c.type }));
    const rows = [];
    for (const r of stmt.iterate()) {
      if (rows.length >= m.maxRows) return { id: m.id, ok: false, user: true, message: 'The query returns more than ' + m.maxRows + ' rows; add a LIMIT' };
      rows.push(r.map((v) => typeof v === 'bigint' ? (v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v.toString()) : Buffer.isBuffer(v) ? v.toString('base64') : v));
    }
    return { id: m.id, ok: true, columns, rows };
  } catch (e) {
    const user = typeof e.code === 'string' && e.code.startsWith('SQLITE_') || e instanceof RangeError || e instanceof TypeError;
    return { id: m.id, ok: false, user, message: String(e.message) };
  }
}
process.on('message', (batch) => process.send(batch.map(one)));
`;

interface Pending {
  readonly id: number;
  readonly sql: string;
  readonly resolve: (a: QueryAnswer) => void;
  readonly reject: (e: Error) => void;
  /** Set after its batch hit the time limit: it runs alone, so a refusal names the query that ran away. */
  solo?: boolean;
}

interface Worker {
  child: ChildProcess;
  /** The batch the child is running (empty: idle). */
  busy: Pending[];
  timer: NodeJS.Timeout | undefined;
}

type ChildAnswer = { id: number; ok: true; columns: QueryAnswer['columns']; rows: unknown[][] } | { id: number; ok: false; user: boolean; message: string };

/** Most queries sent to one child in one message. */
const MAX_BATCH = 64;

/**
 * Runs read-only queries over the view store in child processes, so that a runaway query (a recursive CTE
 * that never ends) is stopped at the time limit without stalling the server. Measured: terminating a
 * worker thread does not stop better-sqlite3 inside a long sqlite3_step (the thread keeps spinning and
 * terminate() never resolves), and better-sqlite3 exposes neither sqlite3_interrupt nor a progress
 * handler; killing a process always works. Children are started lazily and kept for the next queries.
 *
 * Queries waiting for a child go to it together, as one message answered by one message: under load
 * (bench/views.ts, 50 clients) the IPC write per query was the largest cost of a lookup on the server's
 * event loop. A batch has the time limit of one query; when it runs out, the child is killed and the
 * batch's queries run again one by one, each with the full limit, so only the runaway one is refused.
 */
export class QueryPool {
  private readonly workers: Worker[] = [];
  private readonly queue: Pending[] = [];
  private readonly size: number;
  private readonly timeLimitMs: number;
  private readonly maxRows: number;
  private readonly driver = createRequire(import.meta.url).resolve('better-sqlite3');
  private nextId = 1;
  private closed = false;
  private dispatchScheduled = false;

  constructor(private readonly opts: QueryPoolOptions) {
    this.size = opts.size ?? 2;
    this.timeLimitMs = opts.timeLimitMs ?? 5000;
    this.maxRows = opts.maxRows ?? 100_000;
  }

  /** Runs one read-only statement; rejects with QueryRefused for the user's mistakes. */
  run(sql: string): Promise<QueryAnswer> {
    checkReadOnlyText(sql);
    if (this.closed) return Promise.reject(new Error('the query pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, sql, resolve, reject });
      this.dispatchSoon();
    });
  }

  /**
   * Dispatches once the event loop has handled what else is ready (setImmediate runs after the poll phase
   * that read this turn's requests), so that the requests of one turn reach a child in one message.
   */
  private dispatchSoon(): void {
    if (this.dispatchScheduled) return;
    this.dispatchScheduled = true;
    setImmediate(() => {
      this.dispatchScheduled = false;
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let w = this.workers.find((x) => x.busy.length === 0);
      if (!w && this.workers.length < this.size) {
        // All children at once, on the first query: spawn() forks this process synchronously, 100-250 ms
        // once its heap is a few hundred MB, and a child started later would fork in the middle of a burst
        // of queries (the first time two run at once), stalling every request and the jobs on this thread.
        w = this.spawn();
        while (this.workers.length < this.size) this.spawn();
      }
      if (!w) return;
      // Share what waits among the children that are free now, rather than give it all to the first.
      const idle = Math.max(1, this.workers.filter((x) => x.busy.length === 0).length + this.size - this.workers.length);
      const batch: Pending[] = [];
      const n = Math.min(MAX_BATCH, Math.ceil(this.queue.length / idle));
      while (batch.length < n && this.queue.length > 0) {
        const p = this.queue[0]!;
        if (p.solo && batch.length > 0) break;
        this.queue.shift();
        batch.push(p);
        if (p.solo) break;
      }
      this.send(w, batch);
    }
  }

  private send(w: Worker, batch: Pending[]): void {
    w.busy = batch;
    w.timer = setTimeout(() => {
      this.retire(w);
      if (batch.length === 1) {
        batch[0]!.reject(new QueryRefused(`The query was stopped after the time limit of ${this.timeLimitMs} ms`));
      } else {
        for (const p of batch) p.solo = true;
        this.queue.unshift(...batch);
      }
      this.dispatch();
    }, this.timeLimitMs);
    w.child.send(batch.map((p) => ({ id: p.id, sql: p.sql, maxRows: this.maxRows })));
  }

  private spawn(): Worker {
    // Plain node with an explicit program: the parent's loaders (tsx, vitest) are not needed in the child.
    const child = spawn(process.execPath, ['-e', CHILD, this.opts.path, this.driver], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const w: Worker = { child, busy: [], timer: undefined };
    child.on('message', (answers: ChildAnswer[]) => {
      const batch = w.busy;
      if (batch.length === 0 || answers.length !== batch.length || answers[0]!.id !== batch[0]!.id) return;
      clearTimeout(w.timer);
      w.busy = [];
      answers.forEach((m, i) => {
        const p = batch[i]!;
        if (m.ok) p.resolve({ columns: m.columns, rows: m.rows });
        else p.reject(m.user ? new QueryRefused(m.message) : new Error(m.message));
      });
      this.dispatchSoon();
    });
    child.on('exit', () => {
      const i = this.workers.indexOf(w);
      if (i >= 0) this.workers.splice(i, 1);
      if (w.busy.length > 0) {
        clearTimeout(w.timer);
        for (const p of w.busy) p.reject(new Error('the query process ended unexpectedly'));
        w.busy = [];
        this.dispatch();
      }
    });
    // An idle child must not keep the process alive; close() kills them anyway.
    child.unref();
    (child.channel as { unref?: () => void } | undefined)?.unref?.();
    this.workers.push(w);
    return w;
  }

  private retire(w: Worker): void {
    const i = this.workers.indexOf(w);
    if (i >= 0) this.workers.splice(i, 1);
    w.busy = [];
    w.child.kill('SIGKILL');
  }

  close(): void {
    this.closed = true;
    for (const w of [...this.workers]) {
      clearTimeout(w.timer);
      for (const p of w.busy) p.reject(new Error('the query pool is closed'));
      this.retire(w);
    }
    for (const p of this.queue.splice(0)) p.reject(new Error('the query pool is closed'));
  }
}

/**
 * The first word of the text must be SELECT, WITH or VALUES (after comments). This keeps out ATTACH and
 * PRAGMA, which SQLite counts as read-only; writes are caught again in the child by `stmt.readonly`.
 */
export function checkReadOnlyText(sql: string): void {
  const text = sql.replace(/^(\s+|--[^\n]*(\n|$)|\/\*[\s\S]*?\*\/)*/, '');
  const word = /^[A-Za-z]+/.exec(text)?.[0]?.toUpperCase();
  if (!word) throw new QueryRefused('No query to run');
  if (word !== 'SELECT' && word !== 'WITH' && word !== 'VALUES') {
    throw new QueryRefused(`Only read-only SELECT queries can run over the views; ${word} is not allowed`);
  }
}
