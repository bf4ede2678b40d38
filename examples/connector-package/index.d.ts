// Types of weir-connector-example. The objects implement Weir's `Connector` (connectors/types.ts); they are
// declared loosely here so that the package needs nothing of Weir, not even for its types.
export interface ExampleConnector {
  readonly name: string;
  readonly appendOnlySink: boolean;
  validate(options: Readonly<Record<string, string>>, role: 'table' | 'source' | 'sink', columns: readonly { name: string; type: { kind: string } }[]): void;
  createSource?(spec: unknown): Promise<unknown>;
  createSink?(spec: unknown): Promise<unknown>;
}

export declare const sequenceConnector: ExampleConnector;
export declare const jsonlConnector: ExampleConnector;
export declare const connectors: readonly ExampleConnector[];
