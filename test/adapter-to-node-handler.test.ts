// toNodeHandler: a tsgi application inside node:http and mounted in Express. The environ
// follows the mount (SCRIPT_NAME/PATH_INFO), bodies of every kind are written with node's
// backpressure, close() runs once, and errors become 500 (or go to Express's next()).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { toNodeHandler, type App, type Environ } from '../src/index';
import { rawRequest } from './helpers/http';

let closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers) await c();
  closers = [];
});

async function listen(handler: http.RequestListener): Promise<number> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => { server.closeAllConnections(); return new Promise((r) => server.close(() => r())); });
  return (server.address() as AddressInfo).port;
}

const echo: App = (environ: Environ, startResponse) => {
  const body = environ['wsgi.input'].read().toString('latin1');
  const out = JSON.stringify({
    SCRIPT_NAME: environ.SCRIPT_NAME, PATH_INFO: environ.PATH_INFO, QUERY_STRING: environ.QUERY_STRING,
    REQUEST_URI: environ.REQUEST_URI, REQUEST_METHOD: environ.REQUEST_METHOD, CONTENT_TYPE: environ.CONTENT_TYPE,
    CONTENT_LENGTH: environ.CONTENT_LENGTH, HTTP_X_TEST: environ.HTTP_X_TEST, SERVER_PROTOCOL: environ.SERVER_PROTOCOL,
    REMOTE_ADDR: environ.REMOTE_ADDR, body,
  });
  startResponse('200 OK', [['Content-Type', 'application/json'], ['X-Multi', 'a'], ['X-Multi', 'b']]);
  return [out];
};

describe('toNodeHandler', () => {
  it('runs a tsgi app inside node:http: environ, body, repeated headers', async () => {
    const port = await listen(toNodeHandler(echo));
    const r = await rawRequest(port, 'POST /a%20b/c?x=1&y=2 HTTP/1.1\r\nHost: h\r\nX-Test: t\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\nbody');
    const res = r.responses[0];
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString())).toEqual({
      SCRIPT_NAME: '', PATH_INFO: '/a b/c', QUERY_STRING: 'x=1&y=2', REQUEST_URI: '/a%20b/c?x=1&y=2', REQUEST_METHOD: 'POST',
      CONTENT_TYPE: 'text/plain', CONTENT_LENGTH: '4', HTTP_X_TEST: 't', SERVER_PROTOCOL: 'HTTP/1.1', REMOTE_ADDR: '127.0.0.1', body: 'body',
    });
    expect(res.headers.filter(([n]) => n === 'X-Multi').map(([, v]) => v)).toEqual(['a', 'b']);
  });

  it('under an Express mount, SCRIPT_NAME is the mount and PATH_INFO the rest', async () => {
    const app = express();
    app.use('/mount', toNodeHandler(echo));
    const port = await listen(app);
    const r = await rawRequest(port, 'GET /mount/x%2Fy/z?q=1 HTTP/1.1\r\nHost: h\r\n\r\n');
    expect(JSON.parse(r.responses[0].body.toString())).toMatchObject({
      SCRIPT_NAME: '/mount', PATH_INFO: '/x/y/z', QUERY_STRING: 'q=1', REQUEST_URI: '/mount/x%2Fy/z?q=1',
    });
    const root = await rawRequest(port, 'GET /mount HTTP/1.1\r\nHost: h\r\n\r\n');
    expect(JSON.parse(root.responses[0].body.toString())).toMatchObject({ SCRIPT_NAME: '/mount', PATH_INFO: '' });
  });

  it('streams sync and async iterable bodies, calls close() once, honours HEAD', async () => {
    let closes = 0;
    const app: App = (environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      if (environ.PATH_INFO === '/sync') {
        const body = ['a', 'b', Buffer.from('c')] as Array<string | Buffer> & { close?(): void };
        return Object.assign(body[Symbol.iterator]() as unknown as object, { [Symbol.iterator]() { return body[Symbol.iterator](); }, close() { closes++; } }) as never;
      }
      async function* gen() { for (let i = 0; i < 3; i++) { await new Promise((r) => setImmediate(r)); yield `${i};`; } }
      return Object.assign(gen(), { close() { closes++; } });
    };
    const port = await listen(toNodeHandler(app));
    const a = await rawRequest(port, 'GET /sync HTTP/1.1\r\nHost: h\r\n\r\n');
    expect(a.responses[0].body.toString()).toBe('abc');
    const b = await rawRequest(port, 'GET /async HTTP/1.1\r\nHost: h\r\n\r\n');
    expect(b.responses[0].body.toString()).toBe('0;1;2;');
    const h = await rawRequest(port, 'HEAD /async HTTP/1.1\r\nHost: h\r\n\r\n', { head: [true] });
    expect(h.responses[0].status).toBe(200);
    expect(h.raw.toString('latin1').endsWith('\r\n\r\n')).toBe(true);
    expect(closes).toBe(3);
  });

  it('an application error is a 500 on node:http and goes to next(err) under Express; a body past maxBodySize is 413', async () => {
    const failing: App = () => { throw new Error('app failed'); };
    const errors: string[] = [];
    const port = await listen(toNodeHandler(failing, { errors: { write: (t) => errors.push(String(t)) } }));
    const r = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: h\r\n\r\n');
    expect(r.responses[0].status).toBe(500);
    expect(errors.join('')).toContain('app failed');

    const app = express();
    app.use('/t', toNodeHandler(failing, { errors: { write: () => {} } }));
    app.use((err: Error, _q: express.Request, s: express.Response, _n: express.NextFunction) => { s.status(502).send(`handled: ${err.message}`); });
    const port2 = await listen(app);
    const r2 = await rawRequest(port2, 'GET /t/x HTTP/1.1\r\nHost: h\r\n\r\n');
    expect(r2.responses[0].status).toBe(502);
    expect(r2.responses[0].body.toString()).toBe('handled: app failed');

    const port3 = await listen(toNodeHandler(echo, { maxBodySize: 3 }));
    const r3 = await rawRequest(port3, 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789');
    expect(r3.responses[0].status).toBe(413);
  });
});
