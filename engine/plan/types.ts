/**
 * SQL types as plain data. Runtime representation of each (see docs/values.md):
 * BOOLEAN boolean, INT/BIGINT/DOUBLE number, DECIMAL number rounded to its scale, STRING string,
 * TIMESTAMP/TIMESTAMP_LTZ/DATE number (epoch millis; TIMESTAMP is a zone-less wall clock read as UTC),
 * ARRAY JS array, ROW plain object keyed by field name, INTERVAL number of millis, NULL null.
 */
export type SqlType =
  | { readonly kind: 'BOOLEAN' }
  | { readonly kind: 'INT' }
  | { readonly kind: 'BIGINT' }
  | { readonly kind: 'DOUBLE' }
  | { readonly kind: 'DECIMAL'; readonly precision: number; readonly scale: number }
  | { readonly kind: 'STRING' }
  | { readonly kind: 'TIMESTAMP'; readonly precision: number }
  | { readonly kind: 'TIMESTAMP_LTZ'; readonly precision: number }
  | { readonly kind: 'DATE' }
  | { readonly kind: 'INTERVAL' }
  | { readonly kind: 'ARRAY'; readonly element: SqlType }
  | { readonly kind: 'ROW'; readonly fields: readonly RowField[] }
  | { readonly kind: 'NULL' };

export interface RowField {
  readonly name: string;
  readonly type: SqlType;
}

export type TypeKind = SqlType['kind'];

export const T = {
  boolean: { kind: 'BOOLEAN' } as SqlType,
  int: { kind: 'INT' } as SqlType,
  bigint: { kind: 'BIGINT' } as SqlType,
  double: { kind: 'DOUBLE' } as SqlType,
  string: { kind: 'STRING' } as SqlType,
  timestamp: { kind: 'TIMESTAMP', precision: 3 } as SqlType,
  timestampLtz: { kind: 'TIMESTAMP_LTZ', precision: 3 } as SqlType,
  date: { kind: 'DATE' } as SqlType,
  interval: { kind: 'INTERVAL' } as SqlType,
  null: { kind: 'NULL' } as SqlType,
  decimal: (precision: number, scale: number): SqlType => ({ kind: 'DECIMAL', precision, scale }),
  array: (element: SqlType): SqlType => ({ kind: 'ARRAY', element }),
} as const;

export function isNumeric(t: SqlType): boolean {
  return t.kind === 'INT' || t.kind === 'BIGINT' || t.kind === 'DOUBLE' || t.kind === 'DECIMAL';
}

export function isTemporal(t: SqlType): boolean {
  return t.kind === 'TIMESTAMP' || t.kind === 'TIMESTAMP_LTZ' || t.kind === 'DATE';
}

export function typeToString(t: SqlType): string {
  switch (t.kind) {
    case 'DECIMAL':
      return `DECIMAL(${t.precision}, ${t.scale})`;
    case 'TIMESTAMP':
      return `TIMESTAMP(${t.precision})`;
    case 'TIMESTAMP_LTZ':
      return `TIMESTAMP_LTZ(${t.precision})`;
    case 'ARRAY':
      return `ARRAY<${typeToString(t.element)}>`;
    case 'ROW':
      return `ROW<${t.fields.map((f) => `${f.name} ${typeToString(f.type)}`).join(', ')}>`;
    case 'BOOLEAN':
    case 'INT':
    case 'BIGINT':
    case 'DOUBLE':
    case 'STRING':
    case 'DATE':
    case 'INTERVAL':
    case 'NULL':
      return t.kind;
    default: {
      const never: never = t;
      return never;
    }
  }
}

export function sameType(a: SqlType, b: SqlType): boolean {
  return typeToString(a) === typeToString(b);
}
