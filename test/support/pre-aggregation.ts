// How parallel instances choose between pre-aggregating a batch and handing over its rows' inputs
// (engine/parallel/pre-aggregation.ts), set for the length of a test.
import { preAggregationTuning } from '../../engine/parallel/pre-aggregation.ts';

export type Tuning = typeof preAggregationTuning;

/** Never inputs: every batch pre-aggregated. */
export const NEVER_INPUTS: Tuning = { inputsAbove: Infinity, minRows: 0, probeEvery: 1 };

/**
 * As shipped (small test batches never switch), every other batch as inputs, and all as inputs after the
 * first: a merge must give what pushing the rows gives under each.
 */
export const TUNINGS: readonly Tuning[] = [{ ...preAggregationTuning }, { inputsAbove: -1, minRows: 0, probeEvery: 1 }, { inputsAbove: -1, minRows: 0, probeEvery: 1_000_000 }];

export function withTuning<T>(tuning: Tuning, f: () => T): T {
  const before = { ...preAggregationTuning };
  Object.assign(preAggregationTuning, tuning);
  try {
    return f();
  } finally {
    Object.assign(preAggregationTuning, before);
  }
}
