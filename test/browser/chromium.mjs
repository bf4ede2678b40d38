// Debian's Chromium for the browser tests (never a downloaded browser): installed with apt-get when missing.
// Used by scripts/test.mjs before the suite, and by each browser test file so that it also runs alone.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const CHROMIUM = '/usr/bin/chromium';

/** Installs the `chromium` package when /usr/bin/chromium is missing; throws with apt's output when that fails. */
export function ensureChromium() {
  if (existsSync(CHROMIUM)) return;
  console.log('[test] installing chromium (apt-get) for the browser tests ...');
  const r = spawnSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium'], { encoding: 'utf8' });
  if (r.status !== 0 || !existsSync(CHROMIUM)) {
    throw new Error(`could not install chromium with apt-get (exit ${r.status}):\n${(r.stdout ?? '') + (r.stderr ?? '')}`.slice(0, 4000));
  }
}
