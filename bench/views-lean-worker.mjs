// Entry of a bench/views-lean.ts worker thread: tsx's loader first (a worker does not inherit it), then the TypeScript.
import { register } from 'tsx/esm/api';

register();
await import(new URL('./views-lean.ts', import.meta.url).href);
