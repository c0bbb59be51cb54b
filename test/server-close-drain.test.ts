// server.close() drains: a streamed response in flight completes, and its connection
// (whose head said keep-alive before the close began) has its next request answered with
// Connection: close or is ended after the drain grace, never held for the keep-alive
// timeout; new clients are refused at once while a request in flight completes.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { serve, type App, type Server } from '../src/index';
import { openClient, type Client } from './helpers/http';
import { sleep, until } from './helpers/server';
import { tryConnect } from './helpers/sockets';

const quiet = { errors: { write() { return true; } } };

let servers: Server[] = [];
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close({ graceful: false })));
});

/** Streams 'first ', then after ?ms=N (default 400) 'last'; '/slow' answers an array after ?ms. */
const app: App = (environ, startResponse) => {
  const ms = Number(/ms=(\d+)/.exec(environ.QUERY_STRING)?.[1] ?? 400);
  if (environ.PATH_INFO === '/slow') {
    return (async () => {
      await sleep(ms);
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return ['slow done'];
    })();
  }
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return (async function* () {
    yield 'first ';
    await sleep(ms);
    yield 'last';
  })();
};

async function start(options: Record<string, unknown> = {}): Promise<{ server: Server; port: number }> {
  const server = await serve(app, { host: '127.0.0.1', port: 0, ...quiet, ...options });
  servers.push(server);
  return { server, port: server.address()!.port };
}

function client(port: number): Client {
  const c = openClient(port);
  sockets.push(c.sock);
  return c;
}

const GET = (path: string) => `GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`;
const streamedEnd = '\r\n0\r\n\r\n';

describe('server.close() drains', () => {
  it('a streamed response in flight (keepAliveTimeout 15 s): it completes, and close() resolves after the drain grace, not the keep-alive timeout', async () => {
    const { server, port } = await start({ keepAliveTimeout: 15_000 });
    const c = client(port);
    c.sock.write(GET('/stream'));
    await until(() => c.text().includes('first'), 3000, 'first chunk');
    const t0 = Date.now();
    let closedAt = 0;
    void server.close().then(() => { closedAt = Date.now(); });
    await until(() => closedAt !== 0, 10_000, 'close() to resolve');
    expect(c.text()).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(c.text().endsWith(`last${streamedEnd}`)).toBe(true);
    console.log(`server.close() during a streamed response (keepAliveTimeout 15 s) resolved in ${closedAt - t0} ms`);
    expect(closedAt - t0).toBeLessThan(5000);
    await until(() => c.ended(), 1000, 'the server FIN');
    expect(c.error()).toBeUndefined();
  }, 20_000);

  it('a streamed response in flight: the next request on its connection is answered with Connection: close', async () => {
    const { server, port } = await start({ keepAliveTimeout: 15_000 });
    const c = client(port);
    c.sock.write(GET('/stream'));
    await until(() => c.text().includes('first'), 3000, 'first chunk');
    const closing = server.close();
    await until(() => c.text().endsWith(streamedEnd), 3000, 'streamed response');
    expect(c.text()).not.toMatch(/\r\nconnection: close/i);  // its head went out before the close
    const before = c.text().length;
    c.sock.write(GET('/stream?ms=0'));
    await until(() => c.text().length > before && c.text().endsWith(streamedEnd), 3000, 'second response');
    expect(c.text().slice(before)).toMatch(/\r\nconnection: close\r\n/i);
    await closing;
    await until(() => c.ended(), 1000, 'the server FIN');
    expect(c.error()).toBeUndefined();
  }, 20_000);

  it('new clients are refused at once while a request in flight completes', async () => {
    const { server, port } = await start();
    const c = client(port);
    c.sock.write(GET('/slow?ms=1500'));
    await sleep(200);
    const closing = server.close();
    const t0 = Date.now();
    expect(await tryConnect(port)).toBe('ECONNREFUSED');
    expect(Date.now() - t0).toBeLessThan(1000);
    await closing;
    expect(c.text()).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\nconnection: close\r\n[\s\S]*slow done$/i);
  }, 20_000);
});
