import type { Column } from '../../engine/plan/plan.ts';
import { parseDeliveryOptions } from '../kafka/delivery.ts';
import type { DeliveryOptions } from '../kafka/delivery.ts';
import type { TimestampStandard } from '../formats/json.ts';
import { OptionError } from '../types.ts';

export type FieldsInclude = 'ALL' | 'EXCEPT_KEY';

/** JSON encoding settings of the key or the value ('key.json.*', 'value.json.*'). */
export interface JsonPartOptions {
  readonly timestampStandard: TimestampStandard;
  readonly ignoreNullFields: boolean;
}

/** Options of an upsert-kafka table, checked once (Flink's names and defaults). */
export interface UpsertKafkaOptions extends DeliveryOptions {
  readonly topic: string;
  readonly brokers: string | undefined;
  /** Kafka client configs ('properties.*' without the prefix). */
  readonly properties: Readonly<Record<string, string>>;
  /** Indexes of the PRIMARY KEY columns in the table's physical columns, in PRIMARY KEY order. */
  readonly keyIndexes: readonly number[];
  readonly key: JsonPartOptions;
  readonly value: JsonPartOptions;
  readonly fieldsInclude: FieldsInclude;
}

const KNOWN = new Set([
  'connector', 'topic', 'key.format', 'value.format', 'value.fields-include',
  'sink.delivery-guarantee', 'sink.transactional-id-prefix', 'sink.topic.partitions',
]);

/**
 * JSON format options that mean something to an encoder. The decoding ones are accepted too (Flink does,
 * they are format options) but have no effect: upsert-kafka is a sink only here.
 */
const JSON_OPTIONS = new Set(['timestamp-format.standard', 'encode.ignore-null-fields', 'ignore-parse-errors', 'fail-on-missing-field']);

const SUPPORTED = `${[...KNOWN].join(', ')}, key.json.*, value.json.* (${[...JSON_OPTIONS].join(', ')}), properties.*`;

/**
 * Checks an upsert-kafka table: its options and its PRIMARY KEY, which is required (the Kafka record
 * key is the JSON of the key columns; a delete is a tombstone for that key).
 */
export function parseUpsertKafkaOptions(
  o: Readonly<Record<string, string>>,
  columns: readonly Column[],
  primaryKey: readonly string[] | undefined,
): UpsertKafkaOptions {
  for (const k of Object.keys(o)) {
    if (KNOWN.has(k) || k.startsWith('properties.')) continue;
    const part = /^(key|value)\.json\.(.+)$/.exec(k);
    if (part && JSON_OPTIONS.has(part[2]!)) continue;
    throw new OptionError(k, `Unsupported option '${k}' for the upsert-kafka connector (supported: ${SUPPORTED})`);
  }
  const topic = o['topic'];
  if (!topic) throw new OptionError(undefined, "The upsert-kafka connector needs a 'topic' option");
  if (topic.includes(';')) throw new OptionError('topic', 'The upsert-kafka connector writes one topic; a topic list is not supported');
  for (const part of ['key', 'value'] as const) {
    const f = o[`${part}.format`];
    if (!f) throw new OptionError(undefined, `The upsert-kafka connector needs '${part}.format' ('${part}.format' = 'json')`);
    if (f !== 'json') throw new OptionError(`${part}.format`, `'${part}.format' = '${f}' is not supported (supported: json)`);
  }
  if (!primaryKey || primaryKey.length === 0) {
    throw new OptionError(undefined, "The upsert-kafka connector needs a PRIMARY KEY: add 'PRIMARY KEY (col, ...) NOT ENFORCED' to the table's columns");
  }
  const keyIndexes: number[] = [];
  for (const k of primaryKey) {
    const i = columns.findIndex((c) => c.name.toLowerCase() === k.toLowerCase());
    if (i < 0) throw new OptionError(undefined, `PRIMARY KEY column '${k}' is not a physical column of the table (columns: ${columns.map((c) => c.name).join(', ')})`);
    if (keyIndexes.includes(i)) throw new OptionError(undefined, `PRIMARY KEY names column '${k}' twice`);
    keyIndexes.push(i);
  }
  const include = (o['value.fields-include'] ?? 'ALL').toUpperCase();
  if (include !== 'ALL' && include !== 'EXCEPT_KEY') {
    throw new OptionError('value.fields-include', `Invalid 'value.fields-include' = '${o['value.fields-include']}' (ALL, EXCEPT_KEY)`);
  }
  if (include === 'EXCEPT_KEY' && keyIndexes.length === columns.length) {
    throw new OptionError('value.fields-include', "'value.fields-include' = 'EXCEPT_KEY' leaves no column for the value: every column is in the PRIMARY KEY");
  }
  const delivery = parseDeliveryOptions(o);
  const properties: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) if (k.startsWith('properties.')) properties[k.slice('properties.'.length)] = v;
  return {
    topic,
    brokers: properties['bootstrap.servers'],
    properties,
    keyIndexes,
    key: jsonPart(o, 'key'),
    value: jsonPart(o, 'value'),
    fieldsInclude: include,
    ...delivery,
  };
}

function jsonPart(o: Readonly<Record<string, string>>, part: 'key' | 'value'): JsonPartOptions {
  const std = o[`${part}.json.timestamp-format.standard`] ?? 'SQL';
  if (std !== 'SQL' && std !== 'ISO-8601') {
    throw new OptionError(`${part}.json.timestamp-format.standard`, `'${part}.json.timestamp-format.standard' must be 'SQL' or 'ISO-8601'`);
  }
  const ign = `${part}.json.encode.ignore-null-fields`;
  const v = o[ign] ?? 'false';
  if (v !== 'true' && v !== 'false') throw new OptionError(ign, `'${ign}' must be 'true' or 'false'`);
  for (const b of [`${part}.json.ignore-parse-errors`, `${part}.json.fail-on-missing-field`]) {
    if (o[b] !== undefined && o[b] !== 'true' && o[b] !== 'false') throw new OptionError(b, `'${b}' must be 'true' or 'false'`);
  }
  return { timestampStandard: std, ignoreNullFields: v === 'true' };
}
