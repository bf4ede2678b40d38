// How numbers, times and cells read in the console.

/** Weir's TIMESTAMP text 'yyyy-MM-dd HH:mm:ss.SSS' (UTC unless table.local-time-zone says otherwise) → epoch ms. */
export function parseTs(s: string): number {
  return Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s.replace(' ', 'T') : `${s.replace(' ', 'T')}Z`);
}

export function fmtInt(n: number | null | undefined): string {
  return n === null || n === undefined || !Number.isFinite(n) ? '–' : Math.round(n).toLocaleString('en-US');
}

export function fmtRate(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  return n >= 100 ? fmtInt(n) : n.toFixed(1);
}

export function fmtDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  const a = Math.abs(ms);
  if (a < 10 && !Number.isInteger(ms)) return `${ms.toFixed(1)} ms`;
  if (a < 1000) return `${Math.round(ms)} ms`;
  if (a < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (a < 3_600_000) return `${Math.floor(a / 60_000)} min ${Math.round((a % 60_000) / 1000)} s`;
  if (a < 86_400_000) return `${Math.floor(a / 3_600_000)} h ${Math.round((a % 3_600_000) / 60_000)} min`;
  return `${Math.floor(a / 86_400_000)} d ${Math.round((a % 86_400_000) / 3_600_000)} h`;
}

export function fmtAgo(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '–';
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return iso;
  return now - t < 5000 ? 'just now' : `${fmtDuration(now - t)} ago`;
}

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** A result cell as text: NULL shown as such, objects as JSON. */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function isNumeric(v: unknown): boolean {
  return typeof v === 'number' || typeof v === 'bigint';
}
