import { availableParallelism } from 'node:os';
import type { Source, SourceBatch } from '../../connectors/types.ts';
import type { KafkaReaderSpec, RawSourceBatch } from '../../connectors/kafka/source.ts';
import type { BadRecord } from '../../connectors/types.ts';
import type { InstanceInit } from './protocol.ts';

/** The SET options that ask for a number of parallel pipeline instances (Flink's names), first one wins. */
export const PARALLELISM_SETTINGS = ['parallelism.default', 'table.exec.resource.default-parallelism'] as const;

/**
 * A job's parallelism from its settings: undefined when not set (or Flink's -1, "use the default"). Throws
 * on anything but a positive integer or -1. For the platform to pass as JobDeps.parallelism.
 */
export function parallelismSetting(settings: Readonly<Record<string, string>>): number | undefined {
  for (const key of PARALLELISM_SETTINGS) {
    const v = settings[key];
    if (v === undefined) continue;
    const n = Number(v.trim());
    if (n === -1) return undefined;
    if (!Number.isInteger(n) || n < 1) throw new Error(`Invalid '${key}' = '${v}' (a positive integer, or -1 for the default)`);
    return n;
  }
  return undefined;
}

/**
 * How many instances a job runs: what it asked for, else WEIR_PARALLELISM from the server's environment
 * (the server-wide default; tests and benchmarks run a whole suite both ways), else 1, as Flink's
 * parallelism.default: each worker costs ~45 MB and most of a second to start, and adds batch latency, which
 * only a job that decodes much more than it writes wins back (docs/benchmarks.md). Never more than the
 * partitions (an instance owns whole partitions). 1 is the job's own thread.
 */
export function effectiveParallelism(requested: number | undefined, partitions: number): number {
  const env = Number(process.env['WEIR_PARALLELISM']);
  const want = requested ?? (Number.isInteger(env) && env >= 1 ? env : 1);
  return Math.max(1, Math.min(want, partitions));
}

/**
 * Whether the job's own thread is one of its `instances` (ParallelInstances' inThread) rather than only
 * reading, ordering and merging for worker threads: when there are not more cores than instances, a
 * thread of its own per instance would only compete for them (on 2 cores, 2 instances as the job's thread
 * and 1 worker: docs/benchmarks.md). WEIR_INSTANCE_IN_THREAD=true|false decides instead (benchmarks).
 */
export function jobThreadIsInstance(instances: number): boolean {
  const env = process.env['WEIR_INSTANCE_IN_THREAD'];
  if (env === 'true' || env === 'false') return env === 'true';
  return instances >= availableParallelism();
}

/** A source whose records a job can decode elsewhere (the Kafka source). */
export interface RawSource extends Source {
  pollRaw(maxWaitMs: number): Promise<RawSourceBatch[]>;
  /** One batch of pollRaw() decoded in this thread, as poll() would have it. */
  decodeBatch(b: RawSourceBatch): SourceBatch;
  decoding(): InstanceInit['decoding'];
  deadLetter(bad: readonly BadRecord[]): Promise<void>;
  /** How instances open readers of the same topic themselves (jobs/parallel/owned.ts), when the source can say. */
  readonly readerSpec?: KafkaReaderSpec | undefined;
  /** Records of a partition up to `nextOffset` were read by such an instance and are in the job's state; `highWatermark` as it last fetched (-1: unknown). */
  readElsewhere?(partition: number, nextOffset: number, highWatermark: number): void;
}

export function isRawSource(s: Source): s is RawSource {
  const r = s as Partial<RawSource>;
  return typeof r.pollRaw === 'function' && typeof r.decodeBatch === 'function' && typeof r.decoding === 'function' && typeof r.deadLetter === 'function';
}
