// Entry of the Parquet encoding worker thread. Plain JS because a worker does not reliably inherit tsx's
// loader (neither from `tsx` nor from vitest): register it here, as bin/weir.mjs does, then load the
// TypeScript worker next to this file.
import { register } from 'tsx/esm/api';

register();
await import(new URL('./encode-worker.ts', import.meta.url).href);
