// SQLite's errors for POST /v1/query carry no position (better-sqlite3 has no sqlite3_error_offset), so the
// view store finds one: it must point at the token SQLite names, also when the same text occurs earlier.
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { sqliteErrorOffset } from '../../connectors/sqlite/error-position.ts';

/** SQLite's own message for `sql` over a store holding table t(a, b). */
function sqliteMessage(sql: string): string {
  const db = new Database(':memory:');
  try {
    db.exec('CREATE TABLE t (a INTEGER, b TEXT)');
    db.prepare(sql);
    throw new Error(`prepared: ${sql}`);
  } catch (e) {
    return (e as Error).message;
  } finally {
    db.close();
  }
}

const at = (sql: string, marker: string, nth = 1): number => {
  let i = -1;
  for (let k = 0; k < nth; k++) i = sql.indexOf(marker, i + 1);
  return i;
};

describe('sqliteErrorOffset', () => {
  it.each([
    // SQLite takes FROMM for a column alias and stops at the name after it.
    ['a misspelt keyword', 'SELECT a\nFROMM t', ' t', 1],
    ['a second "=" after a first good one', 'SELECT a FROM t WHERE a = 1 AND b = = 2', '=', 3],
    ['a keyword where a name must be', 'SELECT a FROM t WHERE a IN (SELECT FROM t)', 'FROM', 2],
    ['a stray comma', 'SELECT a,\n  b,\n  FROM t', 'FROM', 1],
    ['an unterminated string', "SELECT a FROM t WHERE b = 'x", "'x", 1],
  ])('points a syntax error at its token: %s', (_what, sql, token, nth) => {
    const message = sqliteMessage(sql);
    expect(message).toMatch(/syntax error|unrecognized token/);
    expect(sqliteErrorOffset(sql, message)).toBe(at(sql, token, nth) + (token.startsWith(' ') ? 1 : 0));
  });

  it('points incomplete input at the end of the text', () => {
    const sql = 'SELECT a FROM t WHERE   \n  ';
    expect(sqliteErrorOffset(sql, sqliteMessage(sql))).toBe(sql.indexOf('WHERE') + 5);
  });

  it.each([
    ['a column', "SELECT a, 'nope' AS s, nope FROM t", 'nope FROM'],
    ['a qualified column', 'SELECT t.nope FROM t', 't.nope'],
    ['a table', 'SELECT a FROM t JOIN other ON 1', 'other'],
    ['a function', 'SELECT a, frob(a) FROM t', 'frob'],
  ])('points at a missing %s by name, not inside a string', (_what, sql, marker) => {
    expect(sqliteErrorOffset(sql, sqliteMessage(sql))).toBe(sql.indexOf(marker));
  });

  it('says nothing where it cannot tell', () => {
    expect(sqliteErrorOffset('SELECT 1', 'database is locked')).toBeUndefined();
    expect(sqliteErrorOffset('SELECT 1', 'near "x": syntax error')).toBeUndefined();
  });
});
