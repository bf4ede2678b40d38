// upsert-kafka: option and PRIMARY KEY validation, and how changes become Kafka records (key = JSON of the
// key columns, value = the row, -D a tombstone, -U nothing).
import { describe, expect, it } from 'vitest';
import type { Change } from '../../engine/ops/changelog.ts';
import type { Column } from '../../engine/plan/plan.ts';
import { T } from '../../engine/plan/types.ts';
import { OptionError } from '../../connectors/types.ts';
import { Catalog } from '../../catalog/catalog.ts';
import { Planner, buildTable } from '../../engine/plan/planner.ts';
import type { SinkTable } from '../../engine/plan/plan.ts';
import { uniqueKeyOf, upsertKeyMismatch } from '../../engine/plan/unique-key.ts';
import { parseScript } from '../../engine/sql/parse.ts';
import { UpsertEncoder, parseUpsertKafkaOptions, upsertKafkaConnector } from '../../connectors/upsert-kafka/index.ts';

const COLS: Column[] = [
  { name: 'uid', type: T.bigint },
  { name: 'region', type: T.string },
  { name: 'n', type: T.bigint },
  { name: 'last_ts', type: { kind: 'TIMESTAMP', precision: 3 } },
];
const BASE = { connector: 'upsert-kafka', topic: 't', 'key.format': 'json', 'value.format': 'json' };

function optionError(f: () => unknown): OptionError {
  try {
    f();
  } catch (e) {
    if (e instanceof OptionError) return e;
    throw e;
  }
  throw new Error('no OptionError');
}

describe('upsert-kafka options', () => {
  it("takes Flink's options with their defaults", () => {
    const o = parseUpsertKafkaOptions({ ...BASE, 'properties.bootstrap.servers': 'h:1', 'properties.acks': 'all' }, COLS, ['region', 'uid']);
    expect(o).toMatchObject({
      topic: 't',
      brokers: 'h:1',
      keyIndexes: [1, 0],
      fieldsInclude: 'ALL',
      deliveryGuarantee: 'at-least-once',
      transactionalIdPrefix: undefined,
      key: { timestampStandard: 'SQL', ignoreNullFields: false },
    });
    const x = parseUpsertKafkaOptions(
      { ...BASE, 'value.fields-include': 'EXCEPT_KEY', 'sink.delivery-guarantee': 'exactly-once', 'sink.transactional-id-prefix': 'p', 'value.json.timestamp-format.standard': 'ISO-8601', 'value.json.encode.ignore-null-fields': 'true' },
      COLS,
      ['UID'],
    );
    expect(x).toMatchObject({ keyIndexes: [0], fieldsInclude: 'EXCEPT_KEY', deliveryGuarantee: 'exactly-once', transactionalIdPrefix: 'p', value: { timestampStandard: 'ISO-8601', ignoreNullFields: true } });
  });

  it('requires a PRIMARY KEY over physical columns', () => {
    expect(optionError(() => parseUpsertKafkaOptions(BASE, COLS, undefined)).message).toMatch(/needs a PRIMARY KEY/);
    expect(optionError(() => parseUpsertKafkaOptions(BASE, COLS, [])).message).toMatch(/needs a PRIMARY KEY/);
    expect(optionError(() => parseUpsertKafkaOptions(BASE, COLS, ['nope'])).message).toMatch(/PRIMARY KEY column 'nope' is not a physical column/);
    expect(optionError(() => parseUpsertKafkaOptions(BASE, COLS, ['uid', 'UID'])).message).toMatch(/twice/);
  });

  it('names the bad option', () => {
    const cases: [Record<string, string>, string | undefined, RegExp][] = [
      [{ ...BASE, topic: '' }, undefined, /needs a 'topic'/],
      [{ ...BASE, topic: 'a;b' }, 'topic', /one topic/],
      [{ connector: 'upsert-kafka', topic: 't', 'value.format': 'json' }, undefined, /needs 'key.format'/],
      [{ ...BASE, 'value.format': 'avro' }, 'value.format', /'value.format' = 'avro' is not supported/],
      [{ ...BASE, 'value.fields-include': 'SOME' }, 'value.fields-include', /ALL, EXCEPT_KEY/],
      [{ ...BASE, 'sink.delivery-guarantee': 'twice' }, 'sink.delivery-guarantee', /exactly-once, at-least-once, none/],
      [{ ...BASE, 'sink.transactional-id-prefix': ' ' }, 'sink.transactional-id-prefix', /non-empty/],
      [{ ...BASE, 'scan.startup.mode': 'earliest-offset' }, 'scan.startup.mode', /Unsupported option 'scan.startup.mode'/],
      [{ ...BASE, 'key.json.nope': 'x' }, 'key.json.nope', /Unsupported option/],
      [{ ...BASE, 'key.json.timestamp-format.standard': 'RFC' }, 'key.json.timestamp-format.standard', /'SQL' or 'ISO-8601'/],
      [{ ...BASE, 'value.json.encode.ignore-null-fields': 'yes' }, 'value.json.encode.ignore-null-fields', /'true' or 'false'/],
    ];
    for (const [opts, option, msg] of cases) {
      const e = optionError(() => parseUpsertKafkaOptions(opts, COLS, ['uid']));
      expect({ option: e.option, msg: e.message }, JSON.stringify(opts)).toEqual({ option, msg: expect.stringMatching(msg) });
    }
    expect(optionError(() => parseUpsertKafkaOptions({ ...BASE, 'value.fields-include': 'EXCEPT_KEY' }, COLS.slice(0, 1), ['uid'])).message).toMatch(/leaves no column/);
  });

  it('is a sink only: refuses the source role, checks the PRIMARY KEY when the table is created', () => {
    expect(upsertKafkaConnector.appendOnlySink).toBe(false);
    expect(upsertKafkaConnector.createSource).toBeUndefined();
    expect(optionError(() => upsertKafkaConnector.validate(BASE, 'source', COLS, undefined, ['uid'])).message).toMatch(/changelog topic .* not supported/);
    expect(optionError(() => upsertKafkaConnector.validate(BASE, 'table', COLS)).message).toMatch(/PRIMARY KEY/);
    expect(() => upsertKafkaConnector.validate(BASE, 'table', COLS, undefined, ['uid'])).not.toThrow();
  });
});

describe('upsert-kafka records', () => {
  const ts = Date.UTC(2026, 10, 25, 10, 30, 0, 7);
  const row = [42, 'north', 3, ts];
  const text = (b: Buffer | null): string | null => (b === null ? null : b.toString('utf8'));
  const encoder = (o: Record<string, string>, pk: string[]) => new UpsertEncoder('out', COLS, parseUpsertKafkaOptions({ ...BASE, ...o }, COLS, pk), 'UTC');

  it('keys a row by the JSON of its key columns and writes the whole row as the value', () => {
    const r = encoder({}, ['region', 'uid']).upsert(row);
    expect(r.topic).toBe('out');
    expect(text(r.key)).toBe('{"region":"north","uid":42}');
    expect(JSON.parse(text(r.value)!)).toEqual({ uid: 42, region: 'north', n: 3, last_ts: '2026-11-25 10:30:00.007' });
    expect(r.partition).toBeUndefined();
  });

  it('leaves the key columns out of the value with EXCEPT_KEY, and honours the json options per part', () => {
    const e = encoder({ 'value.fields-include': 'EXCEPT_KEY', 'value.json.timestamp-format.standard': 'ISO-8601', 'key.json.encode.ignore-null-fields': 'true' }, ['uid', 'region']);
    const r = e.upsert([7, null, 1, ts]);
    expect(text(r.key)).toBe('{"uid":7}');
    expect(JSON.parse(text(r.value)!)).toEqual({ n: 1, last_ts: '2026-11-25T10:30:00.007' });
  });

  it('turns +I/+U into upserts, -D into a tombstone and drops -U', () => {
    const e = encoder({}, ['uid']);
    const changes: Change[] = [
      { op: '+I', row: [1, 'a', 1, ts] },
      { op: '-U', row: [1, 'a', 1, ts] },
      { op: '+U', row: [1, 'a', 2, ts] },
      { op: '-D', row: [1, 'a', 2, ts] },
      { op: '+I', row: [null, 'b', 1, null] },
    ];
    const recs = changes.map((c) => e.change(c));
    expect(recs.map((r) => (r ? [text(r.key), r.value === null ? null : JSON.parse(text(r.value)!).n] : 'none'))).toEqual([
      ['{"uid":1}', 1],
      'none',
      ['{"uid":1}', 2],
      ['{"uid":1}', null],
      ['{"uid":null}', 1],
    ]);
  });
});

describe('the unique key of an updating query against the sink PRIMARY KEY', () => {
  const catalog = new Catalog();
  for (const { statement } of parseScript(`
CREATE TABLE posts (uid BIGINT, loc STRING, att INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts) WITH ('connector' = 'kafka', 'topic' = 'p', 'format' = 'json');
CREATE TABLE out3 (a BIGINT, b STRING, n BIGINT, PRIMARY KEY (b, a) NOT ENFORCED) WITH ('connector' = 'upsert-kafka', 'topic' = 'o', 'key.format' = 'json', 'value.format' = 'json');`)) {
    if (statement.kind === 'createTable') catalog.add({ kind: 'table', name: statement.name, stmt: statement, table: buildTable(statement, { timeZone: 'UTC' }), sql: statement.text, createdAt: '' });
  }
  const sink = (pk: string[]): SinkTable => {
    const t = catalog.table('out3')!;
    return { name: t.name, connector: t.connector, options: t.options, columns: t.physical, primaryKey: pk };
  };
  const plan = (select: string, pk: string[]) => {
    const [{ statement }] = parseScript(`INSERT INTO out3 ${select}`);
    if (statement!.kind !== 'insert') throw new Error('not an insert');
    const root = new Planner(catalog, { timeZone: 'UTC' }).planInsert(statement!, sink(pk));
    return { key: uniqueKeyOf(root), mismatch: upsertKeyMismatch(root, sink(pk)) };
  };

  it('accepts the GROUP BY columns in any order, through HAVING and casts', () => {
    expect(plan('SELECT uid, loc, COUNT(*) FROM posts GROUP BY loc, uid', ['a', 'b'])).toEqual({ key: [1, 0], mismatch: undefined });
    expect(plan('SELECT uid, loc, COUNT(*) FROM posts GROUP BY uid, loc HAVING COUNT(*) > 2', ['B', 'a']).mismatch).toBeUndefined();
    // att is INT, cast to the sink's BIGINT: still the key.
    expect(plan('SELECT att, loc, COUNT(*) FROM posts GROUP BY att, loc', ['a', 'b']).mismatch).toBeUndefined();
  });

  it('takes the outer GROUP BY of an aggregate over an aggregate', () => {
    const q = 'SELECT n, MAX(loc), COUNT(*) FROM (SELECT uid, loc, COUNT(*) AS n FROM posts GROUP BY uid, loc) GROUP BY n';
    expect(plan(q, ['a'])).toEqual({ key: [0], mismatch: undefined });
    expect(plan(q, ['a', 'b']).mismatch).toMatch(/keyed by its GROUP BY columns \(a\), but the sink's PRIMARY KEY is \(a, b\)/);
  });

  it('explains a mismatch', () => {
    expect(plan('SELECT uid, loc, COUNT(*) FROM posts GROUP BY uid, loc', ['a']).mismatch).toMatch(/\(a, b\), but the sink's PRIMARY KEY is \(a\)/);
    expect(plan('SELECT 1, loc, COUNT(*) FROM posts GROUP BY uid, loc', ['a', 'b'])).toEqual({ key: undefined, mismatch: expect.stringMatching(/no unique key/) });
    expect(plan("SELECT COUNT(*), 'x', SUM(att) FROM posts", ['a']).mismatch).toMatch(/single row without a key/);
  });

  it('leaves append-only queries alone (each row an upsert of its key)', () => {
    expect(plan('SELECT uid, loc, CAST(att AS BIGINT) FROM posts', ['a'])).toEqual({ key: undefined, mismatch: undefined });
    const win = "SELECT COUNT(*), loc, COUNT(*) FROM TABLE(TUMBLE(TABLE posts, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end, loc";
    expect(plan(win, ['a']).mismatch).toBeUndefined();
  });
});
