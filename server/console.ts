import type { FastifyInstance } from 'fastify';

/**
 * The web console's mount point. For now `/` answers a small placeholder page; the console's static
 * files (and its SSE endpoints) get registered here, so app.ts does not change when they arrive.
 */
export function registerConsole(app: FastifyInstance): void {
  app.get('/', async (_request, reply) => {
    return reply.type('text/html; charset=utf-8').send(PLACEHOLDER_HTML);
  });
}

const PLACEHOLDER_HTML = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Weir</title>
  <style>body { font-family: system-ui, sans-serif; margin: 3rem; color: #222; } code { background: #f3f3f3; padding: 0 .25em; }</style>
</head>
<body>
  <h1>Weir</h1>
  <p>The web console is coming. Meanwhile the REST API answers:</p>
  <ul>
    <li><a href="/v1/jobs">/v1/jobs</a> — running and finished jobs</li>
    <li><a href="/v1/tables">/v1/tables</a> — tables and views</li>
    <li><a href="/health">/health</a> — server and broker health</li>
  </ul>
  <p>Run SQL with <code>weir sql -f script.sql</code> or <code>POST /v1/statements</code>.</p>
</body>
</html>
`;
