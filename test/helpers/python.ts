// Serving the Python fixtures (test/fixtures/python/) through the real CLI: whether the
// optional Python addon is built (the suites skip with the reason when it is not), and
// a small HTTP client for their assertions.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { ROOT, startServer, type TsgiOptions } from '../manager-harness';

export const PY_APPS = path.join(ROOT, 'test', 'fixtures', 'python');
export const PYTHON_ADDON = path.join(ROOT, 'build', 'Release', 'tsgi_python.node');
export const hasPython = fs.existsSync(PYTHON_ADDON);
/** Appended to suite names: why the suite is skipped. */
export const skipReason = hasPython ? '' : ' (skipped: the Python addon is not built: install python3-dev, then npm run build:native)';

/** `tsgi ARGS --bind 127.0.0.1:0` in the Python fixtures' directory, one worker unless ARGS say. */
export function startPython(args: string[], options: TsgiOptions = {}) {
  const workers = args.includes('--workers') ? [] : ['--workers', '1'];
  return startServer([...args, '--bind', '127.0.0.1:0', ...workers], { cwd: PY_APPS, ...options });
}

export interface PyReply { status: number; body: Buffer; text: string; headers: http.IncomingHttpHeaders }

/** One request over a new connection. */
export function request(port: number, method: string, pathName: string,
                        opts: { body?: string | Buffer; headers?: Record<string, string | string[]>; timeoutMs?: number } = {}): Promise<PyReply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: pathName, headers: opts.headers, agent: false, timeout: opts.timeoutMs ?? 15_000 }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => {
        const body = Buffer.concat(parts);
        resolve({ status: res.statusCode!, body, text: body.toString('utf8'), headers: res.headers });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(opts.body);
  });
}
