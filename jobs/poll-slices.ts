/**
 * A job's poll in slices. The job runs on the thread that also serves HTTP; a large poll (a backlog after
 * a checkpoint, or a bounded topic read at full speed: up to the fetch limit, 1 MB of records by default, more if the table raises 'properties.fetch.max.bytes') pushed
 * through the operators in one go holds every request for that long. So the job pushes a poll's batches
 * one by one, a large batch in pieces, and gives the event loop a turn whenever a slice has used its
 * budget. Only when the work runs changes: the watermark still advances once per poll, after all its
 * rows, and a checkpoint still sees whole polls (the job's loop is the only caller of both).
 */

/**
 * The budget of one slice (ms) and the most rows one push takes. `ms: Infinity` is the job before slicing
 * (one stretch per poll, batches whole). WEIR_JOB_SLICE_MS overrides the budget (for benchmarks).
 */
export const pollSlicing = {
  ms: envMs(process.env['WEIR_JOB_SLICE_MS']) ?? 5,
  rows: 4096,
};

function envMs(v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!(n > 0)) throw new Error(`WEIR_JOB_SLICE_MS must be a positive number of ms or Infinity, not ${v}`);
  return n;
}

/** Measures one slice after the other; turn() yields only when the current one is over its budget. */
export class SliceClock {
  private end: number;

  constructor(
    private readonly budgetMs: number = pollSlicing.ms,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.end = now() + budgetMs;
  }

  /** Gives the event loop a turn (setImmediate: I/O callbacks first) if this slice has run out; else nothing. */
  async turn(): Promise<void> {
    if (this.now() < this.end) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.end = this.now() + this.budgetMs;
  }
}

/**
 * `rows` in consecutive pieces of at most `max` rows, in order (the array itself when it is not longer,
 * and always when slicing is off). A piece is pushed as a batch of its own, so the job splits batches of
 * append-only plans only: an updating aggregate would emit a key's -U/+U once per piece instead of once per
 * batch (the same changes folded, but more of them).
 */
export function pieces<T>(rows: T[], max: number = pollSlicing.rows, budgetMs: number = pollSlicing.ms): T[][] {
  if (rows.length <= max || budgetMs === Infinity) return [rows];
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += max) out.push(rows.slice(i, i + max));
  return out;
}
