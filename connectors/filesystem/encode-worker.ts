// The Parquet encoding thread of a filesystem sink (started by encoder.ts through encode-worker-boot.mjs).
// It buffers rows per file and encodes them into row groups, so that neither encoding nor compressing nor
// writing ever runs on the job's event loop.
import { parentPort } from 'node:worker_threads';
import type { Column } from '../../engine/plan/plan.ts';
import { unpackColumn } from './column-wire.ts';
import type { ColumnPayload } from './column-wire.ts';
import type { EncodeReply, EncodeRequest } from './encode-protocol.ts';
import { parquetConverter, parquetOnFd, zstdReady } from './parquet.ts';
import type { PartFileWriter } from './parquet.ts';

interface OpenFile {
  readonly writer: PartFileWriter;
  readonly converters: readonly ((v: unknown) => unknown)[];
  /**
   * The adds of the row group being gathered, as they arrived: kept packed (typed arrays, few objects)
   * until the group is encoded, so no per-value objects pile up and age in this thread's heap meanwhile.
   */
  adds: { readonly columns: readonly ColumnPayload[]; readonly rows: number }[];
  readonly rowGroupRows: number;
  readonly rowGroupBytes: number;
  rows: number;
  estBytes: number;
}

const files = new Map<number, OpenFile>();

/** The writer's representation of an engine value; BOOLEAN arrives as 0/1 among the numbers. */
function converterOf(c: Column): (v: unknown) => unknown {
  const conv = parquetConverter(c.type);
  return c.type.kind === 'BOOLEAN' ? (v) => (v === null ? null : v !== 0) : conv;
}

function fileOf(id: number): OpenFile {
  const f = files.get(id);
  if (!f) throw new Error(`no open part file ${id} in the encoding worker`);
  return f;
}

function encodeBuffered(f: OpenFile): void {
  if (f.rows === 0) return;
  const columns = f.converters.map((conv, j) => {
    const values = new Array<unknown>(f.rows);
    let at = 0;
    for (const a of f.adds) {
      unpackColumn(a.columns[j]!, a.rows, conv, values, at);
      at += a.rows;
    }
    return values;
  });
  f.adds = [];
  f.writer.append(columns, f.rows);
  f.rows = 0;
  f.estBytes = 0;
}

function handle(req: EncodeRequest): number {
  switch (req.op) {
    case 'open': {
      // UTF-8 arrives for mostly distinct text (column-wire.ts): no dictionary to try there.
      const writer = parquetOnFd(req.fd, req.columns, req.codec, req.wires.map((w) => w === 'utf8'));
      files.set(req.file, { writer, converters: req.columns.map(converterOf), adds: [], rowGroupRows: req.rowGroupRows, rowGroupBytes: req.rowGroupBytes, rows: 0, estBytes: 0 });
      return 0;
    }
    case 'add': {
      const f = fileOf(req.file);
      if (req.columns.length !== f.converters.length) throw new Error(`an add of ${req.columns.length} columns to a file of ${f.converters.length}`);
      f.adds.push({ columns: req.columns, rows: req.rows });
      f.rows += req.rows;
      f.estBytes += req.estBytes;
      // Large row groups read fast; the bound keeps this thread's memory at about one group per open file.
      if (f.rows >= f.rowGroupRows || f.estBytes >= f.rowGroupBytes) encodeBuffered(f);
      return f.writer.bytes;
    }
    case 'finish': {
      const f = fileOf(req.file);
      encodeBuffered(f);
      f.writer.finish();
      files.delete(req.file);
      return f.writer.bytes;
    }
    case 'discard':
      files.delete(req.file);
      return 0;
    default: {
      const never: never = req;
      return never;
    }
  }
}

const port = parentPort;
if (!port) throw new Error('encode-worker.ts runs as a worker thread only');
// Messages wait in the port until the listener below exists, so none is handled before zstd is loaded.
await zstdReady();
port.on('message', (req: EncodeRequest) => {
  let reply: EncodeReply;
  try {
    reply = { seq: req.seq, ok: true, bytes: handle(req) };
  } catch (e) {
    reply = { seq: req.seq, ok: false, message: e instanceof Error ? e.message : String(e) };
  }
  port.postMessage(reply);
});
