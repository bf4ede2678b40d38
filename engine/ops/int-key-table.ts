/**
 * Whether `k` is a key IntNumberTable holds: a number with an int32 value (-0 included; SameValueZero makes
 * it the same key as 0, as in a Map).
 */
export function isIntKey(k: unknown): k is number {
  return typeof k === 'number' && (k | 0) === k;
}

const MIN_SLOTS = 1024;

/**
 * A hash table from int32 keys to numbers 0 .. 2^31 - 2 (a group's number, or its place in an array), for
 * the hot lookups of an aggregate's groups by an integer key. A Map holds the same: but a Map lookup reads
 * a bucket and then an entry elsewhere in memory, two cache misses when there are 100,000 groups, and a
 * job's decoding between its batches keeps evicting them; here key and number lie side by side in one
 * Int32Array (open addressing, linear probing, at most half full): one miss, 8 bytes a slot, nothing for
 * the GC to trace. Slot s holds its key at 2s and its number + 1 at 2s + 1 (0: empty). No tombstones: a
 * deletion moves later entries of the same probe run back, so lookups stay as short as after the inserts.
 * (GROUP BY of 3M events over 100,000 uids: ~330 -> ~190 ms once the groups exist with a table of this
 * kind, docs/benchmarks.md.)
 */
export class IntNumberTable {
  private slots: Int32Array;
  private mask: number;
  private shift: number;
  private count = 0;

  constructor() {
    this.slots = new Int32Array(2 * MIN_SLOTS);
    this.mask = MIN_SLOTS - 1;
    this.shift = 32 - Math.log2(MIN_SLOTS);
  }

  get size(): number {
    return this.count;
  }

  /** The slot where key k's probe starts (Fibonacci hashing: consecutive keys spread over the table). */
  private home(k: number): number {
    return Math.imul(k, 0x9e3779b1) >>> this.shift;
  }

  /** The number of key k, or -1. */
  get(k: number): number {
    const slots = this.slots;
    const mask = this.mask;
    for (let s = this.home(k); ; s = (s + 1) & mask) {
      const v = slots[2 * s + 1]!;
      if (v === 0) return -1;
      if (slots[2 * s] === k) return v - 1;
    }
  }

  set(k: number, n: number): void {
    if (2 * (this.count + 1) > this.mask + 1) this.grow();
    const slots = this.slots;
    const mask = this.mask;
    for (let s = this.home(k); ; s = (s + 1) & mask) {
      if (slots[2 * s + 1] === 0) {
        slots[2 * s] = k;
        slots[2 * s + 1] = n + 1;
        this.count++;
        return;
      }
      if (slots[2 * s] === k) {
        slots[2 * s + 1] = n + 1;
        return;
      }
    }
  }

  delete(k: number): boolean {
    const slots = this.slots;
    const mask = this.mask;
    let s = this.home(k);
    for (; ; s = (s + 1) & mask) {
      if (slots[2 * s + 1] === 0) return false;
      if (slots[2 * s] === k) break;
    }
    // Backward-shift: an entry further along the run moves into the hole when its probe passes the hole
    // (its home is not cyclically within (hole, its slot]); the run then has no gap a lookup would stop at.
    let hole = s;
    for (let j = (s + 1) & mask; ; j = (j + 1) & mask) {
      if (slots[2 * j + 1] === 0) break;
      const h = this.home(slots[2 * j]!);
      const inRange = hole <= j ? h > hole && h <= j : h > hole || h <= j;
      if (inRange) continue;
      slots[2 * hole] = slots[2 * j]!;
      slots[2 * hole + 1] = slots[2 * j + 1]!;
      hole = j;
    }
    slots[2 * hole] = 0;
    slots[2 * hole + 1] = 0;
    this.count--;
    return true;
  }

  clear(): void {
    this.slots = new Int32Array(2 * MIN_SLOTS);
    this.mask = MIN_SLOTS - 1;
    this.shift = 32 - Math.log2(MIN_SLOTS);
    this.count = 0;
  }

  private grow(): void {
    const old = this.slots;
    const n = 2 * (this.mask + 1);
    this.slots = new Int32Array(2 * n);
    this.mask = n - 1;
    this.shift = 32 - Math.log2(n);
    this.count = 0;
    for (let i = 0; i < old.length; i += 2) if (old[i + 1] !== 0) this.set(old[i]!, old[i + 1]! - 1);
  }
}

/**
 * Group keys to group numbers: an int32 key through an IntNumberTable (the hot lookup of an aggregate's
 * rows reads that table alone, not the group object; the row's update goes to the state's columns at
 * that number, group-layout.ts), any other through a Map. A GROUP BY has one (NumberedGroupIndex), a
 * window aggregate one per window (WindowGroups), their numbers from the same columns.
 */
export class GroupNumbers {
  private readonly map = new Map<unknown, number>();
  private ints: IntNumberTable | undefined;

  /** The number of the group of key k, or -1. */
  numberOf(k: unknown): number {
    if (isIntKey(k)) return this.ints === undefined ? -1 : this.ints.get(k);
    const n = this.map.get(k);
    return n === undefined ? -1 : n;
  }

  set(k: unknown, n: number): void {
    if (isIntKey(k)) (this.ints ??= new IntNumberTable()).set(k, n);
    else this.map.set(k, n);
  }

  delete(k: unknown): void {
    if (isIntKey(k)) this.ints?.delete(k);
    else this.map.delete(k);
  }

  clear(): void {
    this.map.clear();
    this.ints?.clear();
  }
}

/**
 * A GROUP BY's groups by their Map key, each with its number (Group.n; GroupNumbers), and by number.
 * Iterations walk the groups in number order (numbers of dropped groups are taken again, so that is not
 * creation order).
 */
export class NumberedGroupIndex<G extends { readonly n: number }> {
  private readonly numbers = new GroupNumbers();
  /** byNumber[n]: the live group numbered n. */
  private byNumber: (G | undefined)[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(k: unknown): G | undefined {
    const n = this.numbers.numberOf(k);
    return n < 0 ? undefined : this.byNumber[n];
  }

  /** The number of the group of key k, or -1. */
  numberOf(k: unknown): number {
    return this.numbers.numberOf(k);
  }

  /** The live group numbered n. */
  at(n: number): G {
    return this.byNumber[n]!;
  }

  /** Adds the group of a key the index does not hold. */
  set(k: unknown, g: G): void {
    this.numbers.set(k, g.n);
    while (this.byNumber.length < g.n) this.byNumber.push(undefined);
    this.byNumber[g.n] = g;
    this.count++;
  }

  delete(k: unknown): void {
    const n = this.numbers.numberOf(k);
    if (n < 0) return;
    this.numbers.delete(k);
    this.byNumber[n] = undefined;
    this.count--;
  }

  clear(): void {
    this.numbers.clear();
    this.byNumber = [];
    this.count = 0;
  }

  /** In number order. */
  *values(): IterableIterator<G> {
    const all = this.byNumber;
    for (let n = 0; n < all.length; n++) {
      const g = all[n];
      if (g !== undefined) yield g;
    }
  }
}
