import type { SinkSpec } from '../types.ts';
import { OptionError } from '../types.ts';
import type { KafkaClient, KafkaWriter } from './client.ts';
import { CHECKPOINT_MARKER_TOPIC, MAX_TX_TIMEOUT_MS } from './committer.ts';

export type DeliveryGuarantee = 'exactly-once' | 'at-least-once' | 'none';

/** How a Kafka-writing sink delivers (the options the kafka and upsert-kafka connectors share). */
export interface DeliveryOptions {
  readonly deliveryGuarantee: DeliveryGuarantee;
  /** Prefix of the sink's Kafka transactional id (exactly-once); undefined: derived from the job id. */
  readonly transactionalIdPrefix: string | undefined;
  /** Partitions of the topic when the sink creates it (a Weir extension). */
  readonly sinkPartitions: number;
}

/** 'sink.delivery-guarantee', 'sink.transactional-id-prefix' and 'sink.topic.partitions', checked. */
export function parseDeliveryOptions(o: Readonly<Record<string, string>>): DeliveryOptions {
  const partitions = Number(o['sink.topic.partitions'] ?? '1');
  if (!Number.isInteger(partitions) || partitions < 1) throw new OptionError('sink.topic.partitions', "'sink.topic.partitions' must be a positive integer");
  const dg = o['sink.delivery-guarantee'] ?? 'at-least-once';
  if (dg !== 'exactly-once' && dg !== 'at-least-once' && dg !== 'none') {
    throw new OptionError('sink.delivery-guarantee', `Invalid 'sink.delivery-guarantee' = '${dg}' (exactly-once, at-least-once, none)`);
  }
  const txPrefix = o['sink.transactional-id-prefix'];
  if (txPrefix !== undefined && (txPrefix.trim() === '' || txPrefix.length > 200)) {
    throw new OptionError('sink.transactional-id-prefix', "'sink.transactional-id-prefix' must be a non-empty string of at most 200 characters");
  }
  return { deliveryGuarantee: dg, transactionalIdPrefix: txPrefix, sinkPartitions: partitions };
}

/**
 * The writer a sink produces with: transactional for exactly-once (committed by the job's checkpoints),
 * otherwise acknowledged by all replicas (at-least-once) or the leader (none).
 */
export async function openSinkWriter(client: KafkaClient, d: DeliveryOptions, spec: Pick<SinkSpec, 'jobId' | 'checkpointIntervalMs'>): Promise<KafkaWriter> {
  if (d.deliveryGuarantee !== 'exactly-once') return client.openWriter({ acks: d.deliveryGuarantee === 'none' ? 1 : 'all' });
  // Before the writer opens: recover() reads the markers only after the writer's InitProducerId
  // settled the previous run's transaction, and the topic must exist by then.
  await client.createTopic(CHECKPOINT_MARKER_TOPIC, 1, 1, { 'cleanup.policy': 'compact', 'segment.ms': String(10 * 60_000) });
  // One writer per job instance; opening it fences a previous incarnation and aborts (or completes)
  // the transaction that incarnation left open.
  return client.openWriter({
    transactionalId: `${d.transactionalIdPrefix ?? `weir-${spec.jobId}`}-0`,
    transactionTimeoutMs: Math.min(MAX_TX_TIMEOUT_MS, Math.max(60_000, 4 * spec.checkpointIntervalMs)),
  });
}
