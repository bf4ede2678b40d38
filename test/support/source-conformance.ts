import { describe, expect, it } from 'vitest';
import type { Row, Source } from '../../connectors/types.ts';

/**
 * The connector test kit (docs/connectors.md): properties every source must have, run against any
 * source through a small description of it. A source passes when
 *   - offsets advance: every batch with records moves its partition's position forward to its
 *     nextOffset, positions() and progress() agree, and only the source's partitions are read;
 *   - a restore resumes without loss or duplicates: reading part of the stream, closing, and reopening
 *     at the saved positions (and the source's saved state(), if it has one) yields exactly the rows of
 *     an uninterrupted run, in the same order per partition; what state() returns survives JSON;
 *   - a bounded source ends: finished() turns true at its end offsets, polls after that return nothing,
 *     and a restore with the saved end offsets ends at the same place.
 */
export interface SourceUnderTest {
  /** Opens the source, as a job would with these checkpointed positions. */
  open(resume?: { startOffsets: Record<number, number>; endOffsets?: Record<number, number>; startState?: unknown }): Promise<Source>;
  /** Called before each scenario: puts the external system back at its beginning (a test API's clock, say). */
  reset?(): Promise<void> | void;
  /** Identity of a row, to check loss and duplicates. */
  key(row: Row): string;
  /** Bounded: every row to its end. Unbounded: this many rows are read (then the run stops). */
  readonly rows: number;
  readonly bounded: boolean;
  /** The keys of the rows in order, per partition, when known in advance (else the straight run is the reference). */
  readonly expected?: Readonly<Record<number, readonly string[]>>;
  /** Give up after this long per scenario (ms); default 20 s. */
  readonly timeoutMs?: number;
  /** Poll wait passed to the source; default 50 ms. */
  readonly pollMs?: number;
  /**
   * The splits the source must be assigned (Kafka: every partition of the topic), when known. The kit
   * then checks the assignment and that every one of them delivers rows.
   */
  readonly partitions?: readonly number[];
}

interface Run {
  readonly keys: Map<number, string[]>;
  readonly positions: Record<number, number>;
  /** state(), through JSON as a checkpoint stores it. */
  readonly state: unknown;
  readonly endOffsets: Record<number, number> | undefined;
  readonly finished: boolean;
  readonly assigned: readonly number[];
}

const total = (m: Map<number, string[]>): number => [...m.values()].reduce((s, v) => s + v.length, 0);

/** Reads until `stopAfter` rows (or the end of a bounded source), checking the offset properties on the way. */
async function read(t: SourceUnderTest, src: Source, stopAfter: number, into = new Map<number, string[]>()): Promise<Run> {
  const deadline = Date.now() + (t.timeoutMs ?? 20_000);
  const pos = { ...src.positions() };
  const parts = new Set(src.partitions);
  while (total(into) < stopAfter && !(t.bounded && src.finished())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${total(into)} of ${stopAfter} rows`);
    for (const b of await src.poll(t.pollMs ?? 50)) {
      expect(parts.has(b.partition), `batch of unknown partition ${b.partition}`).toBe(true);
      const before = pos[b.partition] ?? 0;
      if (b.rows.length + b.bad.length > 0) expect(b.nextOffset, `partition ${b.partition} offset must advance`).toBeGreaterThan(before);
      else expect(b.nextOffset).toBeGreaterThanOrEqual(before);
      for (const bad of b.bad) expect(bad.offset >= before && bad.offset < b.nextOffset).toBe(true);
      pos[b.partition] = b.nextOffset;
      expect(src.positions()[b.partition]).toBe(b.nextOffset);
      const list = into.get(b.partition) ?? [];
      for (const r of b.rows) list.push(t.key(r));
      into.set(b.partition, list);
    }
  }
  const positions = src.positions();
  for (const p of src.progress()) expect(p.offset).toBe(positions[p.partition]);
  const state = src.state?.();
  return { keys: into, positions, state: state === undefined ? undefined : JSON.parse(JSON.stringify(state)), endOffsets: src.endOffsets(), finished: src.finished(), assigned: src.partitions };
}

/** Rows of a run cut at `n` rows in total, partitions in the order the run saw them (order within a partition is what counts). */
function firstRows(m: Map<number, string[]>, counts: Map<number, number>): Map<number, string[]> {
  return new Map([...m].map(([p, v]) => [p, v.slice(0, counts.get(p) ?? v.length)]));
}

export function describeSourceConformance(name: string, t: SourceUnderTest): void {
  describe(`source conformance: ${name}`, () => {
    const straight = async (): Promise<Run> => {
      await t.reset?.();
      const src = await t.open();
      try {
        return await read(t, src, t.bounded ? Number.MAX_SAFE_INTEGER : t.rows);
      } finally {
        await src.close();
      }
    };

    it('offsets advance with every batch and positions agree with progress', async () => {
      const run = await straight();
      expect(total(run.keys)).toBeGreaterThan(0);
      if (t.partitions) {
        expect([...run.assigned].sort((a, b) => a - b)).toEqual([...t.partitions].sort((a, b) => a - b));
        for (const p of t.partitions) expect(run.keys.get(p)?.length ?? 0, `rows of partition ${p}`).toBeGreaterThan(0);
      }
      if (t.bounded) expect(total(run.keys)).toBe(t.rows);
      if (t.expected) for (const [p, keys] of Object.entries(t.expected)) expect((run.keys.get(Number(p)) ?? []).slice(0, keys.length)).toEqual(keys);
    });

    it('a restore from saved positions resumes without loss or duplicates', async () => {
      const ref = await straight();
      await t.reset?.();
      const first = await t.open();
      const part = await read(t, first, Math.max(1, Math.floor(total(ref.keys) / 3)));
      await first.close();
      // Otherwise the scenario proves nothing: the first run must stop inside the stream.
      expect(total(part.keys), 'the first run read everything in one go (make batches smaller)').toBeLessThan(total(ref.keys));
      const second = await t.open({ startOffsets: part.positions, ...(part.endOffsets ? { endOffsets: part.endOffsets } : {}), ...(part.state === undefined ? {} : { startState: part.state }) });
      try {
        const rest = await read(t, second, t.bounded ? Number.MAX_SAFE_INTEGER : total(ref.keys), new Map([...part.keys].map(([p, v]) => [p, [...v]])));
        const counts = new Map([...rest.keys].map(([p, v]) => [p, v.length]));
        const want = t.bounded ? ref.keys : firstRows(ref.keys, counts);
        const got = t.bounded ? rest.keys : firstRows(rest.keys, new Map([...want].map(([p, v]) => [p, v.length])));
        for (const [p, keys] of want) expect(got.get(p) ?? [], `partition ${p}`).toEqual(keys);
        const all = [...rest.keys.values()].flat();
        expect(new Set(all).size, 'no duplicates').toBe(all.length);
      } finally {
        await second.close();
      }
    });

    if (t.bounded) {
      it('a bounded source ends at its end offsets, also after a restore', async () => {
        const run = await straight();
        expect(run.finished).toBe(true);
        expect(run.endOffsets).toBeDefined();
        expect(run.positions).toEqual(run.endOffsets);
        await t.reset?.();
        const again = await t.open({ startOffsets: run.positions, endOffsets: run.endOffsets! });
        try {
          expect(again.finished()).toBe(true);
          expect(await again.poll(10)).toEqual([]);
          expect(again.finishedPartitions?.() ?? again.partitions).toEqual(expect.arrayContaining([...again.partitions]));
        } finally {
          await again.close();
        }
      });
    }
  });
}
