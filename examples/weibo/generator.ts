/**
 * Deterministic microblog (Weibo-style) events for demos, tests and benchmarks: a few very hot
 * bloggers and topics (Zipf-like), Chinese text with #话题# hashtags and @mentions, real places,
 * about a third reposts of earlier posts, heavy-tailed counts, timestamps slightly out of order.
 */
export interface WeiboEvent {
  uid: number;
  tid: number;
  time: string;
  text: string;
  loc: string;
  type: 'original' | 'forward';
  rt: boolean;
  rtid: number | null;
  rtt: string | null;
  ret: number;
  mre: number;
  att: number;
}

const TOPICS = [
  '双十一', '天气', '世界杯', '春晚', '高考', '考研', '新能源汽车', '人工智能', '电影推荐', '美食',
  '旅行', '健身', '股市', '房价', '开学季', '追剧', '演唱会', '航天', '冬奥', '熊猫', '咖啡', '读书',
  '地铁', '加班', '宠物', '摄影', '游戏', '球赛', '养生', '数码',
];
const PLACES = [
  '北京 朝阳', '北京 海淀', '上海 浦东', '上海 徐汇', '广东 广州', '广东 深圳', '浙江 杭州', '江苏 南京',
  '四川 成都', '湖北 武汉', '陕西 西安', '重庆', '天津', '湖南 长沙', '福建 厦门', '山东 青岛', '云南 昆明',
  '辽宁 大连', '河南 郑州', '黑龙江 哈尔滨',
];
const PHRASES = ['今天真不错', '大家怎么看', '太精彩了', '有点累', '终于等到了', '分享一下', '笑死我了', '值得一看', '求推荐', '冲冲冲'];

/** Small fast seeded PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Zipf-like pick of 0..n-1 (exponent ~1): rank r has weight 1/(r+1). */
function zipf(rand: () => number, n: number): number {
  // Inverse of the harmonic CDF approximated by exp: cheap and heavy-headed enough for a demo.
  const x = Math.exp(rand() * Math.log(n + 1)) - 1;
  return Math.min(n - 1, Math.floor(x));
}

function heavyTail(rand: () => number, scale: number): number {
  return Math.floor(scale * (1 / Math.max(1e-6, rand()) - 1) ** 0.8);
}

export function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

export function formatTs(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`;
}

export interface GeneratorOptions {
  seed: number;
  /** Event time of the first event (epoch ms). */
  startMs: number;
  /** Event-time spacing between events (ms); the stream's event rate. */
  stepMs: number;
  /** Maximum lateness of an event relative to the stream's clock (ms). */
  jitterMs: number;
  users: number;
  /** Share of malformed records (0..1). */
  badRate: number;
}

export class WeiboGenerator {
  private readonly rand: () => number;
  private n = 0;
  private readonly recent: { tid: number; time: string }[] = [];

  constructor(private readonly o: GeneratorOptions) {
    this.rand = rng(o.seed);
  }

  /** The next event, or a malformed record (a string) at the configured rate. */
  next(): WeiboEvent | string {
    const r = this.rand;
    const i = this.n++;
    if (this.o.badRate > 0 && r() < this.o.badRate) {
      const kinds = ['{"uid": "not-a-number", "tid": 1}', 'this is not json', '[1,2,3]', `{"uid": ${i}, "att": "many"}`];
      return kinds[i % kinds.length]!;
    }
    const ms = this.o.startMs + i * this.o.stepMs - Math.floor(r() * this.o.jitterMs);
    const time = formatTs(ms);
    const uid = 10_000 + zipf(r, this.o.users);
    const tid = 4_000_000_000 + i;
    const tags = Math.floor(r() * 4);
    let text = '';
    for (let k = 0; k < tags; k++) text += `#${TOPICS[zipf(r, TOPICS.length)]}# `;
    text += PHRASES[Math.floor(r() * PHRASES.length)]!;
    const mre = r() < 0.3 ? 1 + Math.floor(r() * 3) : 0;
    for (let k = 0; k < mre; k++) text += ` @用户${10_000 + zipf(r, this.o.users)}`;
    let orig = this.recent.length > 0 && r() < 0.33 ? this.recent[Math.floor(r() * this.recent.length)]! : undefined;
    // Timestamps jitter, so a post picked among the last ones may carry a later time than this repost: a
    // repost never precedes its original, so take the oldest remembered post then (or none at the start).
    if (orig && orig.time > time) orig = this.recent[0]!.time <= time ? this.recent[0] : undefined;
    const forward = orig !== undefined;
    const ev: WeiboEvent = {
      uid,
      tid,
      time,
      text,
      loc: PLACES[zipf(r, PLACES.length)]!,
      type: forward ? 'forward' : 'original',
      rt: forward,
      rtid: orig ? orig.tid : null,
      rtt: orig ? orig.time : null,
      ret: heavyTail(r, 2),
      mre,
      att: heavyTail(r, 5),
    };
    if (!forward) {
      this.recent.push({ tid, time });
      if (this.recent.length > 1000) this.recent.shift();
    }
    return ev;
  }
}
