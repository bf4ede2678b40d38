/**
 * JSON decoding speed with and without projection pushdown, over 1M microblog events (no Kafka):
 *   npx tsx bench/json-decode.ts [records]
 * Measures JSON.parse alone, the full decoder (JSON.parse, then all 11 columns converted), the scanners
 * reading all 11 columns (what a job that reads them all uses), and decoders that read only some
 * columns ('fields'): `time, loc` (what a windowed COUNT by city reads) and `uid, text, att`; each of
 * these also without the scanners of record shapes (json-template.ts), as WEIR_JSON_SHAPES=off runs jobs.
 */
import { microblogEvent } from './util.ts';
import { createJsonDecoder, createJsonParseDecoder } from '../connectors/formats/json.ts';
import type { JsonColumn } from '../connectors/formats/json.ts';
import { T } from '../engine/plan/types.ts';

const N = Number(process.argv[2] ?? 1_000_000);
const ROUNDS = 5;

const columns: JsonColumn[] = [
  { name: 'uid', type: T.bigint },
  { name: 'tid', type: T.bigint },
  { name: 'time', type: T.timestamp },
  { name: 'text', type: T.string },
  { name: 'loc', type: T.string },
  { name: 'type', type: T.string },
  { name: 'rt', type: T.boolean },
  { name: 'rtid', type: T.bigint },
  { name: 'ret', type: T.int },
  { name: 'mre', type: T.int },
  { name: 'att', type: T.int },
];

const only = (...names: string[]): boolean[] => columns.map((c) => names.includes(c.name));
const opts = { ignoreParseErrors: false, timestampStandard: 'SQL' } as const;

const records: Buffer[] = Array.from({ length: N }, (_, i) => Buffer.from(microblogEvent(i)));
const bytes = records.reduce((s, b) => s + b.length, 0);

/** A decoder built with WEIR_JSON_SHAPES=off: the projected scanner without the scanners of record shapes. */
function withoutShapes(make: () => (b: Buffer) => unknown): (b: Buffer) => unknown {
  const before = process.env['WEIR_JSON_SHAPES'];
  process.env['WEIR_JSON_SHAPES'] = 'off';
  try {
    return make();
  } finally {
    if (before === undefined) delete process.env['WEIR_JSON_SHAPES'];
    else process.env['WEIR_JSON_SHAPES'] = before;
  }
}

const cases: [string, (b: Buffer) => unknown][] = [
  ['JSON.parse only', (b) => JSON.parse(b.toString('utf8'))],
  ['full decoder (11 of 11)', createJsonParseDecoder(columns, opts)],
  ['all 11 read (scanners)', createJsonDecoder(columns, opts)],
  ['  all 11 without shapes', withoutShapes(() => createJsonDecoder(columns, opts))],
  ['fields time,loc (2 of 11)', createJsonDecoder(columns, { ...opts, fields: only('time', 'loc') })],
  ['  time,loc without shapes', withoutShapes(() => createJsonDecoder(columns, { ...opts, fields: only('time', 'loc') }))],
  ['fields uid,text,att (3 of 11)', createJsonDecoder(columns, { ...opts, fields: only('uid', 'text', 'att') })],
  ['  uid,text,att without shapes', withoutShapes(() => createJsonDecoder(columns, { ...opts, fields: only('uid', 'text', 'att') }))],
  ['no field read (0 of 11)', createJsonDecoder(columns, { ...opts, fields: only() })],
  ['  none read, without shapes', withoutShapes(() => createJsonDecoder(columns, { ...opts, fields: only() }))],
];

function run(fn: (b: Buffer) => unknown): number {
  let sink = 0;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) if (fn(records[i]!) !== null) sink++;
  const s = (performance.now() - t0) / 1000;
  if (sink !== N) throw new Error('a record was skipped');
  return N / s;
}

console.log(`${N} records, ${(bytes / N).toFixed(0)} bytes each; best of ${ROUNDS} rounds (records/s)`);
const best = new Map<string, number>();
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, fn] of cases) best.set(name, Math.max(best.get(name) ?? 0, run(fn)));
}
const base = best.get('full decoder (11 of 11)')!;
for (const [name] of cases) {
  const rate = best.get(name)!;
  console.log(`${name.padEnd(32)} ${Math.round(rate).toLocaleString('en-US').padStart(11)}/s  ${(rate / base).toFixed(2)}x full  ${((rate * bytes) / N / 1e6).toFixed(0)} MB/s`);
}
