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
