// healthPath (--health-path): the server answers that path itself, without calling the
// application: 200 while it serves, 503 with Connection: close once it drains for a stop.
import { afterAll, describe, expect, it } from 'vitest';
import type { App } from '../src/index';
import { get, openClient, parseResponses, rawRequest } from './helpers/http';
import { startServer, until, type TestServer } from './helpers/server';
import { killAll, run, startServer as startTsgi } from './manager-harness';
import { hasPython, request, skipReason, startPython } from './helpers/python';

let calls = 0;
const app: App = (environ, sr) => {
  calls++;
  sr('200 OK', [['Content-Type', 'text/plain']]);
  return [`app ${environ.PATH_INFO}\n`];
};

const servers: TestServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
  await killAll();
});

describe('healthPath on an embedded server', () => {
  it('answers 200 without calling the application; other paths reach it', async () => {
    const s = await startServer(app, { healthPath: '/healthz' });
    servers.push(s);
    calls = 0;
    const x = await rawRequest(s.port, [get('/healthz'), get('/healthz?probe=1'), 'HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n', get('/healthzz'), get('/')], { count: 5, head: [false, false, true, false, false] });
    const [a, b, head, other, root] = x.responses;
    expect([a.status, a.body.toString(), a.header['cache-control']]).toEqual([200, 'OK\n', 'no-store']);
    expect([b.status, b.body.toString()]).toEqual([200, 'OK\n']);
    expect([head.status, head.body.length]).toEqual([200, 0]);
    expect([other.status, other.body.toString()]).toEqual([200, 'app /healthzz\n']);
    expect([root.status, root.body.toString()]).toEqual([200, 'app /\n']);
    expect(calls).toBe(2);
  });

  it('a body sent to the health path is dropped, and the connection goes on', async () => {
    const s = await startServer(app, { healthPath: '/healthz', bodyMemorySize: 1024 });
    servers.push(s);
    const big = 'x'.repeat(64 * 1024);
    const x = await rawRequest(s.port, [`POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: ${big.length}\r\n\r\n${big}`, get('/after')], { count: 2 });
    expect(x.responses.map((r) => [r.status, r.body.toString()])).toEqual([[200, 'OK\n'], [200, 'app /after\n']]);
  });

  it('answers 503 with Connection: close once the server is closing', async () => {
    const s = await startServer(app, { healthPath: '/healthz' });
    const c = openClient(s.port);
    c.sock.write(get('/healthz'));
    await until(() => c.text().includes('OK\n'), 5000, 'the first health answer');
    const closed = s.server.close({ timeout: 5000 });
    c.sock.write(get('/healthz'));
    await until(() => c.closed(), 8000, 'the connection to close');
    await closed;
    const { responses } = parseResponses(Buffer.from(c.text(), 'latin1'), true);
    expect(responses.map((r) => r.status)).toEqual([200, 503]);
    expect(responses[1].header.connection).toBe('close');
    expect(responses[1].body.toString()).toBe('draining\n');
  });

  it('a path with a query or without a leading slash is refused when the server is created', async () => {
    const { createServer } = await import('../src/index');
    expect(() => createServer(app, { healthPath: 'healthz' })).toThrow(/healthPath \(--health-path\) must be '' or a path such as \/healthz/);
    expect(() => createServer(app, { healthPath: '/h?x=1' })).toThrow(/no query/);
  });
});

describe('--health-path on the tsgi command', () => {
  it('200 from a worker that serves, 503 from one that drains for a stop', async () => {
    const { t, port } = await startTsgi(['deploy.js:app', '--bind', '127.0.0.1:0', '--health-path', '/healthz', '--graceful-timeout', '20']);
    const probe = openClient(port);
    probe.sock.write(get('/healthz'));
    await until(() => probe.text().includes('OK\n'), 10_000, 'the first health answer');
    // Half a request keeps the connection (and the worker) in the drain until it is answered.
    const next = get('/healthz');
    probe.sock.write(next.slice(0, 10));
    await new Promise((r) => setTimeout(r, 200));
    process.kill(t.pid, 'SIGTERM');
    await t.waitFor(/msg=closing/, 10_000);
    probe.sock.write(next.slice(10));
    await until(() => probe.closed(), 10_000, 'the probe connection to close');
    const { responses } = parseResponses(Buffer.from(probe.text(), 'latin1'), true);
    expect(responses.map((r) => r.status)).toEqual([200, 503]);
    expect(responses[1].header.connection).toBe('close');
    expect((await t.exited).code).toBe(0);
  });

  it('a bad path stops the command with a message (exit 2)', async () => {
    const r = await run(['deploy.js:app', '--health-path', 'healthz']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--health-path.*must be '' or a path such as \/healthz/);
  });
});

describe.skipIf(!hasPython)(`--health-path for a Python application${skipReason}`, () => {
  it('the native core answers the probe: no JavaScript and no Python runs for it', async () => {
    const { port } = await startPython(['hello.py:app', '--health-path', '/healthz']);
    const probe = await request(port, 'GET', '/healthz');
    expect([probe.status, probe.text, probe.headers['cache-control']]).toEqual([200, 'OK\n', 'no-store']);
    const other = await request(port, 'GET', '/nowhere');
    expect([other.status, other.text]).toEqual([404, 'not found\n']);
  });
});
