import type { SqlType, RowField } from '../plan/types.ts';
import type { Cursor } from './cursor.ts';
import { SqlError } from './errors.ts';

/** Parses a Flink SQL data type at the cursor: `DECIMAL(10, 2)`, `ARRAY<STRING>`, `ROW<a INT, b STRING>`, ... */
export function parseType(c: Cursor): SqlType {
  const t = c.peek();
  const name = c.ident('a data type').toUpperCase();
  const params = (): number[] => {
    const out: number[] = [];
    if (!c.acceptPunct('(')) return out;
    do {
      const n = c.next();
      if (n.type !== 'number') throw c.error(`Expected a number in the type's parameters`, n);
      out.push(Number(n.value));
    } while (c.acceptPunct(','));
    c.expectPunct(')');
    return out;
  };
  const notNull = () => {
    if (c.isWord('NOT') && c.peek(1) && c.peek(1)!.value.toUpperCase() === 'NULL') c.i += 2;
    else c.acceptWord('NULL');
  };
  let out: SqlType;
  switch (name) {
    case 'BOOLEAN':
    case 'BOOL':
      out = { kind: 'BOOLEAN' };
      break;
    case 'TINYINT':
    case 'SMALLINT':
    case 'INT':
    case 'INTEGER':
      out = { kind: 'INT' };
      break;
    case 'BIGINT':
      out = { kind: 'BIGINT' };
      break;
    case 'FLOAT':
    case 'REAL':
      out = { kind: 'DOUBLE' };
      break;
    case 'DOUBLE':
      c.acceptWord('PRECISION');
      out = { kind: 'DOUBLE' };
      break;
    case 'DECIMAL':
    case 'DEC':
    case 'NUMERIC': {
      const [p = 10, s = 0] = params();
      if (p < 1 || p > 38 || s < 0 || s > p) throw new SqlError('type', `Invalid DECIMAL(${p}, ${s})`, c.pos(t));
      out = { kind: 'DECIMAL', precision: p, scale: s };
      break;
    }
    case 'STRING':
      out = { kind: 'STRING' };
      break;
    case 'VARCHAR':
    case 'CHAR':
      params();
      out = { kind: 'STRING' };
      break;
    case 'DATE':
      out = { kind: 'DATE' };
      break;
    case 'TIMESTAMP': {
      const [p = 6] = params();
      if (c.isWord('WITH', 'WITHOUT')) {
        const withZone = c.next().value.toUpperCase() === 'WITH';
        if (withZone) c.expectWord('LOCAL');
        c.expectWord('TIME');
        c.expectWord('ZONE');
        out = withZone ? { kind: 'TIMESTAMP_LTZ', precision: Math.min(p, 3) } : { kind: 'TIMESTAMP', precision: Math.min(p, 3) };
      } else out = { kind: 'TIMESTAMP', precision: Math.min(p, 3) };
      break;
    }
    case 'TIMESTAMP_LTZ': {
      const [p = 6] = params();
      out = { kind: 'TIMESTAMP_LTZ', precision: Math.min(p, 3) };
      break;
    }
    case 'ARRAY': {
      if (c.acceptPunct('<')) {
        const element = parseType(c);
        c.expectPunct('>');
        out = { kind: 'ARRAY', element };
      } else throw c.error('Expected ARRAY<element type>');
      break;
    }
    case 'ROW': {
      const close = c.acceptPunct('<') ? '>' : c.acceptPunct('(') ? ')' : undefined;
      if (!close) throw c.error('Expected ROW<name type, ...>');
      const fields: RowField[] = [];
      do {
        const fname = c.ident('a field name');
        fields.push({ name: fname, type: parseType(c) });
      } while (c.acceptPunct(','));
      c.expectPunct(close);
      out = { kind: 'ROW', fields };
      break;
    }
    default:
      throw new SqlError('unsupported', `Unknown or unsupported data type '${name}'`, c.pos(t));
  }
  notNull();
  return out;
}
