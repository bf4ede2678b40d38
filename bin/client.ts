/** A tiny JSON client for the Weir REST API (DESIGN.md §7), used by the `weir` commands. */

export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

/** No server answered at all (refused, unknown host, reset, ...): the CLI says so plainly. */
export class ServerUnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServerUnreachableError';
  }
}

export interface ApiResponse {
  readonly status: number;
  readonly body: unknown;
}

export async function callApi(
  fetchImpl: FetchLike,
  server: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<ApiResponse> {
  const init: RequestInit = { method, headers: { accept: 'application/json' } };
  if (body !== undefined) {
    init.headers = { accept: 'application/json', 'content-type': 'application/json' };
    init.body = JSON.stringify(body);
  }
  let response: Response;
  try {
    response = await fetchImpl(server + path, init);
  } catch (err) {
    throw new ServerUnreachableError(unreachableMessage(server, err));
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    throw new Error(`unexpected answer from ${server}${path} (HTTP ${response.status}, not JSON): ${text.slice(0, 200)}`);
  }
  return { status: response.status, body: parsed };
}

/** The network error code (ECONNREFUSED, ENOTFOUND, ...) somewhere in a fetch failure's causes. */
export function networkErrorCode(err: unknown): string | undefined {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  while (queue.length > 0) {
    const e = queue.shift();
    if (typeof e !== 'object' || e === null || seen.has(e)) continue;
    seen.add(e);
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return code;
    queue.push((e as { cause?: unknown }).cause);
    const errors = (e as { errors?: unknown }).errors;
    if (Array.isArray(errors)) queue.push(...errors);
  }
  return undefined;
}

export function unreachableMessage(server: string, err: unknown): string {
  const code = networkErrorCode(err);
  switch (code) {
    case 'ECONNREFUSED':
      return `no Weir server at ${server}, start one with \`weir server\``;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot reach a Weir server at ${server}: unknown host`;
    default: {
      const detail = code ?? innermostMessage(err);
      return `cannot reach a Weir server at ${server} (${detail}); is \`weir server\` running there?`;
    }
  }
}

function innermostMessage(err: unknown): string {
  let e = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}

/** The `{"error": {"message", ...}}` of an error answer, if it has that shape. */
export function errorOf(body: unknown): ({ message: string } & Record<string, unknown>) | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const error = (body as { error?: unknown }).error;
  if (typeof error !== 'object' || error === null) return undefined;
  const message = (error as { message?: unknown }).message;
  return typeof message === 'string' ? (error as { message: string } & Record<string, unknown>) : undefined;
}
