/**
 * Small, allocation-light date/time text conversions for the formats (JSON now, CSV later).
 *
 * Runtime values (engine/plan/types.ts): TIMESTAMP, TIMESTAMP_LTZ and DATE are epoch millis numbers;
 * TIMESTAMP is a zone-less wall clock read as if it were UTC; DATE is midnight UTC of the day.
 *
 * Parsing works on char codes (no Date parsing, no regex, no substring allocation); formatting builds the
 * text from integer arithmetic (civil-from-days) and a two-digit table.
 */

import { C, civil, daysFromCivil, daysInMonth } from '../../engine/expr/time.ts';
import { getZone } from '../../engine/expr/tz.ts';

export { daysFromCivil };

const MS_PER_DAY = 86_400_000;
const MS_PER_MINUTE = 60_000;

const PAD2: string[] = [];
for (let i = 0; i < 100; i++) PAD2.push(i < 10 ? `0${i}` : String(i));
const PAD3: string[] = [];
for (let i = 0; i < 1000; i++) PAD3.push(i < 10 ? `00${i}` : i < 100 ? `0${i}` : String(i));

function year4(y: number): string {
  if (y >= 1000 && y <= 9999) return String(y);
  if (y >= 0 && y < 1000) return PAD3[y] !== undefined ? `0${PAD3[y]}` : String(y);
  // Outside 0000..9999: ISO-8601 expanded years carry a sign.
  const a = Math.abs(y);
  return (y < 0 ? '-' : '+') + (a < 10000 ? `000${a}`.slice(-4) : String(a));
}

/** 'yyyy-MM-dd' of the date part of epoch millis (read as UTC). */
export function formatDate(ms: number): string {
  civil(Math.floor(ms / MS_PER_DAY));
  return `${year4(C.y)}-${PAD2[C.m]}-${PAD2[C.d]}`;
}

/**
 * Formats epoch millis as a wall clock (read as UTC): 'yyyy-MM-dd HH:mm:ss.SSS', or with 'T' between date
 * and time when `iso`. `fractionDigits` is 0..3 (millis are all we keep; more is written as 3).
 */
export function formatTimestamp(ms: number, iso = false, fractionDigits = 3): string {
  const days = Math.floor(ms / MS_PER_DAY);
  let rest = ms - days * MS_PER_DAY;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const mi = Math.floor(rest / 60_000);
  rest -= mi * 60_000;
  const s = Math.floor(rest / 1000);
  const milli = Math.floor(rest - s * 1000);
  const time = `${PAD2[h]}:${PAD2[mi]}:${PAD2[s]}`;
  let frac = '';
  if (fractionDigits >= 3) frac = `.${PAD3[milli]}`;
  else if (fractionDigits > 0) frac = `.${PAD3[milli]!.slice(0, fractionDigits)}`;
  return `${formatDate(days * MS_PER_DAY)}${iso ? 'T' : ' '}${time}${frac}`;
}

/** '+08:00' / '-03:30' / 'Z' for an offset in millis. */
export function formatOffset(offsetMs: number): string {
  if (offsetMs === 0) return 'Z';
  const sign = offsetMs < 0 ? '-' : '+';
  const mins = Math.round(Math.abs(offsetMs) / MS_PER_MINUTE);
  return `${sign}${PAD2[Math.floor(mins / 60)] ?? String(Math.floor(mins / 60))}:${PAD2[mins % 60]}`;
}

function digit(s: string, i: number): number {
  const c = s.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : -1;
}

function num2(s: string, i: number): number {
  const a = digit(s, i);
  const b = digit(s, i + 1);
  return a < 0 || b < 0 ? -1 : a * 10 + b;
}

/** How parseTimestamp treats a zone designator ('Z', '+08:00', '+0800', '+08') at the end of the text. */
export type ZoneHandling =
  /** TIMESTAMP: the wall clock as written; a designator is accepted and ignored. */
  | 'wall'
  /** TIMESTAMP_LTZ: an instant; text without a designator is read in UTC. */
  | 'instant';

/**
 * Parses 'yyyy-MM-dd HH:mm:ss[.f{1,9}]', the same with 'T' (ISO-8601), 'yyyy-MM-dd HH:mm' and a bare
 * 'yyyy-MM-dd' (midnight), optionally followed by a zone designator, into epoch millis (fraction digits
 * beyond millis are truncated). Surrounding whitespace is allowed. Returns NaN when the text is not such a
 * timestamp or a field is out of range (month 13, Feb 30, hour 24, ...).
 */
export function parseTimestamp(s: string, zone: ZoneHandling = 'wall'): number {
  let i = 0;
  let end = s.length;
  while (i < end && s.charCodeAt(i) <= 32) i++;
  while (end > i && s.charCodeAt(end - 1) <= 32) end--;
  if (end - i < 10) return NaN;
  // yyyy-MM-dd
  const y1 = num2(s, i);
  const y2 = num2(s, i + 2);
  if (y1 < 0 || y2 < 0 || s.charCodeAt(i + 4) !== 45 || s.charCodeAt(i + 7) !== 45) return NaN;
  const year = y1 * 100 + y2;
  const month = num2(s, i + 5);
  const day = num2(s, i + 8);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return NaN;
  let ms = daysFromCivil(year, month, day) * MS_PER_DAY;
  i += 10;
  if (i === end) return ms;
  const sep = s.charCodeAt(i);
  if (sep !== 32 && sep !== 84 && sep !== 116) return NaN; // ' ', 'T', 't'
  i++;
  if (end - i < 5) return NaN;
  const hour = num2(s, i);
  const minute = num2(s, i + 3);
  if (hour < 0 || hour > 23 || s.charCodeAt(i + 2) !== 58 || minute < 0 || minute > 59) return NaN;
  ms += hour * 3_600_000 + minute * MS_PER_MINUTE;
  i += 5;
  if (i < end && s.charCodeAt(i) === 58) {
    const second = num2(s, i + 1);
    if (second < 0 || second > 59) return NaN;
    ms += second * 1000;
    i += 3;
    if (i < end && (s.charCodeAt(i) === 46 || s.charCodeAt(i) === 44)) {
      i++;
      let n = 0;
      let frac = 0;
      while (i < end) {
        const d = digit(s, i);
        if (d < 0) break;
        if (n < 3) frac = frac * 10 + d;
        n++;
        i++;
      }
      if (n === 0 || n > 9) return NaN;
      for (let k = n; k < 3; k++) frac *= 10;
      ms += frac;
    }
  }
  if (i === end) return ms;
  // Zone designator.
  const c = s.charCodeAt(i);
  let offset = 0;
  if ((c === 90 || c === 122) && i + 1 === end) {
    offset = 0; // 'Z'
  } else if (c === 43 || c === 45) {
    const oh = num2(s, i + 1);
    if (oh < 0 || oh > 18) return NaN;
    let om = 0;
    let j = i + 3;
    if (j < end) {
      if (s.charCodeAt(j) === 58) j++;
      om = num2(s, j);
      if (om < 0 || om > 59) return NaN;
      j += 2;
    }
    if (j !== end) return NaN;
    offset = (c === 45 ? -1 : 1) * (oh * 60 + om) * MS_PER_MINUTE;
  } else {
    return NaN;
  }
  return zone === 'instant' ? ms - offset : ms;
}

/** Parses 'yyyy-MM-dd' (surrounding whitespace allowed) into epoch millis of midnight UTC; NaN if invalid. */
export function parseDate(s: string): number {
  let i = 0;
  let end = s.length;
  while (i < end && s.charCodeAt(i) <= 32) i++;
  while (end > i && s.charCodeAt(end - 1) <= 32) end--;
  if (end - i !== 10) return NaN;
  return parseTimestamp(s.slice(i, end), 'wall');
}

// ------------------------------------------------------------------------------------------ time zones

/** Offset (millis to add to UTC to get the zone's wall clock) of a zone at an instant. */
export type ZoneOffsetFn = (epochMs: number) => number;

/**
 * A function giving the UTC offset of a time zone at an instant: 'UTC'/'GMT'/'Z', fixed offsets ('+08:00',
 * 'GMT+8', 'UTC-03:30') or an IANA name ('Asia/Shanghai'), as the SQL functions read
 * 'table.local-time-zone' (engine/expr/tz.ts). Throws a RangeError for an unknown zone.
 */
export function zoneOffsetFn(zone: string): ZoneOffsetFn {
  const z = getZone(zone.trim() || 'UTC');
  return (ms: number): number => z.offset(ms);
}

/**
 * Formats an instant (TIMESTAMP_LTZ, epoch millis) as the wall clock of a zone followed by its offset:
 * '2024-01-01 20:00:00.000+08:00', or '...Z' in UTC (Flink's JSON format writes LTZ in UTC with 'Z').
 */
export function formatInstant(ms: number, offsetOf: ZoneOffsetFn, iso = false, fractionDigits = 3): string {
  const off = offsetOf(ms);
  return formatTimestamp(ms + off, iso, fractionDigits) + formatOffset(off);
}
