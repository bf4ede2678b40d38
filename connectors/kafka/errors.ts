/**
 * Errors of the Kafka client, typed by what the caller should do about them:
 *
 *   - 'retriable': the broker or the network is (maybe temporarily) away, a leader moved, a coordinator is
 *     loading. The client already retried within its own time budget; the job runner restarts the job
 *     from its last checkpoint with backoff (DESIGN §3), and the problem is shown as external.
 *   - 'fatal': retrying will not help: authorization or authentication failed, the topic does not exist,
 *     the producer was fenced by a newer instance with the same transactional id, a record is too large,
 *     an unsupported compression codec or message format, or a bug (invalid request).
 *   - 'config': the connector's options are wrong (unknown security protocol, unsupported SASL mechanism,
 *     malformed JAAS config). Reported to the user at submit time.
 */
export type KafkaErrorKind = 'retriable' | 'fatal' | 'config';

export class KafkaClientError extends Error {
  readonly kind: KafkaErrorKind;
  /** Kafka's error name when the broker answered with one ('NOT_LEADER_OR_FOLLOWER', ...). */
  readonly code: string | undefined;

  constructor(kind: KafkaErrorKind, message: string, opts: { code?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'KafkaClientError';
    this.kind = kind;
    this.code = opts.code;
  }

  get retriable(): boolean {
    return this.kind === 'retriable';
  }
}

export function isRetriable(err: unknown): boolean {
  return err instanceof KafkaClientError && err.kind === 'retriable';
}

/** Kafka protocol error codes we treat specially (the full table lives in the library). */
export const KafkaErrorCodes = {
  NONE: 0,
  OFFSET_OUT_OF_RANGE: 1,
  CORRUPT_MESSAGE: 2,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  LEADER_NOT_AVAILABLE: 5,
  NOT_LEADER_OR_FOLLOWER: 6,
  REQUEST_TIMED_OUT: 7,
  BROKER_NOT_AVAILABLE: 8,
  REPLICA_NOT_AVAILABLE: 9,
  MESSAGE_TOO_LARGE: 10,
  NETWORK_EXCEPTION: 13,
  COORDINATOR_LOAD_IN_PROGRESS: 14,
  COORDINATOR_NOT_AVAILABLE: 15,
  NOT_COORDINATOR: 16,
  RECORD_LIST_TOO_LARGE: 18,
  TOPIC_AUTHORIZATION_FAILED: 29,
  GROUP_AUTHORIZATION_FAILED: 30,
  CLUSTER_AUTHORIZATION_FAILED: 31,
  TOPIC_ALREADY_EXISTS: 36,
  INVALID_PRODUCER_EPOCH: 47,
  KAFKA_STORAGE_ERROR: 56,
  FENCED_LEADER_EPOCH: 74,
  UNKNOWN_LEADER_EPOCH: 75,
  OFFSET_NOT_AVAILABLE: 78,
  PRODUCER_FENCED: 90,
  UNKNOWN_TOPIC_ID: 100,
  INCONSISTENT_TOPIC_ID: 103,
} as const;

/** Partition-level fetch errors after which a metadata refresh and a retry may help. */
export const RETRIABLE_FETCH_ERRORS: ReadonlySet<number> = new Set([
  KafkaErrorCodes.UNKNOWN_TOPIC_OR_PARTITION,
  KafkaErrorCodes.LEADER_NOT_AVAILABLE,
  KafkaErrorCodes.NOT_LEADER_OR_FOLLOWER,
  KafkaErrorCodes.REQUEST_TIMED_OUT,
  KafkaErrorCodes.BROKER_NOT_AVAILABLE,
  KafkaErrorCodes.REPLICA_NOT_AVAILABLE,
  KafkaErrorCodes.NETWORK_EXCEPTION,
  KafkaErrorCodes.KAFKA_STORAGE_ERROR,
  KafkaErrorCodes.FENCED_LEADER_EPOCH,
  KafkaErrorCodes.UNKNOWN_LEADER_EPOCH,
  KafkaErrorCodes.OFFSET_NOT_AVAILABLE,
  KafkaErrorCodes.UNKNOWN_TOPIC_ID,
  KafkaErrorCodes.INCONSISTENT_TOPIC_ID,
]);
