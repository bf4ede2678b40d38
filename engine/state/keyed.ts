/**
 * Keyed (incremental) operator state: an operator whose state can grow large exposes it as independent
 * entries (key → JSON-able value) and remembers which keys changed, so a checkpoint writes only those
 * (docs/checkpoints.md, "Keyed state"). The whole-snapshot hooks of Operator (snapshot/restore) stay:
 * the in-memory test driver uses them, and checkpoints of the older format restore through them.
 *
 * The contract, for an operator that implements KeyedState:
 * - keyedChanges() is called once per checkpoint. The first call after construction, and the first
 *   after restore() from a whole snapshot, returns `full: true` with every entry; later calls return the
 *   entries changed (upserts) and removed (deletes) since the previous call; keyedChanges(true) returns
 *   every entry with `full: true` at any time. After restoreKeyed() the
 *   operator's state equals what the store holds, so the next call returns changes only.
 * - Keys are non-empty strings, unique within the operator; a key is in at most one of upserts/deletes.
 * - restoreKeyed(entries, false): the entries do not come from this job's store (a serialized copy, e.g.
 *   progress kept in the catalog), so the next keyedChanges() must be full as after restore().
 * - If the checkpoint that took the changes fails, the job rebuilds every operator from the last
 *   completed checkpoint (the runtime never calls keyedChanges() twice for one checkpoint).
 */
export interface KeyedState {
  /** `all`: every entry, as a full change set (the store asks for one to replace what it has logged). */
  keyedChanges(all?: boolean): KeyedChanges;
  /** `stored` (default true): the entries are what the job's checkpoint store holds live. */
  restoreKeyed(entries: ReadonlyMap<string, unknown>, stored?: boolean): void;
}

const KEYED_CHANGES: unique symbol = Symbol('weir.keyedChanges');
const KEYED_ENTRIES: unique symbol = Symbol('weir.keyedEntries');

/** What one checkpoint writes for a keyed operator: in CheckpointData.operators in place of a snapshot. */
export interface KeyedChanges {
  readonly [KEYED_CHANGES]: true;
  /** Every entry of the operator is in `upserts`; entries the store holds that are not there are gone. */
  readonly full: boolean;
  readonly upserts: readonly (readonly [key: string, value: unknown])[];
  readonly deletes: readonly string[];
}

/** A keyed operator's state as a checkpoint load returns it: in CheckpointData.operators in place of a snapshot. */
export interface KeyedEntries {
  readonly [KEYED_ENTRIES]: true;
  readonly entries: ReadonlyMap<string, unknown>;
  /** As JSON (e.g. a checkpoint copied into the catalog): a tagged list of entries, see restoreState. */
  toJSON(): unknown;
}

/** The tag of keyed entries turned into JSON; starts with NUL, which no state of ours uses as a key. */
const KEYED_JSON = '\u0000keyedEntries';

export function keyedChanges(full: boolean, upserts: readonly (readonly [string, unknown])[], deletes: readonly string[]): KeyedChanges {
  return { [KEYED_CHANGES]: true, full, upserts, deletes };
}

export function keyedEntries(entries: ReadonlyMap<string, unknown>): KeyedEntries {
  return { [KEYED_ENTRIES]: true, entries, toJSON: () => ({ [KEYED_JSON]: [...entries] }) };
}

export function isKeyedChanges(v: unknown): v is KeyedChanges {
  return typeof v === 'object' && v !== null && KEYED_CHANGES in v;
}

export function isKeyedEntries(v: unknown): v is KeyedEntries {
  return typeof v === 'object' && v !== null && KEYED_ENTRIES in v;
}

export function hasKeyedState(op: object): op is KeyedState {
  return typeof (op as Partial<KeyedState>).keyedChanges === 'function' && typeof (op as Partial<KeyedState>).restoreKeyed === 'function';
}

/** Thrown when a checkpoint's keyed state meets an operator without keyed restore (the plan changed shape). */
export class KeyedStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyedStateError';
  }
}

/**
 * What a checkpoint takes from one operator: its keyed changes when it has keyed state (every entry when
 * `all`), else its whole snapshot (null when stateless).
 */
export function checkpointState(op: { snapshot?(): unknown }, all = false): unknown {
  if (hasKeyedState(op)) return op.keyedChanges(all);
  return op.snapshot ? op.snapshot() : null;
}

/**
 * Restores one operator from what a checkpoint load returned for it: keyed entries or a whole snapshot
 * (which a keyed operator also accepts: checkpoints written before keyed state existed).
 */
export function restoreState(op: { readonly name: string; restore?(state: unknown): void }, state: unknown): void {
  if (state === null || state === undefined) return;
  const serialized = typeof state === 'object' && KEYED_JSON in state ? (state as Record<string, [string, unknown][]>)[KEYED_JSON]! : undefined;
  if (isKeyedEntries(state) || serialized) {
    if (!hasKeyedState(op)) throw new KeyedStateError(`the checkpoint holds keyed state for operator '${op.name}', which cannot restore keyed state`);
    if (isKeyedEntries(state)) op.restoreKeyed(state.entries, true);
    else op.restoreKeyed(new Map(serialized), false);
    return;
  }
  op.restore?.(state);
}
