import { join } from 'node:path';
import { QueryPool, QueryRefused, ViewStore, sqliteErrorOffset, sqliteType } from '../connectors/sqlite/index.ts';
import type { QueryAnswer, ViewChange, ViewMeta } from '../connectors/sqlite/index.ts';
import { isUpdating } from '../engine/plan/plan.ts';
import type { JobPlan, PlanNode, SinkTable } from '../engine/plan/plan.ts';
import { uniqueKeyOf } from '../engine/plan/unique-key.ts';
import { typeToString } from '../engine/plan/types.ts';
import { SqlError, posAt } from '../engine/sql/errors.ts';
import { quoteIdent } from '../connectors/sqlite/values.ts';
import type { QueryResult, RowsRequest, ViewChangeEvent, ViewInfo, ViewRows, ViewService } from './api.ts';

export const VIEW_CONNECTOR = 'sqlite-view';

/** The planned job of a materialized view and the view's key (null: append-only with a row id). */
export interface ViewPlan {
  readonly plan: JobPlan;
  readonly key: readonly string[] | null;
}

/** The sink of a view's job: the view's table in the store, one column per output column of the query. */
export function viewSink(name: string, root: PlanNode, storePath: string): SinkTable {
  return { name, connector: VIEW_CONNECTOR, options: { path: storePath }, columns: root.schema };
}

/**
 * The key of a view (issue 4): for an aggregate, its GROUP BY columns, window bounds included, as
 * the output names them. A window's rows are final when emitted, so upserting by this key only matters
 * for a replay, which then overwrites instead of duplicating. An updating (non-windowed) aggregate's
 * changes upsert and delete by it; with no GROUP BY at all the key is empty and the view is one row.
 * When a GROUP BY column is not in the output, or the query has no aggregate, the view has no key: SQLite's
 * rowid is the row id (replay-safe all the same: rows commit together with their checkpoint), and an
 * updating query's -U/-D delete a row equal in every column.
 */
export function viewKey(root: PlanNode): string[] | null {
  if (isUpdating(root)) {
    // Through any filters and projections above the aggregate, as long as every GROUP BY column is selected
    // (a windowed aggregate below an updating one does not matter: the top aggregate's keys identify rows).
    const key = uniqueKeyOf(root);
    return key ? key.map((i) => root.schema[i]!.name) : null;
  }
  const ranked = topNKey(root);
  if (ranked) return ranked;
  if (root.kind !== 'project') return null;
  const agg = root.input.kind === 'filter' ? root.input.input : root.input;
  if (agg.kind !== 'windowAggregate') return null;
  const byKey = new Map<number, string>();
  root.exprs.forEach((e, i) => {
    if (e.kind === 'input' && e.index < agg.keys.length && !byKey.has(e.index)) byKey.set(e.index, root.schema[i]!.name);
  });
  if (byKey.size < agg.keys.length) return null;
  return [...byKey.entries()].sort((a, b) => a[0] - b[0]).map(([, n]) => n);
}

/**
 * A Window Top-N's rows are identified by its PARTITION BY columns and the row number, when the output
 * selects them all (through the projections and filters above it); null otherwise.
 */
function topNKey(root: PlanNode): string[] | null {
  // For each output column, its index in the node reached so far (undefined once it is computed).
  let at: (number | undefined)[] = root.schema.map((_, i) => i);
  let n = root;
  for (;;) {
    switch (n.kind) {
      case 'windowTopN': {
        const names = [...n.partitionKeys, n.schema.length - 1].map((k) => {
          const i = at.indexOf(k);
          return i < 0 ? undefined : root.schema[i]!.name;
        });
        return names.every((x) => x !== undefined) ? (names as string[]) : null;
      }
      case 'filter':
        n = n.input;
        break;
      case 'project': {
        const exprs = n.exprs;
        at = at.map((j) => {
          const e = j === undefined ? undefined : exprs[j];
          return e?.kind === 'input' ? e.index : undefined;
        });
        n = n.input;
        break;
      }
      default:
        return null;
    }
  }
}

/** What the view service needs to know of the view's job. */
export interface ViewJobs {
  jobState(id: string): string | undefined;
  viewSql(name: string): string | undefined;
  /** Names of the catalog's materialized views, in catalog order. */
  viewNames(): string[];
}

/** Read access to the views: queries in child processes, metadata, rows, change streams. */
export class MaterializedViews implements ViewService {
  readonly path: string;
  readonly store: ViewStore;
  private readonly pool: QueryPool;

  constructor(dataDir: string, private readonly jobs: ViewJobs, opts: { timeLimitMs?: number } = {}) {
    this.path = join(dataDir, 'views.db');
    this.store = ViewStore.open(this.path);
    this.pool = new QueryPool({ path: this.path, ...(opts.timeLimitMs ? { timeLimitMs: opts.timeLimitMs } : {}) });
  }

  /** Creates the view's table (replacing a stale one of the same name). */
  create(name: string, jobId: string, root: PlanNode, key: readonly string[] | null): void {
    this.store.create({ name, jobId, key, columns: root.schema.map((c) => ({ name: c.name, type: typeToString(c.type), sqliteType: sqliteType(c.type) })) });
  }

  drop(name: string): void {
    this.store.drop(name);
  }

  async query(sql: string): Promise<QueryResult> {
    const a = await this.run(sql);
    return { columns: this.columnsOf(a), rows: a.rows };
  }

  /** A query in SQLite's dialect that the caller knows to be read-only over the store. */
  private async run(sql: string): Promise<QueryAnswer> {
    try {
      return await this.pool.run(sql);
    } catch (e) {
      if (e instanceof QueryRefused) {
        const m = e.message;
        const kind = /syntax error|incomplete input|unrecognized token/i.test(m) ? 'syntax' : /no such (table|column|function)|ambiguous column/i.test(m) ? 'binding' : 'unsupported';
        const offset = sqliteErrorOffset(sql, m);
        throw new SqlError(kind, kind === 'unsupported' ? m : `SQLite: ${m}`, offset === undefined ? undefined : posAt(sql, offset));
      }
      throw e;
    }
  }

  /** Column types: the Weir type of a view column, else SQLite's declared type, else the first value's. */
  private columnsOf(a: QueryAnswer): { name: string; type: string }[] {
    return a.columns.map((c, i) => {
      const m = c.table ? this.store.meta(c.table) : undefined;
      const vc = m?.columns.find((x) => x.name === c.column);
      if (vc) return { name: c.name, type: vc.type };
      if (c.declType) return { name: c.name, type: c.declType };
      const v = a.rows.find((r) => r[i] !== null)?.[i];
      return { name: c.name, type: v === undefined ? 'NULL' : typeof v === 'number' ? (Number.isInteger(v) ? 'INTEGER' : 'REAL') : 'TEXT' };
    });
  }

  listViews(): ViewInfo[] {
    return this.jobs.viewNames().flatMap((n) => {
      const v = this.getView(n);
      return v ? [v] : [];
    });
  }

  getView(name: string): ViewInfo | undefined {
    const sql = this.jobs.viewSql(name);
    const m = sql === undefined ? undefined : this.store.meta(name);
    if (!m || sql === undefined) return undefined;
    return {
      name: m.name,
      sql,
      columns: m.columns.map((c) => ({ name: c.name, type: c.type, storedAs: c.sqliteType })),
      key: m.key,
      rowCount: this.store.rowCount(m.name),
      jobId: m.jobId,
      jobState: this.jobs.jobState(m.jobId) ?? null,
      freshness: { committedAt: m.committedAt ?? null, watermark: m.watermark ?? null, checkpointId: m.checkpointId ?? null },
    };
  }

  async rows(name: string, req: RowsRequest): Promise<ViewRows | undefined> {
    const m = this.jobs.viewSql(name) === undefined ? undefined : this.store.meta(name);
    if (!m) return undefined;
    const limit = req.limit ?? 100;
    const offset = req.offset ?? 0;
    if (!Number.isInteger(limit) || limit < 0 || limit > 10_000) throw new SqlError('option', `'limit' must be an integer from 0 to 10000, not ${req.limit}`);
    if (!Number.isInteger(offset) || offset < 0) throw new SqlError('option', `'offset' must be a non-negative integer, not ${req.offset}`);
    const order = parseOrder(req.order, m);
    const sql = `SELECT ${m.columns.map((c) => quoteIdent(c.name)).join(', ')} FROM ${quoteIdent(m.name)} ORDER BY ${order} LIMIT ${limit} OFFSET ${offset}`;
    const a = await this.run(sql);
    return {
      columns: m.columns.map((c) => ({ name: c.name, type: c.type })),
      rows: a.rows.map((r) => r.map((v, i) => (m.columns[i]!.type === 'BOOLEAN' && v !== null ? v === 1 : v))),
      total: this.store.rowCount(m.name),
      limit,
      offset,
    };
  }

  changes(name: string, listener: (changes: readonly ViewChangeEvent[]) => void): { snapshot: Record<string, unknown>[]; unsubscribe: () => void } | undefined {
    if (this.jobs.viewSql(name) === undefined) return undefined;
    return this.store.subscribe(name, (cs: readonly ViewChange[]) => listener(cs));
  }

  close(): void {
    this.pool.close();
    this.store.close();
  }
}

/** `order=col[:asc|:desc],...` over the view's columns; default: the key, or the row id. */
function parseOrder(order: string | undefined, m: ViewMeta): string {
  if (!order) return m.key ? [...m.key.map(quoteIdent), 'rowid'].join(', ') : 'rowid';
  return order
    .split(',')
    .map((part) => {
      const [col, dir = 'asc'] = part.trim().split(':');
      const c = m.columns.find((x) => x.name.toLowerCase() === (col ?? '').toLowerCase());
      if (!c) throw new SqlError('option', `'order': unknown column '${col}' (columns: ${m.columns.map((x) => x.name).join(', ')})`);
      const d = dir.toLowerCase();
      if (d !== 'asc' && d !== 'desc') throw new SqlError('option', `'order': '${dir}' is not asc or desc`);
      return `${quoteIdent(c.name)} ${d.toUpperCase()}`;
    })
    .join(', ');
}
