// Dead letters exactly once across a crash: a bounded exactly-once job with bad records mixed into its
// input is killed with SIGKILL (the real `weir server` in a child process) before its first checkpoint,
// so the restarted job reads everything again, including the bad records it had already dead-lettered.
// At the end the dead-letter topic holds each bad record exactly once, with its origin, and the sink
// (read_committed) holds exactly the expected windows of the good records.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaClient, ProducerRecord } from '../../connectors/kafka/client.ts';
import { formatTs, rng } from '../../examples/weibo/generator.ts';
import { produce, readAll, readJson, suffix, testClient, waitFor } from '../support/kafka.ts';
import { multisetDiff } from '../support/oracle.ts';
import { ServerProcess } from '../support/server-process.ts';

const PARTITIONS = 3;
const EVENTS = 30_000;
const WINDOW_MS = 10_000;

let client: KafkaClient;
let dataDir: string;
let server: ServerProcess | undefined;
const topics: string[] = [];

beforeAll(() => {
  client = testClient('weir-it-dead-letters');
  dataDir = mkdtempSync(join(tmpdir(), 'weir-dlq-'));
});

afterAll(async () => {
  await server?.kill('SIGKILL');
  for (const t of topics) await client?.deleteTopic(t).catch(() => undefined);
  await client?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** ~2% bad records of every kind the policy skips; returns where each bad one lands (partition:offset). */
function generate(topic: string): { records: ProducerRecord[]; good: { k: string; v: number; ts: number }[]; bad: Set<string> } {
  const r = rng(31);
  const clocks = Array.from({ length: PARTITIONS }, (_, p) => Date.UTC(2026, 0, 1) + p * 700);
  const next = Array.from({ length: PARTITIONS }, () => 0);
  const records: ProducerRecord[] = [];
  const good: { k: string; v: number; ts: number }[] = [];
  const bad = new Set<string>();
  for (let i = 0; i < EVENTS; i++) {
    const p = i % PARTITIONS;
    const offset = next[p]!++;
    clocks[p]! += Math.floor(r() * 20);
    const roll = r();
    let value: Buffer;
    if (roll < 0.02) {
      const kind = Math.floor(r() * 4);
      value =
        kind === 0 ? Buffer.from('{"k": "broken",')
        : kind === 1 ? Buffer.from('[1, 2, 3]')
        : kind === 2 ? Buffer.from(JSON.stringify({ k: 'typed', v: 'not a number', ts: formatTs(clocks[p]!) }))
        : Buffer.from([0xff, 0xfe, Math.floor(r() * 256), Math.floor(r() * 256)]);
      bad.add(`${p}:${offset}`);
    } else {
      const ev = { k: `k${Math.floor(r() * 5)}`, v: Math.floor(r() * 1000), ts: clocks[p]! - Math.floor(r() * 1500) };
      good.push(ev);
      value = Buffer.from(JSON.stringify({ k: ev.k, v: ev.v, ts: formatTs(ev.ts) }));
    }
    records.push({ topic, partition: p, key: null, value });
  }
  return { records, good, bad };
}

function expected(evs: readonly { k: string; v: number; ts: number }[]): string[] {
  const g = new Map<string, { n: number; s: number }>();
  for (const e of evs) {
    const key = `${formatTs(Math.floor(e.ts / WINDOW_MS) * WINDOW_MS)} | ${e.k}`;
    const a = g.get(key) ?? { n: 0, s: 0 };
    a.n++;
    a.s += e.v;
    g.set(key, a);
  }
  return [...g].map(([k, a]) => `${k} | ${a.n} | ${a.s}`);
}

describe('dead letters', () => {
  it('are written exactly once per bad record through a SIGKILL and a replay from the start', async () => {
    const src = `dlq_src_${suffix()}`;
    const out = `dlq_out_${suffix()}`;
    const dlq = `dlq_dead_${suffix()}`;
    topics.push(src, out, dlq);
    await client.createTopic(src, PARTITIONS);
    const { records, good, bad } = generate(src);
    await produce(client, records, 300);

    server = new ServerProcess(dataDir);
    await server.start();
    await server.call('POST', '/v1/statements', {
      sql: `
CREATE TABLE s (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
  WITH ('connector' = 'kafka', 'topic' = '${src}', 'format' = 'json', 'scan.startup.mode' = 'earliest-offset',
        'scan.bounded.mode' = 'latest-offset', 'dead-letter.topic' = '${dlq}',
        'properties.max.partition.fetch.bytes' = '2048', 'properties.fetch.max.bytes' = '2048');
CREATE TABLE o (ws TIMESTAMP(3), k STRING, n BIGINT, total INT)
  WITH ('connector' = 'kafka', 'topic' = '${out}', 'format' = 'json', 'sink.delivery-guarantee' = 'exactly-once');
-- No checkpoint before the kill: the restarted job reads everything again.
SET 'execution.checkpointing.interval' = '10 min';
INSERT INTO o SELECT window_start, k, COUNT(*), SUM(v) FROM TABLE(TUMBLE(TABLE s, DESCRIPTOR(ts), INTERVAL '10' SECOND)) GROUP BY window_start, window_end, k;`,
    });
    const jobs = (await server.call('GET', '/v1/jobs')).jobs as { id: string }[];
    const id = jobs[0]!.id;
    // Killed once some bad records went to the dead-letter topic, before the job could finish.
    const before = await waitFor(
      'some dead letters',
      async () => {
        const j = await server!.call('GET', `/v1/jobs/${id}`);
        return j.state === 'FINISHED' || j.metrics.recordsBad >= 20 ? j : undefined;
      },
      60_000,
      10,
    );
    await server.kill('SIGKILL');
    const killedMidStream = before.state !== 'FINISHED';
    const deadBefore = (await readAll(client, dlq)).length;
    if (killedMidStream) expect(deadBefore).toBeGreaterThan(0);

    await server.start();
    const done = await waitFor(
      'the job to finish after the restart',
      async () => {
        const j = await server!.call('GET', `/v1/jobs/${id}`);
        if (j.state === 'FAILED') throw Object.assign(new Error(`job FAILED: ${j.error}`), { fatal: true });
        return j.state === 'FINISHED' ? j : undefined;
      },
      120_000,
    );
    // The restarted run re-read every bad record (no checkpoint to start after), but sent only new ones.
    if (killedMidStream) expect(done.metrics.recordsBad).toBe(bad.size);

    const dead = await readAll(client, dlq);
    const header = (rec: (typeof dead)[number], key: string): string | undefined => rec.headers.find((h) => h.key === key)?.value?.toString('utf8');
    const origins = dead.map((rec) => `${header(rec, 'weir.source.partition')}:${header(rec, 'weir.source.offset')}`);
    expect(multisetDiff(origins, [...bad])).toEqual({ missing: [], extra: [] });
    for (const rec of dead) {
      expect(header(rec, 'weir.source.topic')).toBe(src);
      expect(header(rec, 'weir.job.id')).toBe(id);
      expect(header(rec, 'weir.error')).toBeTruthy();
    }
    const got = (await readJson(client, out, 60_000, 'read_committed')).map((o) => `${o['ws']} | ${o['k']} | ${o['n']} | ${o['total']}`);
    expect(multisetDiff(got, expected(good))).toEqual({ missing: [], extra: [] });
    await server.kill('SIGTERM');
    server = undefined;
  });
});
