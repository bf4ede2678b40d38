// A stateless job (filter + projection) with parallel pipeline instances that also encode the sink's
// records (InstanceInit.encoding): the instances hand the job's thread finished Kafka keys and values
// instead of rows. Run at parallelism 1 and 2 into exactly-once Kafka sinks keyed by 'key.fields', over
// events with NULLs, non-ASCII text and malformed records: both read back (read_committed) as the same
// keys and values byte for byte, equal to DuckDB's answer, with the same counts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaClient, ProducerRecord } from '../../connectors/kafka/client.ts';
import { formatTs, rng } from '../../examples/weibo/generator.ts';
import type { JobInfo } from '../../jobs/api.ts';
import { BROKERS, produce, readAll, suffix, testClient } from '../support/kafka.ts';
import { Oracle, canon, multisetDiff } from '../support/oracle.ts';
import { startServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';

const PARTITIONS = 4;
const EVENTS = 20_000;
const TOPICS = ['weather', '天气 晴', 'emoji 🐼', 'a "quoted" \\ one', null];

let server: TestServer;
let client: KafkaClient;
let oracle: Oracle;
const topics: string[] = [];

beforeAll(async () => {
  client = testClient('weir-it-parallel-encoded');
  server = await startServer({ progressIntervalMs: 300 });
  oracle = await Oracle.create();
});

afterAll(async () => {
  await server?.close(true);
  for (const t of topics) await client?.deleteTopic(t).catch(() => undefined);
  await client?.close();
  oracle?.close();
});

describe('a filter + projection whose parallel instances encode the Kafka records', () => {
  it('parallelism 1 and 2 write the same keys and values, equal to DuckDB, exactly once', { timeout: 300_000 }, async () => {
    const s = suffix();
    const src = `it_par_enc_src_${s}`;
    topics.push(src);
    await client.createTopic(src, PARTITIONS);
    const r = rng(4711);
    const records: ProducerRecord[] = [];
    const rows: unknown[][] = [];
    let malformed = 0;
    const t0 = Date.UTC(2026, 10, 26, 4, 0, 0);
    for (let i = 0; i < EVENTS; i++) {
      const partition = i % PARTITIONS;
      if (r() < 0.004) {
        records.push({ topic: src, partition, key: null, value: Buffer.from(['{"uid": 1', 'null?', '{"uid": "x"}'][malformed++ % 3]!) });
      }
      const ev = { uid: 1 + Math.floor(r() * 500), topic: TOPICS[Math.floor(r() * TOPICS.length)]!, ts: formatTs(t0 + i * 37), att: r() < 0.1 ? null : Math.floor(r() * 100) };
      rows.push([ev.uid, ev.topic, ev.ts, ev.att]);
      records.push({ topic: src, partition, key: null, value: Buffer.from(JSON.stringify(ev)) });
    }
    await produce(client, records, 500);
    await oracle.load('enc_ev', [['uid', 'BIGINT'], ['topic', 'VARCHAR'], ['ts', 'VARCHAR'], ['att', 'INTEGER']], rows);

    const kafka = (topic: string, extra = '') => `'connector' = 'kafka', 'topic' = '${topic}', 'properties.bootstrap.servers' = '${BROKERS}', 'format' = 'json'${extra}`;
    const srcT = `par_enc_src_${s}`;
    const setup = await server.sql(`CREATE TABLE ${srcT} (uid BIGINT, topic STRING, ts TIMESTAMP(3), att INT)
WITH (${kafka(src, `, 'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset', 'properties.max.partition.fetch.bytes' = '16384'`)});`);
    expect(setup.status, setup.text).toBe(200);

    const out: Record<number, { keys: string[]; values: string[]; job: JobInfo }> = {};
    for (const parallelism of [1, 2]) {
      const topic = `it_par_enc_out_${parallelism}_${s}`;
      topics.push(topic);
      const res = await server.sql(`
CREATE TABLE enc_out_${parallelism}_${s} (uid BIGINT, topic STRING, ts TIMESTAMP(3), att2 INT, label STRING)
  WITH (${kafka(topic, `, 'sink.topic.partitions' = '3', 'key.format' = 'json', 'key.fields' = 'uid', 'sink.delivery-guarantee' = 'exactly-once'`)});
SET 'parallelism.default' = '${parallelism}';
SET 'pipeline.name' = 'par-enc-${parallelism}-${s}';
INSERT INTO enc_out_${parallelism}_${s}
SELECT uid, UPPER(topic), ts, att * 2, CONCAT(COALESCE(topic, '∅'), '/', CAST(uid AS STRING)) FROM ${srcT} WHERE att IS NULL OR att >= 30;`);
      expect(res.status, res.text).toBe(200);
      const id = (res.body.results as { jobId?: string }[]).at(-1)!.jobId!;
      const job = await server.waitForState(id, ['FINISHED'], 200_000);
      expect(job.metrics.parallelism).toBe(parallelism);
      const got = await readAll(client, topic, 60_000, 'read_committed');
      out[parallelism] = { keys: got.map((x) => x.key!.toString('utf8')), values: got.map((x) => x.value!.toString('utf8')), job };
    }

    // The same records, byte for byte (order differs: partitions and instances interleave).
    const pairs = (p: number) => out[p]!.keys.map((k, i) => `${k}\t${out[p]!.values[i]}`).sort();
    expect(pairs(2)).toEqual(pairs(1));
    const want = await oracle.query(`SELECT uid, upper(topic) AS topic, ts, att * 2 AS att2, concat(coalesce(topic, '∅'), '/', CAST(uid AS VARCHAR)) AS label
      FROM enc_ev WHERE att IS NULL OR att >= 30`);
    const cols = ['uid', 'topic', 'ts', 'att2', 'label'];
    const got = out[2]!.values.map((v) => canon(JSON.parse(v) as Record<string, unknown>, cols));
    const d = multisetDiff(got, want.map((w) => canon(w, cols)));
    expect({ missing: d.missing.slice(0, 5), extra: d.extra.slice(0, 5), n: got.length }).toEqual({ missing: [], extra: [], n: want.length });
    for (const [i, k] of out[2]!.keys.entries()) expect(JSON.parse(k)).toEqual({ uid: (JSON.parse(out[2]!.values[i]!) as { uid: number }).uid });
    for (const p of [1, 2]) {
      const m = out[p]!.job.metrics;
      expect(m.recordsOut, `p=${p}: recordsOut`).toBe(want.length);
      expect(m.recordsIn, `p=${p}: recordsIn`).toBe(records.length);
      expect(m.recordsBad, `p=${p}: recordsBad`).toBe(malformed);
    }
  });
});
