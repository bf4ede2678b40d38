// Entry of a parallel pipeline instance (worker thread). Plain JS because a worker does not reliably
// inherit tsx's loader (neither from `tsx` nor from vitest): register it here, as bin/weir.mjs does, then
// load the TypeScript instance next to this file.
import { register } from 'tsx/esm/api';

register();
await import(new URL('./instance.ts', import.meta.url).href);
