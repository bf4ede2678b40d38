#!/usr/bin/env node
// The one test command (`npm test`, also run by .ci/run): installs and starts the Kafka broker if
// needed, runs the whole vitest suite, and ends with the plain line `N passed, N failed`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { install, start, stop } from './kafka.mjs';
import { ensureConsoleBuilt } from '../console/build.mjs';
import { ensureChromium } from '../test/browser/chromium.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const report = join(root, '.cache', 'vitest-report.json');
mkdirSync(dirname(report), { recursive: true });
rmSync(report, { force: true });

// The browser tests (test/browser) need the built console and Debian's Chromium; they fail with the reason if either is missing.
await ensureConsoleBuilt();
try {
  ensureChromium();
} catch (e) {
  console.error(`[test] ${e.message}`);
}
await install();
const started = await start();
const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile=${report}`, ...process.argv.slice(2)];
const r = spawnSync('npx', args, { cwd: root, stdio: 'inherit', env: { ...process.env, WEIR_BROKER_MANAGED: '1' } });
if (started?.started) await stop();

let passed = 0;
let failed = 0;
if (existsSync(report)) {
  const j = JSON.parse(readFileSync(report, 'utf8'));
  passed = j.numPassedTests ?? 0;
  // A test file that fails to load has no failed test in it but must still count as a failure.
  const brokenFiles = (j.testResults ?? []).filter((t) => t.status === 'failed' && !(t.assertionResults ?? []).some((a) => a.status === 'failed')).length;
  failed = (j.numFailedTests ?? 0) + brokenFiles;
} else {
  failed = 1;
}
const code = r.status === 0 && failed === 0 ? 0 : 1;
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(code);
