import { formatTimestamp } from '../../engine/expr/index.ts';
import type { Column } from '../../engine/plan/plan.ts';
import type { Row, Sink, SinkCommitter } from '../types.ts';
import { encodeValue } from './values.ts';
import type { StoredValue } from './values.ts';
import type { ViewStore } from './view-store.ts';

/**
 * The sink of a materialized view. Rows wait in memory until a checkpoint commits them: the view store
 * writes a checkpoint's rows and its id in one SQLite transaction (commit), which is the whole two-phase
 * protocol for SQLite — there is no partial external state to settle after a crash. If the process dies
 * before that transaction, the view does not hold the checkpoint, recover() answers false, the checkpoint
 * is aborted and the job replays from the previous one, producing the same rows again.
 */
export class ViewSink implements Sink {
  private buffer: Row[] = [];
  private prepared: StoredValue[][] | undefined;
  private wm: number | undefined;
  readonly committer: SinkCommitter;

  constructor(
    private readonly store: ViewStore,
    private readonly view: string,
    private readonly jobId: string,
    private readonly columns: readonly Column[],
  ) {
    this.committer = {
      recover: async (pending) => {
        this.buffer = [];
        this.prepared = undefined;
        const held = this.store.lastCheckpoint(this.view, this.jobId);
        return pending !== undefined && held !== undefined && held >= pending;
      },
      prepare: async () => {
        // Encoding here, before the checkpoint is recorded PENDING: a value that cannot be stored fails
        // the checkpoint, not the commit.
        const cols = this.columns;
        this.prepared = this.buffer.map((r) => cols.map((c, i) => encodeValue(r[i], c.type)));
        this.buffer = [];
      },
      commit: async (checkpointId) => {
        const wm = this.wm === undefined ? undefined : this.wm >= Number.MAX_SAFE_INTEGER ? 'END' : formatTimestamp(this.wm);
        this.store.commit(this.view, this.jobId, checkpointId, this.prepared ?? [], wm);
        this.prepared = undefined;
      },
      abort: async () => {
        this.buffer = [];
        this.prepared = undefined;
      },
    };
  }

  write(rows: Row[]): void {
    for (const r of rows) this.buffer.push(r);
  }

  /** Nothing to send: the rows reach SQLite only with their checkpoint (see the class comment). */
  async flush(): Promise<void> {}

  watermark(wm: number): void {
    this.wm = wm;
  }

  async close(): Promise<void> {
    this.buffer = [];
    this.prepared = undefined;
    this.store.close();
  }
}
