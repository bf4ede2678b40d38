// The REST API of DESIGN §7, typed as the console uses it. Every page talks to the server only through here.

export interface ResultColumn {
  readonly name: string;
  readonly type: string;
}
export type Row = readonly unknown[];

export interface StatementResult {
  readonly statement: number;
  readonly kind: 'ok' | 'job' | 'rows';
  readonly message?: string;
  readonly jobId?: string;
  readonly columns?: readonly ResultColumn[];
  readonly rows?: readonly Row[];
}

export type JobState = 'CREATED' | 'RUNNING' | 'RESTARTING' | 'FINISHED' | 'FAILED' | 'STOPPED';

export interface PartitionMetrics {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly endOffset: number;
  readonly lag: number;
  readonly watermark: string | null;
}

export interface JobMetrics {
  readonly recordsIn: number;
  readonly recordsOut: number;
  readonly recordsLate: number;
  readonly recordsBad: number;
  readonly recordsInPerSecond: number;
  readonly recordsOutPerSecond: number;
  readonly watermark: string | null;
  readonly lag?: number;
  readonly watermarkDelayMs?: number | null;
  readonly lastBadRecordError: string | null;
  readonly partitions: readonly PartitionMetrics[];
  readonly batchLatencyMs: { readonly p50: number; readonly p95: number; readonly p99: number; readonly max: number } | null;
  readonly lastCheckpoint?: { readonly id: number; readonly completedAt: string; readonly durationMs: number; readonly stateBytes: number };
  /** Pipeline instances the job runs (absent before it first opens). */
  readonly parallelism?: number;
}

export interface PlanNode {
  readonly id: number;
  readonly operator: string;
  readonly detail: string;
  readonly schema: readonly ResultColumn[];
}
export interface PlanJson {
  readonly nodes: readonly PlanNode[];
  readonly edges: readonly { readonly from: number; readonly to: number }[];
}

export interface Job {
  readonly id: string;
  readonly name: string;
  readonly sql: string;
  readonly state: JobState;
  readonly createdAt: string;
  readonly error?: string;
  readonly metrics: JobMetrics;
  readonly plan?: { readonly text: string; readonly json: PlanJson };
}

export interface MetricsPoint {
  readonly t: string;
  readonly recordsIn: number;
  readonly recordsOut: number;
  readonly recordsInPerSecond: number;
  readonly recordsOutPerSecond: number;
  readonly lag: number | null;
  readonly watermark: string | null;
  readonly watermarkDelayMs: number | null;
  readonly recordsLate: number;
  readonly recordsBad: number;
  readonly batchLatencyP99Ms: number | null;
  readonly checkpointDurationMs: number | null;
}
export interface MetricsHistory {
  readonly intervalMs: number;
  readonly points: readonly MetricsPoint[];
}

export interface TableInfo {
  readonly name: string;
  readonly kind: 'table' | 'view' | 'materializedView';
  readonly columns: readonly { readonly name: string; readonly type: string; readonly expr?: string }[];
  readonly watermark?: { readonly column: string; readonly expr: string };
  readonly options: Readonly<Record<string, string>>;
  readonly sql: string;
  readonly error?: string;
  readonly partitions?: readonly { readonly partition: number; readonly endOffset: number }[];
}

export interface ViewInfo {
  readonly name: string;
  readonly sql: string;
  readonly columns: readonly { readonly name: string; readonly type: string; readonly storedAs: string }[];
  readonly key: readonly string[] | null;
  readonly rowCount: number;
  readonly jobId: string;
  readonly jobState: string | null;
  readonly freshness: { readonly committedAt: string | null; readonly watermark: string | null; readonly checkpointId: number | null };
}

export interface QueryResult {
  readonly columns: readonly ResultColumn[];
  readonly rows: readonly Row[];
}
export interface ViewRows extends QueryResult {
  readonly total: number;
  readonly limit: number;
  readonly offset: number;
}

export type ChartKind = 'bar' | 'table' | 'timeseries';
export interface Panel {
  readonly title: string;
  readonly view: string;
  readonly chart: ChartKind;
  readonly category?: string;
  readonly measure?: string;
  readonly time?: string;
  readonly series?: string;
  readonly limit?: number;
  /** A SQL condition over the view (SQLite's dialect) the console adds to its query. */
  readonly where?: string;
  /** Set by the server when the panel's view (or a column of it) is missing. */
  readonly error?: string;
}
export interface Dashboard {
  readonly name: string;
  readonly title: string;
  readonly default?: boolean;
  readonly panels: readonly Panel[];
}

export interface Health {
  readonly ok: boolean;
  readonly broker: { readonly reachable: boolean; readonly brokers: string; readonly error?: string };
}

/** A non-2xx answer: the server's `{"error": {...}}`, with the statement position for SQL errors. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly statement?: number,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: any;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    const e = parsed?.error ?? {};
    throw new ApiError(res.status, e.message ?? `${method} ${path} answered ${res.status}`, e.statement, e.line, e.column);
  }
  return parsed as T;
}

const enc = encodeURIComponent;

/** The dashboard as PUT accepts it: what the server added when reading it back (a panel's error) is left out. */
function toSaved(d: Dashboard): Dashboard {
  return { name: d.name, title: d.title, ...(d.default !== undefined ? { default: d.default } : {}), panels: d.panels.map(({ error: _error, ...p }) => p) };
}

export const api = {
  statements: (sql: string) => call<{ results: StatementResult[] }>('POST', '/v1/statements', { sql }),
  jobs: () => call<{ jobs: Job[] }>('GET', '/v1/jobs'),
  job: (id: string) => call<Job>('GET', `/v1/jobs/${enc(id)}`),
  jobHistory: (id: string) => call<MetricsHistory>('GET', `/v1/jobs/${enc(id)}/metrics/history`),
  stopJob: (id: string) => call<Job>('POST', `/v1/jobs/${enc(id)}/stop`),
  resumeJob: (id: string) => call<Job>('POST', `/v1/jobs/${enc(id)}/resume`),
  tables: () => call<{ tables: TableInfo[] }>('GET', '/v1/tables'),
  table: (name: string) => call<TableInfo>('GET', `/v1/tables/${enc(name)}`),
  query: (sql: string) => call<QueryResult>('POST', '/v1/query', { sql }),
  views: () => call<{ views: ViewInfo[] }>('GET', '/v1/views'),
  view: (name: string) => call<ViewInfo>('GET', `/v1/views/${enc(name)}`),
  viewRows: (name: string, o: { limit: number; offset: number; order?: string }) =>
    call<ViewRows>('GET', `/v1/views/${enc(name)}/rows?limit=${o.limit}&offset=${o.offset}${o.order ? `&order=${enc(o.order)}` : ''}`),
  changesUrl: (name: string) => `/v1/views/${enc(name)}/changes?snapshot=true`,
  dashboards: () => call<{ dashboards: Dashboard[] }>('GET', '/v1/dashboards'),
  dashboard: (name: string) => call<Dashboard>('GET', `/v1/dashboards/${enc(name)}`),
  saveDashboard: (d: Dashboard) => call<Dashboard>('PUT', `/v1/dashboards/${enc(d.name)}`, toSaved(d)),
  deleteDashboard: (name: string) => call<unknown>('DELETE', `/v1/dashboards/${enc(name)}`),
  health: () => call<Health>('GET', '/health'),
};
