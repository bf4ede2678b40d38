import { kafkaConnector } from './kafka/index.ts';
import { registerConnector } from './registry.ts';

/** The connectors that ship with Weir; the one explicit list. */
export function registerBuiltinConnectors(): void {
  registerConnector(kafkaConnector);
}
