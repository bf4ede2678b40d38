// The view store applying an updating query's changelog: upserts and deletes by key in one transaction
// with the checkpoint id, NULL group keys as one row for deletes as for upserts, a global aggregate (empty
// key) as one row, a view without a key deleting by whole row, and what the change streams report.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ViewSink } from '../../connectors/sqlite/sink.ts';
import { ViewStore } from '../../connectors/sqlite/view-store.ts';
import type { ViewChange } from '../../connectors/sqlite/view-store.ts';
import { Catalog } from '../../catalog/catalog.ts';
import { Planner, buildTable } from '../../engine/plan/planner.ts';
import { T } from '../../engine/plan/types.ts';
import { parseScript } from '../../engine/sql/parse.ts';
import { viewKey } from '../../jobs/materialized-views.ts';
import type { StoredChange } from '../../connectors/sqlite/view-store.ts';
import { rng } from '../support/rng.ts';

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'weir-view-changes-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const COLS = [
  { name: 'k', type: 'STRING', sqliteType: 'TEXT' as const },
  { name: 'n', type: 'BIGINT', sqliteType: 'INTEGER' as const },
];

function rows(store: ViewStore, name: string): unknown[][] {
  const db = (store as unknown as { db: { prepare(s: string): { raw(b: boolean): { all(): unknown[][] } } } }).db;
  return db.prepare(`SELECT * FROM "${name}" ORDER BY k IS NULL, k, n`).raw(true).all();
}

describe('ViewStore.commitChanges', () => {
  it('upserts and deletes by key; a NULL key is one row, for deletes too', () => {
    const store = ViewStore.open(join(tmp(), 'views.db'));
    try {
      store.create({ name: 'v', jobId: 'j', columns: COLS, key: ['k'] });
      const seen: ViewChange[] = [];
      store.subscribe('v', (cs) => seen.push(...cs));
      store.commitChanges('v', 'j', 1, [
        { op: '+I', row: ['a', 1] },
        { op: '+I', row: [null, 1] },
        { op: '-U', row: [null, 1] },
        { op: '+U', row: [null, 2] },
      ], undefined);
      expect(rows(store, 'v')).toEqual([['a', 1], [null, 2]]);
      // Within one checkpoint the net change per key commits: a key updated twice is one -U/+U.
      expect(seen).toEqual([
        { op: '+I', row: { k: 'a', n: 1 } },
        { op: '+I', row: { k: null, n: 2 } },
      ]);
      seen.length = 0;
      store.commitChanges('v', 'j', 2, [
        { op: '-U', row: [null, 2] },
        { op: '+U', row: [null, 3] },
        { op: '-D', row: ['a', 1] },
      ], undefined);
      expect(rows(store, 'v')).toEqual([[null, 3]]);
      expect(seen).toEqual([
        { op: '-U', row: { k: null, n: 2 } },
        { op: '+U', row: { k: null, n: 3 } },
        { op: '-D', row: { k: 'a', n: 1 } },
      ]);
      store.commitChanges('v', 'j', 3, [{ op: '-D', row: [null, 3] }], undefined);
      expect(rows(store, 'v')).toEqual([]);
      expect(store.meta('v')!.checkpointId).toBe(3);
      // A -U whose +U was filtered away (HAVING) and nothing else: the key is gone.
      store.commitChanges('v', 'j', 4, [{ op: '+I', row: ['b', 1] }], undefined);
      store.commitChanges('v', 'j', 5, [{ op: '-U', row: ['b', 1] }], undefined);
      expect(rows(store, 'v')).toEqual([]);
    } finally {
      store.close();
    }
  });

  it('a global aggregate (empty key) is one row', () => {
    const store = ViewStore.open(join(tmp(), 'views.db'));
    try {
      store.create({ name: 'g', jobId: 'j', columns: COLS, key: [] });
      store.commitChanges('g', 'j', 1, [{ op: '+I', row: ['x', 1] }], undefined);
      store.commitChanges('g', 'j', 2, [{ op: '-U', row: ['x', 1] }, { op: '+U', row: ['x', 2] }], undefined);
      expect(rows(store, 'g')).toEqual([['x', 2]]);
    } finally {
      store.close();
    }
  });

  it('without a key, -U/-D delete one row equal in every column (NULLs included)', () => {
    const store = ViewStore.open(join(tmp(), 'views.db'));
    try {
      store.create({ name: 'u', jobId: 'j', columns: COLS, key: null });
      store.commitChanges('u', 'j', 1, [{ op: '+I', row: [null, 1] }, { op: '+I', row: [null, 1] }, { op: '+I', row: ['a', 2] }], undefined);
      store.commitChanges('u', 'j', 2, [{ op: '-U', row: [null, 1] }, { op: '+U', row: [null, 5] }, { op: '-D', row: ['a', 2] }], undefined);
      expect(rows(store, 'u')).toEqual([[null, 1], [null, 5]]);
    } finally {
      store.close();
    }
  });
});

/**
 * A random next change of key `k` given the rows so far (`current`, updated): +I for a new key, else -D,
 * a lone -U (gone unless it comes back) or a -U/+U update.
 */
function changeOf(rand: () => number, current: Map<string | null, number>, k: string | null): StoredChange[] {
  const before = current.get(k);
  const n = Math.floor(rand() * 5);
  if (before === undefined) {
    current.set(k, n);
    return [{ op: '+I', row: [k, n] }];
  }
  const x = rand();
  if (x < 0.3) {
    current.delete(k);
    return [{ op: x < 0.15 ? '-D' : '-U', row: [k, before] }];
  }
  current.set(k, n);
  return [
    { op: '-U', row: [k, before] },
    { op: '+U', row: [k, n] },
  ];
}

describe('ViewStore.commitChanges of changes netted by the caller', () => {
  // The view sink nets a keyed view's changes per key before the commit (the last change of a key, at the
  // key's first position) and says so: the store then applies them as they are. The table, its row order
  // and what listeners hear must be what netting in the store gives, NULL keys and deletes included.
  function net(changes: readonly StoredChange[]): StoredChange[] {
    const m = new Map<unknown, StoredChange>();
    for (const c of changes) m.set(c.row[0], c);
    return [...m.values()];
  }

  for (const listening of [false, true]) {
    it(`leaves the table as netting in the store does (${listening ? 'with' : 'without'} a listener)`, () => {
      const rand = rng(listening ? 31 : 32);
      const a = ViewStore.open(join(tmp(), 'views.db'));
      const b = ViewStore.open(join(tmp(), 'views.db'));
      try {
        const heard: ViewChange[][] = [[], []];
        for (const [i, store] of [a, b].entries()) {
          store.create({ name: 'v', jobId: 'j', columns: COLS, key: ['k'] });
          if (listening) store.subscribe('v', (cs) => heard[i]!.push(...cs));
        }
        const current = new Map<string | null, number>();
        for (let cp = 1; cp <= 30; cp++) {
          const changes: StoredChange[] = [];
          for (let i = 0; i < 40; i++) {
            const r = Math.floor(rand() * 9);
            changes.push(...changeOf(rand, current, r === 0 ? null : `k${r}`));
          }
          a.commitChanges('v', 'j', cp, changes, undefined);
          b.commitChanges('v', 'j', cp, net(changes), undefined, true);
          const all = (s: ViewStore): unknown[][] => (s as unknown as { db: { prepare(q: string): { raw(x: boolean): { all(): unknown[][] } } } }).db.prepare('SELECT rowid, * FROM v ORDER BY rowid').raw(true).all();
          expect(all(b)).toEqual(all(a));
          expect(rows(b, 'v')).toEqual([...current].map(([k, n]) => [k, n]).sort((x, y) => (x[0] === null ? 1 : y[0] === null ? -1 : x[0]! < y[0]! ? -1 : 1)));
        }
        expect(heard[1]).toEqual(heard[0]);
      } finally {
        a.close();
        b.close();
      }
    });
  }
});

describe('ViewSink.writeChanges', () => {
  it('commits the changelog with the checkpoint, and drops it when the checkpoint aborts', async () => {
    const path = join(tmp(), 'views.db');
    const store = ViewStore.open(path);
    const reader = ViewStore.open(path);
    try {
      store.create({ name: 'v', jobId: 'j', columns: COLS, key: ['k'] });
      const sink = new ViewSink(store, 'v', 'j', [{ name: 'k', type: T.string }, { name: 'n', type: T.bigint }]);
      expect(await sink.committer.recover(undefined)).toBe(false);
      sink.writeChanges([{ op: '+I', row: ['a', 1] }]);
      await sink.flush();
      expect(reader.rowCount('v')).toBe(0); // nothing visible before the commit
      await sink.committer.prepare(1);
      await sink.committer.commit(1);
      expect(rows(reader, 'v')).toEqual([['a', 1]]);
      sink.writeChanges([{ op: '-U', row: ['a', 1] }, { op: '+U', row: ['a', 2] }]);
      await sink.committer.abort();
      await sink.committer.prepare(2);
      await sink.committer.commit(2);
      expect(rows(reader, 'v')).toEqual([['a', 1]]);
      await sink.close();
    } finally {
      reader.close();
    }
  });
});

describe('ViewSink of a keyed view, one or several batches per checkpoint', () => {
  // The sink nets a keyed view's changes (one batch as it is, several through a map) before the store
  // applies them as they are: the view must hold what the store netting the raw changelog gives.
  it('commits what the whole changelog nets to', async () => {
    const rand = rng(41);
    const direct = ViewStore.open(join(tmp(), 'views.db'));
    const store = ViewStore.open(join(tmp(), 'views.db'));
    try {
      direct.create({ name: 'v', jobId: 'j', columns: COLS, key: ['k'] });
      store.create({ name: 'v', jobId: 'j', columns: COLS, key: ['k'] });
      const sink = new ViewSink(store, 'v', 'j', [{ name: 'k', type: T.string }, { name: 'n', type: T.bigint }]);
      await sink.committer.recover(undefined);
      const current = new Map<string | null, number>();
      for (let cp = 1; cp <= 40; cp++) {
        const all: StoredChange[] = [];
        const batches = 1 + Math.floor(rand() * 3);
        for (let b = 0; b < batches; b++) {
          // One batch: at most one net change per key, as an aggregate emits it.
          const batch: StoredChange[] = [];
          const keys = new Set<string | null>();
          for (let i = 0; i < 12; i++) {
            const r = Math.floor(rand() * 8);
            const k = r === 0 ? null : `k${r}`;
            if (keys.has(k)) continue;
            keys.add(k);
            batch.push(...changeOf(rand, current, k));
          }
          sink.writeChanges(batch.map((c) => ({ ...c, row: [...c.row] })) as never);
          all.push(...batch);
        }
        direct.commitChanges('v', 'j', cp, all, undefined);
        await sink.committer.prepare(cp);
        await sink.committer.commit(cp);
        // Rowids too: a key keeps its row (updated in place), new keys come in the order they first changed.
        const withRowids = (s: ViewStore): unknown[][] => (s as unknown as { db: { prepare(q: string): { raw(x: boolean): { all(): unknown[][] } } } }).db.prepare('SELECT rowid, * FROM v ORDER BY rowid').raw(true).all();
        expect(withRowids(store)).toEqual(withRowids(direct));
      }
      expect(rows(store, 'v').length).toBe(current.size);
      await sink.close();
    } finally {
      direct.close();
    }
  });
});

describe('viewKey of updating queries', () => {
  it('is the GROUP BY columns as selected, through filters and projections; [] without GROUP BY; null when one is left out', () => {
    const catalog = new Catalog();
    for (const { statement } of parseScript("CREATE TABLE t (uid BIGINT, topic STRING, att INT) WITH ('connector' = 'kafka', 'topic' = 't', 'format' = 'json')")) {
      if (statement.kind === 'createTable') catalog.add({ kind: 'table', name: statement.name, stmt: statement, table: buildTable(statement, { timeZone: 'UTC' }), sql: statement.text, createdAt: '' });
    }
    const key = (sql: string) => {
      const statement = parseScript(sql)[0]!.statement;
      if (statement.kind !== 'query') throw new Error('a SELECT');
      return viewKey(new Planner(catalog, { timeZone: 'UTC' }).planQuery(statement.query));
    };
    expect(key('SELECT topic AS t, uid, COUNT(*) AS n FROM t GROUP BY uid, topic HAVING COUNT(*) > 1')).toEqual(['uid', 't']);
    expect(key('SELECT u, n FROM (SELECT uid AS u, COUNT(*) AS n FROM t GROUP BY uid) WHERE n > 2')).toEqual(['u']);
    expect(key('SELECT COUNT(*) AS n, SUM(att) AS s FROM t')).toEqual([]);
    expect(key('SELECT COUNT(*) AS n FROM t GROUP BY uid')).toBeNull();
    expect(key('SELECT n, COUNT(*) AS users FROM (SELECT uid, COUNT(*) AS n FROM t GROUP BY uid) GROUP BY n')).toEqual(['n']);
  });
});
