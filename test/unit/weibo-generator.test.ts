// The distributions examples/weibo/generator.ts (`weir gen weibo`, the 'weibo' datagen source) claims,
// measured over 50,000 events of fixed seeds. Bounds are loose against the measured values (noted beside
// each) so that they hold for any reasonable seed, yet tight enough to fail if a distribution flattens.
import { describe, expect, it } from 'vitest';
import { WeiboGenerator } from '../../examples/weibo/generator.ts';
import type { GeneratorOptions, WeiboEvent } from '../../examples/weibo/generator.ts';

const N = 50_000;
const base: GeneratorOptions = { seed: 42, startMs: Date.UTC(2026, 10, 25, 8), stepMs: 10, jitterMs: 2000, users: 5000, badRate: 0 };

function take(o: Partial<GeneratorOptions> = {}, n = N): (WeiboEvent | string)[] {
  const g = new WeiboGenerator({ ...base, ...o });
  return Array.from({ length: n }, () => g.next());
}
const events = (o: Partial<GeneratorOptions> = {}): WeiboEvent[] => take(o).filter((e): e is WeiboEvent => typeof e !== 'string');
const ms = (ts: string): number => Date.parse(ts.replace(' ', 'T') + 'Z');
const hashtags = (text: string): string[] => [...text.matchAll(/#([^#]+)#/g)].map((m) => m[1]!);

/** Share of `total` carried by the k largest counts. */
function topShare(counts: Map<unknown, number>, k: number): number {
  const all = [...counts.values()].sort((a, b) => b - a);
  return all.slice(0, k).reduce((s, v) => s + v, 0) / all.reduce((s, v) => s + v, 0);
}
function countBy<T>(xs: readonly T[]): Map<T, number> {
  const m = new Map<T, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}
const quantile = (sorted: readonly number[], q: number): number => sorted[Math.floor(q * (sorted.length - 1))]!;

const evs = events();

describe('the Weibo generator', () => {
  it('is deterministic for a seed, and differs between seeds', () => {
    expect(take({ badRate: 0.01 }, 5000)).toEqual(take({ badRate: 0.01 }, 5000));
    const other = take({ seed: 43 }, 100).map((e) => JSON.stringify(e));
    expect(other).not.toEqual(evs.slice(0, 100).map((e) => JSON.stringify(e)));
    expect(new Set(evs.map((e) => e.tid)).size).toBe(N);
  });

  it('makes a few bloggers very hot (Zipf-like)', () => {
    const byUid = countBy(evs.map((e) => e.uid));
    expect(byUid.size).toBeGreaterThan(3000); // 4396 of 5000 post at all
    expect(topShare(byUid, 10)).toBeGreaterThan(0.2); // 0.28: 10 bloggers of 5000 write over a fifth
    expect(topShare(byUid, 50)).toBeGreaterThan(0.35); // 0.46: the top 1 %
    const sorted = [...byUid.values()].sort((a, b) => b - a);
    expect(sorted[0]! / sorted[99]!).toBeGreaterThan(10); // the hottest writes far more than the 100th
    expect(Math.min(...byUid.keys())).toBeGreaterThanOrEqual(10_000);
    expect(Math.max(...byUid.keys())).toBeLessThan(15_000);
  });

  it('makes a few topics very hot, with 0-3 #hashtags# per post', () => {
    const perPost = countBy(evs.map((e) => hashtags(e.text).length));
    expect([...perPost.keys()].sort()).toEqual([0, 1, 2, 3]);
    for (const k of [0, 1, 2, 3]) expect(perPost.get(k)! / evs.length).toBeGreaterThan(0.2); // about a quarter each
    const byTopic = countBy(evs.flatMap((e) => hashtags(e.text)));
    expect(byTopic.size).toBeGreaterThanOrEqual(20);
    expect(topShare(byTopic, 3)).toBeGreaterThan(0.3); // 0.40: three topics of 30
    for (const t of byTopic.keys()) expect(t).toMatch(/^[\u4e00-\u9fff]+$/);
  });

  it('writes Chinese text with @mentions counted in mre', () => {
    for (const e of evs.slice(0, 5000)) {
      expect(e.text).toMatch(/[\u4e00-\u9fff]/);
      expect((e.text.match(/@用户\d+/g) ?? []).length).toBe(e.mre);
      expect(e.mre).toBeLessThanOrEqual(3);
    }
    expect(evs.filter((e) => e.mre > 0).length / evs.length).toBeGreaterThan(0.2); // 0.3
  });

  it('makes about a third reposts, of earlier posts, never before them', () => {
    const forwards = evs.filter((e) => e.rt);
    expect(forwards.length / evs.length).toBeGreaterThan(0.3); // 0.329
    expect(forwards.length / evs.length).toBeLessThan(0.36);
    const seen = new Map<number, WeiboEvent>();
    const wrong: string[] = [];
    for (const e of evs) {
      if (e.type !== (e.rt ? 'forward' : 'original')) wrong.push(`${e.tid}: type ${e.type}, rt ${e.rt}`);
      if (e.rt) {
        const orig = seen.get(e.rtid!);
        if (!orig) wrong.push(`${e.tid}: repost of an unknown post ${e.rtid}`);
        else if (orig.rt || e.rtt !== orig.time || ms(e.rtt!) > ms(e.time)) wrong.push(`${e.tid} at ${e.time}: repost of ${orig.tid} at ${orig.time}, rtt ${e.rtt}`);
      } else if (e.rtid !== null || e.rtt !== null) wrong.push(`${e.tid}: an original with rtid/rtt`);
      seen.set(e.tid, e);
    }
    expect(wrong.slice(0, 5)).toEqual([]);
  });

  it('gives heavy-tailed comment and like counts', () => {
    for (const key of ['ret', 'att'] as const) {
      const v = evs.map((e) => e[key]).sort((a, b) => a - b);
      const mean = v.reduce((s, x) => s + x, 0) / v.length;
      expect(v[0]).toBeGreaterThanOrEqual(0);
      // ret: median 1, p99 83, max 15898; att: median 4, p99 197, max 54773.
      expect(mean).toBeGreaterThan(2 * quantile(v, 0.5));
      expect(quantile(v, 0.99)).toBeGreaterThan(10 * Math.max(1, quantile(v, 0.5)));
      expect(v.at(-1)!).toBeGreaterThan(100 * Math.max(1, quantile(v, 0.5)));
    }
  });

  it('puts timestamps slightly out of order, never later than the jitter bound', () => {
    let maxSoFar = 0;
    let late = 0;
    let maxLateness = 0;
    const wrong: string[] = [];
    evs.forEach((e, i) => {
      const t = ms(e.time);
      const clock = base.startMs + i * base.stepMs;
      if (t > clock || t <= clock - base.jitterMs || !/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/.test(e.time)) wrong.push(`${i}: ${e.time}`);
      if (t < maxSoFar) late++;
      maxLateness = Math.max(maxLateness, maxSoFar - t);
      maxSoFar = Math.max(maxSoFar, t);
    });
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(late).toBeGreaterThan(0);
    expect(maxLateness).toBeLessThan(base.jitterMs); // 1976 ms: within the example's 5 s watermark
  });

  it('uses real province and city names, a few places much busier than others', () => {
    const byLoc = countBy(evs.map((e) => e.loc));
    const provinces = new Set(['北京', '上海', '天津', '重庆', '广东', '浙江', '江苏', '四川', '湖北', '陕西', '湖南', '福建', '山东', '云南', '辽宁', '河南', '黑龙江']);
    for (const loc of byLoc.keys()) {
      const [province, city] = loc.split(' ');
      expect(provinces.has(province!), loc).toBe(true);
      if (city !== undefined) expect(city).toMatch(/^[\u4e00-\u9fff]{2,3}$/);
    }
    expect(byLoc.size).toBeGreaterThanOrEqual(15);
    expect(byLoc.has('广东 深圳') && byLoc.has('北京 海淀')).toBe(true);
    expect(topShare(byLoc, 3)).toBeGreaterThan(0.3); // 0.46
  });

  it('makes the --bad-rate share of records malformed', () => {
    for (const rate of [0.01, 0.05]) {
      const all = take({ badRate: rate });
      const bad = all.filter((e) => typeof e === 'string') as string[];
      expect(bad.length / N).toBeGreaterThan(rate * 0.85); // 0.0099 for 0.01
      expect(bad.length / N).toBeLessThan(rate * 1.15);
      // Each one is wrong for a JSON decoder: not JSON, not an object, or a field of the wrong type.
      for (const b of bad.slice(0, 50)) {
        let v: unknown;
        try {
          v = JSON.parse(b);
        } catch {
          continue;
        }
        const o = v as Record<string, unknown>;
        expect(Array.isArray(v) || typeof o['uid'] === 'string' || typeof o['att'] === 'string').toBe(true);
      }
    }
    expect(take({ badRate: 0 }, 5000).every((e) => typeof e !== 'string')).toBe(true);
  });
});
