// A test-only connector module (loaded by `weir server` through WEIR_CONNECTORS, connectors/plugins.ts):
// the sink 'slow-file' appends each flushed batch as JSON lines to the file 'path', after sleeping
// 'delay-ms' per flush, like a downstream system that acknowledges slowly. The job waits for each
// flush, so a slow sink must slow the source down (slow-sink-memory.test.ts).
import { appendFileSync } from 'node:fs';
import type { Connector, Row, Sink, SinkSpec } from '../../connectors/types.ts';

class SlowFileSink implements Sink {
  private buffered: Row[] = [];

  constructor(
    private readonly path: string,
    private readonly delayMs: number,
  ) {}

  write(rows: Row[]): void {
    for (const r of rows) this.buffered.push(r);
  }

  async flush(): Promise<void> {
    if (this.buffered.length === 0) return;
    await new Promise((r) => setTimeout(r, this.delayMs));
    appendFileSync(this.path, this.buffered.map((r) => JSON.stringify(r)).join('\n') + '\n');
    this.buffered = [];
  }

  async close(): Promise<void> {}
}

export const connectors: Connector[] = [
  {
    name: 'slow-file',
    appendOnlySink: true,
    validate(options, role) {
      if (role === 'source') throw new Error("'slow-file' is a sink only");
      if (!options['path']) throw Object.assign(new Error("'path' is required"), { option: 'path' });
    },
    async createSink(spec: SinkSpec): Promise<Sink> {
      return new SlowFileSink(spec.options['path']!, Number(spec.options['delay-ms'] ?? '20'));
    },
  },
];
