// Connections through the full gateway: pipelining, HTTP/1.0 persistence, many
// concurrent connections.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { get, parseResponses, rawRequest } from './helpers/http';
import { sleep, startServer, type TestServer } from './helpers/server';

let ts: TestServer | undefined;
afterEach(async () => { await ts?.close(); ts = undefined; });

describe('pipelining', () => {
  it('16 requests in one write are answered in order, whatever order the application finishes them in', async () => {
    ts = await startServer(async (env, sr) => {
      const n = Number(env.PATH_INFO.slice(1));
      await sleep((16 - n) % 5); // later requests may be ready first
      sr('200 OK', [['X-N', String(n)]]);
      return n % 2 ? [`body ${n}`] : (async function* () { yield 'body '; yield String(n); })();
    });
    const all = Array.from({ length: 16 }, (_, i) => get(`/${i}`)).join('');
    const { responses } = await rawRequest(ts.port, all, { count: 16, timeoutMs: 5000 });
    expect(responses.map((r) => r.header['x-n'])).toEqual(Array.from({ length: 16 }, (_, i) => String(i)));
    expect(responses.map((r) => r.body.toString())).toEqual(Array.from({ length: 16 }, (_, i) => `body ${i}`));
  });

  it('pipelined requests with bodies each get their own wsgi.input', async () => {
    ts = await startServer((env, sr) => { sr('200 OK', []); return [env['wsgi.input'].read()]; });
    const reqs = ['aa', 'bbb', 'c'].map((b) => `POST / HTTP/1.1\r\nHost: h\r\nContent-Length: ${b.length}\r\n\r\n${b}`).join('');
    const { responses } = await rawRequest(ts.port, reqs, { count: 3 });
    expect(responses.map((r) => r.body.toString())).toEqual(['aa', 'bbb', 'c']);
  });
});

describe('HTTP/1.0 persistence', () => {
  it('HTTP/1.0 without keep-alive: the response ends with the connection', async () => {
    ts = await startServer((e, sr) => { sr('200 OK', []); return ['one']; });
    const ex = await rawRequest(ts.port, 'GET / HTTP/1.0\r\n\r\n', { count: 0, timeoutMs: 2000 });
    expect(ex.closed).toBe(true);
    expect(ex.responses[0].body.toString()).toBe('one');
  });

  it('HTTP/1.0 with Connection: keep-alive keeps the connection for the next request', async () => {
    ts = await startServer((e, sr) => { sr('200 OK', []); return [e.PATH_INFO]; });
    const ex = await rawRequest(ts.port, ['GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n', 'GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n'], { count: 2 });
    expect(ex.responses.map((r) => r.body.toString())).toEqual(['/a', '/b']);
    expect(ex.responses[0].header.connection?.toLowerCase()).toBe('keep-alive');
  });

  it('HTTP/1.1 with Connection: close ends after the response', async () => {
    ts = await startServer((e, sr) => { sr('200 OK', []); return ['x']; });
    const ex = await rawRequest(ts.port, get('/', { Connection: 'close' }), { count: 0, timeoutMs: 2000 });
    expect(ex.closed).toBe(true);
    expect(ex.responses.length).toBe(1);
  });
});

describe('concurrency', () => {
  it('1,000 concurrent connections are all served', async () => {
    let inApp = 0;
    let maxInApp = 0;
    ts = await startServer(async (env, sr) => {
      inApp++;
      maxInApp = Math.max(maxInApp, inApp);
      await sleep(50);
      inApp--;
      sr('200 OK', []);
      return [env.PATH_INFO];
    });
    const port = ts.port;
    const N = 1000;
    const one = (i: number) => new Promise<string>((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1');
      const parts: Buffer[] = [];
      s.on('data', (d) => {
        parts.push(d);
        const { responses } = parseResponses(Buffer.concat(parts));
        if (responses.length) { s.destroy(); resolve(responses[0].body.toString()); }
      });
      s.on('error', reject);
      s.setTimeout(20_000, () => reject(new Error(`connection ${i} timed out`)));
      s.write(get(`/${i}`));
    });
    const bodies = await Promise.all(Array.from({ length: N }, (_, i) => one(i)));
    expect(bodies).toEqual(Array.from({ length: N }, (_, i) => `/${i}`));
    expect(maxInApp).toBeGreaterThan(100); // they really were in flight together
  });
});
