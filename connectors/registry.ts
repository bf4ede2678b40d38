import type { Connector } from './types.ts';

/**
 * Connectors register by name: the built-ins (builtin.ts), then the packages named at start-up
 * (`weir server --connector`, WEIR_CONNECTORS), which plugins.ts loads and registers here.
 */
const connectors = new Map<string, Connector>();

export function registerConnector(c: Connector): void {
  connectors.set(c.name.toLowerCase(), c);
}

export function getConnector(name: string): Connector | undefined {
  return connectors.get(name.toLowerCase());
}

export function connectorNames(): string[] {
  return [...connectors.keys()].sort();
}
