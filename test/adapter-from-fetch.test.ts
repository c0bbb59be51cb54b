// fromFetch on the real server: Request built from the environ, Response streamed back with
// backpressure, client disconnects cancel the stream and abort request.signal.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { fromFetch } from '../src/index';
import { get, rawRequest } from './helpers/http';
import { sleep, startServer, until, type TestServer } from './helpers/server';

let ts: TestServer | undefined;
afterEach(async () => {
  await ts?.close();
  ts = undefined;
});

function post(path: string, body: Buffer | string, headers: Record<string, string> = {}): Buffer {
  const b = Buffer.from(body);
  let head = `POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${b.length}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  return Buffer.concat([Buffer.from(head + '\r\n', 'latin1'), b]);
}

describe('the Request a fetch handler gets', () => {
  it('is a Request with the method, URL (raw path bytes kept), headers and body', async () => {
    let seen: Record<string, unknown> = {};
    ts = await startServer(fromFetch(async (request) => {
      seen = {
        isRequest: request instanceof Request,
        method: request.method,
        url: request.url,
        host: request.headers.get('host'),
        custom: request.headers.get('x-custom'),
        body: await request.text(),
      };
      return new Response('ok');
    }));
    const ex = await rawRequest(ts.port, post('/a%2Fb/%C3%A9%20x?q=%E2%9C%93&r', 'payload ✓', { 'X-Custom': 'v1' }));
    expect(ex.responses[0].status).toBe(200);
    expect(seen).toEqual({ isRequest: true, method: 'POST', url: 'http://localhost/a%2Fb/%C3%A9%20x?q=%E2%9C%93&r', host: 'localhost', custom: 'v1', body: 'payload ✓' });
  });

  it('re-encodes SCRIPT_NAME + PATH_INFO when they no longer match the raw target', async () => {
    let url = '';
    const inner = fromFetch((request) => { url = request.url; return new Response('ok'); });
    // A middleware that mounts the app under /mnt, as a router would.
    ts = await startServer((environ, sr) => inner({ ...environ, SCRIPT_NAME: '/mnt', PATH_INFO: '/caf\xc3\xa9 x' }, sr));
    await rawRequest(ts.port, get('/whatever?x=1'));
    expect(url).toBe('http://localhost/mnt/caf%C3%A9%20x?x=1');
  });

  it('a large request body arrives as a stream, read a piece at a time', async () => {
    const big = Buffer.alloc(1_000_000, 7);
    big.write('start');
    let pieces = 0;
    let total = 0;
    ts = await startServer(fromFetch(async (request) => {
      const reader = request.body!.getReader();
      for (;;) {
        const r = await reader.read();
        if (r.done) break;
        pieces++;
        total += r.value.byteLength;
      }
      return new Response(String(total));
    }), { bodyMemorySize: 64 * 1024 });
    const ex = await rawRequest(ts.port, post('/up', big), { timeoutMs: 10_000 });
    expect(ex.responses[0].body.toString()).toBe('1000000');
    expect(total).toBe(1_000_000);
    expect(pieces).toBeGreaterThan(1);
  });

  it('a handler that never reads the body still answers, and the next request on the connection is served', async () => {
    ts = await startServer(fromFetch((request) => new Response(request.method + ' ' + new URL(request.url).pathname)));
    const ex = await rawRequest(ts.port, [post('/one', 'x'.repeat(100_000)), get('/two')], { count: 2 });
    expect(ex.responses.map((r) => r.body.toString())).toEqual(['POST /one', 'GET /two']);
  });
});

describe('the Response it returns', () => {
  it('a body known whole goes out with Content-Length; a stream is chunked', async () => {
    ts = await startServer(fromFetch((request) => {
      const p = new URL(request.url).pathname;
      if (p === '/text') return new Response('some text');
      if (p === '/json') return Response.json({ a: 1 });
      const enc = new TextEncoder();
      let n = 0;
      return new Response(new ReadableStream({
        async pull(c) {
          await sleep(2);
          if (n < 3) c.enqueue(enc.encode(`part${n++};`));
          else c.close();
        },
      }));
    }));
    const ex = await rawRequest(ts.port, [get('/text'), get('/json'), get('/stream')], { count: 3 });
    const [text, json, stream] = ex.responses;
    expect([text.header['content-length'], text.chunked, text.body.toString()]).toEqual(['9', false, 'some text']);
    expect([json.header['content-length'], json.header['content-type'], json.body.toString()]).toEqual(['7', 'application/json', '{"a":1}']);
    expect([stream.chunked, stream.body.toString()]).toEqual([true, 'part0;part1;part2;']);
  });

  it('keeps the status text and every Set-Cookie, and drops hop-by-hop headers', async () => {
    ts = await startServer(fromFetch(() => {
      const h = new Headers();
      h.append('Set-Cookie', 'a=1; Path=/');
      h.append('Set-Cookie', 'b=2; HttpOnly');
      h.set('Connection', 'close, x-thing');
      h.set('Keep-Alive', 'timeout=99');
      h.set('Proxy-Authenticate', 'Basic');
      h.set('Upgrade', 'websocket');
      h.set('X-Kept', 'yes');
      return new Response('body', { status: 299, statusText: 'Custom Status', headers: h });
    }));
    const ex = await rawRequest(ts.port, [get('/'), get('/')], { count: 2 });
    const r = ex.responses[0];
    expect([r.status, r.reason]).toEqual([299, 'Custom Status']);
    expect(r.headers.filter(([n]) => n.toLowerCase() === 'set-cookie').map(([, v]) => v)).toEqual(['a=1; Path=/', 'b=2; HttpOnly']);
    const names = r.headers.map(([n]) => n.toLowerCase());
    expect(names).toContain('x-kept');
    expect(names).not.toContain('keep-alive');
    expect(names).not.toContain('proxy-authenticate');
    expect(names).not.toContain('upgrade');
    // The connection stays open: the application's Connection header did not close it.
    expect(ex.responses).toHaveLength(2);
  });

  it('HEAD gets the headers without a body and the body stream is cancelled', async () => {
    let cancelled = false;
    ts = await startServer(fromFetch(() => new Response(new ReadableStream({
      pull(c) { c.enqueue(new Uint8Array(10)); },
      cancel() { cancelled = true; },
    }), { headers: { 'Content-Length': '1000' } })));
    const ex = await rawRequest(ts.port, ['HEAD / HTTP/1.1\r\nHost: h\r\n\r\n', get('/', {}, '1.1').replace('GET / ', 'HEAD /x ')], { count: 2, head: [true, true] });
    expect(ex.responses.map((r) => [r.status, r.header['content-length'], r.body.length])).toEqual([[200, '1000', 0], [200, '1000', 0]]);
    expect(cancelled).toBe(true);
  });

  it('a thrown error is a 500 with the error logged on wsgi.errors', async () => {
    ts = await startServer(fromFetch(() => { throw new Error('handler exploded'); }));
    const ex = await rawRequest(ts.port, [get('/sync'), get('/next')], { count: 2 });
    expect(ex.responses.map((r) => r.status)).toEqual([500, 500]);
    expect(ts.errors()).toMatch(/application error in GET \/sync: Error: handler exploded/);
  });

  it('a rejected promise and a non-Response are 500s too', async () => {
    ts = await startServer(fromFetch(async (request) => {
      if (request.url.endsWith('/reject')) throw new Error('async failure');
      return 'not a response' as unknown as Response;
    }));
    const ex = await rawRequest(ts.port, [get('/reject'), get('/garbage')], { count: 2 });
    expect(ex.responses.map((r) => r.status)).toEqual([500, 500]);
    expect(ts.errors()).toMatch(/async failure/);
    expect(ts.errors()).toMatch(/TSGI_ERR_INVALID_RESPONSE|must return a Response/);
  });

  it('a large streamed response is pulled only as fast as the client reads', async () => {
    let produced = 0;
    const CHUNK = new Uint8Array(64 * 1024);
    const LIMIT = 256 * 1024 * 1024;
    ts = await startServer(fromFetch(() => new Response(new ReadableStream({
      pull(c) {
        if (produced >= LIMIT) { c.close(); return; }
        produced += CHUNK.length;
        c.enqueue(CHUNK);
      },
    }, { highWaterMark: 0 }))));
    const sock = net.connect(ts.port, '127.0.0.1');
    sock.write(get('/'));
    let received = 0;
    sock.on('data', (d) => { received += d.length; });
    await until(() => received > 0, 5000, 'the first bytes');
    sock.pause();
    await sleep(500);
    const atPause = produced;
    await sleep(500);
    // While the client reads nothing, production stops at the server's output bound.
    expect(produced - atPause).toBeLessThanOrEqual(CHUNK.length * 2);
    expect(produced).toBeLessThan(64 * 1024 * 1024);
    sock.destroy();
  });
});

describe('a client that goes away', () => {
  it('cancels the response stream and aborts request.signal', async () => {
    let cancelled = false;
    let aborted = false;
    let pulls = 0;
    ts = await startServer(fromFetch((request) => {
      request.signal.addEventListener('abort', () => { aborted = true; });
      return new Response(new ReadableStream({
        async pull(c) {
          pulls++;
          await sleep(5);
          c.enqueue(new TextEncoder().encode(`tick ${pulls}\n`));
        },
        cancel() { cancelled = true; },
      }));
    }));
    const sock = net.connect(ts.port, '127.0.0.1');
    let got = '';
    sock.on('data', (d) => { got += d.toString(); });
    sock.write(get('/events'));
    await until(() => got.includes('tick 3'), 5000, 'three ticks');
    sock.destroy();
    await until(() => cancelled && aborted, 5000, 'cancel and abort');
    const after = pulls;
    await sleep(100);
    expect(pulls).toBe(after);
  });

  it('aborts request.signal while the handler is still waiting', async () => {
    let aborted = false;
    ts = await startServer(fromFetch(async (request) => {
      const signal = request.signal;
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => { aborted = true; resolve(); }));
      return new Response('too late');
    }));
    const sock = net.connect(ts.port, '127.0.0.1');
    sock.write(get('/wait'));
    await sleep(200);
    // A reset: a client that only half-closes may still be waiting for its answer.
    sock.resetAndDestroy();
    await until(() => aborted, 5000, 'request.signal to abort');
  });

  it('a handler that rejects once request.signal aborts leaves no unhandled rejection and the server serving', async () => {
    let rejected = false;
    ts = await startServer(fromFetch(async (request) => {
      if (request.url.endsWith('/ok')) return new Response('ok');
      const signal = request.signal;
      await new Promise<void>((resolve, reject) => signal.addEventListener('abort', () => { rejected = true; reject(signal.reason); }));
      return new Response('never');
    }));
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => { unhandled.push(e); };
    process.on('unhandledRejection', onUnhandled);
    try {
      const sock = net.connect(ts.port, '127.0.0.1');
      sock.write(get('/upstream'));
      await sleep(200);
      sock.resetAndDestroy();
      await until(() => rejected, 5000, 'the handler to reject');
      await sleep(100);
      const ex = await rawRequest(ts.port, get('/ok'));
      expect(ex.responses[0].body.toString()).toBe('ok');
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('Workers-style handlers', () => {
  it('export default { fetch(request, env, ctx) } gets env and a ctx whose waitUntil failures are logged', async () => {
    const worker = {
      async fetch(request: Request, env: { GREETING: string }, ctx: { waitUntil(p: Promise<unknown>): void }) {
        ctx.waitUntil(Promise.reject(new Error('background job failed')));
        return new Response(`${env.GREETING} ${new URL(request.url).searchParams.get('name')}`);
      },
    };
    ts = await startServer(fromFetch(worker as never, { env: { GREETING: 'hello' } }));
    const ex = await rawRequest(ts.port, get('/?name=worker'));
    expect(ex.responses[0].body.toString()).toBe('hello worker');
    await until(() => ts!.errors().includes('background job failed'), 3000, 'the waitUntil rejection in wsgi.errors');
  });
});
