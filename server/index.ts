export { buildServer } from './app.ts';
export type { ServerOptions } from './app.ts';
export { startServer } from './serve.ts';
export type { StartServerOptions, RunningServer } from './serve.ts';
export { HttpError, notFound, toErrorAnswer } from './errors.ts';
