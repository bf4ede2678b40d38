// The sink conformance kit (test/support/sink-conformance.ts) against the built-in sinks that need no broker:
// the Parquet lake (filesystem, partitioned), materialized views (sqlite-view, append-only and keyed
// updating), and the example package's at-least-once 'jsonl' sink. Kafka: test/integration/sink-conformance.test.ts.
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { filesystemConnector } from '../../connectors/filesystem/index.ts';
import { ViewStore, sqliteViewConnector, sqliteType } from '../../connectors/sqlite/index.ts';
import type { Connector, SinkSpec } from '../../connectors/types.ts';
import { T, typeToString } from '../../engine/plan/types.ts';
import { jsonlConnector } from '../../examples/connector-package/index.js';
import { Oracle } from '../support/oracle.ts';
import { describeSinkConformance } from '../support/sink-conformance.ts';

const tmp = mkdtempSync(join(tmpdir(), 'weir-sink-kit-'));
let n = 0;
let duck: Oracle;
beforeAll(async () => {
  duck = await Oracle.create();
});
afterAll(() => {
  duck?.close();
  rmSync(tmp, { recursive: true, force: true });
});

function spec(table: string, options: Record<string, string>, columns: SinkSpec['columns'], extra: Partial<SinkSpec> = {}): SinkSpec {
  return { table, options, columns, brokers: '', jobId: `job-${table}`, jobName: table, timeZone: 'UTC', checkpointIntervalMs: 1000, ...extra };
}

/** Visible lake files: hidden (in-progress, manifests) start with '.', as readers skip them. */
function visibleParquet(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((p) => p.endsWith('.parquet') && !p.split('/').some((seg) => seg.startsWith('.') || seg.startsWith('_')))
    .map((p) => join(dir, p));
}

const lakeColumns = [
  { name: 'id', type: T.bigint },
  { name: 'name', type: T.string },
  { name: 'dt', type: T.string },
];
describeSinkConformance('filesystem (parquet, PARTITIONED BY dt)', {
  exactlyOnce: true,
  row: (i) => [i, `name-${i}`, `2026-11-2${i % 3}`],
  key: (r) => `${r[0]}|${r[1]}|${r[2]}`,
  target: () => {
    const path = join(tmp, `lake-${++n}`);
    const s = spec(`lake${n}`, { connector: 'filesystem', path, format: 'parquet' }, lakeColumns, { partitionedBy: ['dt'] });
    return {
      open: () => filesystemConnector.createSink!(s),
      visible: async () => {
        const files = visibleParquet(path);
        if (files.length === 0) return [];
        const list = files.map((f) => `'${f}'`).join(', ');
        const rows = await duck.query(`SELECT id, name, dt FROM read_parquet([${list}], hive_partitioning = true)`);
        return rows.map((r) => `${r['id']}|${r['name']}|${r['dt']}`);
      },
      cleanup: () => rmSync(path, { recursive: true, force: true }),
    };
  },
});

const viewColumns = [
  { name: 'id', type: T.bigint },
  { name: 'name', type: T.string },
];
/** A view sink as CREATE MATERIALIZED VIEW makes it: the view's table created first, then the connector's sink. */
function viewTarget(key: string[] | null) {
  return () => {
    const path = join(tmp, `views-${++n}.db`);
    const name = `v${n}`;
    const s = spec(name, { connector: 'sqlite-view', path }, viewColumns);
    const store = ViewStore.open(path);
    store.create({ name, jobId: s.jobId, key, columns: viewColumns.map((c) => ({ name: c.name, type: typeToString(c.type), sqliteType: sqliteType(c.type) })) });
    store.close();
    return {
      open: () => sqliteViewConnector.createSink!(s),
      visible: async () => {
        // Another connection, as the query API reads: it sees only committed SQLite transactions.
        const db = new Database(path, { readonly: true });
        try {
          return (db.prepare(`SELECT id, name FROM "${name}"`).all() as { id: number; name: string }[]).map((r) => JSON.stringify([r.id, r.name]));
        } finally {
          db.close();
        }
      },
      cleanup: () => rmSync(path, { force: true }),
    };
  };
}
describeSinkConformance('sqlite-view (append-only view)', {
  exactlyOnce: true,
  row: (i) => [i, `n${i}`],
  key: (r) => JSON.stringify(r),
  target: viewTarget(null),
});
describeSinkConformance('sqlite-view (keyed view, updating)', {
  exactlyOnce: true,
  row: (i) => [i, `n${i}`],
  updated: (i) => [i, `changed-${i}`],
  key: (r) => JSON.stringify(r),
  target: viewTarget(['id']),
});

describeSinkConformance("example package 'jsonl' (at least once)", {
  exactlyOnce: false,
  row: (i) => [i, `n${i}`],
  key: (r) => String(r[0]),
  target: () => {
    const path = join(tmp, `out-${++n}.jsonl`);
    const s = spec(`j${n}`, { connector: 'jsonl', path }, viewColumns);
    return {
      open: () => (jsonlConnector as unknown as Connector).createSink!(s),
      visible: async () =>
        existsSync(path)
          ? readFileSync(path, 'utf8')
              .split('\n')
              .filter(Boolean)
              .map((l) => String((JSON.parse(l) as { id: number }).id))
          : [],
      cleanup: () => rmSync(path, { force: true }),
    };
  },
});
