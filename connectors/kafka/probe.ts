import { connect } from 'node:net';

/** Whether any of the brokers accepts a TCP connection (health checks; not a Kafka handshake). */
export async function probeBrokers(brokers: string, timeoutMs: number): Promise<{ ok: boolean; error?: string }> {
  const list = brokers.split(',').map((b) => b.trim()).filter(Boolean);
  let lastError = 'no brokers configured';
  for (const b of list) {
    const i = b.lastIndexOf(':');
    const host = i > 0 ? b.slice(0, i) : b;
    const port = i > 0 ? Number(b.slice(i + 1)) : 9092;
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host, port });
      const t = setTimeout(() => {
        s.destroy();
        lastError = `${b}: timed out`;
        resolve(false);
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(t);
        s.end();
        resolve(true);
      });
      s.once('error', (e) => {
        clearTimeout(t);
        lastError = `${b}: ${e.message}`;
        resolve(false);
      });
    });
    if (ok) return { ok: true };
  }
  return { ok: false, error: lastError };
}
