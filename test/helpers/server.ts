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

export { sleep, until } from './time';
