/**
 * Per-partition watermarks combined as the minimum over active partitions (DESIGN §2). A partition
 * that has sent nothing for `idleTimeoutMs` of processing time stops holding the others back until
 * it sends again; a finished partition (bounded mode) never holds them back.
 */
export class WatermarkTracker {
  private readonly parts = new Map<number, { wm: number; lastActive: number; done: boolean }>();

  constructor(
    partitions: readonly number[],
    private readonly idleTimeoutMs: number,
    now: number,
  ) {
    for (const p of partitions) this.parts.set(p, { wm: Number.MIN_SAFE_INTEGER, lastActive: now, done: false });
  }

  /** Records a candidate watermark of a partition (watermarks never go back). */
  observe(partition: number, wm: number, now: number): void {
    const p = this.parts.get(partition);
    if (!p) return;
    if (wm > p.wm) p.wm = wm;
    p.lastActive = now;
  }

  touch(partition: number, now: number): void {
    const p = this.parts.get(partition);
    if (p) p.lastActive = now;
  }

  finish(partition: number): void {
    const p = this.parts.get(partition);
    if (p) p.done = true;
  }

  /** The combined watermark, or undefined while no partition can say anything. */
  current(now: number): number | undefined {
    let min = Number.MAX_SAFE_INTEGER;
    let any = false;
    for (const p of this.parts.values()) {
      if (p.done) continue;
      if (this.idleTimeoutMs > 0 && now - p.lastActive >= this.idleTimeoutMs) continue;
      any = true;
      if (p.wm < min) min = p.wm;
    }
    if (!any) return undefined;
    return min === Number.MIN_SAFE_INTEGER ? undefined : min;
  }

  partitionWatermark(partition: number): number | undefined {
    const w = this.parts.get(partition)?.wm;
    return w === undefined || w === Number.MIN_SAFE_INTEGER ? undefined : w;
  }

  snapshot(): Record<number, number> {
    const out: Record<number, number> = {};
    for (const [k, v] of this.parts) out[k] = v.wm;
    return out;
  }

  restore(s: Record<number, number>): void {
    for (const [k, wm] of Object.entries(s)) {
      const p = this.parts.get(Number(k));
      if (p) p.wm = wm;
    }
  }
}
