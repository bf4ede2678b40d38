import { BadRecordError, createJsonDecoder } from '../formats/json.ts';
import type { BadRecord, PartitionProgress, Row, Source, SourceBatch, SourceSpec } from '../types.ts';
import { parseHttpOptions } from './options.ts';
import type { HttpOptions } from './options.ts';

/**
 * A key's checkpointed form: 52 bits of FNV-1a (exact as a JS number in the offsets JSON). Two keys
 * sharing a hash among the remembered few is as likely as a random 52-bit collision.
 */
export function keyHash(s: string): number {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(s, 'utf8')) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return Number(h >> 12n);
}

/**
 * Polls a JSON API every 'interval' and turns each item of the array at 'json.path' into a row (by
 * column name, as the Kafka JSON format does). One partition; its offset counts the items emitted.
 *
 * With 'key', an item whose key was seen among the last 'key.memory' items is dropped. Those keys
 * must roll back with the rest of the job on a restore, so they are the source's checkpointed state
 * (state(): the remembered key hashes, oldest first). Checkpoints written before sources had a state of
 * their own carried them as negative "partitions" of the offsets (-1 the oldest ... -n the newest);
 * those are still read.
 */
export class HttpSource implements Source {
  readonly topic: string;
  readonly partitions = [0] as const;
  private offset: number;
  /** Remembered key hashes, oldest first (a Set keeps insertion order). */
  private readonly seen = new Set<number>();
  private nextFetchAt = 0;
  private lastErrorText: string | null = null;
  private readonly decode: ReturnType<typeof createJsonDecoder>;
  private readonly abort = new AbortController();

  constructor(
    spec: SourceSpec,
    private readonly o: HttpOptions = parseHttpOptions(spec.options),
  ) {
    this.topic = o.url;
    this.offset = spec.startOffsets?.[0] ?? 0;
    const state = spec.startState as { seen?: unknown } | undefined;
    if (state && Array.isArray(state.seen)) {
      for (const h of state.seen) if (typeof h === 'number') this.remember(h);
    } else {
      const legacy = Object.entries(spec.startOffsets ?? {})
        .map(([p, v]) => [Number(p), v] as const)
        .filter(([p]) => p < 0)
        .sort((a, b) => b[0] - a[0]);
      for (const [, h] of legacy) this.remember(h);
    }
    this.decode = createJsonDecoder(spec.columns, {
      ignoreParseErrors: false,
      timestampStandard: 'SQL',
      ...(spec.projection && spec.projection.includes(false) ? { fields: spec.projection } : {}),
    });
  }

  private remember(h: number): void {
    this.seen.delete(h);
    this.seen.add(h);
    if (this.seen.size > this.o.keyMemory) this.seen.delete(this.seen.values().next().value!);
  }

  /** The last failed request (an external system's fault: retried at the next interval), if any. */
  lastError(): string | null {
    return this.lastErrorText;
  }

  async poll(maxWaitMs: number): Promise<SourceBatch[]> {
    const wait = this.nextFetchAt - Date.now();
    if (wait > 0) {
      await new Promise((r) => setTimeout(r, Math.min(wait, maxWaitMs)));
      if (this.nextFetchAt > Date.now()) return [];
    }
    this.nextFetchAt = Date.now() + this.o.intervalMs;
    let items: unknown[];
    try {
      items = await this.fetchItems();
      this.lastErrorText = null;
    } catch (e) {
      if (this.abort.signal.aborted) return [];
      this.lastErrorText = `GET ${this.o.url}: ${(e as Error).message}`;
      return [];
    }
    const rows: Row[] = [];
    const bad: BadRecord[] = [];
    for (const item of items) {
      if (this.o.key !== undefined) {
        const k = item !== null && typeof item === 'object' && !Array.isArray(item) ? (item as Record<string, unknown>)[this.o.key] : undefined;
        if (k !== undefined && k !== null) {
          const h = keyHash(typeof k === 'string' ? k : JSON.stringify(k));
          if (this.seen.has(h)) continue;
          this.remember(h);
        }
      }
      const offset = this.offset++;
      const text = JSON.stringify(item ?? null);
      try {
        const row = this.decode(text);
        if (row) rows.push(row);
      } catch (e) {
        if (!(e instanceof BadRecordError)) throw e;
        bad.push({ partition: 0, offset, error: e.message, value: Buffer.from(text) });
      }
    }
    return rows.length + bad.length > 0 ? [{ partition: 0, rows, nextOffset: this.offset, bad }] : [];
  }

  private async fetchItems(): Promise<unknown[]> {
    const res = await fetch(this.o.url, {
      headers: { accept: 'application/json', ...this.o.headers },
      signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.o.timeoutMs)]),
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    let v: unknown = await res.json();
    for (const p of this.o.path) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[p] : undefined;
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw new Error(`'json.path' does not lead to an array`);
    return v;
  }

  positions(): Record<number, number> {
    return { 0: this.offset };
  }

  state(): { seen: number[] } | undefined {
    return this.o.key === undefined ? undefined : { seen: [...this.seen] };
  }

  endOffsets(): undefined {
    return undefined;
  }

  finished(): boolean {
    return false;
  }

  progress(): PartitionProgress[] {
    return [{ partition: 0, offset: this.offset, highWatermark: this.offset }];
  }

  async commitForMonitoring(): Promise<void> {}

  async close(): Promise<void> {
    this.abort.abort();
  }
}
