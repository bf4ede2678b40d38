import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * The web console: the files Vite builds into console/dist, served as they are. `/` and every
 * client-side route (`/jobs/abc`, `/dashboards/weibo`, ...) answer index.html, so a reload or a shared
 * link opens the right page; `/v1/*` and `/health` are never shadowed (an unknown API path stays a JSON
 * 404). Hashed files under /assets/ are cached for a year (their name changes with their content);
 * everything else is revalidated (`no-cache` + ETag), so a new build shows at the next load. Without a
 * build, a placeholder page says how to make one.
 */

export const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL('../console/dist/', import.meta.url));

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

export function registerConsole(app: FastifyInstance, consoleDir: string = DEFAULT_CONSOLE_DIR): void {
  const root = resolve(consoleDir);
  const serve = (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => serveConsole(root, request, reply);
  app.get('/', serve);
  app.get('/*', serve);
}

/** Paths the console must never answer: the API's unknown paths keep their JSON 404. */
function isApiPath(path: string): boolean {
  return path === '/v1' || path.startsWith('/v1/') || path === '/health' || path.startsWith('/health/');
}

async function serveConsole(root: string, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const raw = request.url.split('?')[0] ?? '/';
  let path: string;
  try {
    path = decodeURIComponent(raw);
  } catch {
    return passOn(reply);
  }
  if (isApiPath(path) || path.includes('\0')) return passOn(reply);

  const index = join(root, 'index.html');
  if (!(await isFile(index))) {
    // No build: the placeholder, at / and at client-side routes alike.
    return looksLikeFile(path) ? passOn(reply) : reply.type('text/html; charset=utf-8').header('cache-control', REVALIDATE).send(PLACEHOLDER_HTML);
  }

  if (path !== '/' && !path.endsWith('/')) {
    const file = normalize(join(root, path));
    // normalize() resolves '..': whatever the path says, only files inside the build are served.
    if (file.startsWith(root + sep) && (await isFile(file))) return sendFile(request, reply, file, path.startsWith('/assets/') ? IMMUTABLE : REVALIDATE);
    // A missing asset is a 404, not the page: a browser would otherwise run HTML as a script.
    if (looksLikeFile(path)) return passOn(reply);
  }
  return sendFile(request, reply, index, REVALIDATE);
}

/** The JSON 404 of server/errors.ts, as for any unknown path. */
function passOn(reply: FastifyReply): FastifyReply {
  reply.callNotFound();
  return reply;
}

function looksLikeFile(path: string): boolean {
  const last = path.slice(path.lastIndexOf('/') + 1);
  return path.startsWith('/assets/') || last.includes('.');
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function sendFile(request: FastifyRequest, reply: FastifyReply, file: string, cacheControl: string): Promise<FastifyReply> {
  const st = await stat(file);
  const etag = `W/"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
  reply.header('cache-control', cacheControl).header('etag', etag).header('x-content-type-options', 'nosniff');
  reply.type(CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream');
  if (request.headers['if-none-match'] === etag) return reply.code(304).send();
  return reply.send(await readFile(file));
}

const PLACEHOLDER_HTML = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Weir</title>
  <style>body { font-family: system-ui, sans-serif; margin: 3rem; color: #222; } code { background: #f3f3f3; padding: 0 .25em; }</style>
</head>
<body>
  <h1>Weir</h1>
  <p>The web console is not built yet: run <code>npm run build</code> (it builds <code>console/dist</code>), then reload.
  Meanwhile the REST API answers:</p>
  <ul>
    <li><a href="/v1/jobs">/v1/jobs</a> — running and finished jobs</li>
    <li><a href="/v1/tables">/v1/tables</a> — tables and views</li>
    <li><a href="/v1/dashboards">/v1/dashboards</a> — saved dashboards</li>
    <li><a href="/health">/health</a> — server and broker health</li>
  </ul>
  <p>Run SQL with <code>weir sql -f script.sql</code> or <code>POST /v1/statements</code>.</p>
</body>
</html>
`;
