import { readFileSync } from 'node:fs';
import { Catalog } from '../../catalog/catalog.ts';
import { createJsonDecoder } from '../../connectors/formats/json.ts';
import { formatTimestamp } from '../../engine/expr/index.ts';
import { Planner, buildTable } from '../../engine/plan/planner.ts';
import type { Column, PlanNode } from '../../engine/plan/plan.ts';
import { SqlError } from '../../engine/sql/errors.ts';
import { parseScript } from '../../engine/sql/parse.ts';
import { PipelineDriver } from '../../engine/testing/driver.ts';

/**
 * A golden SQL case (test/sql/*.sql): `-- setup` statements, one `-- query` (INSERT INTO ... SELECT),
 * `-- input <table>` blocks of JSON lines, then `-- expected [rowsort]` rows as `a | b | c`, or
 * `-- error: <message fragment> @ <line>:<column>` (line/column relative to the query block).
 */
export interface GoldenCase {
  readonly file: string;
  readonly setup: string;
  readonly query: string;
  readonly inputs: { table: string; partition: number; lines: string[] }[];
  readonly expected?: { rowsort: boolean; rows: string[] };
  readonly error?: { fragment: string; line?: number; column?: number };
  /** Expected EXPLAIN text of the query's plan (`-- plan` section). */
  readonly plan?: string;
}

export function readGolden(file: string): GoldenCase {
  const text = readFileSync(file, 'utf8');
  let section = '';
  let setup = '';
  let query = '';
  const inputs: GoldenCase['inputs'] = [];
  let expected: GoldenCase['expected'];
  let error: GoldenCase['error'];
  let plan: string | undefined;
  for (const line of text.split('\n')) {
    const m = /^-- (setup|query|input|expected|error|plan)\b(.*)$/.exec(line);
    if (m) {
      section = m[1]!;
      const rest = m[2]!.trim();
      if (section === 'input') {
        const [table, , part] = rest.split(/\s+/);
        inputs.push({ table: table!, partition: part ? Number(part) : 0, lines: [] });
      } else if (section === 'expected') expected = { rowsort: rest === 'rowsort', rows: [] };
      else if (section === 'error') {
        const em = /^:\s*(.*?)(?:\s*@\s*(\d+):(\d+))?\s*$/.exec(rest);
        error = { fragment: em?.[1] ?? rest, line: em?.[2] ? Number(em[2]) : undefined, column: em?.[3] ? Number(em[3]) : undefined };
      }
      continue;
    }
    if (line.startsWith('#')) continue;
    switch (section) {
      case 'setup':
        setup += line + '\n';
        break;
      case 'query':
        query += line + '\n';
        break;
      case 'input':
        if (line.trim()) inputs[inputs.length - 1]!.lines.push(line);
        break;
      case 'expected':
        if (line.trim()) expected!.rows.push(line.trim());
        break;
      case 'plan':
        if (line.trim()) plan = plan === undefined ? line : `${plan}\n${line}`;
        break;
    }
  }
  return { file, setup, query: query.trimEnd(), inputs, expected, error, plan };
}

export function planGolden(c: GoldenCase): PlanNode {
  const catalog = new Catalog();
  for (const { statement } of parseScript(c.setup)) {
    if (statement.kind !== 'createTable') throw new Error('setup holds only CREATE TABLE');
    catalog.add({ kind: 'table', name: statement.name, stmt: statement, table: buildTable(statement, { timeZone: 'UTC' }), sql: statement.text, createdAt: '' });
  }
  const [first] = parseScript(c.query);
  const stmt = first!.statement;
  if (stmt.kind !== 'insert') throw new Error('query must be an INSERT INTO');
  const sink = catalog.table(stmt.sink)!;
  return new Planner(catalog, { timeZone: 'UTC' }).planInsert(stmt, { name: sink.name, connector: sink.connector, options: sink.options, columns: sink.physical });
}

export function formatRow(row: readonly unknown[], schema: readonly Column[]): string {
  return row
    .map((v, i) => {
      if (v === null || v === undefined) return 'NULL';
      const t = schema[i]!.type.kind;
      if ((t === 'TIMESTAMP' || t === 'TIMESTAMP_LTZ') && typeof v === 'number') return formatTimestamp(v);
      if (typeof v === 'object') return JSON.stringify(v);
      return String(v);
    })
    .join(' | ');
}

/** Runs the case; with `restoreAt`, snapshots and restores every operator after that many input batches. */
export function runGolden(c: GoldenCase, restoreAt?: number): { rows: string[]; late: number; bad: number } {
  const root = planGolden(c);
  let source = root;
  while (source.kind !== 'source') source = source.input;
  const table = source.table;
  const decode = createJsonDecoder(table.physical, { ignoreParseErrors: table.options['json.ignore-parse-errors'] === 'true', timestampStandard: 'SQL' });
  const partitions = [...new Set(c.inputs.map((i) => i.partition))];
  const driver = new PipelineDriver(root, partitions.length ? partitions : [0]);
  let bad = 0;
  c.inputs.forEach((input, k) => {
    if (restoreAt !== undefined && k === restoreAt) driver.restore(driver.snapshot());
    const rows: unknown[][] = [];
    for (const l of input.lines) {
      try {
        const r = decode(l);
        if (r) rows.push(r);
      } catch {
        bad++;
      }
    }
    driver.push(rows, input.partition);
  });
  driver.end();
  // An updating query's expected output is its changelog, one `+I | a | b` line per change.
  const changes = driver.changes.map((ch) => `${ch.op} | ${formatRow(ch.row, root.schema)}`);
  return { rows: [...driver.output.map((r) => formatRow(r, root.schema)), ...changes], late: driver.counters.late, bad: bad + driver.counters.bad };
}

export function expectError(c: GoldenCase): SqlError | undefined {
  try {
    planGolden(c);
  } catch (e) {
    if (e instanceof SqlError) return e;
    throw e;
  }
  return undefined;
}
