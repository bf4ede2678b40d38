import type { Connector } from './types.ts';

/** Connectors register by name; a third-party package can call registerConnector at start-up. */
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
