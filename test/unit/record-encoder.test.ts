// The packed record encoder of parallel instances (connectors/formats/record-encoder.ts): every record's
// key and value bytes equal what the Kafka sink's own per-row encoders give, for NULLs, non-ASCII text
// (CJK, emoji, lone surrogates), escapes, all value types, a buffer that must grow, and no rows.
import { describe, expect, it } from 'vitest';
import { createJsonEncoder, createKeyEncoder } from '../../connectors/formats/json.ts';
import type { JsonEncoderOptions } from '../../connectors/formats/json.ts';
import { createRecordEncoder } from '../../connectors/formats/record-encoder.ts';
import type { Column } from '../../engine/plan/plan.ts';
import { T } from '../../engine/plan/types.ts';
import { rng } from '../support/rng.ts';

const columns: Column[] = [
  { name: 'id', type: T.bigint },
  { name: 'text', type: T.string },
  { name: 'ts', type: T.timestamp },
  { name: 'x', type: T.double },
  { name: 'ok', type: T.boolean },
  { name: 'tags', type: { kind: 'ARRAY', element: T.string } as Column['type'] },
];

const TEXTS = ['', 'plain', '天气 晴', 'emoji 🐼🐼', 'quote " and \\ backslash', 'ctrl \u0001\n\t', 'lone \ud800 surrogate', 'x'.repeat(5000)];

function rows(n: number, seed: number): unknown[][] {
  const r = rng(seed);
  return Array.from({ length: n }, (_, i) => [
    r() < 0.1 ? null : i * 7 - 1000,
    r() < 0.1 ? null : TEXTS[Math.floor(r() * TEXTS.length)]!,
    r() < 0.1 ? null : 1_764_115_200_000 + Math.floor(r() * 1e9),
    r() < 0.1 ? null : (r() - 0.5) * 1e6,
    r() < 0.1 ? null : r() < 0.5,
    r() < 0.1 ? null : [TEXTS[Math.floor(r() * TEXTS.length)]!, null],
  ]);
}

describe('packed record encoder', () => {
  for (const [label, options, keyFields] of [
    ['keyed by id and text', { timestampStandard: 'SQL' }, [0, 1]],
    ['no key, ISO timestamps, NULL fields left out', { timestampStandard: 'ISO-8601', ignoreNullFields: true }, []],
  ] as [string, JsonEncoderOptions, number[]][]) {
    it(`writes the sink's own bytes for every record (${label})`, () => {
      const input = rows(3000, label.length);
      const enc = createRecordEncoder({ format: 'json', columns, options, keyFields })(input);
      const value = createJsonEncoder(columns, options);
      const key = keyFields.length > 0 ? createKeyEncoder(columns, keyFields, options) : undefined;
      const bytes = Buffer.from(enc.bytes.buffer, enc.bytes.byteOffset, enc.bytes.byteLength);
      expect(enc.count).toBe(input.length);
      for (let i = 0; i < input.length; i++) {
        const v = bytes.subarray(enc.valueStarts[i]!, enc.valueStarts[i]! + enc.valueLengths[i]!);
        expect(v.equals(value(input[i]!)), `value ${i}`).toBe(true);
        if (key) expect(bytes.subarray(enc.keyStarts[i]!, enc.keyStarts[i]! + enc.keyLengths[i]!).equals(key(input[i]!)), `key ${i}`).toBe(true);
        else expect(enc.keyLengths[i]).toBe(-1);
      }
      // The records lie back to back: nothing between or after them travels along.
      const last = input.length - 1;
      expect(enc.bytes.byteLength).toBe(enc.valueStarts[last]! + enc.valueLengths[last]!);
    });
  }

  it('encodes no rows into no records', () => {
    const enc = createRecordEncoder({ format: 'json', columns, options: { timestampStandard: 'SQL' }, keyFields: [0] })([]);
    expect(enc.count).toBe(0);
    expect(enc.bytes.byteLength).toBe(0);
  });
});
