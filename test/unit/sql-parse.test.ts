import { describe, expect, it } from 'vitest';
import { SqlError } from '../../engine/sql/errors.ts';
import { parseScript } from '../../engine/sql/parse.ts';
import { splitStatements, tokenize } from '../../engine/sql/tokens.ts';

function err(sql: string): SqlError {
  try {
    parseScript(sql);
  } catch (e) {
    if (e instanceof SqlError) return e;
    throw e;
  }
  throw new Error('expected a SqlError');
}

describe('tokens', () => {
  it('knows quoting, comments and positions', () => {
    const t = tokenize("SELECT `a;b`, 'it''s' -- c;\n/* ; */ FROM \"T\"");
    expect(t.map((x) => [x.type, x.value])).toEqual([
      ['word', 'SELECT'],
      ['quoted', 'a;b'],
      ['punct', ','],
      ['string', "it's"],
      ['word', 'FROM'],
      ['quoted', 'T'],
    ]);
    expect(t[4]!.start).toBe(36);
  });

  it('splits statements only at top-level semicolons', () => {
    const s = splitStatements("SET 'a;' = 'b';\n-- x;\nSELECT 1;;  ");
    expect(s.map((x) => x.index)).toEqual([1, 2]);
    expect(s[1]!.tokens[0]!.value).toBe('SELECT');
  });

  it('reports an unterminated string at its start', () => {
    const e = err("SELECT 1;\nSELECT 'abc");
    expect([e.pos?.line, e.pos?.column]).toEqual([2, 8]);
  });
});

describe('DDL', () => {
  const ddl = `CREATE TABLE IF NOT EXISTS weibo (
  uid BIGINT, \`time\` TIMESTAMP(3), tags ARRAY<STRING>, r ROW<a INT, b STRING>, d DECIMAL(10, 2),
  ts AS TO_TIMESTAMP_LTZ(uid, 3),
  PRIMARY KEY (uid) NOT ENFORCED,
  WATERMARK FOR \`time\` AS \`time\` - INTERVAL '5' SECOND
) PARTITIONED BY (uid) WITH ('connector' = 'kafka', 'topic' = 'weibo_data', 'properties.group.id' = 'g');`;

  it('parses columns, types, computed columns, watermark, key, partitioning and options', () => {
    const [p] = parseScript(ddl);
    const s = p!.statement;
    expect(s.kind).toBe('createTable');
    if (s.kind !== 'createTable') return;
    expect(s.ifNotExists).toBe(true);
    expect(s.columns.map((c) => c.name)).toEqual(['uid', 'time', 'tags', 'r', 'd', 'ts']);
    expect(s.columns[2]).toMatchObject({ kind: 'physical', type: { kind: 'ARRAY', element: { kind: 'STRING' } } });
    expect(s.columns[4]).toMatchObject({ type: { kind: 'DECIMAL', precision: 10, scale: 2 } });
    expect(s.columns[5]).toMatchObject({ kind: 'computed', exprText: 'TO_TIMESTAMP_LTZ(uid, 3)' });
    expect(s.watermark).toMatchObject({ column: 'time', exprText: "`time` - INTERVAL '5' SECOND" });
    expect(s.watermark!.expr).toMatchObject({ kind: 'binary', op: '-', right: { kind: 'interval', millis: 5000 } });
    expect(s.primaryKey).toEqual(['uid']);
    expect(s.partitionedBy).toEqual(['uid']);
    expect(s.options).toEqual({ connector: 'kafka', topic: 'weibo_data', 'properties.group.id': 'g' });
  });

  it('keeps positions of expressions inside DDL relative to the whole script', () => {
    const [p] = parseScript(ddl);
    const s = p!.statement;
    if (s.kind !== 'createTable') throw new Error();
    const ts = s.columns[5]!;
    if (ts.kind !== 'computed' || ts.expr.kind !== 'call') throw new Error();
    expect([ts.expr.args[0]!.pos.line, ts.expr.args[0]!.pos.column]).toEqual([3, 26]);
  });

  it('names unknown types and bad options with their position', () => {
    const e = err('CREATE TABLE t (\n  a INT,\n  b FOO\n) WITH ()');
    expect(e.message).toContain("Unknown or unsupported data type 'FOO'");
    expect([e.pos?.line, e.pos?.column]).toEqual([3, 5]);
    const e2 = err("CREATE TABLE t (a INT) WITH ('x' = 'y', 'x' = 'z')");
    expect(e2.message).toContain("Option 'x' is given twice");
  });

  it('parses SET, SHOW, DESCRIBE, DROP, EXPLAIN, CREATE VIEW and INSERT', () => {
    const kinds = parseScript(
      "SET 'pipeline.name' = 'j1'; SHOW TABLES; SHOW JOBS; DESCRIBE t; DROP TABLE IF EXISTS t; DROP VIEW v;" +
        ' CREATE OR REPLACE VIEW v AS SELECT a FROM t; EXPLAIN SELECT a FROM t; INSERT INTO s SELECT a FROM t; CREATE MATERIALIZED VIEW m AS SELECT a FROM t',
    ).map((p) => p.statement.kind);
    expect(kinds).toEqual(['set', 'show', 'show', 'describe', 'drop', 'drop', 'createView', 'explain', 'insert', 'createMaterializedView']);
  });
});

describe('queries', () => {
  it("accepts Flink's window TVF syntax, both forms, with positions into the original text", () => {
    const sql = "INSERT INTO o\nSELECT window_start, COUNT(*)\nFROM TABLE(TUMBLE(TABLE weibo, DESCRIPTOR(`time`), INTERVAL '1' MINUTE))\nGROUP BY window_start, window_end";
    const [p] = parseScript(sql);
    const s = p!.statement;
    if (s.kind !== 'insert') throw new Error();
    const f = s.query.from[0]!;
    expect(f).toMatchObject({ kind: 'window', window: 'TUMBLE', table: { kind: 'table', name: 'weibo' }, timeCol: { kind: 'column', name: 'time' } });
    if (f.kind !== 'window') throw new Error();
    expect([f.timeCol.pos.line, f.timeCol.pos.column]).toEqual([3, 43]);
    expect(f.args[0]).toMatchObject({ kind: 'interval', millis: 60_000 });
    const [q] = parseScript("SELECT * FROM HOP(TABLE t, DESCRIPTOR(ts), INTERVAL '10' SECOND, INTERVAL '1' MINUTE)");
    expect(q!.statement).toMatchObject({ kind: 'query', query: { from: [{ kind: 'window', window: 'HOP' }] } });
  });

  it('handles CAST to Flink types, FLOOR(ts TO unit) and SUBSTRING FROM/FOR', () => {
    const [p] = parseScript("SELECT CAST(a AS STRING), TRY_CAST(b AS DECIMAL(10, 2)), FLOOR(ts TO MINUTE), SUBSTRING(s FROM 2 FOR 3) FROM t");
    const s = p!.statement;
    if (s.kind !== 'query') throw new Error();
    expect(s.query.items.map((i) => i.expr.kind)).toEqual(['cast', 'cast', 'floorCeil', 'call']);
    expect(s.query.items[1]!.expr).toMatchObject({ safe: true, type: { kind: 'DECIMAL', precision: 10, scale: 2 } });
    expect(s.query.items[2]!.expr).toMatchObject({ fn: 'FLOOR', unit: 'MINUTE' });
  });

  it('gives a short syntax error naming the token, with statement, line and column', () => {
    const e = err('SELECT a FROM t;\nSELECT a b c FROM t');
    expect(e.message).toBe("Syntax error at or near 'c'");
    expect([e.statement, e.pos?.line, e.pos?.column]).toEqual([2, 2, 12]);
    const e2 = err('SELEC 1');
    expect(e2.message).toContain("Unknown statement starting with 'SELEC'");
  });

  it('refuses unsupported constructs precisely', () => {
    expect(err('SELECT a FROM t JOIN u ON t.a = u.a').kind).toBe('unsupported');
    expect(err('INSERT INTO t VALUES (1)').message).toContain('INSERT ... VALUES is not supported');
  });
});
