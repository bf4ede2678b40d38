// Debian's Chromium for the browser tests (never a downloaded browser): installed with apt-get when missing.
// Used by scripts/test.mjs before the suite, and by each browser test file so that it also runs alone.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const CHROMIUM = '/usr/bin/chromium';
/** A small CJK font (Debian's fonts-wqy-microhei), so that the Weibo pages' Chinese text reads in the screenshots. */
const CJK_FONT = '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc';

function aptInstall(packages) {
  return spawnSync('sh', ['-c', `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${packages.join(' ')}`], { encoding: 'utf8' });
}

/**
 * Installs the `chromium` package when /usr/bin/chromium is missing (throws with apt's output when that
 * fails), and the CJK font when it is missing (best effort: without it Chinese text renders as boxes).
 */
export function ensureChromium() {
  const want = [...(existsSync(CHROMIUM) ? [] : ['chromium']), ...(existsSync(CJK_FONT) ? [] : ['fonts-wqy-microhei'])];
  if (want.length === 0) return;
  console.log(`[test] installing ${want.join(', ')} (apt-get) for the browser tests ...`);
  const r = aptInstall(want);
  if (!existsSync(CHROMIUM)) {
    throw new Error(`could not install chromium with apt-get (exit ${r.status}):\n${(r.stdout ?? '') + (r.stderr ?? '')}`.slice(0, 4000));
  }
  if (!existsSync(CJK_FONT)) console.log('[test] fonts-wqy-microhei could not be installed; Chinese text will render as boxes in screenshots');
}
