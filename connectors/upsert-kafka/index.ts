import type { Connector } from '../types.ts';
import { OptionError } from '../types.ts';
import { parseUpsertKafkaOptions } from './options.ts';
import { UpsertKafkaSink } from './sink.ts';

export { parseUpsertKafkaOptions } from './options.ts';
export { UpsertEncoder, UpsertKafkaSink } from './sink.ts';

/** Why an upsert-kafka table cannot be read (the platform refuses such a query at submit time). */
export const UPSERT_KAFKA_NOT_A_SOURCE =
  "reading a changelog topic with 'upsert-kafka' is not supported yet; declare a 'kafka' table over the topic to read its records as appends";

/** Flink's 'upsert-kafka' as a sink: keyed by the table's PRIMARY KEY, deletes as tombstones. */
export const upsertKafkaConnector: Connector = {
  name: 'upsert-kafka',
  appendOnlySink: false,
  validate(options, role, columns, _partitionedBy, primaryKey) {
    if (role === 'source') throw new OptionError('connector', `Upsert-kafka: ${UPSERT_KAFKA_NOT_A_SOURCE}`);
    parseUpsertKafkaOptions(options, columns, primaryKey);
  },
  createSink: (spec) => UpsertKafkaSink.open(spec),
};
