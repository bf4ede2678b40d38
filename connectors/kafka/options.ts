import type { Column } from '../../engine/plan/plan.ts';
import { OptionError } from '../types.ts';

import { parseDeliveryOptions } from './delivery.ts';
import type { DeliveryOptions } from './delivery.ts';

export type StartupMode = 'earliest-offset' | 'latest-offset' | 'group-offsets' | 'timestamp' | 'specific-offsets';

/** Kafka table options, checked once (Flink's names and defaults). */
export interface KafkaOptions extends DeliveryOptions {
  readonly topic: string;
  readonly brokers: string | undefined;
  readonly properties: Readonly<Record<string, string>>;
  readonly groupId: string | undefined;
  readonly startupMode: StartupMode;
  readonly startupTimestamp: number | undefined;
  readonly specificOffsets: ReadonlyMap<number, number>;
  readonly bounded: boolean;
  readonly keyFields: readonly string[];
  readonly keyFormat: string | undefined;
  readonly ignoreParseErrors: boolean;
  readonly timestampStandard: 'SQL' | 'ISO-8601';
  readonly deadLetterTopic: string | undefined;
  readonly isolationLevel: 'read_committed' | 'read_uncommitted';
}

const KNOWN = new Set([
  'connector', 'topic', 'format', 'value.format', 'key.format', 'key.fields', 'value.fields-include',
  'scan.startup.mode', 'scan.startup.timestamp-millis', 'scan.startup.specific-offsets', 'scan.bounded.mode',
  'json.ignore-parse-errors', 'json.fail-on-missing-field', 'json.timestamp-format.standard', 'json.encode.ignore-null-fields',
  'key.json.ignore-parse-errors', 'scan.watermark.idle-timeout', 'dead-letter.topic', 'sink.topic.partitions',
  'sink.delivery-guarantee', 'sink.transactional-id-prefix', 'sink.partitioner', 'scan.topic-partition-discovery.interval',
]);

export function parseKafkaOptions(o: Readonly<Record<string, string>>, columns: readonly Column[]): KafkaOptions {
  for (const k of Object.keys(o)) {
    if (!KNOWN.has(k) && !k.startsWith('properties.')) {
      throw new OptionError(k, `Unsupported option '${k}' for the kafka connector (supported: ${[...KNOWN].join(', ')}, properties.*)`);
    }
  }
  const topic = o['topic'];
  if (!topic) throw new OptionError(undefined, "The kafka connector needs a 'topic' option");
  if (topic.includes(';')) throw new OptionError('topic', 'Reading several topics from one table is not supported yet');
  const format = o['format'] ?? o['value.format'];
  if (!format) throw new OptionError(undefined, "The kafka connector needs a 'format' option ('format' = 'json')");
  if (format !== 'json') throw new OptionError(o['format'] ? 'format' : 'value.format', `Format '${format}' is not supported (supported: json)`);
  const mode = (o['scan.startup.mode'] ?? 'group-offsets') as StartupMode;
  if (!['earliest-offset', 'latest-offset', 'group-offsets', 'timestamp', 'specific-offsets'].includes(mode)) {
    throw new OptionError('scan.startup.mode', `Invalid 'scan.startup.mode' = '${mode}' (earliest-offset, latest-offset, group-offsets, timestamp, specific-offsets)`);
  }
  let startupTimestamp: number | undefined;
  if (mode === 'timestamp') {
    startupTimestamp = Number(o['scan.startup.timestamp-millis']);
    if (!Number.isFinite(startupTimestamp)) throw new OptionError('scan.startup.mode', "'scan.startup.mode' = 'timestamp' needs 'scan.startup.timestamp-millis'");
  }
  const specificOffsets = new Map<number, number>();
  if (mode === 'specific-offsets') {
    const spec = o['scan.startup.specific-offsets'];
    if (!spec) throw new OptionError('scan.startup.mode', "'scan.startup.mode' = 'specific-offsets' needs 'scan.startup.specific-offsets' ('partition:0,offset:42;partition:1,offset:300')");
    for (const part of spec.split(';').filter(Boolean)) {
      const m = /^\s*partition\s*:\s*(\d+)\s*,\s*offset\s*:\s*(\d+)\s*$/.exec(part);
      if (!m) throw new OptionError('scan.startup.specific-offsets', `Invalid specific offset '${part}' (expected 'partition:0,offset:42')`);
      specificOffsets.set(Number(m[1]), Number(m[2]));
    }
  }
  const boundedMode = o['scan.bounded.mode'] ?? 'unbounded';
  if (boundedMode !== 'unbounded' && boundedMode !== 'latest-offset') {
    throw new OptionError('scan.bounded.mode', `'scan.bounded.mode' = '${boundedMode}' is not supported (latest-offset or unbounded)`);
  }
  const keyFields = (o['key.fields'] ?? '').split(';').map((s) => s.trim()).filter(Boolean);
  for (const k of keyFields) {
    if (!columns.some((c) => c.name === k)) throw new OptionError('key.fields', `'key.fields' names '${k}', which is not a column`);
  }
  if (keyFields.length > 0 && !o['key.format']) throw new OptionError('key.fields', "'key.fields' needs 'key.format' ('json')");
  if (o['key.format'] && o['key.format'] !== 'json' && o['key.format'] !== 'raw') throw new OptionError('key.format', `'key.format' = '${o['key.format']}' is not supported (json, raw)`);
  const bool = (k: string): boolean => {
    const v = o[k];
    if (v === undefined) return false;
    if (v !== 'true' && v !== 'false') throw new OptionError(k, `'${k}' must be 'true' or 'false'`);
    return v === 'true';
  };
  const tsStd = o['json.timestamp-format.standard'] ?? 'SQL';
  if (tsStd !== 'SQL' && tsStd !== 'ISO-8601') throw new OptionError('json.timestamp-format.standard', "'json.timestamp-format.standard' must be 'SQL' or 'ISO-8601'");
  const delivery = parseDeliveryOptions(o);
  const properties: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) if (k.startsWith('properties.')) properties[k.slice('properties.'.length)] = v;
  const iso = properties['isolation.level'] ?? 'read_uncommitted';
  return {
    topic,
    brokers: properties['bootstrap.servers'],
    properties,
    groupId: properties['group.id'],
    startupMode: mode,
    startupTimestamp,
    specificOffsets,
    bounded: boundedMode === 'latest-offset',
    keyFields,
    keyFormat: o['key.format'],
    ignoreParseErrors: bool('json.ignore-parse-errors'),
    timestampStandard: tsStd,
    deadLetterTopic: o['dead-letter.topic'],
    ...delivery,
    isolationLevel: iso === 'read_committed' ? 'read_committed' : 'read_uncommitted',
  };
}
