#!/usr/bin/env node
// `npm run demo`: the Weibo demo in one command. Starts (or reuses) the Kafka broker, a Weir server,
// the event generator, submits examples/weibo/*.sql, prints where to look, and stops what it started
// on Ctrl-C.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { install, start, stop } from './kafka.mjs';
import { ensureConsoleBuilt } from '../console/build.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const port = Number(process.env.WEIR_PORT ?? 8080);
const url = `http://127.0.0.1:${port}`;
const rate = process.env.WEIBO_RATE ?? '200';
const children = [];
let brokerStarted = false;

function weir(args, name) {
  // Own process group: Ctrl-C reaches only the demo, which then stops each child cleanly.
  const child = spawn(process.execPath, [join(root, 'bin', 'weir.mjs'), ...args], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], detached: true });
  child.on('exit', (code) => {
    if (!shuttingDown) console.error(`[demo] ${name} exited (${code}); stopping`);
    if (!shuttingDown) shutdown(1);
  });
  children.push(child);
  return child;
}

async function waitForServer() {
  for (let i = 0; i < 120; i++) {
    try {
      const r = await fetch(`${url}/health`);
      if (r.ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`the Weir server did not answer on ${url}`);
}

async function sql(text) {
  const r = await fetch(`${url}/v1/statements`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sql: text }) });
  const body = await r.json();
  if (!r.ok) throw new Error(`statement ${body.error?.statement} line ${body.error?.line}: ${body.error?.message}`);
  return body.results;
}

let shuttingDown = false;
async function shutdown(code) {
  if (shuttingDown) return;
  shuttingDown = true;
  console.log('\n[demo] stopping ...');
  for (const c of children.reverse()) {
    c.kill('SIGTERM');
    await new Promise((r) => (c.exitCode !== null ? r() : c.once('exit', r)));
  }
  if (brokerStarted) await stop();
  process.exit(code);
}
process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));

process.on('unhandledRejection', (e) => {
  console.error(`[demo] ${e instanceof Error ? e.message : e}`);
  shutdown(1);
});

await ensureConsoleBuilt();
await install();
brokerStarted = (await start()).started;
weir(['server', '--port', String(port), '--data-dir', join(root, '.weir', 'demo')], 'server');
await waitForServer();
console.log(`[demo] server up on ${url}`);
weir(['gen', 'weibo', '--rate', rate, '--bad-rate', '0.002'], 'generator');
await sql(readFileSync(join(root, 'examples', 'weibo', 'tables.sql'), 'utf8'));
// Submit each job unless a job of that name is already running (the demo can be restarted on the same data dir).
const running = new Set((await (await fetch(`${url}/v1/jobs`)).json()).jobs.filter((j) => ['RUNNING', 'RESTARTING', 'CREATED'].includes(j.state)).map((j) => j.name));
const script = readFileSync(join(root, 'examples', 'weibo', 'jobs.sql'), 'utf8');
for (const block of script.split(/(?=SET 'pipeline\.name')/).filter((b) => /^\s*INSERT\b/m.test(b))) {
  const name = /SET 'pipeline\.name' = '([^']+)'/.exec(block)?.[1];
  if (name && running.has(name)) {
    console.log(`[demo] job ${name} already running`);
    continue;
  }
  const results = await sql(block);
  const job = results.find((r) => r.kind === 'job');
  console.log(`[demo] job ${name} submitted: ${job?.jobId}`);
}
for (const r of await sql(readFileSync(join(root, 'examples', 'weibo', 'views.sql'), 'utf8'))) {
  console.log(`[demo] ${r.kind === 'job' ? `materialized view job ${r.jobId} started` : r.message}`);
}
// The dashboard the console opens on (its panels chart the views above); PUT replaces an older copy.
// A failure here is reported, not fatal: the jobs and views run without it.
try {
  const dashboard = { ...JSON.parse(readFileSync(join(root, 'examples', 'weibo', 'dashboard.json'), 'utf8')), default: true };
  const put = await fetch(`${url}/v1/dashboards/weibo`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(dashboard) });
  if (!put.ok) throw new Error((await put.json()).error?.message ?? `HTTP ${put.status}`);
  console.log(`[demo] dashboard 'weibo' saved`);
} catch (e) {
  console.error(`[demo] saving the dashboard failed: ${e instanceof Error ? e.message : e}`);
}
console.log(`
[demo] Weir is running the Weibo analytics.
  console:  ${url}/dashboards/weibo   (the Weibo dashboard; jobs, catalog and SQL editor from there)
  server:   ${url}
  jobs:     ${url}/v1/jobs      or  npx weir jobs
  results:  Kafka topics hot_bloggers, hot_topics, posts_by_loc, posts_by_type
  lake:     ${join(root, '.weir', 'demo', 'lake')}/dt=.../hr=.../*.parquet   (the cleaned feed; new files every checkpoint)
            read it: see "A five-minute tour" in README.md (DuckDB read_parquet with hive_partitioning)
  views:    ${url}/v1/views   (leaderboard_bloggers, posts_per_minute, places_per_minute, hot_topics_per_minute)
  query:    curl -s ${url}/v1/query -H 'content-type: application/json' -d '{"sql": "SELECT * FROM leaderboard_bloggers ORDER BY window_start DESC, engagement DESC LIMIT 10"}'
  bad data: weibo_dead_letters
Windows are one minute long: the first results appear about a minute after the start. Ctrl-C stops everything.`);
