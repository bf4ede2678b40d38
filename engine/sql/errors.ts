/** A position in the SQL text the user sent: 1-based line and column, 0-based offset. */
export interface Pos {
  readonly line: number;
  readonly column: number;
  readonly offset: number;
}

export type SqlErrorKind = 'syntax' | 'binding' | 'type' | 'unsupported' | 'catalog' | 'option' | 'conflict';

/**
 * Every mistake a user can make in SQL ends up as one of these: the server turns it into a 400
 * (409 for conflicts, 404 for unknown names in REST paths) with the message, statement, line and column.
 */
export class SqlError extends Error {
  readonly kind: SqlErrorKind;
  readonly pos: Pos | undefined;
  /** 1-based index of the statement in the script; filled in by the statement runner. */
  statement: number | undefined;

  constructor(kind: SqlErrorKind, message: string, pos?: Pos) {
    super(message);
    this.name = 'SqlError';
    this.kind = kind;
    this.pos = pos;
  }
}

export function posAt(text: string, offset: number): Pos {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1, offset };
}
