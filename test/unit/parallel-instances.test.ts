// The worker threads of parallel pipeline instances (jobs/parallel/instances.ts): results come back in
// batch order whichever instance runs a batch, bad records keep their offsets and values, and a failing
// instance fails every request in flight and every later one (the job then restarts instead of hanging).
import { afterEach, describe, expect, it } from 'vitest';
import type { KafkaRecord } from '../../connectors/kafka/client.ts';
import type { RawSourceBatch } from '../../connectors/kafka/source.ts';
import type { PlanNode } from '../../engine/plan/plan.ts';
import { codeStamp, currentCodeStamp } from '../../jobs/parallel/code-stamp.ts';
import { ParallelInstances } from '../../jobs/parallel/instances.ts';
import { forEachValue, packValues } from '../../jobs/parallel/protocol.ts';
import { effectiveParallelism, parallelismSetting } from '../../jobs/parallel/parallelism.ts';
import { planGolden } from '../support/golden.ts';

const setup = `CREATE TABLE s (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('connector' = 'kafka', 'topic' = 's');
CREATE TABLE o (ws TIMESTAMP(3), k STRING, n BIGINT, total INT) WITH ('connector' = 'kafka', 'topic' = 'o');
CREATE TABLE f (k STRING, v INT) WITH ('connector' = 'kafka', 'topic' = 'f');`;

function plan(query: string): PlanNode {
  return planGolden({ file: 'parallel-instances', setup, query, inputs: [] });
}

function physical(root: PlanNode) {
  let n = root;
  while (n.kind !== 'source') n = n.input;
  return n.table.physical;
}

function batch(partition: number, values: (string | null)[], first = 0): RawSourceBatch {
  const records: KafkaRecord[] = values.map((v, i) => ({ offset: first + i, key: null, value: v === null ? null : Buffer.from(v), timestamp: 0, headers: [] }));
  return { partition, records, nextOffset: first + values.length };
}

let open: ParallelInstances[] = [];
afterEach(async () => {
  await Promise.all(open.map((p) => p.close()));
  open = [];
});

function start(root: PlanNode, partitions: number[], n: number, inThread = false): ParallelInstances {
  const p = new ParallelInstances({ root, timeZone: 'UTC', decoding: { columns: physical(root), options: { ignoreParseErrors: false, timestampStandard: 'SQL' } } }, partitions, n, { inThread });
  open.push(p);
  return p;
}

describe('parallelism', () => {
  it('comes from Flink\'s options, defaults to the cores (or WEIR_PARALLELISM) and never exceeds the partitions', () => {
    expect(parallelismSetting({})).toBeUndefined();
    expect(parallelismSetting({ 'parallelism.default': '3' })).toBe(3);
    expect(parallelismSetting({ 'table.exec.resource.default-parallelism': '2' })).toBe(2);
    expect(parallelismSetting({ 'parallelism.default': '1', 'table.exec.resource.default-parallelism': '4' })).toBe(1);
    expect(parallelismSetting({ 'parallelism.default': '-1' })).toBeUndefined();
    for (const bad of ['0', '1.5', 'two', '']) expect(() => parallelismSetting({ 'parallelism.default': bad })).toThrow(/parallelism.default/);
    expect(effectiveParallelism(8, 4)).toBe(4);
    expect(effectiveParallelism(2, 0)).toBe(1);
    expect(effectiveParallelism(1, 4)).toBe(1);
    const saved = process.env['WEIR_PARALLELISM'];
    try {
      process.env['WEIR_PARALLELISM'] = '3';
      expect(effectiveParallelism(undefined, 8)).toBe(3);
      expect(effectiveParallelism(2, 8)).toBe(2);
    } finally {
      if (saved === undefined) delete process.env['WEIR_PARALLELISM'];
      else process.env['WEIR_PARALLELISM'] = saved;
    }
  });
});

describe('packed record values', () => {
  const unpack = (b: ReturnType<typeof packValues>): (string | null)[] => {
    const out: (string | null)[] = [];
    forEachValue(b, (bytes, start, end) => out.push(end < 0 ? null : bytes.toString('utf8', start, end)));
    return out;
  };
  it('views into one buffer (as a fetch response gives) and separate buffers give back the same values', () => {
    const response = Buffer.from('xx{"a":1}kk{"b":22}hh{"c":333}zz');
    const views = [response.subarray(2, 9), null, response.subarray(11, 19), response.subarray(21, 30), response.subarray(5, 5)];
    const want = ['{"a":1}', null, '{"b":22}', '{"c":333}', ''];
    const recs = (vs: (Buffer | null)[]) => vs.map((value, i) => ({ offset: 100 + i, value }));
    const shared = packValues(3, recs(views));
    expect([...shared.offsets]).toEqual([100, 101, 102, 103, 104]);
    expect(unpack(shared)).toEqual(want);
    expect(shared.bytes.byteLength).toBeLessThan(response.length);
    const separate = packValues(3, recs(want.map((v) => (v === null ? null : Buffer.from(v)))));
    expect(unpack(separate)).toEqual(want);
    // Records that say where their value lies in the fetched bytes (FetchedRecord) are read there.
    const spans: [number, number][] = [[2, 9], [0, -1], [11, 19], [21, 30], [5, 5]];
    const located = packValues(3, spans.map(([valueStart, valueEnd], i) => ({ offset: 100 + i, value: null, bytes: response, valueStart, valueEnd })));
    expect(unpack(located)).toEqual(want);
    expect(located.bytes.byteLength).toBeLessThan(response.length);
    // Spread over two buffers (the second not from Buffer's pool): each value copied on its own.
    const other = Buffer.from(new TextEncoder().encode('..{"b":22}').buffer);
    const mixed = packValues(3, [
      { offset: 100, value: null, bytes: response, valueStart: 2, valueEnd: 9 },
      { offset: 101, value: null },
      { offset: 102, value: null, bytes: other, valueStart: 2, valueEnd: 10 },
      { offset: 103, value: response.subarray(21, 30) },
      { offset: 104, value: null, bytes: other, valueStart: 3, valueEnd: 3 },
    ]);
    expect(unpack(mixed)).toEqual(want);
    // More values than the packer's first arrays hold (they grow), from one buffer, nulls among them.
    const many = Array.from({ length: 3000 }, (_, i) => (i % 7 === 3 ? null : `{"i":${i}}`));
    const joined = Buffer.from(many.map((v) => v ?? '').join('|'));
    let pos = 0;
    const manyRecs = many.map((v, i) => {
      const start = pos;
      pos += (v ?? '').length + 1;
      return { offset: 5000 + i, value: null, bytes: joined, valueStart: start, valueEnd: v === null ? -1 : start + v.length };
    });
    const packedMany = packValues(1, manyRecs);
    expect(unpack(packedMany)).toEqual(many);
    expect([...packedMany.offsets]).toEqual(many.map((_, i) => 5000 + i));
    expect(unpack(packValues(0, []))).toEqual([]);
    expect(unpack(packValues(0, recs([null, null])))).toEqual([null, null]);
  });
});

describe('parallel instances (worker threads)', () => {
  it('run the front of a stateless plan and return rows and bad records in batch order', async () => {
    const root = plan(`INSERT INTO f SELECT UPPER(k), v + 1 FROM s WHERE v > 1`);
    const p = start(root, [0, 1, 2], 2);
    const out = await p.run([
      batch(2, ['{"k":"a","v":5,"ts":"2026-01-01 00:00:00"}', 'oops', '{"k":"b","v":1,"ts":"2026-01-01 00:00:01"}'], 10),
      batch(0, [null, '{"k":"c","v":7,"ts":"2026-01-01 00:00:02"}'], 3),
      batch(1, [], 0),
    ]);
    expect(out.map((b) => b.partition)).toEqual([2, 0, 1]);
    expect(out.map((b) => b.records)).toEqual([3, 1, 0]); // a null value decodes to no row and is no bad record
    expect(out[0]!.bad.map((b) => [b.partition, b.offset, b.value?.toString()])).toEqual([[2, 11, 'oops']]);
    // A copy of the bad value alone, not a view that would bring the instance's whole packed batch along.
    expect(out[0]!.bad[0]!.value!.buffer.byteLength).toBe(4);
    expect(out[0]!.front.output).toEqual({ kind: 'rows', rows: [['A', 6]] });
    expect(out[1]!.front.output).toEqual({ kind: 'rows', rows: [['C', 8]] });
    expect(out[0]!.front.maxWatermark).toBe(Date.UTC(2026, 0, 1, 0, 0, 0));
    expect(out[2]!.front.maxWatermark).toBeUndefined();
  });

  it('pre-aggregate a window aggregate per batch', async () => {
    const root = plan(`INSERT INTO o SELECT window_start, k, COUNT(*), SUM(v) FROM TABLE(TUMBLE(TABLE s, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end, k`);
    const p = start(root, [0, 1], 2);
    const rec = (k: string, v: number, s: number) => JSON.stringify({ k, v, ts: `2026-01-01 00:0${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}` });
    const [a] = await p.run([batch(0, [rec('x', 1, 5), rec('y', 2, 6), rec('x', 3, 65), rec('x', 4, 7)])]);
    const m0 = Date.UTC(2026, 0, 1);
    expect(a!.front.output).toEqual({
      kind: 'partials',
      partials: {
        kind: 'partials',
        windows: [
          [m0, [[['x'], [2, 5]], [['y'], [1, 2]]]],
          [m0 + 60_000, [[['x'], [1, 3]]]],
        ],
        lastStarts: [[m0, 3], [m0 + 60_000, 1]],
      },
    });
    // 100 rows of 100 keys: pre-aggregating saves nothing, so the next batch goes as the rows' inputs
    // (event time, key, arguments), through the worker's structured clone.
    const distinct = Array.from({ length: 100 }, (_, i) => rec(`k${i}`, i, 10));
    const [b] = await p.run([batch(1, distinct)]);
    expect(b!.front.output).toMatchObject({ kind: 'partials', partials: { kind: 'partials', lastStarts: [[m0, 100]] } });
    const [c] = await p.run([batch(1, [rec('x', 1, 5), rec('y', 2, 70)])]);
    expect(c!.front.output).toEqual({
      kind: 'partials',
      partials: { kind: 'inputs', times: [m0 + 5_000, m0 + 70_000], keys: ['x', 'y'], args: [undefined, 1, undefined, 2], count: 2 },
    });
  });

  it("give the same results with the job's own thread as one of the instances", async () => {
    const rec = (k: string, v: number, sec: number) => JSON.stringify({ k, v, ts: `2026-01-01 00:00:${String(sec).padStart(2, '0')}` });
    const polls = (): RawSourceBatch[] => [
      batch(3, [rec('a', 5, 1), 'oops', rec('b', 1, 2), null], 10),
      batch(0, [rec('c', 7, 3), rec('a', 2, 4)], 3),
      batch(1, ['{"k":"d","v":"x"}', rec('d', 9, 5)], 0),
      batch(2, [], 0),
    ];
    for (const query of [
      `INSERT INTO f SELECT UPPER(k), v + 1 FROM s WHERE v > 1`,
      `INSERT INTO o SELECT window_start, k, COUNT(*), SUM(v) FROM TABLE(TUMBLE(TABLE s, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end, k`,
    ]) {
      const root = plan(query);
      const shape = (out: Awaited<ReturnType<ParallelInstances['run']>>) =>
        out.map((b) => ({ partition: b.partition, records: b.records, bad: b.bad.map((x) => [x.partition, x.offset, x.error, x.value?.toString()]), front: b.front }));
      const workers = start(root, [0, 1, 2, 3], 2);
      const mixed = start(root, [0, 1, 2, 3], 2, true);
      const want = shape(await workers.run(polls()));
      expect(want.flatMap((b) => b.bad)).toHaveLength(2);
      expect(shape(await mixed.run(polls()))).toEqual(want);
      // Also with every partition on the job's thread (one instance).
      expect(shape(await start(root, [0, 1, 2, 3], 1, true).run(polls()))).toEqual(want);
    }
  });

  it('fail every request, in flight and later, when an instance dies', async () => {
    // A plan the instance cannot build: its thread fails as it starts.
    const bogus = { kind: 'filter', input: { kind: 'nothing' }, predicate: null, schema: [] } as unknown as PlanNode;
    const p = new ParallelInstances({ root: bogus, timeZone: 'UTC', decoding: { columns: [], options: { ignoreParseErrors: false, timestampStandard: 'SQL' } } }, [0], 1);
    open.push(p);
    await expect(p.ready()).rejects.toThrow(/pipeline instance 0/);
    await expect(p.run([batch(0, ['{}'])])).rejects.toThrow(/pipeline instance 0/);
    await expect(p.run([batch(0, ['{}'])])).rejects.toThrow(/pipeline instance 0/);
  });

  it("refuse to start when the code on disk is not the job's (changed since the server started)", async () => {
    const root = plan(`INSERT INTO f SELECT UPPER(k), v + 1 FROM s WHERE v > 1`);
    const p = new ParallelInstances({ root, timeZone: 'UTC', decoding: { columns: physical(root), options: { ignoreParseErrors: false, timestampStandard: 'SQL' } }, codeStamp: 'not-this-code' }, [0], 1);
    open.push(p);
    await expect(p.ready()).rejects.toThrow(/code changed on disk since this server started: restart the server/);
    // The stamp of the files as they are now is stable (what every other instance of this run compares).
    expect(currentCodeStamp()).toBe(codeStamp());
  });
});
