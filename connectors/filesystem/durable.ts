import { open, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

// Durable file-system steps of the commit, on libuv's thread pool: an fsync can take hundreds of
// milliseconds on a busy disk, which the job's event loop must not wait through.

/** fsync of a directory, so that the renames and creations in it survive a power loss. */
export async function fsyncDir(dir: string): Promise<void> {
  const h = await open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/** Write-then-rename, with fsyncs: `file` is either absent, its old content, or complete, also after power loss. */
export async function writeAtomic(file: string, text: string, tmp = `${file}.tmp`): Promise<void> {
  await writeFile(tmp, text);
  const h = await open(tmp, 'r+');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
  await rename(tmp, file);
  await fsyncDir(dirname(file));
}
