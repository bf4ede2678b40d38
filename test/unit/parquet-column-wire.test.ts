// How the filesystem sink's columns travel to its encoding worker (connectors/filesystem/column-wire.ts):
// each wire form packs and unpacks to exactly what the writer would have been given before (strings, or
// the same UTF-8 bytes TextEncoder makes), NULLs and empty strings included; the choice of form per file;
// and a lake written with both string forms, which DuckDB reads back equal, with text PLAIN and a
// few-valued column dictionary-encoded.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesystemConnector } from '../../connectors/filesystem/index.ts';
import { packColumn, unpackColumn, wireFor } from '../../connectors/filesystem/column-wire.ts';
import type { ColumnWire } from '../../connectors/filesystem/column-wire.ts';
import type { Row, SinkSpec } from '../../connectors/types.ts';
import type { Column } from '../../engine/plan/plan.ts';
import { T } from '../../engine/plan/types.ts';

const same = (v: unknown): unknown => v;

/** Packs, structured-clones with the transfer list as postMessage does, and unpacks from index `at`. */
function roundTrip(values: unknown[], wire: ColumnWire, conv: (v: unknown) => unknown = same, at = 0): unknown[] {
  const transfer: ArrayBuffer[] = [];
  const p = structuredClone(packColumn(values, wire, transfer), { transfer });
  const out = new Array<unknown>(at + values.length).fill('untouched');
  unpackColumn(p, values.length, conv, out, at);
  return out;
}

// Text with what UTF-8 must get right: CJK, a surrogate pair, quotes and escapes, a lone surrogate (as
// U+FFFD, as TextEncoder writes it), the empty string, and NULLs.
const TEXT = ['微博 #话题# @用户10001', '🐼 panda', '', 'a"b\\c\nd', 'x\uD800y', null, 'plain ascii', null, '\u00e9\u0301'];

describe('column wire forms', () => {
  it('utf8: the bytes TextEncoder makes for each value, NULL as null, from the given index on', () => {
    const enc = new TextEncoder();
    const out = roundTrip(TEXT, 'utf8', same, 3);
    expect(out.slice(0, 3)).toEqual(['untouched', 'untouched', 'untouched']);
    TEXT.forEach((s, i) => {
      const got = out[3 + i];
      if (s === null) expect(got).toBeNull();
      else expect(Array.from(got as Uint8Array)).toEqual(Array.from(enc.encode(s)));
    });
  });

  it('dict: the same strings, each distinct one sent once, NULL as null', () => {
    const values = [...TEXT, ...TEXT, 'panda', 'panda'];
    const transfer: ArrayBuffer[] = [];
    const p = packColumn(values, 'dict', transfer);
    expect(p.kind === 'dict' && p.dict.length).toBe(new Set(values.filter((v) => v !== null)).size);
    expect(roundTrip(values, 'dict')).toEqual(values);
  });

  it('numbers: NULLs, booleans as 0/1, and the column converter applied in the worker', () => {
    const values = [0, -1.5, null, 2 ** 53 - 1, 1e-300, null, -0];
    expect(roundTrip(values, 'numbers')).toEqual(values);
    expect(roundTrip([true, null, false], 'numbers', (v) => v !== 0)).toEqual([true, null, false]);
    expect(roundTrip([1_700_000_000_123, null], 'numbers', (v) => BigInt(v as number))).toEqual([1_700_000_000_123n, null]);
  });

  it('values: anything else, structured-cloned', () => {
    const values = [['话题', null, 't1'], [], null];
    expect(roundTrip(values, 'values')).toEqual(values);
  });

  it('chooses the form of a column from the first rows of its file', () => {
    const distinct = Array.from({ length: 500 }, (_, i) => `post ${i}`);
    const few = Array.from({ length: 500 }, (_, i) => ['北京', '上海', null][i % 3]);
    expect(wireFor(T.string, distinct)).toBe('utf8');
    expect(wireFor(T.string, few)).toBe('dict');
    // Too few values to say: a dictionary, which is correct for anything.
    expect(wireFor(T.string, distinct.slice(0, 10))).toBe('dict');
    // NULLs do not count: half NULL, the rest distinct.
    expect(wireFor(T.string, distinct.flatMap((s) => [s, null]))).toBe('utf8');
    // A sample spread over many rows sees the same.
    expect(wireFor(T.string, Array.from({ length: 20_000 }, (_, i) => `post ${i}`))).toBe('utf8');
    expect(wireFor(T.string, Array.from({ length: 20_000 }, (_, i) => `loc ${i % 50}`))).toBe('dict');
    for (const t of [T.boolean, T.int, T.bigint, T.double, T.decimal(10, 2), T.timestamp, T.timestampLtz, T.date]) expect(wireFor(t, [])).toBe('numbers');
    expect(wireFor(T.array(T.string), [])).toBe('values');
  });
});

describe('a lake written with both string forms', () => {
  let dir: string;
  let duck: DuckDBInstance;
  let conn: DuckDBConnection;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'weir-lake-wire-'));
    duck = await DuckDBInstance.create(':memory:', { threads: '1' });
    conn = await duck.connect();
  });
  afterAll(() => {
    conn.closeSync();
    duck.closeSync();
    rmSync(dir, { recursive: true, force: true });
  });

  const COLUMNS: Column[] = [
    { name: 'id', type: T.bigint },
    { name: 'text', type: T.string },
    { name: 'loc', type: T.string },
    { name: 'p', type: T.string },
  ];

  function spec(path: string): SinkSpec {
    return {
      table: 'lake', options: { connector: 'filesystem', path, format: 'parquet' }, columns: COLUMNS, brokers: '',
      jobId: 'wire', jobName: 'wire', timeZone: 'UTC', checkpointIntervalMs: 5000, partitionedBy: ['p'],
    };
  }

  it('reads back equal; text is written PLAIN, a few-valued column with a dictionary', async () => {
    const path = join(dir, 'lake');
    const sink = await filesystemConnector.createSink!(spec(path));
    await sink.committer!.recover(undefined);
    const input: Row[] = [];
    for (let k = 0; k < 6000; k++) {
      const text = k % 11 === 5 ? null : k % 13 === 7 ? '' : `${TEXT[k % TEXT.length] ?? '∅'} #${k}`;
      input.push([k, text, k % 17 === 3 ? null : ['北京 朝阳', '上海', '🐼', ''][k % 4]!, k < 3000 ? 'a' : 'b']);
    }
    // Partition b's file starts with 20 rows (too few to tell: both strings as a dictionary) and then
    // gets thousands of distinct texts in that form; partition a's starts with 3000 (text as UTF-8).
    sink.write(input.slice(0, 3020));
    await sink.flush();
    sink.write(input.slice(3020));
    await sink.committer!.prepare(1);
    await sink.committer!.commit(1);
    const r = await conn.runAndReadAll(`SELECT id, text, loc, p FROM read_parquet('${path}/**/*.parquet', hive_partitioning = true) ORDER BY id`);
    // A lone surrogate is not UTF-8: it is written as U+FFFD, as TextEncoder (the writer's own path) does.
    const wellFormed = (v: string): string => new TextDecoder().decode(new TextEncoder().encode(v));
    const expected = input.map((row) => row.map((v) => (typeof v === 'string' ? wellFormed(v) : v)));
    expect((r.getRowsJson() as unknown[][]).map(([id, ...rest]) => [Number(id), ...rest])).toEqual(expected);
    const m = await conn.runAndReadAll(
      `SELECT split_part(file_name, '/', -2) AS part, path_in_schema, list_sort(string_split(encodings, ', ')) FROM parquet_metadata('${path}/**/*.parquet') WHERE path_in_schema IN ('text', 'loc') ORDER BY 1, 2`,
    );
    expect(m.getRowsJson()).toEqual([
      ['p=a', 'loc', ['PLAIN', 'RLE_DICTIONARY']],
      ['p=a', 'text', ['PLAIN']],
      ['p=b', 'loc', ['PLAIN', 'RLE_DICTIONARY']],
      ['p=b', 'text', ['PLAIN']],
    ]);
    // Column statistics in UTF-8 byte order, as Parquet defines them for strings (DuckDB prunes by them).
    const st = await conn.runAndReadAll(
      `SELECT split_part(file_name, '/', -2), stats_min_value, stats_max_value FROM parquet_metadata('${path}/**/*.parquet') WHERE path_in_schema = 'text' ORDER BY 1`,
    );
    const bounds = (p: string): string[] => {
      const texts = expected.filter((r) => r[3] === p && r[1] !== null).map((r) => Buffer.from(r[1] as string));
      texts.sort(Buffer.compare);
      return [texts[0]!.toString(), texts.at(-1)!.toString()];
    };
    expect(st.getRowsJson()).toEqual([['p=a', ...bounds('a')], ['p=b', ...bounds('b')]]);
    await sink.close();
  });
});
