// Starts a real tsgi server on loopback for a test, with wsgi.errors captured.
import { serve, type App, type Server, type ServerOptions } from '../../src/index';

export interface TestServer {
  server: Server;
  port: number;
  /** Everything written to wsgi.errors. */
  errors(): string;
  close(): Promise<void>;
}

/** Applied to every app startServer serves (the validator run of the gateway suites sets it). */
let appWrapper: ((app: App) => App) | undefined;

/** Makes startServer serve `wrap(app)` instead of `app` (undefined: serve apps as given). */
export function setAppWrapper(wrap: ((app: App) => App) | undefined): void {
  appWrapper = wrap;
}

export async function startServer(app: App, options: ServerOptions = {}): Promise<TestServer> {
  if (appWrapper !== undefined) app = appWrapper(app);
  const written: string[] = [];
  const sink = { write(c: string | Uint8Array) { written.push(typeof c === 'string' ? c : Buffer.from(c).toString()); return true; } };
  const server = await serve(app, { host: '127.0.0.1', port: 0, errors: sink, ...options });
  return {
    server,
    port: server.address()!.port,
    errors: () => written.join(''),
    close: () => server.close({ timeout: 2000 }),
  };
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Waits until `cond()` holds (polling), or fails after `ms`. */
export async function until(cond: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}
