import { randomUUID } from 'node:crypto';
import { Catalog } from '../catalog/catalog.ts';
import type { TableEntry } from '../catalog/catalog.ts';
import { CatalogStore } from '../catalog/store.ts';
import { Dashboards } from '../catalog/dashboards.ts';
import { KAFKA_CONNECTORS, topicPartitions } from '../catalog/topic-partitions.ts';
import { MetricsHistory, watermarkReading } from './metrics-history.ts';
import type { MetricsHistoryAnswer } from './metrics-history.ts';
import { registerBuiltinConnectors } from '../connectors/builtin.ts';
import { getConnector } from '../connectors/registry.ts';
import { OptionError } from '../connectors/types.ts';
import { probeBrokers } from '../connectors/kafka/probe.ts';
import { explainJson, explainText } from '../engine/plan/explain.ts';
import { isUpdating, sourceOf } from '../engine/plan/plan.ts';
import type { JobPlan, MiniBatch, PlanNode, SinkTable } from '../engine/plan/plan.ts';
import { Planner, buildTable, updatingPos } from '../engine/plan/planner.ts';
import { typeToString } from '../engine/plan/types.ts';
import { SqlError, posAt } from '../engine/sql/errors.ts';
import type { Pos } from '../engine/sql/errors.ts';
import { parseOne } from '../engine/sql/parse.ts';
import type { Statement } from '../engine/sql/statement.ts';
import { splitScript, splitStatements } from '../engine/sql/tokens.ts';
import { JobConflictError } from './api.ts';
import type { Health, JobInfo, Platform, StatementResult, TableInfo, TablePartitions } from './api.ts';
import { PARALLELISM_SETTINGS, parallelismSetting } from './parallel/parallelism.ts';
import { CheckpointStore } from './checkpoint-store.ts';
import { Job } from './job.ts';
import { parseDuration } from '../engine/time/duration.ts';
import { checkMiniBatchValue, miniBatchSetting, viewMiniBatch } from './mini-batch.ts';
import type { JobProgress } from './job.ts';
import { planChange } from './plan-compat.ts';
import { MaterializedViews, VIEW_CONNECTOR, viewKey, viewSink } from './materialized-views.ts';
import { isReservedViewName } from '../connectors/sqlite/index.ts';
import { UPSERT_KAFKA_NOT_A_SOURCE } from '../connectors/upsert-kafka/index.ts';
import { upsertKeyMismatch } from '../engine/plan/unique-key.ts';
import type { FromItem, Select } from '../engine/sql/ast.ts';

export interface PlatformOptions {
  readonly dataDir: string;
  readonly brokers: string;
  /** How often running jobs save their progress (ms). */
  readonly progressIntervalMs?: number;
  /** How often each job's metrics are sampled into its history (ms, default 5000; 15 minutes kept). */
  readonly metricsHistoryIntervalMs?: number;
}

const KNOWN_SETTINGS = new Set(['pipeline.name', 'table.local-time-zone', 'execution.checkpointing.interval', 'scan.watermark.idle-timeout', 'table.exec.source.idle-timeout', 'parallelism.default']);
const LIVE: ReadonlySet<string> = new Set(['CREATED', 'RUNNING', 'RESTARTING']);

/** The platform: catalog + jobs, driven by SQL statements. server/ and bin/ talk to it only through `Platform`. */
export class WeirPlatform implements Platform {
  private readonly catalog = new Catalog();
  private readonly store: CatalogStore;
  private readonly jobs = new Map<string, Job>();
  private readonly defaults: Record<string, string> = { 'table.local-time-zone': 'UTC' };

  constructor(private readonly opts: PlatformOptions) {
    registerBuiltinConnectors();
    this.store = new CatalogStore(opts.dataDir);
    this.dashboards = new Dashboards(this.store.dashboards, (n) => {
      const t = this.getTable(n);
      return t && { kind: t.kind, columns: t.columns.map((c) => c.name) };
    });
    this.history = new MetricsHistory({ ...(opts.metricsHistoryIntervalMs ? { intervalMs: opts.metricsHistoryIntervalMs } : {}) });
    this.history.start(() => [...this.jobs.values()].map((j) => ({ id: j.id, live: LIVE.has(j.state), metrics: () => j.metrics() })));
    this.views = new MaterializedViews(opts.dataDir, {
      jobState: (id) => this.jobs.get(id)?.state,
      viewSql: (n) => {
        const e = this.catalog.get(n);
        return e?.kind === 'materializedView' ? e.sql : undefined;
      },
      viewNames: () => this.catalog.list().filter((e) => e.kind === 'materializedView').map((e) => e.name),
    });
  }

  /** Materialized views: their store, the query API and change streams (jobs/materialized-views.ts). */
  readonly views: MaterializedViews;

  /** Dashboards saved in the catalog (catalog/dashboards.ts). */
  readonly dashboards: Dashboards;

  /** Every job's metrics over the last 15 minutes, and the live lag and watermark delay (jobs/metrics-history.ts). */
  private readonly history: MetricsHistory;

  /** Loads the catalog and restarts the jobs that were running when the server stopped. */
  async load(): Promise<void> {
    for (const o of this.store.objects()) {
      try {
        const st = splitStatements(o.sql)[0];
        if (!st) continue;
        this.apply(parseOne(o.sql, st), {}, false);
      } catch (e) {
        // A stored object that no longer plans (e.g. after an upgrade) must not keep the server down.
        process.emitWarning(`catalog object '${o.name}' could not be loaded: ${(e as Error).message}`);
      }
    }
    for (const j of this.store.jobs()) {
      try {
        const job = this.createJob(j.id, j.name, j.sql, j.createdAt, j.settings, j.checkpoint as JobProgress | null);
        job.state = j.state as Job['state'];
        job.error = j.error ?? undefined;
        this.jobs.set(j.id, job);
        if (LIVE.has(j.state)) job.start();
      } catch (e) {
        this.store.setJobState(j.id, 'FAILED', `could not be restored: ${(e as Error).message}`);
      }
    }
  }

  async execute(sql: string): Promise<StatementResult[]> {
    const settings: Record<string, string> = { ...this.defaults };
    const results: StatementResult[] = [];
    const { statements, error: tokenError } = splitScript(sql);
    for (const st of statements) {
      try {
        const stmt = parseOne(sql, st);
        results.push({ statement: st.index, ...(await this.run(stmt, sql, settings)) });
      } catch (e) {
        if (e instanceof SqlError) {
          e.statement ??= st.index;
          throw e;
        }
        if (e instanceof RangeError) {
          const err = new SqlError('unsupported', 'The statement is nested too deeply to plan', posAt(sql, st.start));
          err.statement = st.index;
          throw err;
        }
        if (e instanceof OptionError) {
          const err = new SqlError('option', e.message, posAt(sql, st.start));
          err.statement = st.index;
          throw err;
        }
        throw e;
      }
    }
    if (tokenError) throw tokenError;
    if (results.length === 0) throw new SqlError('syntax', 'No statement to run', { line: 1, column: 1, offset: 0 });
    return results;
  }

  private async run(stmt: Statement, script: string, settings: Record<string, string>): Promise<Omit<StatementResult, 'statement'>> {
    switch (stmt.kind) {
      case 'createTable':
      case 'createView':
      case 'drop':
        if (stmt.kind === 'drop' && stmt.what === 'MATERIALIZED VIEW') return this.dropMaterializedView(stmt);
        return this.apply(stmt, settings, true);
      case 'show':
        return this.show(stmt.what);
      case 'describe':
        return this.describe(stmt.name, stmt.pos);
      case 'explain': {
        const t = stmt.target;
        let plan: JobPlan | { root: JobPlan['root'] };
        if (t.kind === 'insert') plan = this.planInsert(t, settings);
        else if (t.kind === 'query') plan = { root: this.planner(settings, t.query.pos).planQuery(t.query) };
        else if (t.kind === 'createMaterializedView') plan = this.planView(t, settings).plan;
        else throw new SqlError('unsupported', 'EXPLAIN works on a query, an INSERT INTO or a CREATE MATERIALIZED VIEW', t.pos);
        const text = explainText(plan);
        const json = explainJson(plan);
        return stmt.format === 'JSON'
          ? { kind: 'rows', columns: [{ name: 'plan', type: 'STRING' }], rows: [[JSON.stringify(json)]] }
          : { kind: 'rows', columns: [{ name: 'plan', type: 'STRING' }], rows: text.split('\n').map((l) => [l]), message: text };
      }
      case 'set': {
        if (stmt.key === undefined) {
          return { kind: 'rows', columns: [{ name: 'key', type: 'STRING' }, { name: 'value', type: 'STRING' }], rows: Object.entries(settings).map(([k, v]) => [k, v]) };
        }
        if (!KNOWN_SETTINGS.has(stmt.key) && !stmt.key.startsWith('table.') && !stmt.key.startsWith('execution.') && !stmt.key.startsWith('pipeline.')) {
          throw new SqlError('option', `Unknown setting '${stmt.key}' (known: ${[...KNOWN_SETTINGS].join(', ')})`, stmt.pos);
        }
        if (stmt.key === 'table.local-time-zone') checkTimeZone(stmt.value!, stmt.pos);
        if (stmt.key === 'execution.checkpointing.interval' && !(Number(parseDuration(stmt.value!)) > 0)) {
          throw new SqlError('option', `Invalid 'execution.checkpointing.interval' = '${stmt.value}' (a positive duration such as '5 s', '500 ms' or '1 min')`, stmt.pos);
        }
        if ((PARALLELISM_SETTINGS as readonly string[]).includes(stmt.key)) {
          try {
            parallelismSetting({ [stmt.key]: stmt.value! });
          } catch (e) {
            throw new SqlError('option', (e as Error).message, stmt.pos);
          }
        }
        const badMiniBatch = checkMiniBatchValue(stmt.key, stmt.value!);
        if (badMiniBatch) throw new SqlError('option', badMiniBatch, stmt.pos);
        if (stmt.key === 'table.exec.state.ttl' && parseDuration(stmt.value!) === undefined) {
          throw new SqlError('option', `Invalid 'table.exec.state.ttl' = '${stmt.value}' (a duration such as '1 h', '30 min' or '0' to keep state forever)`, stmt.pos);
        }
        settings[stmt.key] = stmt.value!;
        return { kind: 'ok', message: `SET '${stmt.key}' = '${stmt.value}'` };
      }
      case 'reset':
        if (stmt.key) {
          if (stmt.key in this.defaults) settings[stmt.key] = this.defaults[stmt.key]!;
          else delete settings[stmt.key];
        } else {
          for (const k of Object.keys(settings)) delete settings[k];
          Object.assign(settings, this.defaults);
        }
        return { kind: 'ok', message: 'RESET' };
      case 'insert': {
        const plan = this.planInsert(stmt, settings);
        const name = settings['pipeline.name'] ?? `insert-into_${plan.sink.name}`;
        const clash = [...this.jobs.values()].find((j) => j.name === name && LIVE.has(j.state));
        if (clash) throw new SqlError('conflict', `A job named '${name}' is already running (${clash.id}); stop it first or SET 'pipeline.name' to another name`, stmt.pos);
        delete settings['pipeline.name'];
        const stopped = this.stoppedJobNamed(name);
        if (stopped) {
          // Same name as a STOPPED job: continue it (same id: its checkpoints, its transactional id) if
          // the new plan can take its state over, else refuse rather than silently start from scratch.
          const why = planChange(stopped.plan, plan);
          if (why) {
            throw new SqlError(
              'conflict',
              `A stopped job named '${name}' (${stopped.id}) exists, and its state cannot be carried over because the plan changed: ${why}. ` +
                `Resume it unchanged (POST /v1/jobs/${stopped.id}/resume), or SET 'pipeline.name' to another name to start a new job from scratch`,
              stmt.pos,
            );
          }
          const jobSettings = { ...settings };
          const job = this.createJob(stopped.id, name, stmt.text, stopped.createdAt, jobSettings, stopped.legacyProgress);
          job.state = 'STOPPED';
          this.jobs.set(stopped.id, job);
          this.store.replaceJobStatement(stopped.id, stmt.text, jobSettings);
          job.resume();
          return { kind: 'job', jobId: stopped.id, message: `Job '${name}' resumed from its last checkpoint (the stopped job ${stopped.id})` };
        }
        const id = randomUUID();
        const createdAt = new Date().toISOString();
        const jobSettings = { ...settings };
        const job = this.createJob(id, name, stmt.text, createdAt, jobSettings, null);
        this.jobs.set(id, job);
        this.store.putJob({ id, name, sql: stmt.text, state: 'CREATED', createdAt, error: null, settings: jobSettings, checkpoint: null });
        job.start();
        return { kind: 'job', jobId: id, message: `Job '${name}' submitted` };
      }
      case 'createMaterializedView':
        return this.createMaterializedView(stmt, settings);
      case 'query':
        // A SELECT over materialized views only is a query of the view store, answered as POST /v1/query.
        if (this.readsOnlyViews(stmt.query)) {
          const r = await this.views.query(stmt.text).catch((e: unknown) => {
            // The store places an error in the statement's text; the caller sent the whole script.
            if (e instanceof SqlError && e.pos) throw new SqlError(e.kind, e.message, posAt(script, stmt.pos.offset + e.pos.offset));
            throw e;
          });
          return { kind: 'rows', columns: r.columns, rows: r.rows };
        }
        // Bind first, so a mistake in the query is reported as such rather than hidden behind this refusal.
        this.planner(settings, stmt.query.pos).planQuery(stmt.query);
        throw new SqlError(
          'unsupported',
          'A SELECT over a stream never ends; write its results somewhere with INSERT INTO <table> SELECT ... (materialized views and previews are coming)',
          stmt.pos,
        );
      default: {
        const never: never = stmt;
        return never;
      }
    }
  }

  /** DDL: updates the catalog (and, when `persist`, the store). */
  private apply(stmt: Statement, settings: Record<string, string>, persist: boolean): Omit<StatementResult, 'statement'> {
    const now = new Date().toISOString();
    switch (stmt.kind) {
      case 'createTable': {
        if (this.catalog.get(stmt.name)) {
          if (stmt.ifNotExists && this.catalog.get(stmt.name)!.kind === 'table') return { kind: 'ok', message: `Table '${stmt.name}' already exists, skipped` };
          this.catalog.assertFree(stmt.name, stmt.pos);
        }
        const table = buildTable(stmt, { timeZone: settings['table.local-time-zone'] ?? 'UTC' });
        const conn = getConnector(table.connector);
        if (!conn) throw new SqlError('option', `Unknown connector '${table.connector}'`, stmt.optionPos['connector'] ?? stmt.pos);
        try {
          conn.validate(table.options, 'table', table.physical, table.partitionedBy, stmt.primaryKey);
        } catch (e) {
          if (e instanceof OptionError) throw new SqlError('option', e.message, (e.option && stmt.optionPos[e.option]) || stmt.pos);
          throw e;
        }
        this.catalog.add({ kind: 'table', name: stmt.name, stmt, table, sql: stmt.text, createdAt: now });
        if (persist) this.store.putObject({ name: stmt.name, kind: 'table', sql: stmt.text, createdAt: now });
        return { kind: 'ok', message: `Table '${stmt.name}' created` };
      }
      case 'createView': {
        const existing = this.catalog.get(stmt.name);
        if (existing) {
          if (stmt.ifNotExists) return { kind: 'ok', message: `View '${stmt.name}' already exists, skipped` };
          if (!(stmt.orReplace && existing.kind === 'view')) this.catalog.assertFree(stmt.name, stmt.pos);
        }
        // A view must plan now, not when first used; and against the catalog without its old self.
        const others = this.catalog;
        const hidden = stmt.name.toLowerCase();
        new Planner(
          { table: (n) => others.table(n), view: (n) => (n.toLowerCase() === hidden ? undefined : others.view(n)) },
          { timeZone: settings['table.local-time-zone'] ?? 'UTC' },
        ).planQuery(stmt.query);
        this.catalog.add({ kind: 'view', name: stmt.name, query: stmt.query, sql: stmt.text, createdAt: now });
        if (persist) this.store.putObject({ name: stmt.name, kind: 'view', sql: stmt.text, createdAt: now });
        return { kind: 'ok', message: `View '${stmt.name}' ${existing ? 'replaced' : 'created'}` };
      }
      case 'createMaterializedView':
        // Loading the catalog: the view's table is in the view store and its job is restored with the jobs.
        this.catalog.add({ kind: 'materializedView', name: stmt.name, query: stmt.query, sql: stmt.text, createdAt: now });
        return { kind: 'ok', message: `Materialized view '${stmt.name}' loaded` };
      case 'drop': {
        const e = this.catalog.get(stmt.name);
        if (e?.kind === 'materializedView') throw new SqlError('catalog', `'${e.name}' is a materialized view; use DROP MATERIALIZED VIEW`, stmt.pos);
        const wantKind = stmt.what === 'TABLE' ? 'table' : 'view';
        if (!e || e.kind !== wantKind) {
          if (stmt.ifExists) return { kind: 'ok', message: `No ${wantKind} '${stmt.name}', nothing dropped` };
          throw new SqlError('catalog', `${stmt.what === 'TABLE' ? 'Table' : 'View'} '${stmt.name}' not found`, stmt.pos);
        }
        if (stmt.what === 'MATERIALIZED VIEW') throw new SqlError('unsupported', 'Materialized views are not supported yet', stmt.pos);
        if (persist) {
          const user = [...this.jobs.values()].find((j) => LIVE.has(j.state) && j.readsOrWrites(e.name));
          if (user) throw new SqlError('conflict', `${wantKind === 'table' ? 'Table' : 'View'} '${e.name}' is used by job '${user.name}' (${user.id}); stop the job first`, stmt.pos);
        }
        this.catalog.remove(stmt.name);
        if (persist) this.store.deleteObject(stmt.name);
        return { kind: 'ok', message: `${wantKind === 'table' ? 'Table' : 'View'} '${e.name}' dropped` };
      }
      default:
        throw new Error(`apply: not a DDL statement: ${stmt.kind}`);
    }
  }

  /**
   * `pos`: where a setting that cannot be used (mini-batch half set) is reported, the statement that plans a
   * job. `view`: the job of a materialized view (mini-batch on by default, see viewMiniBatch).
   */
  private planner(settings: Record<string, string>, pos?: Pos, view = false): Planner {
    let miniBatch: MiniBatch | undefined;
    try {
      miniBatch = view ? viewMiniBatch(settings, this.checkpointInterval(settings)) : miniBatchSetting(settings);
    } catch (e) {
      throw new SqlError('option', (e as Error).message, pos ?? { line: 1, column: 1, offset: 0 });
    }
    return new Planner(this.catalog, {
      timeZone: settings['table.local-time-zone'] ?? 'UTC',
      stateTtlMs: parseDuration(settings['table.exec.state.ttl']) ?? 0,
      ...(miniBatch ? { miniBatch } : {}),
    });
  }

  private planInsert(stmt: Extract<Statement, { kind: 'insert' }>, settings: Record<string, string>): JobPlan {
    const entry = this.catalog.get(stmt.sink);
    if (!entry) throw new SqlError('binding', `Sink table '${stmt.sink}' not found`, stmt.sinkPos);
    if (entry.kind !== 'table') throw new SqlError('binding', `'${stmt.sink}' is a view; INSERT INTO needs a table`, stmt.sinkPos);
    const t = entry.table;
    const conn = getConnector(t.connector);
    if (!conn?.createSink) throw new SqlError('unsupported', `Connector '${t.connector}' cannot be written to`, stmt.sinkPos);
    // Flink writes only the physical columns of a sink; computed columns are for reading.
    const pk = entry.stmt.primaryKey;
    const sink: SinkTable = {
      name: t.name,
      connector: t.connector,
      options: t.options,
      columns: t.physical,
      ...(t.partitionedBy ? { partitionedBy: t.partitionedBy } : {}),
      // Only when declared, so stored plans of tables without one keep their exact shape.
      ...(pk && pk.length > 0 ? { primaryKey: pk } : {}),
    };
    try {
      conn.validate(t.options, 'sink', t.physical, t.partitionedBy, pk);
    } catch (e) {
      if (e instanceof OptionError) throw new SqlError('option', `Sink '${t.name}': ${e.message}`, stmt.sinkPos);
      throw e;
    }
    const planner = this.planner(settings, stmt.pos);
    const root = planner.planInsert(stmt, sink);
    assertReadable(root, stmt.query.pos);
    const plan: JobPlan = { root, sink, appendOnly: !isUpdating(root), uses: [...planner.uses] };
    // DESIGN §2: an append-only sink (kafka, filesystem) cannot take updates; refuse at submit time.
    if (conn.appendOnlySink && !plan.appendOnly) {
      throw new SqlError(
        'unsupported',
        `Sink '${t.name}' (connector '${t.connector}') takes only inserts, but this is an updating query (a GROUP BY without a window updates its rows as events arrive); ` +
          `write it to a materialized view (CREATE MATERIALIZED VIEW name AS SELECT ...), to an 'upsert-kafka' table with a PRIMARY KEY (...) NOT ENFORCED, ` +
          `or window the aggregate (GROUP BY window_start, window_end of a TUMBLE or HOP) so that each row is final`,
        updatingPos(stmt.query) ?? stmt.sinkPos,
      );
    }
    const keyMismatch = upsertKeyMismatch(root, sink);
    if (keyMismatch) throw new SqlError('unsupported', `Sink '${t.name}': ${keyMismatch}`, stmt.sinkPos);
    return plan;
  }

  /** The job of a materialized view: its query into the view's table in the view store. */
  private planView(stmt: Extract<Statement, { kind: 'createMaterializedView' }>, settings: Record<string, string>): { plan: JobPlan; key: readonly string[] | null } {
    const planner = this.planner(settings, stmt.pos, true);
    const root = planner.planQuery(stmt.query);
    assertReadable(root, stmt.query.pos);
    return { plan: { root, sink: viewSink(stmt.name, root, this.views.path), appendOnly: !isUpdating(root), uses: [...planner.uses] }, key: viewKey(root) };
  }

  private createMaterializedView(stmt: Extract<Statement, { kind: 'createMaterializedView' }>, settings: Record<string, string>): Omit<StatementResult, 'statement'> {
    const existing = this.catalog.get(stmt.name);
    if (existing) {
      if (stmt.ifNotExists && existing.kind === 'materializedView') return { kind: 'ok', message: `Materialized view '${stmt.name}' already exists, skipped` };
      this.catalog.assertFree(stmt.name, stmt.pos);
    }
    if (isReservedViewName(stmt.name)) throw new SqlError('catalog', `'${stmt.name}' is a reserved name: view names must not start with _weir or sqlite_`, stmt.pos);
    const { plan, key } = this.planView(stmt, settings);
    const name = settings['pipeline.name'] ?? `materialized-view_${stmt.name}`;
    const clash = [...this.jobs.values()].find((j) => j.name === name && LIVE.has(j.state));
    if (clash) throw new SqlError('conflict', `A job named '${name}' is already running (${clash.id}); stop it first or SET 'pipeline.name' to another name`, stmt.pos);
    delete settings['pipeline.name'];
    const id = randomUUID();
    const createdAt = new Date().toISOString();
    const jobSettings = { ...settings };
    const job = this.createJob(id, name, stmt.text, createdAt, jobSettings, null);
    // The table first: the view is queryable (empty) as soon as the statement answers.
    this.views.create(stmt.name, id, plan.root, key);
    this.catalog.add({ kind: 'materializedView', name: stmt.name, query: stmt.query, sql: stmt.text, createdAt });
    this.store.putObject({ name: stmt.name, kind: 'materializedView', sql: stmt.text, createdAt });
    this.jobs.set(id, job);
    this.store.putJob({ id, name, sql: stmt.text, state: 'CREATED', createdAt, error: null, settings: jobSettings, checkpoint: null });
    job.start();
    return { kind: 'job', jobId: id, message: `Materialized view '${stmt.name}' created; job '${name}' submitted` };
  }

  /** Stops the view's job (its last checkpoint commits into the view), then drops the table. */
  private async dropMaterializedView(stmt: Extract<Statement, { kind: 'drop' }>): Promise<Omit<StatementResult, 'statement'>> {
    const e = this.catalog.get(stmt.name);
    if (!e || e.kind !== 'materializedView') {
      if (stmt.ifExists && !e) return { kind: 'ok', message: `No materialized view '${stmt.name}', nothing dropped` };
      throw new SqlError('catalog', e ? `'${e.name}' is a ${e.kind === 'table' ? 'table' : 'view'}, not a materialized view` : `Materialized view '${stmt.name}' not found`, stmt.pos);
    }
    const writers = [...this.jobs.values()].filter((j) => j.plan.sink.connector === VIEW_CONNECTOR && j.plan.sink.name.toLowerCase() === e.name.toLowerCase() && LIVE.has(j.state));
    await Promise.all(writers.map((j) => j.stop()));
    this.views.drop(e.name);
    this.catalog.remove(e.name);
    this.store.deleteObject(e.name);
    return { kind: 'ok', message: `Materialized view '${e.name}' dropped${writers.length ? `; job ${writers.map((j) => `'${j.name}'`).join(', ')} stopped` : ''}` };
  }

  /** Whether every table the query reads is a materialized view (then the view store answers it). */
  private readsOnlyViews(q: Select): boolean {
    let names = 0;
    let others = 0;
    const visit = (f: FromItem): void => {
      switch (f.kind) {
        case 'table':
          if (this.catalog.get(f.name)?.kind === 'materializedView') names++;
          else others++;
          return;
        case 'subquery':
          f.query.from.forEach(visit);
          return;
        case 'window':
        // SQLite has no UNNEST: the view store cannot answer it.
        case 'unnest':
          others++;
          return;
        default: {
          const never: never = f;
          return never;
        }
      }
    };
    q.from.forEach(visit);
    return names > 0 && others === 0;
  }

  /** execution.checkpointing.interval of a job (ms): its setting, else the server's, else 5 s. */
  private checkpointInterval(settings: Readonly<Record<string, string>>): number {
    return parseDuration(settings['execution.checkpointing.interval']) ?? this.opts.progressIntervalMs ?? 5000;
  }

  private createJob(id: string, name: string, sql: string, createdAt: string, settings: Record<string, string>, progress: JobProgress | null): Job {
    const st = splitStatements(sql)[0];
    if (!st) throw new Error('empty job statement');
    const stmt = parseOne(sql, st);
    if (stmt.kind !== 'insert' && stmt.kind !== 'createMaterializedView') throw new Error(`job statement is a ${stmt.kind}`);
    const plan = stmt.kind === 'insert' ? this.planInsert(stmt, settings) : this.planView(stmt, settings).plan;
    const interval = this.checkpointInterval(settings);
    const idle = parseDuration(settings['table.exec.source.idle-timeout']) ?? 0;
    this.history.describe(id, watermarkReading(plan, settings['table.local-time-zone'] ?? 'UTC'));
    return new Job(id, name, sql, createdAt, plan, { text: explainText(plan), json: explainJson(plan) }, progress, {
      brokers: this.opts.brokers,
      timeZone: settings['table.local-time-zone'] ?? 'UTC',
      progressIntervalMs: interval,
      idleTimeoutMs: idle,
      parallelism: parallelismSetting(settings),
      openCheckpoints: (jid) => CheckpointStore.open(this.opts.dataDir, jid),
      setState: (jid, s, err) => this.store.setJobState(jid, s, err),
    });
  }

  private show(what: 'TABLES' | 'VIEWS' | 'JOBS'): Omit<StatementResult, 'statement'> {
    switch (what) {
      case 'TABLES':
        return { kind: 'rows', columns: [{ name: 'table name', type: 'STRING' }], rows: this.catalog.list().filter((e) => e.kind === 'table').map((e) => [e.name]) };
      case 'VIEWS':
        return {
          kind: 'rows',
          columns: [
            { name: 'view name', type: 'STRING' },
            { name: 'kind', type: 'STRING' },
            { name: 'sql', type: 'STRING' },
          ],
          rows: this.catalog.list().flatMap((e) => (e.kind === 'view' ? [[e.name, 'VIEW', e.sql]] : e.kind === 'materializedView' ? [[e.name, 'MATERIALIZED VIEW', e.sql]] : [])),
        };
      case 'JOBS':
        return {
          kind: 'rows',
          columns: [
            { name: 'job id', type: 'STRING' },
            { name: 'job name', type: 'STRING' },
            { name: 'status', type: 'STRING' },
            { name: 'start time', type: 'STRING' },
          ],
          rows: [...this.jobs.values()].map((j) => [j.id, j.name, j.state, j.createdAt]),
        };
      default: {
        const never: never = what;
        return never;
      }
    }
  }

  private describe(name: string, pos: Pos): Omit<StatementResult, 'statement'> {
    const info = this.getTable(name);
    if (!info) throw new SqlError('catalog', `Table or view '${name}' not found`, pos);
    return {
      kind: 'rows',
      columns: [
        { name: 'name', type: 'STRING' },
        { name: 'type', type: 'STRING' },
        { name: 'extras', type: 'STRING' },
        { name: 'watermark', type: 'STRING' },
      ],
      rows: info.columns.map((c) => [c.name, c.type, c.expr ? `AS ${c.expr}` : null, info.watermark?.column === c.name ? info.watermark.expr : null]),
    };
  }

  listJobs(): JobInfo[] {
    return [...this.jobs.values()].map((j) => this.history.withLiveMetrics(j.info()));
  }

  getJob(id: string): JobInfo | undefined {
    const j = this.jobs.get(id);
    return j && this.history.withLiveMetrics(j.info());
  }

  metricsHistory(id: string): MetricsHistoryAnswer | undefined {
    return this.jobs.has(id) ? this.history.history(id) : undefined;
  }

  async stopJob(id: string, opts: { readonly drain?: boolean } = {}): Promise<JobInfo | undefined> {
    const j = this.jobs.get(id);
    if (!j) return undefined;
    if (LIVE.has(j.state)) await j.stop(opts);
    return this.history.withLiveMetrics(j.info());
  }

  async resumeJob(id: string): Promise<JobInfo | undefined> {
    const j = this.jobs.get(id);
    if (!j) return undefined;
    if (j.state !== 'STOPPED') {
      const why = LIVE.has(j.state) ? 'it is running' : j.state === 'FINISHED' ? 'it has finished' : 'it failed';
      throw new JobConflictError(`Job '${j.name}' (${id}) is ${j.state}: only a STOPPED job can be resumed, and ${why}`);
    }
    const clash = [...this.jobs.values()].find((o) => o !== j && o.name === j.name && LIVE.has(o.state));
    if (clash) throw new JobConflictError(`Another job named '${j.name}' is running (${clash.id}); stop it first`);
    j.resume();
    return this.history.withLiveMetrics(j.info());
  }

  /** The newest STOPPED job with this name (re-submitting under its name resumes it). */
  private stoppedJobNamed(name: string): Job | undefined {
    return [...this.jobs.values()].filter((j) => j.name === name && j.state === 'STOPPED').sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1))[0];
  }

  listTables(): TableInfo[] {
    return this.catalog.list().map((e) => this.tableInfo(e.name)!);
  }

  getTable(name: string): TableInfo | undefined {
    return this.tableInfo(name);
  }

  async tablePartitions(name: string): Promise<TablePartitions | undefined> {
    const e = this.catalog.get(name);
    if (e?.kind !== 'table' || !KAFKA_CONNECTORS.has(e.table.connector)) return undefined;
    return topicPartitions(e.table.options, this.opts.brokers);
  }

  private tableInfo(name: string): TableInfo | undefined {
    const e = this.catalog.get(name);
    if (!e) return undefined;
    if (e.kind === 'materializedView') {
      const v = this.views.getView(e.name);
      return { name: e.name, kind: 'materializedView', columns: v?.columns.map((c) => ({ name: c.name, type: c.type })) ?? [], options: {}, sql: e.sql };
    }
    if (e.kind === 'view') {
      try {
        const root = this.planner(this.defaults).planQuery(e.query);
        return { name: e.name, kind: 'view', columns: root.schema.map((c) => ({ name: c.name, type: typeToString(c.type) })), options: {}, sql: e.sql };
      } catch (err) {
        // A view whose tables changed under it is still listed, with the reason it no longer plans.
        return { name: e.name, kind: 'view', columns: [], options: {}, sql: e.sql, error: (err as Error).message };
      }
    }
    return tableInfoOf(e);
  }

  async health(): Promise<Health> {
    const r = await probeBrokers(this.opts.brokers, 2000);
    return { ok: true, broker: { reachable: r.ok, brokers: this.opts.brokers, ...(r.error ? { error: r.error } : {}) } };
  }

  async close(): Promise<void> {
    this.history.stop();
    await Promise.allSettled([...this.jobs.values()].map((j) => j.suspend()));
    this.views.close();
    this.store.close();
  }
}

function tableInfoOf(e: TableEntry): TableInfo {
  const computed = new Map(e.stmt.columns.filter((c) => c.kind === 'computed').map((c) => [c.name, c.kind === 'computed' ? c.exprText : '']));
  const wm = e.table.watermark;
  return {
    name: e.name,
    kind: 'table',
    columns: e.table.columns.map((c) => ({ name: c.name, type: typeToString(c.type), ...(computed.has(c.name) ? { expr: computed.get(c.name)! } : {}) })),
    ...(wm ? { watermark: { column: e.table.columns[wm.index]!.name, expr: wm.text } } : {}),
    options: e.table.options,
    sql: e.sql,
  };
}

function checkTimeZone(tz: string, pos: Pos): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    throw new SqlError('option', `Unknown time zone '${tz}' (use an IANA name like 'UTC' or 'Asia/Shanghai')`, pos);
  }
}

export async function createPlatform(opts: PlatformOptions): Promise<Platform> {
  const p = new WeirPlatform(opts);
  await p.load();
  return p;
}

/** Refuses at submit time a query that reads a table whose connector cannot be read (upsert-kafka, filesystem). */
function assertReadable(root: PlanNode, pos: Pos): void {
  const t = sourceOf(root).table;
  if (getConnector(t.connector)?.createSource) return;
  const why = t.connector === 'upsert-kafka' ? UPSERT_KAFKA_NOT_A_SOURCE : 'the connector only writes';
  throw new SqlError('unsupported', `Table '${t.name}' (connector '${t.connector}') cannot be read: ${why}`, pos);
}
