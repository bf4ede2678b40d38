import { describe, expect, it } from 'vitest';
import type { Change } from '../../engine/ops/changelog.ts';
import type { Row, Sink, SinkCommitter } from '../../connectors/types.ts';

/**
 * The sink half of the connector test kit (docs/connectors.md): the contract of `Sink` and its
 * `SinkCommitter` (docs/checkpoints.md), played the way a job plays it — flush, prepare(n), the checkpoint
 * recorded PENDING, commit(n), COMPLETED — with the process "dying" at each step in between. A sink with a
 * committer (exactly-once) passes when
 *   - rows written before a committed checkpoint are visible exactly once, and not before its commit;
 *   - rows of an aborted checkpoint are never visible, and the job's replay of them appears exactly once;
 *   - after a crash between prepare and commit, recover(pending) settles the checkpoint either way (rolled
 *     forward: true; dropped: false) and, with the replay the job then does, every row is visible once;
 *   - after a crash once commit(n) took effect, recover(n) answers true (the job must not replay);
 *   - after a crash before prepare, nothing of the lost checkpoint is visible and the replay appears once;
 *   - an updating sink (appendOnlySink false, writeChanges) applies +I/-U/+U/-D per checkpoint, all or none.
 * A sink without a committer (at-least-once) passes when every flushed row is visible at least once, and
 * close() loses nothing flushed.
 */
export interface SinkUnderTest {
  /** A fresh, empty destination and a new job id, once per scenario (a new topic, directory or view). */
  target(): Promise<SinkTarget> | SinkTarget;
  /** Row number i: rows of different i must be told apart by `visible()`. */
  row(i: number): Row;
  /** What `visible()` reports for a row (e.g. its id, or the whole row as JSON for updating sinks). */
  key(row: Row): string;
  /** Whether the sink commits with checkpoints (has a committer): the exactly-once scenarios, else at-least-once. */
  readonly exactlyOnce: boolean;
  /** For an updating sink: row i changed in a non-key column (same key as row(i), another `key()`). */
  readonly updated?: (i: number) => Row;
}

export interface SinkTarget {
  /** Opens the sink as a job (re)starting does: the same job id and destination every time. */
  open(): Promise<Sink>;
  /** What a reader of the external system sees now (only committed output, for an exactly-once sink). */
  visible(): Promise<string[]>;
  /**
   * The process dies: release the sink's resources without any protocol step a crash would not do.
   * Default: `close()`, right for sinks whose close only releases (files, sockets) or aborts.
   */
  kill?(sink: Sink): Promise<void>;
  /** Removes the destination after the scenario. */
  cleanup?(): Promise<void> | void;
}

/**
 * How long a committed row may take to become visible (Kafka writes its transaction markers after the
 * commit answers): positive expectations are polled this long; "not visible" is checked at once.
 */
const SETTLE_MS = 15_000;

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, k) => from + k);

export function describeSinkConformance(name: string, t: SinkUnderTest): void {
  const rows = (from: number, to: number): Row[] => range(from, to).map((i) => t.row(i));
  const keys = (from: number, to: number): string[] => rows(from, to).map((r) => t.key(r)).sort();
  const sorted = async (target: SinkTarget): Promise<string[]> => (await target.visible()).sort();
  const same = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
  /** Polls until exactly `want` (sorted) is visible or SETTLE_MS passed, then asserts on the last answer. */
  const expectVisible = async (target: SinkTarget, want: readonly string[], what?: string): Promise<void> => {
    const deadline = Date.now() + SETTLE_MS;
    let got = await sorted(target);
    while (!same(got, want) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      got = await sorted(target);
    }
    expect(got, what).toEqual(want);
  };

  /** Runs a scenario against a fresh target, always cleaning up. */
  const scenario = (title: string, body: (target: SinkTarget) => Promise<void>): void => {
    it(title, async () => {
      const target = await t.target();
      try {
        await body(target);
      } finally {
        await target.cleanup?.();
      }
    });
  };

  /** Opens the sink as a restarted job does: recover(pending) first; returns the sink, its committer and the answer. */
  const start = async (target: SinkTarget, pending: number | undefined): Promise<{ sink: Sink; c: SinkCommitter; recovered: boolean }> => {
    const sink = await target.open();
    const c = sink.committer;
    if (!c) {
      await sink.close();
      throw new Error(`${name} has no committer: it is not exactly-once`);
    }
    return { sink, c, recovered: await c.recover(pending) };
  };

  /** One checkpoint as the job takes it: write, flush, prepare, (PENDING), commit. */
  const checkpoint = async (sink: Sink, c: SinkCommitter, id: number, from: number, to: number): Promise<void> => {
    // Two writes per checkpoint: a sink must keep everything buffered between flushes, in order.
    const mid = from + Math.floor((to - from) / 2);
    sink.write(rows(from, mid));
    await sink.flush();
    sink.write(rows(mid, to));
    await sink.flush();
    await c.prepare(id);
    await c.commit(id);
  };

  const kill = async (target: SinkTarget, sink: Sink): Promise<void> => (target.kill ? target.kill(sink) : sink.close());

  describe(`sink conformance: ${name}`, () => {
    if (!t.exactlyOnce) {
      scenario('flushed rows are visible at least once, and close() loses nothing', async (target) => {
        const sink = await target.open();
        expect(sink.committer).toBeUndefined();
        sink.write(rows(0, 60));
        sink.write(rows(60, 100));
        await sink.flush();
        const seen = new Set(await target.visible());
        expect(keys(0, 100).filter((k) => !seen.has(k))).toEqual([]);
        sink.write(rows(100, 150));
        await sink.flush();
        await sink.close();
        const all = await sorted(target);
        expect([...new Set(all)].sort()).toEqual(keys(0, 150));
        // Without a crash nothing should be written twice either.
        expect(all).toEqual(keys(0, 150));
      });
      return;
    }

    scenario('rows written before a committed checkpoint are visible exactly once, and not before the commit', async (target) => {
      const { sink, c, recovered } = await start(target, undefined);
      expect(recovered, 'recover(undefined) on a fresh destination').toBe(false);
      sink.write(rows(0, 100));
      await sink.flush();
      expect(await target.visible(), 'flushed but not committed').toEqual([]);
      await c.prepare(1);
      expect(await target.visible(), 'prepared but not committed').toEqual([]);
      await c.commit(1);
      await expectVisible(target, keys(0, 100));
      await checkpoint(sink, c, 2, 100, 250);
      // A checkpoint with nothing written commits nothing and breaks nothing.
      await c.prepare(3);
      await c.commit(3);
      await sink.close();
      await expectVisible(target, keys(0, 250));
    });

    scenario('rows of an aborted checkpoint are never visible; the replay after a restart is, once', async (target) => {
      const first = await start(target, undefined);
      await checkpoint(first.sink, first.c, 1, 0, 50);
      first.sink.write(rows(50, 100));
      await first.sink.flush();
      await first.c.prepare(2);
      await first.c.abort();
      await expectVisible(target, keys(0, 50));
      await kill(target, first.sink);
      await expectVisible(target, keys(0, 50));
      // Checkpoint 2 never became PENDING: the job restarts from 1 and writes 50..99 again.
      const second = await start(target, undefined);
      expect(second.recovered).toBe(false);
      await expectVisible(target, keys(0, 50));
      await checkpoint(second.sink, second.c, 3, 50, 100);
      await second.sink.close();
      await expectVisible(target, keys(0, 100));
    });

    scenario('a crash between prepare and commit: recover settles the checkpoint, each row ends visible once', async (target) => {
      const first = await start(target, undefined);
      await checkpoint(first.sink, first.c, 1, 0, 50);
      first.sink.write(rows(50, 100));
      await first.sink.flush();
      await first.c.prepare(2);
      // ... the job records checkpoint 2 PENDING, and dies before commit(2).
      await kill(target, first.sink);
      const second = await start(target, 2);
      if (second.recovered) {
        // Rolled forward: 2 is COMPLETED, the job resumes after it.
        await expectVisible(target, keys(0, 100));
      } else {
        // Dropped: the job resumes from 1 and replays 50..99.
        await expectVisible(target, keys(0, 50));
        await checkpoint(second.sink, second.c, 3, 50, 100);
      }
      await checkpoint(second.sink, second.c, 4, 100, 150);
      await second.sink.close();
      await expectVisible(target, keys(0, 150));
    });

    scenario('a crash after commit, before COMPLETED: recover answers committed, nothing is replayed', async (target) => {
      const first = await start(target, undefined);
      await checkpoint(first.sink, first.c, 1, 0, 50);
      await checkpoint(first.sink, first.c, 2, 50, 100);
      await kill(target, first.sink);
      const second = await start(target, 2);
      expect(second.recovered).toBe(true);
      await expectVisible(target, keys(0, 100));
      await checkpoint(second.sink, second.c, 3, 100, 120);
      await second.sink.close();
      await expectVisible(target, keys(0, 120));
    });

    scenario('a crash before prepare: nothing of the lost checkpoint is visible, the replay is, once', async (target) => {
      const first = await start(target, undefined);
      await checkpoint(first.sink, first.c, 1, 0, 50);
      first.sink.write(rows(50, 100));
      await first.sink.flush();
      await kill(target, first.sink);
      await expectVisible(target, keys(0, 50));
      const second = await start(target, undefined);
      expect(second.recovered).toBe(false);
      await expectVisible(target, keys(0, 50));
      await checkpoint(second.sink, second.c, 2, 50, 100);
      await second.sink.close();
      await expectVisible(target, keys(0, 100));
    });

    const updated = t.updated;
    if (updated) {
      scenario('an updating sink applies each checkpoint’s changelog, all or nothing', async (target) => {
        const { sink, c } = await start(target, undefined);
        expect(sink.writeChanges, 'an updating sink implements writeChanges').toBeTypeOf('function');
        const ins = (i: number): Change => ({ op: '+I', row: t.row(i) });
        sink.writeChanges!([ins(0), ins(1), ins(2), ins(3)]);
        await sink.flush();
        expect(await target.visible()).toEqual([]);
        await c.prepare(1);
        await c.commit(1);
        await expectVisible(target, keys(0, 4));
        // Within one checkpoint: row 1 updated, row 2 deleted, row 4 added, row 3 updated twice.
        sink.writeChanges!([{ op: '-U', row: t.row(1) }, { op: '+U', row: updated(1) }, { op: '-D', row: t.row(2) }, ins(4)]);
        sink.writeChanges!([{ op: '-U', row: t.row(3) }, { op: '+U', row: updated(3) }]);
        await sink.flush();
        const afterOne = [t.row(0), updated(1), updated(3), t.row(4)].map((r) => t.key(r)).sort();
        expect(await sorted(target), 'changes not committed yet').toEqual(keys(0, 4));
        await c.prepare(2);
        await c.commit(2);
        await expectVisible(target, afterOne);
        // An aborted changelog leaves the result as it was.
        sink.writeChanges!([{ op: '-D', row: t.row(0) }, { op: '-U', row: updated(1) }, { op: '+U', row: t.row(1) }]);
        await sink.flush();
        await c.prepare(3);
        await c.abort();
        await kill(target, sink);
        const again = await start(target, undefined);
        expect(again.recovered).toBe(false);
        await expectVisible(target, afterOne);
        await again.sink.close();
      });
    }
  });
}
