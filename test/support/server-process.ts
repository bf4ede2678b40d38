// A real `weir server` in a child process (bin/weir.mjs), for tests that kill it with SIGKILL and restart
// it on the same data dir (chaos.test.ts, dead-letters.test.ts).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { BROKERS, waitFor } from './kafka.ts';

const ROOT = join(import.meta.dirname, '..', '..');

/** One `weir server` child process on the data dir; its output goes to server-<n>.log there. */
export class ServerProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private logTail = '';
  url = '';
  starts = 0;

  constructor(
    private readonly dataDir: string,
    /** Another broker than the shared one (broker-outage.test.ts runs its own). */
    private readonly brokers: string = BROKERS,
  ) {}

  async start(): Promise<void> {
    const logFile = join(this.dataDir, `server-${++this.starts}.log`);
    const log = createWriteStream(logFile);
    // Port 0: the server takes a free port itself and prints its URL (no race with other tests for a port).
    const child = spawn(process.execPath, ['bin/weir.mjs', 'server', '--port', '0', '--data-dir', this.dataDir, '--brokers', this.brokers], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.url = '';
    this.logTail = '';
    const onOutput = (chunk: Buffer): void => {
      log.write(chunk);
      this.logTail = (this.logTail + chunk.toString()).slice(-4000);
      const m = /listening on (http:\/\/[^\s]+)/.exec(this.logTail);
      if (m && !this.url) this.url = m[1]!;
    };
    child.stdout!.on('data', onOutput);
    child.stderr!.on('data', onOutput);
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    await waitFor(
      `weir server to answer /health (log: ${logFile})`,
      async () => {
        this.assertAlive();
        return this.url && (await fetch(`${this.url}/health`)).ok ? true : undefined;
      },
      60_000,
      50,
    );
  }

  /** The server's process id (e.g. to read its memory from /proc); undefined when it is not running. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Throws (fatal for waitFor) if the server process is gone, with the end of its output. */
  assertAlive(): void {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) {
      throw Object.assign(new Error(`the server process is gone (exit ${c?.exitCode ?? c?.signalCode}); its output ends:\n${this.logTail}`), { fatal: true });
    }
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    this.child?.kill(signal);
    await this.exited;
    this.child = undefined;
  }

  async call(method: string, path: string, body?: unknown): Promise<any> {
    this.assertAlive();
    const r = await fetch(this.url + path, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
    const j = (await r.json()) as any;
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(j)}`);
    return j;
  }
}
