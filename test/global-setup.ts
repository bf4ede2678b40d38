// vitest globalSetup: makes sure a real Kafka broker answers on 127.0.0.1:9092 before any test file runs.
// A broker that already answers (a developer's own, or one left by `npm run kafka start`) is reused and
// left running; a broker this setup launched is stopped again in teardown().
import { HOST, LOG_FILE, PORT, install, start, stop } from '../scripts/kafka.mjs';

let startedHere = false;

export async function setup(): Promise<void> {
  try {
    await install();
    const result = await start();
    startedHere = result.started;
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    console.error(
      [
        '',
        `!! The Kafka broker for the integration tests could not start on ${HOST}:${PORT}.`,
        `!! ${detail.split('\n').join('\n!! ')}`,
        `!! Broker log: ${LOG_FILE}. Retry by hand: node scripts/kafka.mjs start`,
        '',
      ].join('\n'),
    );
    throw new Error(`Kafka broker could not start on ${HOST}:${PORT} (see the message above)`, { cause: err });
  }
}

export async function teardown(): Promise<void> {
  if (!startedHere) return;
  startedHere = false;
  await stop();
}
