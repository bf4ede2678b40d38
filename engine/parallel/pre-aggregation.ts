/**
 * When a parallel instance stops pre-aggregating its batches (LocalGroupAggregate, LocalWindowAggregate).
 * Pre-aggregating a row costs the instance a lookup among the batch's groups; it saves the job's thread a
 * fold into its (much larger) state only for a group seen before in the batch. With 100,000 keys and
 * ~3,000-row batches nearly every group is new to its batch: the instance's Map cost 145 ns per row and
 * the job's merge still saw ~85 % of the rows (docs/benchmarks.md). Then an instance hands over the rows'
 * inputs (their keys and argument values, in order) instead, which the job's thread folds as it folds rows.
 * Mutable for tests.
 */
export const preAggregationTuning = {
  /** A batch pre-aggregated into more groups than this share of its rows makes the next ones go as inputs. */
  inputsAbove: 0.5,
  /** Batches of fewer rows than this do not decide (a small batch has few repeats whatever its keys). */
  minRows: 64,
  /** Batches handed over as inputs before one is pre-aggregated again, to see whether keys repeat now. */
  probeEvery: 32,
};

/** One instance's choice, batch after batch: pre-aggregate, or hand over inputs for a while. */
export class PreAggregationChoice {
  /** Batches left to hand over as inputs (0: pre-aggregate). */
  private inputsLeft = 0;

  /** Whether the current batch goes as inputs. */
  get inputs(): boolean {
    return this.inputsLeft > 0;
  }

  /**
   * The current batch is over: `rows` rows (each counted once per group it reached) went into `groups`
   * groups when it was pre-aggregated; ignored for a batch that went as inputs.
   */
  batchDone(rows: number, groups: number): void {
    if (this.inputsLeft > 0) {
      this.inputsLeft--;
      return;
    }
    const t = preAggregationTuning;
    if (rows >= t.minRows && groups > rows * t.inputsAbove) this.inputsLeft = t.probeEvery;
  }
}
