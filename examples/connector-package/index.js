// weir-connector-example: a third-party Weir connector package. Plain JavaScript with no dependencies:
// Weir loads it at start-up (`weir server --connector weir-connector-example`, or WEIR_CONNECTORS) and
// reads the `connectors` export. The shapes follow Weir's connectors/types.ts (Connector, Source, Sink),
// which this package only mirrors: nothing of Weir is imported at run time.
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/** A bad option: Weir turns any error thrown by validate() into a 400 pointing at `option`. */
class OptionError extends Error {
  constructor(option, message) {
    super(message);
    this.name = 'OptionError';
    this.option = option;
  }
}

const SEQUENCE_OPTIONS = new Set(['connector', 'start', 'end', 'step', 'rows-per-second', 'start-time']);
const BATCH = 1000;

function integer(options, key, fallback) {
  const v = options[key];
  if (v === undefined) return fallback;
  if (!/^-?\d+$/.test(v.trim())) throw new OptionError(key, `'${key}' must be an integer, not '${v}'`);
  return Number(v);
}

/** Options parsed once (validate and createSource share it): unknown ones are refused. */
function parseSequenceOptions(options, columns) {
  for (const k of Object.keys(options)) {
    if (!SEQUENCE_OPTIONS.has(k)) throw new OptionError(k, `Unsupported option '${k}' for the sequence connector (supported: ${[...SEQUENCE_OPTIONS].join(', ')})`);
  }
  const start = integer(options, 'start', 1);
  const step = integer(options, 'step', 1);
  if (step <= 0) throw new OptionError('step', "'step' must be positive");
  const end = integer(options, 'end', undefined);
  if (end !== undefined && end < start) throw new OptionError('end', "'end' must not be below 'start'");
  const rate = integer(options, 'rows-per-second', end === undefined ? 100 : undefined);
  if (rate !== undefined && rate <= 0) throw new OptionError('rows-per-second', "'rows-per-second' must be positive");
  const startTime = options['start-time'] === undefined ? Date.UTC(2026, 0, 1) : Date.parse(options['start-time'].replace(' ', 'T') + 'Z');
  if (Number.isNaN(startTime)) throw new OptionError('start-time', "'start-time' must look like '2026-01-01 00:00:00'");
  for (const c of columns) {
    if (!['INT', 'BIGINT', 'STRING', 'TIMESTAMP'].includes(c.type.kind)) {
      throw new OptionError('connector', `The sequence connector fills INT, BIGINT, STRING and TIMESTAMP columns; '${c.name}' is ${c.type.kind}`);
    }
  }
  return { start, step, end, rate, startTime };
}

/**
 * One split (0). Offset k is the k-th number, start + k * step: a checkpoint's offset is all a restore
 * needs. Every INT/BIGINT column gets the number, a STRING column its text, a TIMESTAMP column
 * start-time + k seconds (so a table can declare a watermark on it).
 */
class SequenceSource {
  constructor(spec) {
    this.o = parseSequenceOptions(spec.options, spec.columns);
    this.topic = spec.table;
    this.partitions = [0];
    this.columns = spec.columns;
    this.next = spec.startOffsets?.[0] ?? 0;
    const count = this.o.end === undefined ? undefined : Math.floor((this.o.end - this.o.start) / this.o.step) + 1;
    this.end = spec.endOffsets?.[0] ?? count;
    this.openedAt = Date.now();
    this.emitted = 0;
  }

  row(k) {
    const n = this.o.start + k * this.o.step;
    return this.columns.map((c) => (c.type.kind === 'STRING' ? String(n) : c.type.kind === 'TIMESTAMP' ? this.o.startTime + k * 1000 : n));
  }

  async poll(maxWaitMs) {
    if (this.finished()) return [];
    let n = this.end === undefined ? BATCH : Math.min(BATCH, this.end - this.next);
    if (this.o.rate !== undefined) {
      const due = Math.floor(((Date.now() - this.openedAt) / 1000) * this.o.rate) - this.emitted;
      if (due <= 0) {
        await new Promise((r) => setTimeout(r, Math.max(1, Math.min(maxWaitMs, 1000 / this.o.rate))));
        return [];
      }
      n = Math.min(n, due);
    }
    const rows = [];
    for (let i = 0; i < n; i++) rows.push(this.row(this.next + i));
    this.next += n;
    this.emitted += n;
    return [{ partition: 0, rows, nextOffset: this.next, bad: [] }];
  }

  positions() {
    return { 0: this.next };
  }

  endOffsets() {
    return this.end === undefined ? undefined : { 0: this.end };
  }

  finishedPartitions() {
    return this.finished() ? [0] : [];
  }

  finished() {
    return this.end !== undefined && this.next >= this.end;
  }

  progress() {
    return [{ partition: 0, offset: this.next, highWatermark: this.end ?? this.next }];
  }

  async commitForMonitoring() {}

  async close() {}
}

/** `'connector' = 'sequence'`: consecutive numbers, bounded with 'end', else unbounded at 'rows-per-second'. */
export const sequenceConnector = {
  name: 'sequence',
  appendOnlySink: true,
  validate(options, role, columns) {
    if (role === 'sink') throw new OptionError('connector', "The 'sequence' connector is a source only");
    parseSequenceOptions(options, columns);
  },
  createSource: async (spec) => new SequenceSource(spec),
};

/**
 * `'connector' = 'jsonl'`, 'path' = '/some/file.jsonl': each row as one JSON object per line. At least
 * once (no committer): rows are appended on flush, so a restart after a crash may append some again.
 */
export const jsonlConnector = {
  name: 'jsonl',
  appendOnlySink: true,
  validate(options, role) {
    if (role === 'source') throw new OptionError('connector', "The 'jsonl' connector is a sink only");
    for (const k of Object.keys(options)) if (k !== 'connector' && k !== 'path') throw new OptionError(k, `Unsupported option '${k}' for the jsonl connector (supported: path)`);
    if (!options['path']) throw new OptionError('connector', "The jsonl connector needs a 'path' option");
  },
  createSink: async (spec) => {
    const path = spec.options['path'];
    mkdirSync(dirname(path), { recursive: true });
    let buffered = [];
    return {
      write(rows) {
        for (const r of rows) buffered.push(JSON.stringify(Object.fromEntries(spec.columns.map((c, i) => [c.name, r[i] ?? null]))) + '\n');
      },
      async flush() {
        if (buffered.length === 0) return;
        appendFileSync(path, buffered.join(''));
        buffered = [];
      },
      async close() {},
    };
  },
};

export const connectors = [sequenceConnector, jsonlConnector];
