// tsgi --check: loads the application as a worker would, then serves it one synthetic
// request (GET /) through the real server on a loopback port, so that an application
// that loads but cannot answer (a Node.js (req, res) handler, a factory named without
// its '()', a body that is not iterable) is caught before the first real request.
import http from 'node:http';
import { loadApp } from '../app-loader';
import { resolveApp } from '../adapters/detect';
import { createServer } from '../server';
import { Logger } from '../log';
import type { App } from '../types';

export interface CheckResult {
  ok: boolean;
  /** One line when ok ('GET / answered 200'); the error's text otherwise. */
  message: string;
}

const ANSWER_WITHIN_MS = 10_000;

/** What a failure of the synthetic request most likely means. */
function hint(error: unknown, returned: unknown, spec: string): string {
  if (typeof returned === 'function') {
    const name = (returned as { name?: string }).name;
    const fixed = /:[\w$.]+$/.test(spec) ? `${spec}()` : `${spec}:EXPORT()`;
    return `\nThe application returned a function${name ? ` (${name})` : ''} instead of a body: is the export a factory? Did you mean ${fixed}? tsgi then calls it once and serves what it returns.`;
  }
  const text = String((error as Error)?.message ?? error);
  if (/\b(res|response|req|request)\.\w+ is not a function|\b(setHeader|writeHead|end|send|json|status|getHeader)\b.* is not a function|Cannot read properties of undefined \(reading '(headers|url|method|on)'\)/.test(text)) {
    return '\nThis looks like a Node.js (req, res) handler (Express, Connect, node:http) served as a tsgi application: serve it with --interface node, or export it unchanged and let tsgi detect it (see "Running Express, Koa, Fastify or Hono on tsgi" in the README).';
  }
  return '';
}

export async function checkApp(spec: string, cwd: string, interfaceSetting = 'auto'): Promise<CheckResult> {
  const { app, detection } = await resolveApp(await loadApp(spec, cwd), interfaceSetting, spec);
  const detected = `${detection.kind}, interface ${detection.interface}: ${detection.why}`;
  let returned: unknown;
  let failure: unknown;
  let errorsText = '';
  const wrapped: App = ((environ: never, startResponse: never) => {
    returned = (app as (e: unknown, s: unknown) => unknown)(environ, startResponse);
    return returned;
  }) as App;
  const server = createServer(wrapped, {
    bind: '127.0.0.1:0',
    logger: new Logger({ level: 'critical', stream: { write: () => undefined } }),
    errors: { write: (chunk: string | Uint8Array) => { errorsText += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'); } },
    hooks: { requestEnd: (_environ, _status, _bytes, _ms, error) => { if (error !== undefined) failure = error; } },
  });
  await server.listen();
  try {
    const port = server.address()!.port;
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false, headers: { 'user-agent': 'tsgi --check' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      });
      req.setTimeout(ANSWER_WITHIN_MS, () => req.destroy(new Error(`no response within ${ANSWER_WITHIN_MS / 1000}s`)));
      req.on('error', reject);
    }).catch((e: Error) => { failure ??= e; return 0; });
    if (failure !== undefined) {
      const detail = (failure as Error)?.stack ?? String(failure);
      return { ok: false, message: `the application loads (${detected}), but GET / failed: ${detail}${hint(failure, returned, spec)}${errorsText && !errorsText.includes(String((failure as Error)?.message)) ? '\n' + errorsText.trimEnd() : ''}` };
    }
    return { ok: true, message: `the application loads (${detected}) and answers GET / with ${status}` };
  } finally {
    await server.close({ graceful: false });
  }
}
