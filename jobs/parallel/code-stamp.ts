import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project's root (this file is jobs/parallel/code-stamp.ts). */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Where the code a pipeline instance loads lives: the engine, the formats, the Kafka client (an instance that reads its own partitions) and this folder. */
const DIRS = ['engine', 'connectors/formats', 'connectors/kafka', 'jobs/parallel'];

/**
 * A fingerprint of the TypeScript a pipeline instance loads (path, size and modification time of every
 * file; no contents read, ~1 ms). Instances load their code from disk when they start, which can be long
 * after the server started (a job restarts, or starts later): if the files changed in between (a `git
 * pull` under a running server), an instance would run other code than the job's thread and the two
 * would disagree on messages or semantics. The job hands its stamp to each instance, which refuses to
 * start on a different one (instance-boot.mjs). Computed once, when the process loads the job code (a
 * stamp taken later could already be of the new files).
 */
export function codeStamp(): string {
  return LOADED;
}

/** The stamp as the files on disk are now (what an instance compares with). */
export function currentCodeStamp(): string {
  return compute();
}

function compute(): string {
  const h = createHash('sha256');
  const walk = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(dir, name);
      const st = statSync(path, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) walk(path);
      else if (name.endsWith('.ts')) h.update(`${relative(ROOT, path)}\0${st.size}\0${st.mtimeMs}\n`);
    }
  };
  for (const d of DIRS) walk(join(ROOT, d));
  return h.digest('hex').slice(0, 16);
}

const LOADED = compute();
