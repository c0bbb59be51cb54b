// The WinterCG fetch-handler shapes tsgi runs and produces.

/** Cloudflare Workers' ExecutionContext, as far as a server outside Workers can give it. */
export interface ExecutionContext {
  /** Keeps work going after the response; a rejection is logged on wsgi.errors. */
  waitUntil(promise: Promise<unknown>): void;
  /** Workers-only (fall through to the origin on an exception); does nothing on tsgi. */
  passThroughOnException(): void;
  readonly props: Record<string, unknown>;
}

/** A fetch handler: Hono's app.fetch, a Bun/Deno/Workers handler. */
export type FetchHandler = (request: Request, env?: unknown, ctx?: ExecutionContext) => Response | Promise<Response>;

/** An object with a fetch method: a Hono app, a Workers module's default export, Bun's serve options. */
export interface FetchHandlerObject {
  fetch: FetchHandler;
}
