#!/usr/bin/env node
// Builds the web console (console/ → console/dist) with Vite. `npm run build` (and `npm install`, through
// "prepare") always builds; scripts/test.mjs and scripts/demo.mjs call ensureConsoleBuilt(), which builds
// only when dist is missing or older than a source file.
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist', 'index.html');

function newestMtime(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** true when console/dist is missing or a source (src/, index.html, vite.config.ts, the lock file) is newer. */
export function consoleIsStale() {
  if (!existsSync(dist)) return true;
  const built = statSync(dist).mtimeMs;
  const sources = [join(here, 'src'), join(here, 'index.html'), join(here, 'vite.config.ts'), join(here, '..', 'package-lock.json')];
  return sources.some((p) => existsSync(p) && newestMtime(p) > built);
}

export async function buildConsole() {
  const { build } = await import('vite');
  const started = Date.now();
  await build({ configFile: join(here, 'vite.config.ts') });
  console.log(`[console] built console/dist in ${Date.now() - started} ms`);
}

const LOCK = join(here, '.build-lock');
const LOCK_STALE_MS = 120_000;

/**
 * Test files run in parallel processes and each makes sure the console is built: one builds while the
 * others wait on a lock directory, then find dist fresh (a second build would empty dist under a server).
 */
export async function ensureConsoleBuilt() {
  if (!consoleIsStale()) return;
  const deadline = Date.now() + LOCK_STALE_MS;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      // A lock left by a killed build is taken over once it is old.
      if (Date.now() - statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs > LOCK_STALE_MS || Date.now() > deadline) {
        rmSync(LOCK, { recursive: true, force: true });
        continue;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    if (consoleIsStale()) await buildConsole();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv.includes('--prepare')) {
    // `npm install --omit=dev` has no Vite: the install must still succeed (the server then shows how to build).
    try {
      await import('vite');
    } catch {
      console.log('[console] vite is not installed (production install?): console/dist not built; run `npm run build` after a full `npm install`');
      process.exit(0);
    }
  }
  await (process.argv.includes('--if-stale') ? ensureConsoleBuilt() : buildConsole());
}
