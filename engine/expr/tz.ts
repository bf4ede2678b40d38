/**
 * Time zones for TIMESTAMP_LTZ: the offset of an IANA zone ('Asia/Shanghai') or a fixed offset
 * ('UTC', 'GMT+8', '+08:00') at an instant. Offsets come from Intl once per 15-minute slot and are
 * cached per zone, so a conversion in a hot path is a division, a compare and (rarely) a Map lookup.
 */

const SLOT_MS = 15 * 60_000;
const MAX_CACHE = 100_000;

export class Zone {
  readonly id: string;
  /** Fixed offset in millis, or undefined for zones with rules. */
  readonly fixed: number | undefined;
  private readonly dtf: Intl.DateTimeFormat | undefined;
  private readonly cache = new Map<number, number>();
  private lastSlot = Number.NaN;
  private lastOffset = 0;

  constructor(id: string, fixed: number | undefined, dtf: Intl.DateTimeFormat | undefined) {
    this.id = id;
    this.fixed = fixed;
    this.dtf = dtf;
  }

  get isUtc(): boolean {
    return this.fixed === 0;
  }

  /** Offset from UTC in millis at instant `ms` (local wall clock = ms + offset). */
  offset(ms: number): number {
    if (this.fixed !== undefined) return this.fixed;
    const slot = Math.floor(ms / SLOT_MS);
    if (slot === this.lastSlot) return this.lastOffset;
    let off = this.cache.get(slot);
    if (off === undefined) {
      off = this.compute(slot * SLOT_MS);
      if (this.cache.size >= MAX_CACHE) this.cache.clear();
      this.cache.set(slot, off);
    }
    this.lastSlot = slot;
    this.lastOffset = off;
    return off;
  }

  /** Local wall clock (as UTC millis) of instant `ms`. */
  toWall(ms: number): number {
    return ms + this.offset(ms);
  }

  /**
   * The instant whose local wall clock is `wall`, as java.time resolves it: in an overlap the earlier
   * offset (the earlier instant) wins; in a gap the time moves later by the length of the gap.
   */
  fromWall(wall: number): number {
    if (this.fixed !== undefined) return wall - this.fixed;
    const o1 = this.offset(wall - this.offset(wall));
    const guess = wall - o1;
    const o2 = this.offset(guess);
    return o1 === o2 ? guess : wall - Math.min(o1, o2);
  }

  private compute(ms: number): number {
    const parts = this.dtf!.formatToParts(new Date(ms));
    let y = 0, mo = 1, d = 1, h = 0, mi = 0, s = 0;
    let bc = false;
    for (const p of parts) {
      switch (p.type) {
        case 'year': y = Number(p.value); break;
        case 'month': mo = Number(p.value); break;
        case 'day': d = Number(p.value); break;
        case 'hour': h = Number(p.value) % 24; break;
        case 'minute': mi = Number(p.value); break;
        case 'second': s = Number(p.value); break;
        case 'era': bc = p.value === 'B' || p.value.startsWith('B'); break;
        default: break;
      }
    }
    if (bc) y = 1 - y;
    const dt = new Date(0);
    dt.setUTCFullYear(y, mo - 1, d);
    dt.setUTCHours(h, mi, s, 0);
    const base = ms - (((ms % 1000) + 1000) % 1000);
    return dt.getTime() - base;
  }
}

const zones = new Map<string, Zone>();

/** Parses a fixed offset zone id: UTC, GMT, Z, UTC+8, GMT-03:30, +08:00, -0530. */
function fixedOffset(id: string): number | undefined {
  const u = id.trim().toUpperCase();
  if (u === 'UTC' || u === 'GMT' || u === 'Z' || u === 'UT' || u === 'ETC/UTC' || u === 'ETC/GMT' || u === 'ZULU' || u === 'UCT') return 0;
  const m = /^(?:UTC|GMT|UT)?([+-])(\d{1,2})(?::?(\d{2}))?$/.exec(u);
  if (!m) return undefined;
  const h = Number(m[2]);
  const mi = m[3] ? Number(m[3]) : 0;
  if (h > 18 || mi > 59) return undefined;
  return (m[1] === '-' ? -1 : 1) * (h * 3_600_000 + mi * 60_000);
}

/**
 * The zone named `id`, cached. Throws a RangeError naming the zone when it is unknown; the caller
 * turns that into the user's error.
 */
export function getZone(id: string): Zone {
  let z = zones.get(id);
  if (z) return z;
  const fixed = fixedOffset(id);
  if (fixed !== undefined) {
    z = new Zone(id, fixed, undefined);
  } else {
    let dtf: Intl.DateTimeFormat;
    try {
      dtf = new Intl.DateTimeFormat('en-US', {
        timeZone: id,
        hourCycle: 'h23',
        era: 'short',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw new RangeError(`Unknown time zone '${id}'`);
    }
    z = new Zone(id, undefined, dtf);
  }
  zones.set(id, z);
  return z;
}

export function isValidZone(id: string): boolean {
  try {
    getZone(id);
    return true;
  } catch {
    return false;
  }
}

export const UTC: Zone = getZone('UTC');
