import type { FastifyInstance } from 'fastify';
import type { Health, Platform } from '../../jobs/api.ts';

/** How long `GET /health` waits for the platform's broker check before answering "unreachable". */
export const HEALTH_TIMEOUT_MS = 5000;

/**
 * `GET /health` → 200 whenever the server is up (DESIGN.md §7), with the broker's reachability. A broker
 * check that throws or hangs is reported as unreachable, never as a 5xx.
 */
export function registerHealthRoutes(app: FastifyInstance, platform: Platform, timeoutMs = HEALTH_TIMEOUT_MS): void {
  app.get('/health', async (request) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`broker check timed out after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const health: Health = await Promise.race([platform.health(), timeout]);
      return health;
    } catch (err) {
      request.log.warn({ err }, 'health check failed');
      const health: Health = {
        ok: false,
        broker: { reachable: false, brokers: '', error: err instanceof Error ? err.message : String(err) },
      };
      return health;
    } finally {
      clearTimeout(timer);
    }
  });
}
