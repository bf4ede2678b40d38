import type { Connector } from '../types.ts';
import { parseKafkaOptions } from './options.ts';
import { KafkaSink } from './sink.ts';
import { KafkaSource } from './source.ts';

export const kafkaConnector: Connector = {
  name: 'kafka',
  appendOnlySink: true,
  validate(options, _role, columns) {
    parseKafkaOptions(options, columns);
  },
  createSource: (spec) => KafkaSource.open(spec),
  createSink: (spec) => KafkaSink.open(spec),
};
