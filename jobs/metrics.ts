/** Rate over the last few seconds, from samples of a monotonically increasing counter. */
export class RateMeter {
  private samples: [t: number, v: number][] = [];

  sample(now: number, value: number): void {
    this.samples.push([now, value]);
    while (this.samples.length > 2 && now - this.samples[0]![0] > 5000) this.samples.shift();
  }

  rate(): number {
    if (this.samples.length < 2) return 0;
    const [t0, v0] = this.samples[0]!;
    const [t1, v1] = this.samples[this.samples.length - 1]!;
    return t1 > t0 ? Math.round(((v1 - v0) * 1000) / (t1 - t0)) : 0;
  }
}

/** Latencies in a fixed ring of recent samples; percentiles over what it holds. */
export class LatencySamples {
  private readonly ring: number[] = [];
  private next = 0;

  constructor(private readonly size = 2048) {}

  add(ms: number): void {
    if (this.ring.length < this.size) this.ring.push(ms);
    else this.ring[this.next] = ms;
    this.next = (this.next + 1) % this.size;
  }

  percentiles(): { p50: number; p95: number; p99: number; max: number } | null {
    if (this.ring.length === 0) return null;
    // A typed array sorts numerically and natively: a comparator sort of 2,048 numbers made every job info
    // read (the REST API, the console, a benchmark polling its job) cost ~45 µs of the job's thread.
    const s = Float64Array.from(this.ring).sort();
    const at = (q: number) => Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))]! * 10) / 10;
    return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: Math.round(s[s.length - 1]! * 10) / 10 };
  }
}
