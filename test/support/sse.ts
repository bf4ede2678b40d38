// A Server-Sent Events reader over fetch for tests of GET /v1/views/:name/changes: collects events until closed.
import { expect } from 'vitest';

export interface SseEvent {
  event: string;
  // A change event's JSON as the test reads it.
  data: any;
}

export function openSse(url: string): { events: SseEvent[]; close: () => void; ready: Promise<void> } {
  const ac = new AbortController();
  const events: SseEvent[] = [];
  const ready = (async () => {
    const res = await fetch(url, { signal: ac.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let buf = '';
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buf += dec.decode(value, { stream: true });
          let i;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const ev = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (ev) events.push({ event: ev, data: data ? JSON.parse(data) : undefined });
          }
        }
      } catch {
        // aborted
      }
    })();
  })();
  return { events, close: () => ac.abort(), ready };
}
