/**
 * Calendar arithmetic on epoch millis without Date objects: formatting and parsing of
 * 'yyyy-MM-dd HH:mm:ss.SSS', Java DateTimeFormatter-style patterns (DATE_FORMAT, TO_TIMESTAMP),
 * FLOOR/CEIL to a unit, and field extraction. All functions take a *wall clock* read as UTC millis;
 * TIMESTAMP_LTZ callers convert with a Zone first.
 */
import { getZone } from './tz.ts';

export const MS_SECOND = 1000;
export const MS_MINUTE = 60_000;
export const MS_HOUR = 3_600_000;
export const MS_DAY = 86_400_000;

/** Scratch output of civil(): the date of a day number. Single-threaded use only (one per isolate). */
export const C = { y: 1970, m: 1, d: 1 };

/** Day number (days since 1970-01-01) of a proleptic Gregorian date. */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const mp = m > 2 ? m - 3 : m + 9;
  const doy = Math.floor((153 * mp + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Sets C to the date of day number `days`. */
export function civil(days: number): void {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  C.y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  C.m = m;
  C.d = d;
}

export function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function daysInMonth(y: number, m: number): number {
  return m === 2 && isLeap(y) ? 29 : MONTH_DAYS[m - 1]!;
}

export function pad2(n: number): string {
  return n < 10 ? '0' + n : '' + n;
}

export function pad3(n: number): string {
  return n < 10 ? '00' + n : n < 100 ? '0' + n : '' + n;
}

export function padYear(y: number): string {
  if (y >= 1000 && y <= 9999) return '' + y;
  if (y >= 0) return y < 10 ? '000' + y : y < 100 ? '00' + y : y < 1000 ? '0' + y : '' + y;
  return '-' + padYear(-y);
}

function padN(n: number, width: number): string {
  let s = '' + n;
  while (s.length < width) s = '0' + s;
  return s;
}

/** 'yyyy-MM-dd HH:mm:ss' plus `precision` fraction digits (3 by default; millis are the finest unit). */
export function formatTimestamp(ms: number, precision = 3): string {
  const days = Math.floor(ms / MS_DAY);
  let rem = Math.floor(ms - days * MS_DAY);
  civil(days);
  const h = Math.floor(rem / MS_HOUR);
  rem -= h * MS_HOUR;
  const mi = Math.floor(rem / MS_MINUTE);
  rem -= mi * MS_MINUTE;
  const s = Math.floor(rem / MS_SECOND);
  const f = rem - s * MS_SECOND;
  const base = padYear(C.y) + '-' + pad2(C.m) + '-' + pad2(C.d) + ' ' + pad2(h) + ':' + pad2(mi) + ':' + pad2(s);
  if (precision <= 0) return base;
  if (precision === 3) return base + '.' + pad3(f);
  const frac = pad3(f);
  return base + '.' + (precision < 3 ? frac.slice(0, precision) : frac.padEnd(precision, '0'));
}

/** 'yyyy-MM-dd' of a wall-clock millis. */
export function formatDate(ms: number): string {
  civil(Math.floor(ms / MS_DAY));
  return padYear(C.y) + '-' + pad2(C.m) + '-' + pad2(C.d);
}

/** Flink's INTERVAL DAY TO SECOND(3) text: '+1 02:03:04.005'. */
export function formatInterval(ms: number): string {
  const sign = ms < 0 ? '-' : '+';
  let rem = Math.abs(ms);
  const d = Math.floor(rem / MS_DAY);
  rem -= d * MS_DAY;
  const h = Math.floor(rem / MS_HOUR);
  rem -= h * MS_HOUR;
  const mi = Math.floor(rem / MS_MINUTE);
  rem -= mi * MS_MINUTE;
  const s = Math.floor(rem / MS_SECOND);
  return `${sign}${d} ${pad2(h)}:${pad2(mi)}:${pad2(s)}.${pad3(Math.round(rem - s * MS_SECOND))}`;
}

/** Set by parseTimestampMs: whether the text carried a zone ('Z' or an offset). */
export const PARSED = { hadZone: false };

function digit(c: number): number {
  return c >= 48 && c <= 57 ? c - 48 : -1;
}

/**
 * Parses 'yyyy-MM-dd[( |T)HH:mm[:ss[.fffffffff]]][Z|±HH[:mm]]' (1- or 2-digit month, day and time
 * fields; 1 to 9 fraction digits, truncated to millis). Returns the wall clock as UTC millis — or, when
 * the text names a zone, the instant (PARSED.hadZone tells which) — or NaN.
 */
export function parseTimestampMs(s: string): number {
  PARSED.hadZone = false;
  let i = 0;
  let end = s.length;
  while (i < end && s.charCodeAt(i) <= 32) i++;
  while (end > i && s.charCodeAt(end - 1) <= 32) end--;
  let y = 0;
  let k = i;
  let dd: number;
  while (i < end && (dd = digit(s.charCodeAt(i))) >= 0) {
    y = y * 10 + dd;
    i++;
  }
  if (i - k !== 4 || s.charCodeAt(i) !== 45) return NaN;
  i++;
  let mo = 0;
  k = i;
  while (i < end && i - k < 2 && (dd = digit(s.charCodeAt(i))) >= 0) {
    mo = mo * 10 + dd;
    i++;
  }
  if (i === k || s.charCodeAt(i) !== 45) return NaN;
  i++;
  let d = 0;
  k = i;
  while (i < end && i - k < 2 && (dd = digit(s.charCodeAt(i))) >= 0) {
    d = d * 10 + dd;
    i++;
  }
  if (i === k) return NaN;
  let h = 0;
  let mi = 0;
  let sec = 0;
  let ms = 0;
  let c = s.charCodeAt(i);
  if (i < end && (c === 32 || c === 84 || c === 116)) {
    i++;
    while (c === 32 && i < end && s.charCodeAt(i) === 32) i++;
    k = i;
    while (i < end && i - k < 2 && (dd = digit(s.charCodeAt(i))) >= 0) {
      h = h * 10 + dd;
      i++;
    }
    if (i === k || s.charCodeAt(i) !== 58) return NaN;
    i++;
    k = i;
    while (i < end && i - k < 2 && (dd = digit(s.charCodeAt(i))) >= 0) {
      mi = mi * 10 + dd;
      i++;
    }
    if (i === k) return NaN;
    if (i < end && s.charCodeAt(i) === 58) {
      i++;
      k = i;
      while (i < end && i - k < 2 && (dd = digit(s.charCodeAt(i))) >= 0) {
        sec = sec * 10 + dd;
        i++;
      }
      if (i === k) return NaN;
      c = s.charCodeAt(i);
      if (i < end && (c === 46 || c === 44)) {
        i++;
        k = i;
        let scale = 100;
        while (i < end && (dd = digit(s.charCodeAt(i))) >= 0) {
          ms += dd * scale;
          scale /= 10;
          i++;
        }
        const n = i - k;
        if (n === 0 || n > 9) return NaN;
        ms = Math.floor(ms + 1e-9);
      }
    }
  }
  let offset = 0;
  if (i < end) {
    c = s.charCodeAt(i);
    if (c === 32 && i + 1 < end) {
      i++;
      c = s.charCodeAt(i);
    }
    if (c === 90 || c === 122) {
      i++;
      PARSED.hadZone = true;
    } else if (c === 43 || c === 45) {
      i++;
      let oh = 0;
      let om = 0;
      k = i;
      while (i < end && i - k < 2 && (dd = digit(s.charCodeAt(i))) >= 0) {
        oh = oh * 10 + dd;
        i++;
      }
      if (i - k !== 2) return NaN;
      if (i < end && s.charCodeAt(i) === 58) i++;
      k = i;
      while (i < end && i - k < 2 && (dd = digit(s.charCodeAt(i))) >= 0) {
        om = om * 10 + dd;
        i++;
      }
      if (i - k === 1 || oh > 18 || om > 59) return NaN;
      offset = (c === 45 ? -1 : 1) * (oh * MS_HOUR + om * MS_MINUTE);
      PARSED.hadZone = true;
    }
  }
  if (i !== end) return NaN;
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || sec > 59) return NaN;
  return daysFromCivil(y, mo, d) * MS_DAY + h * MS_HOUR + mi * MS_MINUTE + sec * MS_SECOND + ms - offset;
}

// ---------------------------------------------------------------------------------------------
// DateTimeFormatter-style patterns

export type PatternToken =
  | { readonly kind: 'lit'; readonly text: string }
  | { readonly kind: 'field'; readonly letter: string; readonly count: number };

const SUPPORTED = 'GyuYMLQqdDEeaHhKkmsSAnXxZzVOw';
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/**
 * Compiles a Java DateTimeFormatter / SimpleDateFormat pattern ('yyyy-MM-dd HH:mm:ss.SSS',
 * "yyyy-MM-dd'T'HH:mm", ...). Letters outside SUPPORTED are an error, as in Java.
 */
export function compilePattern(pattern: string): PatternToken[] {
  const out: PatternToken[] = [];
  let lit = '';
  let i = 0;
  while (i < pattern.length) {
    const ch = pattern[i]!;
    if (ch === "'") {
      if (pattern[i + 1] === "'") {
        lit += "'";
        i += 2;
        continue;
      }
      const close = pattern.indexOf("'", i + 1);
      if (close < 0) throw new Error(`Unterminated quote in date pattern '${pattern}'`);
      // '' inside a quoted section is a quote
      let j = i + 1;
      while (j < pattern.length) {
        if (pattern[j] === "'") {
          if (pattern[j + 1] === "'") {
            lit += "'";
            j += 2;
            continue;
          }
          break;
        }
        lit += pattern[j];
        j++;
      }
      if (j >= pattern.length) throw new Error(`Unterminated quote in date pattern '${pattern}'`);
      i = j + 1;
      continue;
    }
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')) {
      if (!SUPPORTED.includes(ch)) throw new Error(`Unsupported letter '${ch}' in date pattern '${pattern}'`);
      let n = 1;
      while (pattern[i + n] === ch) n++;
      if (lit) {
        out.push({ kind: 'lit', text: lit });
        lit = '';
      }
      out.push({ kind: 'field', letter: ch, count: n });
      i += n;
      continue;
    }
    lit += ch;
    i++;
  }
  if (lit) out.push({ kind: 'lit', text: lit });
  return out;
}

function isoWeek(days: number): number {
  const isoDow = (((days + 3) % 7) + 7) % 7; // 0 = Monday
  const thursday = days - isoDow + 3;
  civil(thursday);
  const jan1 = daysFromCivil(C.y, 1, 1);
  return Math.floor((thursday - jan1) / 7) + 1;
}

function formatOffset(off: number, letter: string, count: number): string {
  if (off === 0 && (letter === 'X')) return 'Z';
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  const h = Math.floor(a / MS_HOUR);
  const m = Math.floor((a - h * MS_HOUR) / MS_MINUTE);
  if (letter === 'Z') return count === 4 ? `GMT${sign}${pad2(h)}:${pad2(m)}` : count === 5 ? `${sign}${pad2(h)}:${pad2(m)}` : `${sign}${pad2(h)}${pad2(m)}`;
  if (letter === 'O') return off === 0 ? 'GMT' : `GMT${sign}${h}${m ? ':' + pad2(m) : ''}`;
  if (count === 1) return m ? `${sign}${pad2(h)}${pad2(m)}` : `${sign}${pad2(h)}`;
  if (count === 2 || count === 4) return `${sign}${pad2(h)}${pad2(m)}`;
  return `${sign}${pad2(h)}:${pad2(m)}`;
}

/** Formats wall clock `wall` with compiled pattern tokens; `offset`/`zoneId` feed zone letters. */
export function formatPattern(tokens: readonly PatternToken[], wall: number, offset: number, zoneId: string): string {
  const days = Math.floor(wall / MS_DAY);
  const msOfDay = Math.floor(wall - days * MS_DAY);
  civil(days);
  const y = C.y;
  const mo = C.m;
  const d = C.d;
  const h = Math.floor(msOfDay / MS_HOUR);
  const mi = Math.floor(msOfDay / MS_MINUTE) % 60;
  const s = Math.floor(msOfDay / MS_SECOND) % 60;
  const ms = msOfDay % 1000;
  let out = '';
  for (let t = 0; t < tokens.length; t++) {
    const tok = tokens[t]!;
    if (tok.kind === 'lit') {
      out += tok.text;
      continue;
    }
    const n = tok.count;
    switch (tok.letter) {
      case 'G':
        out += n === 4 ? (y > 0 ? 'Anno Domini' : 'Before Christ') : y > 0 ? 'AD' : 'BC';
        break;
      case 'y':
      case 'u':
      case 'Y':
        out += n === 2 ? pad2(((y % 100) + 100) % 100) : y < 0 ? '-' + padN(-y, n) : padN(y, n);
        break;
      case 'M':
      case 'L':
        out += n >= 4 ? MONTHS[mo - 1] : n === 3 ? MONTHS[mo - 1]!.slice(0, 3) : n === 2 ? pad2(mo) : '' + mo;
        break;
      case 'Q':
      case 'q': {
        const q = Math.floor((mo - 1) / 3) + 1;
        out += n >= 4 ? ['1st', '2nd', '3rd', '4th'][q - 1] + ' quarter' : n === 3 ? 'Q' + q : padN(q, n);
        break;
      }
      case 'd':
        out += padN(d, n);
        break;
      case 'D':
        out += padN(days - daysFromCivil(y, 1, 1) + 1, n);
        break;
      case 'E':
      case 'e': {
        const dow = (((days + 4) % 7) + 7) % 7;
        if (tok.letter === 'e' && n <= 2) out += padN(dow + 1, n);
        else out += n >= 4 ? DAYS[dow] : DAYS[dow]!.slice(0, 3);
        break;
      }
      case 'w':
        out += padN(isoWeek(days), n);
        break;
      case 'a':
        out += h < 12 ? 'AM' : 'PM';
        break;
      case 'H':
        out += padN(h, n);
        break;
      case 'k':
        out += padN(h === 0 ? 24 : h, n);
        break;
      case 'K':
        out += padN(h % 12, n);
        break;
      case 'h':
        out += padN(h % 12 === 0 ? 12 : h % 12, n);
        break;
      case 'm':
        out += padN(mi, n);
        break;
      case 's':
        out += padN(s, n);
        break;
      case 'S': {
        const frac = pad3(ms);
        out += n <= 3 ? frac.slice(0, n) : frac.padEnd(n, '0');
        break;
      }
      case 'A':
        out += padN(msOfDay, n);
        break;
      case 'n':
        out += padN(ms * 1_000_000, n);
        break;
      case 'X':
      case 'x':
      case 'Z':
      case 'O':
        out += formatOffset(offset, tok.letter, n);
        break;
      case 'z':
      case 'V':
        out += zoneId;
        break;
      default:
        break;
    }
  }
  return out;
}

/** The coarsest unit a pattern shows (its output changes at most once per unit), in millis. */
function patternGranularity(tokens: readonly PatternToken[]): number {
  let g = MS_DAY;
  for (const t of tokens) {
    if (t.kind !== 'field') continue;
    switch (t.letter) {
      case 'S':
      case 'n':
      case 'A':
        return 1;
      case 's':
        g = Math.min(g, MS_SECOND);
        break;
      case 'm':
        g = Math.min(g, MS_MINUTE);
        break;
      case 'H':
      case 'h':
      case 'k':
      case 'K':
      case 'a':
        g = Math.min(g, MS_HOUR);
        break;
      default:
        break;
    }
  }
  return g;
}

/**
 * A formatter for one pattern that remembers its last result: consecutive values in the same
 * day/hour/minute/second (whatever the pattern shows) reuse the string, as time-ordered streams do.
 */
export function patternFormatter(tokens: readonly PatternToken[]): (wall: number, offset: number, zoneId: string) => string {
  const unit = patternGranularity(tokens);
  let lastKey = Number.NaN;
  let lastOffset = Number.NaN;
  let lastZone = '';
  let last = '';
  return (wall, offset, zoneId) => {
    const key = Math.floor(wall / unit);
    if (key === lastKey && offset === lastOffset && zoneId === lastZone) return last;
    last = formatPattern(tokens, wall, offset, zoneId);
    lastKey = key;
    lastOffset = offset;
    lastZone = zoneId;
    return last;
  };
}

function isNumericToken(t: PatternToken | undefined): boolean {
  if (!t || t.kind !== 'field') return false;
  const l = t.letter;
  if ((l === 'M' || l === 'L') && t.count >= 3) return false;
  return 'yuYMLdDHhKkmsSAnwQq'.includes(l);
}

/**
 * Parses `s` with compiled pattern tokens; returns the wall clock as UTC millis (or the instant when the
 * text had a zone/offset: PARSED.hadZone) or NaN. Numeric fields take 1..n digits, or exactly n when the
 * next token is numeric too ('yyyyMMdd').
 */
export function parsePattern(tokens: readonly PatternToken[], s: string): number {
  PARSED.hadZone = false;
  let y = 1970;
  let mo = 1;
  let d = 1;
  let h = 0;
  let mi = 0;
  let sec = 0;
  let ms = 0;
  let pm = -1;
  let h12 = -1;
  let doy = -1;
  let offset = 0;
  let zoneWall: string | undefined;
  let i = 0;
  const n = s.length;
  for (let t = 0; t < tokens.length; t++) {
    const tok = tokens[t]!;
    if (tok.kind === 'lit') {
      if (!s.startsWith(tok.text, i)) return NaN;
      i += tok.text.length;
      continue;
    }
    const L = tok.letter;
    if (isNumericToken(tok)) {
      let neg = false;
      if ((L === 'y' || L === 'u') && s.charCodeAt(i) === 45) {
        neg = true;
        i++;
      }
      const fixed = isNumericToken(tokens[t + 1]);
      const max = fixed ? tok.count : L === 'S' || L === 'n' ? 9 : L === 'y' || L === 'u' || L === 'Y' || L === 'A' ? 10 : Math.max(2, tok.count);
      const k = i;
      let v = 0;
      let dd: number;
      while (i < n && i - k < max && (dd = digit(s.charCodeAt(i))) >= 0) {
        v = v * 10 + dd;
        i++;
      }
      const len = i - k;
      if (len === 0 || (fixed && len !== tok.count)) return NaN;
      if (neg) v = -v;
      switch (L) {
        case 'y':
        case 'u':
        case 'Y':
          y = tok.count === 2 && len === 2 ? 2000 + v : v;
          break;
        case 'M':
        case 'L':
          mo = v;
          break;
        case 'd':
          d = v;
          break;
        case 'D':
          doy = v;
          break;
        case 'H':
          h = v;
          break;
        case 'k':
          h = v === 24 ? 0 : v;
          break;
        case 'h':
        case 'K':
          h12 = v % 12;
          break;
        case 'm':
          mi = v;
          break;
        case 's':
          sec = v;
          break;
        case 'S':
          ms = Math.floor(v / Math.pow(10, len - 3));
          break;
        case 'n':
          ms = Math.floor(v / 1_000_000);
          break;
        default:
          break;
      }
      continue;
    }
    switch (L) {
      case 'M':
      case 'L': {
        const found = matchName(s, i, MONTHS, tok.count === 3);
        if (found < 0) return NaN;
        mo = found + 1;
        i += tok.count === 3 ? 3 : MONTHS[found]!.length;
        break;
      }
      case 'E':
      case 'e': {
        const found = matchName(s, i, DAYS, tok.count < 4);
        if (found < 0) return NaN;
        i += tok.count < 4 ? 3 : DAYS[found]!.length;
        break;
      }
      case 'a': {
        const ap = s.slice(i, i + 2).toUpperCase();
        if (ap === 'AM') pm = 0;
        else if (ap === 'PM') pm = 1;
        else return NaN;
        i += 2;
        break;
      }
      case 'G': {
        const m = /^(AD|BC|Anno Domini|Before Christ)/.exec(s.slice(i));
        if (!m) return NaN;
        i += m[0].length;
        break;
      }
      case 'X':
      case 'x':
      case 'Z':
      case 'O': {
        const m = /^(?:GMT|UTC)?(?:(Z)|([+-])(\d{1,2})(?::?(\d{2}))?)/.exec(s.slice(i));
        if (!m || (m[0] === '' )) {
          if (s.startsWith('GMT', i) || s.startsWith('UTC', i)) {
            i += 3;
            PARSED.hadZone = true;
            break;
          }
          return NaN;
        }
        i += m[0].length;
        if (!m[1]) offset = (m[2] === '-' ? -1 : 1) * (Number(m[3]) * MS_HOUR + (m[4] ? Number(m[4]) : 0) * MS_MINUTE);
        PARSED.hadZone = true;
        break;
      }
      case 'z':
      case 'V': {
        const m = /^[A-Za-z][A-Za-z0-9_/+-]*/.exec(s.slice(i));
        if (!m) return NaN;
        zoneWall = m[0];
        i += m[0].length;
        PARSED.hadZone = true;
        break;
      }
      default:
        return NaN;
    }
  }
  while (i < n && s.charCodeAt(i) <= 32) i++;
  if (i !== n) return NaN;
  if (h12 >= 0) h = h12 + (pm === 1 ? 12 : 0);
  else if (pm === 1 && h < 12) h += 12;
  let days: number;
  if (doy > 0) {
    days = daysFromCivil(y, 1, 1) + doy - 1;
  } else {
    if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return NaN;
    days = daysFromCivil(y, mo, d);
  }
  if (h > 23 || mi > 59 || sec > 59) return NaN;
  const wall = days * MS_DAY + h * MS_HOUR + mi * MS_MINUTE + sec * MS_SECOND + ms;
  if (zoneWall !== undefined) {
    try {
      return getZone(zoneWall).fromWall(wall);
    } catch {
      return NaN;
    }
  }
  return wall - offset;
}

function matchName(s: string, i: number, names: readonly string[], short: boolean): number {
  const rest = s.slice(i, i + 10).toLowerCase();
  for (let k = 0; k < names.length; k++) {
    const nm = short ? names[k]!.slice(0, 3).toLowerCase() : names[k]!.toLowerCase();
    if (rest.startsWith(nm)) return k;
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// Units

export type Unit = 'MILLISECOND' | 'SECOND' | 'MINUTE' | 'HOUR' | 'DAY' | 'WEEK' | 'MONTH' | 'QUARTER' | 'YEAR';

/** FLOOR(wall TO unit). Weeks start on Sunday, as in Calcite/Flink. */
export function floorTo(wall: number, unit: Unit): number {
  switch (unit) {
    case 'MILLISECOND':
      return Math.floor(wall);
    case 'SECOND':
      return Math.floor(wall / MS_SECOND) * MS_SECOND;
    case 'MINUTE':
      return Math.floor(wall / MS_MINUTE) * MS_MINUTE;
    case 'HOUR':
      return Math.floor(wall / MS_HOUR) * MS_HOUR;
    case 'DAY':
      return Math.floor(wall / MS_DAY) * MS_DAY;
    case 'WEEK': {
      const days = Math.floor(wall / MS_DAY);
      const dow = (((days + 4) % 7) + 7) % 7; // 0 = Sunday
      return (days - dow) * MS_DAY;
    }
    case 'MONTH':
      civil(Math.floor(wall / MS_DAY));
      return daysFromCivil(C.y, C.m, 1) * MS_DAY;
    case 'QUARTER':
      civil(Math.floor(wall / MS_DAY));
      return daysFromCivil(C.y, C.m - ((C.m - 1) % 3), 1) * MS_DAY;
    case 'YEAR':
      civil(Math.floor(wall / MS_DAY));
      return daysFromCivil(C.y, 1, 1) * MS_DAY;
    default:
      return wall;
  }
}

/** CEIL(wall TO unit): wall itself when already on a boundary, else the next boundary. */
export function ceilTo(wall: number, unit: Unit): number {
  const f = floorTo(wall, unit);
  if (f === wall) return wall;
  switch (unit) {
    case 'MILLISECOND':
      return f + 1;
    case 'SECOND':
      return f + MS_SECOND;
    case 'MINUTE':
      return f + MS_MINUTE;
    case 'HOUR':
      return f + MS_HOUR;
    case 'DAY':
      return f + MS_DAY;
    case 'WEEK':
      return f + 7 * MS_DAY;
    case 'MONTH':
    case 'QUARTER':
    case 'YEAR': {
      civil(Math.floor(f / MS_DAY));
      const step = unit === 'MONTH' ? 1 : unit === 'QUARTER' ? 3 : 12;
      const m0 = C.m - 1 + step;
      return daysFromCivil(C.y + Math.floor(m0 / 12), (m0 % 12) + 1, 1) * MS_DAY;
    }
    default:
      return wall;
  }
}

export type Field = 'YEAR' | 'QUARTER' | 'MONTH' | 'WEEK' | 'DAYOFYEAR' | 'DAYOFMONTH' | 'DAYOFWEEK' | 'HOUR' | 'MINUTE' | 'SECOND' | 'MILLISECOND';

/** A calendar field of a wall clock. DAYOFWEEK: 1 = Sunday .. 7 = Saturday; WEEK: ISO week number. */
export function extractField(wall: number, field: Field): number {
  const days = Math.floor(wall / MS_DAY);
  const msOfDay = Math.floor(wall - days * MS_DAY);
  switch (field) {
    case 'YEAR':
      civil(days);
      return C.y;
    case 'QUARTER':
      civil(days);
      return Math.floor((C.m - 1) / 3) + 1;
    case 'MONTH':
      civil(days);
      return C.m;
    case 'WEEK':
      return isoWeek(days);
    case 'DAYOFYEAR':
      civil(days);
      return days - daysFromCivil(C.y, 1, 1) + 1;
    case 'DAYOFMONTH':
      civil(days);
      return C.d;
    case 'DAYOFWEEK':
      return ((((days + 4) % 7) + 7) % 7) + 1;
    case 'HOUR':
      return Math.floor(msOfDay / MS_HOUR);
    case 'MINUTE':
      return Math.floor(msOfDay / MS_MINUTE) % 60;
    case 'SECOND':
      return Math.floor(msOfDay / MS_SECOND) % 60;
    case 'MILLISECOND':
      return msOfDay % 1000;
    default:
      return 0;
  }
}
