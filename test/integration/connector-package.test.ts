// A third-party connector as a real npm package: examples/connector-package is packed (npm pack), installed
// from the tarball into a temporary project (offline: it has no dependencies), and loaded by a real
// `weir server` process started in that project with --connector (and with WEIR_CONNECTORS). A job reads
// its 'sequence' source and writes its 'jsonl' sink, and the file holds exactly the rows the SQL asks for.
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/kafka.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const PKG = join(ROOT, 'examples', 'connector-package');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

let tmp: string;
let project: string;
const children: ChildProcess[] = [];

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'weir-pkg-'));
  project = join(tmp, 'project');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'my-weir-setup', version: '1.0.0', private: true }));
  const tarball = execFileSync(NPM, ['pack', PKG, '--pack-destination', tmp, '--silent'], { cwd: tmp, encoding: 'utf8' }).trim().split('\n').pop()!;
  execFileSync(NPM, ['install', '--offline', '--no-audit', '--no-fund', '--silent', join(tmp, tarball)], { cwd: project, encoding: 'utf8' });
}, 120_000);

afterAll(async () => {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGTERM');
      await new Promise((r) => c.once('exit', r));
    }
  }
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

interface Started {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

function weirServer(args: readonly string[], env: Record<string, string> = {}): Started {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'weir.mjs'), 'server', '--port', '0', ...args], {
    cwd: project,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output: () => out, exited };
}

async function urlOf(s: Started): Promise<string> {
  return waitFor(
    'the server to listen',
    () => {
      if (s.child.exitCode !== null) throw Object.assign(new Error(`server exited: ${s.output()}`), { fatal: true });
      return /listening on (http:\/\/\S+)/.exec(s.output())?.[1];
    },
    60_000,
    50,
  );
}

async function call(url: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const r = await fetch(url + path, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
  return { status: r.status, body: await r.json() };
}

async function stop(s: Started): Promise<void> {
  s.child.kill('SIGTERM');
  await s.exited;
}

describe('a connector package installed with npm', () => {
  it('is installed in the project as a package of its own, without Weir', () => {
    const installed = join(project, 'node_modules', 'weir-connector-example');
    expect(JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')).name).toBe('weir-connector-example');
    expect(existsSync(join(project, 'node_modules', 'weir'))).toBe(false);
  });

  it('is loaded by `weir server --connector` and runs a job from its source into its sink', async () => {
    const out = join(tmp, 'squares.jsonl');
    const s = weirServer(['--data-dir', join(tmp, 'data1'), '--connector', 'weir-connector-example']);
    try {
      const url = await urlOf(s);
      expect(s.output()).toContain('Loaded connector module weir-connector-example: sequence, jsonl');
      const res = await call(url, 'POST', '/v1/statements', {
        sql: `CREATE TABLE seq (n BIGINT, label STRING) WITH ('connector' = 'sequence', 'start' = '1', 'end' = '5000');
CREATE TABLE squares (n BIGINT, sq BIGINT, label STRING) WITH ('connector' = 'jsonl', 'path' = '${out}');
INSERT INTO squares SELECT n, n * n AS sq, label FROM seq WHERE n > 4900;`,
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const jobId = (res.body.results as { kind: string; jobId?: string }[]).find((r) => r.kind === 'job')!.jobId!;
      await waitFor(
        'the job to finish',
        async () => {
          const j = (await call(url, 'GET', `/v1/jobs/${jobId}`)).body;
          if (j.state === 'FAILED') throw Object.assign(new Error(`job failed: ${JSON.stringify(j)}`), { fatal: true });
          return j.state === 'FINISHED' ? j : undefined;
        },
        60_000,
      );
      const rows = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { n: number; sq: number; label: string });
      const want = Array.from({ length: 100 }, (_, i) => 4901 + i).map((n) => ({ n, sq: n * n, label: String(n) }));
      expect(rows).toEqual(want);

      // The package's option errors are the user's: a 400 pointing at the option, not a 500.
      const bad = await call(url, 'POST', '/v1/statements', { sql: "CREATE TABLE seq2 (n BIGINT) WITH ('connector' = 'sequence', 'end' = 'soon')" });
      expect(bad.status).toBe(400);
      expect(bad.body.error.message).toContain("'end' must be an integer");
      expect(bad.body.error.line).toBe(1);
      expect(bad.body.error.column).toBeGreaterThan(40);
    } finally {
      await stop(s);
    }
  }, 120_000);

  it('is loaded from WEIR_CONNECTORS, by name or by path', async () => {
    const s = weirServer(['--data-dir', join(tmp, 'data2')], { WEIR_CONNECTORS: `weir-connector-example` });
    try {
      const url = await urlOf(s);
      const res = await call(url, 'POST', '/v1/statements', { sql: "CREATE TABLE seq (n BIGINT) WITH ('connector' = 'sequence', 'end' = '10')" });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    } finally {
      await stop(s);
    }
    const byPath = weirServer(['--data-dir', join(tmp, 'data3')], { WEIR_CONNECTORS: './node_modules/weir-connector-example' });
    try {
      await urlOf(byPath);
      expect(byPath.output()).toContain('Loaded connector module ./node_modules/weir-connector-example: sequence, jsonl');
    } finally {
      await stop(byPath);
    }
  }, 120_000);

  it('stops the server at start-up, naming the module, when a package is missing', async () => {
    const s = weirServer(['--data-dir', join(tmp, 'data4'), '--connector', 'weir-connector-example', '--connector', 'weir-connector-missing']);
    expect(await s.exited).toBe(1);
    expect(s.output()).toContain("connector module 'weir-connector-missing': package not found in node_modules");
    expect(s.output()).not.toContain('listening on');
  }, 60_000);
});
