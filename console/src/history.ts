// What was run in the SQL editor, newest first, kept in this browser's localStorage.

export interface HistoryEntry {
  readonly sql: string;
  readonly at: string;
  readonly ok: boolean;
}

const KEY = 'weir.sql.history';
const MAX = 50;

export function loadHistory(): HistoryEntry[] {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) ?? '[]');
    return Array.isArray(v) ? v.filter((e) => typeof e?.sql === 'string') : [];
  } catch {
    return [];
  }
}

export function remember(entry: HistoryEntry): HistoryEntry[] {
  // The same script run again moves to the top instead of repeating.
  const list = [entry, ...loadHistory().filter((e) => e.sql !== entry.sql)].slice(0, MAX);
  try {
    localStorage.setItem(KEY, JSON.stringify(list));
  } catch {
    // storage full or disabled: history is a convenience only
  }
  return list;
}
