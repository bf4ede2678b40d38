import { datagenConnector, weiboConnector } from './datagen/index.ts';
import { filesystemConnector } from './filesystem/index.ts';
import { httpConnector } from './http/index.ts';
import { kafkaConnector } from './kafka/index.ts';
import { registerConnector } from './registry.ts';
import { sqliteViewConnector } from './sqlite/index.ts';
import { upsertKafkaConnector } from './upsert-kafka/index.ts';

/** The connectors that ship with Weir; the one explicit list. */
export function registerBuiltinConnectors(): void {
  registerConnector(kafkaConnector);
  registerConnector(sqliteViewConnector);
  registerConnector(filesystemConnector);
  registerConnector(datagenConnector);
  registerConnector(weiboConnector);
  registerConnector(httpConnector);
  registerConnector(upsertKafkaConnector);
}
