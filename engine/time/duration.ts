const UNITS: Readonly<Record<string, number>> = {
  ms: 1, milli: 1, millis: 1, millisecond: 1, milliseconds: 1,
  s: 1000, sec: 1000, secs: 1000, second: 1000, seconds: 1000,
  m: 60_000, min: 60_000, mins: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000,
};

/**
 * Flink's duration syntax — '5 s', '5s', '500 ms', '1 min', '2 h' — in milliseconds, or undefined when
 * the text is not a duration. A bare number counts in `bareUnitMs` (Flink: milliseconds). The one
 * parser for SET values, connector options and command-line flags; callers word their own errors.
 */
export function parseDuration(text: string | undefined, bareUnitMs = 1): number | undefined {
  if (text === undefined) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  if (!m) return undefined;
  const factor = m[2] === '' ? bareUnitMs : UNITS[m[2]!.toLowerCase()];
  return factor === undefined ? undefined : Number(m[1]) * factor;
}
