// Entry of a parallel pipeline instance (worker thread). Plain JS because a worker does not reliably
// inherit tsx's loader (neither from `tsx` nor from vitest): register it here, as bin/weir.mjs does, then
// load the TypeScript instance next to this file.
import { register } from 'tsx/esm/api';

register();
// Refuse to run other code than the job's thread (code-stamp.ts): fail the boot, so the job reports it.
const { currentCodeStamp } = await import(new URL('./code-stamp.ts', import.meta.url).href);
const { workerData } = await import('node:worker_threads');
if (workerData?.codeStamp !== undefined && currentCodeStamp() !== workerData.codeStamp) {
  throw new Error("Weir's code changed on disk since this server started: restart the server to run jobs in parallel instances");
}
await import(new URL('./instance.ts', import.meta.url).href);
