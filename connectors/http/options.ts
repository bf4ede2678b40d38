import { parseDuration as parseDurationText } from '../../engine/time/duration.ts';
import { OptionError } from '../types.ts';

export interface HttpOptions {
  readonly url: string;
  readonly intervalMs: number;
  /** Property names from the response's root to the array of items ([] : the root is the array). */
  readonly path: readonly string[];
  /** Item field whose value identifies an item: items seen before are dropped. */
  readonly key: string | undefined;
  /** How many recent keys are remembered (and checkpointed) for dropping repeats. */
  readonly keyMemory: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
}

const KNOWN = new Set(['connector', 'url', 'interval', 'json.path', 'key', 'key.memory', 'headers', 'timeout', 'format']);

/** '5 s', '500 ms', '1 min', or a bare number of seconds. */
export function parseDuration(option: string, v: string): number {
  const ms = parseDurationText(v, 1000);
  if (ms === undefined) throw new OptionError(option, `'${option}' must be a duration like '5 s', '500 ms' or '1 min', not '${v}'`);
  if (!(ms >= 1)) throw new OptionError(option, `'${option}' must be at least 1 ms`);
  return ms;
}

/** '$.data.items' (JSONPath's dotted subset) or 'data.items'; '$' is the root. */
export function parseJsonPath(v: string): string[] {
  const s = v.trim().replace(/^\$\.?/, '');
  if (s === '') return [];
  const parts = s.split('.');
  if (parts.some((p) => p === '' || /[[\]*]/.test(p))) throw new OptionError('json.path', `'json.path' must be a dotted path like '$.data.items', not '${v}'`);
  return parts;
}

/** 'Authorization: Bearer x; X-A: b' */
export function parseHeaders(v: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of v.split(';')) {
    if (part.trim() === '') continue;
    const i = part.indexOf(':');
    const name = part.slice(0, i).trim();
    if (i < 0 || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new OptionError('headers', `'headers' must be 'Name: value; Other: value', not '${part.trim()}'`);
    out[name] = part.slice(i + 1).trim();
  }
  return out;
}

export function parseHttpOptions(o: Readonly<Record<string, string>>): HttpOptions {
  for (const k of Object.keys(o)) if (!KNOWN.has(k)) throw new OptionError(k, `Unknown option '${k}' for the http connector (known: ${[...KNOWN].filter((x) => x !== 'connector').join(', ')})`);
  const url = o['url'];
  if (!url) throw new OptionError('url', "'url' (the JSON API to poll) is required");
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new OptionError('url', `'url' is not a URL: '${url}'`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new OptionError('url', `'url' must be http:// or https://, not '${parsed.protocol}'`);
  if (o['format'] !== undefined && o['format'] !== 'json') throw new OptionError('format', "The http connector reads JSON ('format' = 'json')");
  const keyMemory = o['key.memory'] === undefined ? 1000 : Number(o['key.memory']);
  if (!Number.isInteger(keyMemory) || keyMemory < 1 || keyMemory > 100_000) throw new OptionError('key.memory', "'key.memory' must be an integer from 1 to 100000");
  return {
    url,
    intervalMs: parseDuration('interval', o['interval'] ?? '5 s'),
    path: parseJsonPath(o['json.path'] ?? '$'),
    key: o['key'] || undefined,
    keyMemory,
    headers: parseHeaders(o['headers'] ?? ''),
    timeoutMs: parseDuration('timeout', o['timeout'] ?? '30 s'),
  };
}
