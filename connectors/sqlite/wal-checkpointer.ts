import type { Database as Db } from 'better-sqlite3';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * WAL checkpoints off the thread that writes. SQLite's automatic checkpoint runs inside the COMMIT that
 * crosses its threshold (1,000 pages): copying the WAL into the database and fsyncing it, on the thread
 * that also serves HTTP (up to ~80 ms under load, docs/benchmarks.md "views"). A store that offloads
 * turns it off (`wal_autocheckpoint = 0`) and one worker thread per process checkpoints every registered
 * file instead, PASSIVE (never waits for, nor blocks, the writer or the readers).
 *
 * Bound: a PASSIVE checkpoint cannot finish while readers hold old snapshots, and the WAL is only reused
 * from its start once one has. When the WAL has grown past `maxWalFrames` the worker asks for a RESTART
 * checkpoint (waits for readers, briefly blocks the writer) instead, so it cannot grow without limit.
 */
export const walCheckpointing = {
  /** Off: the writer checkpoints itself, as SQLite does by default (WEIR_WAL_CHECKPOINTER=off). */
  enabled: process.env['WEIR_WAL_CHECKPOINTER'] !== 'off',
  intervalMs: 200,
  /** ~64 MiB of 4 KiB pages. */
  maxWalFrames: 16_384,
};

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const conns = new Map();
parentPort.on('message', (m) => {
  if (m.op === 'add') {
    const c = conns.get(m.path);
    if (c) c.refs++;
    else {
      try {
        const db = new Database(m.path, { fileMustExist: true });
        // Never wait for the writer: a busy checkpoint is simply tried again next time.
        db.pragma('busy_timeout = 0');
        conns.set(m.path, { db, refs: 1 });
      } catch { /* gone already: nothing to checkpoint */ }
    }
  } else if (m.op === 'remove') {
    const c = conns.get(m.path);
    if (c && --c.refs === 0) {
      conns.delete(m.path);
      try { c.db.close(); } catch { /* closed */ }
    }
  }
  parentPort.postMessage({ op: 'ack', seq: m.seq });
});
setInterval(() => {
  for (const { db } of conns.values()) {
    try {
      const r = db.pragma('wal_checkpoint(PASSIVE)')[0];
      // Only when readers kept the passive one from copying everything: then the WAL could not be reused.
      if (r && r.log > workerData.maxWalFrames && r.checkpointed < r.log) {
        db.pragma('busy_timeout = 1000');
        try { db.pragma('wal_checkpoint(RESTART)'); } finally { db.pragma('busy_timeout = 0'); }
      }
    } catch { /* busy or closed: next tick */ }
  }
}, workerData.intervalMs);
`;

let worker: Worker | undefined;
let seq = 0;
const waiting = new Map<number, () => void>();
/** Registrations per path (a worker that died is replaced and told all of them again). */
const registered = new Map<string, number>();

function theWorker(): Worker {
  if (!worker) {
    const module = createRequire(import.meta.url).resolve('better-sqlite3');
    const w = new Worker(WORKER, { eval: true, workerData: { module, intervalMs: walCheckpointing.intervalMs, maxWalFrames: walCheckpointing.maxWalFrames } });
    w.on('message', (m: { op: 'ack'; seq: number }) => {
      waiting.get(m.seq)?.();
      waiting.delete(m.seq);
    });
    w.on('error', () => undefined);
    w.on('exit', () => {
      if (worker === w) worker = undefined;
    });
    // A helper thread: it must not keep the process alive. After the listeners: adding a 'message' listener refs the port again.
    w.unref();
    worker = w;
    for (const [path, refs] of registered) for (let i = 0; i < refs; i++) w.postMessage({ op: 'add', path, seq: 0 });
  }
  return worker;
}

function send(op: 'add' | 'remove', path: string): Promise<void> {
  const s = ++seq;
  return new Promise((resolve) => {
    waiting.set(s, resolve);
    theWorker().postMessage({ op, path, seq: s });
  });
}

function register(path: string): void {
  // A new worker is told the registrations so far; this one goes with send().
  theWorker();
  registered.set(path, (registered.get(path) ?? 0) + 1);
  void send('add', path);
}

function unregister(path: string): void {
  const n = (registered.get(path) ?? 1) - 1;
  if (n > 0) registered.set(path, n);
  else registered.delete(path);
  void send('remove', path);
}

/**
 * Checkpoints `db`'s WAL (the database at `path`) from the worker from now on, if enabled; returns what to
 * call before closing `db` (the worker lets go of the file). Closing the last connection checkpoints the
 * rest, as before.
 */
export function offloadWalCheckpoints(db: Db, path: string): () => void {
  if (!walCheckpointing.enabled || path === ':memory:') return () => undefined;
  db.pragma('wal_autocheckpoint = 0');
  register(path);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    unregister(path);
  };
}

/** Resolves once the worker has handled every registration sent so far (tests). */
export function walCheckpointerSettled(): Promise<void> {
  return worker ? send('remove', '\0none') : Promise.resolve();
}
