// fromNodeHandler over real connections: keep-alive and pipelining keep their order, a
// client that leaves emits 'close' on req and res (as node:http does), write() returns
// false and 'drain' follows under backpressure, hop-by-hop headers a framework sets are
// dropped, and a response ended in one end(body) reaches the gateway as one array body.
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { fromNodeHandler, type App, type NodeHandler } from '../src/index';
import { rawRequest } from './helpers/http';
import { startServer, until, type TestServer } from './helpers/server';

let servers: Array<{ close(): Promise<void> | void }> = [];
afterEach(async () => {
  for (const s of servers) await s.close();
  servers = [];
});

async function tsgi(handler: NodeHandler, wrap?: (app: App) => App): Promise<TestServer> {
  const app = fromNodeHandler(handler);
  const s = await startServer(wrap ? wrap(app) : app);
  servers.push(s);
  return s;
}

async function nodeHttp(handler: NodeHandler): Promise<number> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push({ close: () => { server.closeAllConnections(); return new Promise((r) => server.close(() => r())); } });
  return (server.address() as AddressInfo).port;
}

describe('fromNodeHandler over real connections', () => {
  it('keeps pipelined keep-alive requests in order, slow, streamed and fast alike', async () => {
    const app = express();
    app.get('/slow', (_q, s) => { setTimeout(() => s.send('slow'), 30); });
    app.get('/fast', (_q, s) => { s.send('fast'); });
    app.get('/stream', (_q, s) => { s.write('str'); setImmediate(() => s.end('eam')); });
    const s = await tsgi(app);
    const one = (p: string) => `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`;
    const r = await rawRequest(s.port, one('/slow') + one('/fast') + one('/stream') + one('/fast'), { count: 4 });
    expect(r.responses.map((x) => x.body.toString())).toEqual(['slow', 'fast', 'stream', 'fast']);
    expect(r.closed).toBe(false);
  });

  it('req/res as frameworks read them: res.req, socket addresses, rawHeaders, body by async iteration and pipe', async () => {
    let seen: Record<string, unknown> = {};
    const handler: NodeHandler = async (q, s) => {
      const parts: Buffer[] = [];
      for await (const c of q) parts.push(c as Buffer);
      const piped: Buffer[] = [];
      seen = {
        isIncoming: q instanceof http.IncomingMessage,
        isResponse: s instanceof http.ServerResponse,
        sameReq: s.req === q,
        remoteAddress: q.socket.remoteAddress,
        remotePort: q.socket.remotePort,
        encrypted: (q.socket as { encrypted?: boolean }).encrypted,
        method: q.method,
        url: q.url,
        httpVersion: q.httpVersion,
        rawHeaders: q.rawHeaders,
        headers: q.headers,
        body: Buffer.concat(parts).toString(),
        complete: q.complete,
      };
      s.setHeader('X-A', '1');
      s.appendHeader('X-A', '2');
      seen.hasA = s.hasHeader('x-a');
      seen.getA = s.getHeader('X-A');
      s.removeHeader('X-A');
      seen.afterRemove = s.getHeaders();
      s.statusCode = 201;
      s.statusMessage = 'Made';
      s.end('ok');
      seen.headersSent = s.headersSent;
      seen.writableEnded = s.writableEnded;
      // A body can also be piped once more from a fresh request: here, an empty one.
      await new Promise<void>((r) => q.pipe(new Writable({ write(c, _e, cb) { piped.push(c); cb(); }, final(cb) { cb(); r(); } })));
    };
    const s = await tsgi(handler);
    const sock = net.connect(s.port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    const localPort = sock.localPort;
    sock.write('POST /p?q=1 HTTP/1.1\r\nHost: h\r\nX-Custom: v\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello');
    let got = '';
    sock.on('data', (d) => { got += d.toString('latin1'); });
    await until(() => got.includes('\r\n\r\nok'));
    sock.destroy();
    expect(got.startsWith('HTTP/1.1 201 Made\r\n')).toBe(true);
    expect(seen).toMatchObject({
      isIncoming: true, isResponse: true, sameReq: true, remoteAddress: '127.0.0.1', remotePort: localPort, encrypted: undefined,
      method: 'POST', url: '/p?q=1', httpVersion: '1.1', body: 'hello', complete: true,
      hasA: true, getA: ['1', '2'], afterRemove: {}, headersSent: true, writableEnded: true,
    });
    expect(seen.headers).toMatchObject({ host: 'h', 'x-custom': 'v', 'content-type': 'text/plain', 'content-length': '5' });
    expect(seen.rawHeaders).toEqual(expect.arrayContaining(['x-custom', 'v']));
  });

  for (const when of ['after the first chunk', 'before any response']) {
    it(`a client that leaves ${when} gets 'close' on req and res, as on node:http`, async () => {
      const runs: Record<string, string[]> = { node: [], tsgi: [] };
      const make = (name: string): NodeHandler => (q, s) => {
        const ev = runs[name];
        q.on('close', () => ev.push('req:close'));
        s.on('close', () => ev.push('res:close'));
        s.on('finish', () => ev.push('res:finish'));
        if (when === 'after the first chunk') s.write('first chunk\n');
      };
      const nodePort = await nodeHttp(make('node'));
      const s = await tsgi(make('tsgi'));
      for (const [name, port] of [['node', nodePort], ['tsgi', s.port]] as const) {
        const sock = net.connect(port, '127.0.0.1');
        sock.write('GET /wait HTTP/1.1\r\nHost: x\r\n\r\n');
        if (when === 'after the first chunk') await new Promise((r) => sock.once('data', r));
        else await new Promise((r) => setTimeout(r, 100));
        // A reset: the client is gone (a FIN alone is a half-close, which tsgi answers in full).
        sock.resetAndDestroy();
        await until(() => runs[name].includes('req:close') && runs[name].includes('res:close'), 5000, `${name}: close events`);
      }
      expect(runs.tsgi.includes('res:finish')).toBe(false);
      expect([...runs.tsgi].sort()).toEqual([...runs.node].sort());
    });
  }

  it("write() returns false past the high-water mark and 'drain' follows; the body arrives whole", async () => {
    let falses = 0;
    let drains = 0;
    const CHUNK = Buffer.alloc(64 * 1024, 0x61);
    const TOTAL = 32;
    const handler: NodeHandler = (_q, s) => {
      s.setHeader('Content-Type', 'application/octet-stream');
      let i = 0;
      const pump = () => {
        while (i < TOTAL) {
          i++;
          if (!s.write(CHUNK)) {
            falses++;
            s.once('drain', () => { drains++; pump(); });
            return;
          }
        }
        s.end();
      };
      pump();
    };
    const s = await tsgi(handler);
    const r = await rawRequest(s.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', { count: 1, timeoutMs: 20_000 });
    expect(r.responses[0].body.length).toBe(CHUNK.length * TOTAL);
    expect(falses).toBeGreaterThan(0);
    expect(drains).toBe(falses);
  });

  it('drops the hop-by-hop headers a framework sets instead of failing the response', async () => {
    const s = await tsgi((_q, res) => {
      res.writeHead(200, { Connection: 'keep-alive', 'Keep-Alive': 'timeout=5', 'Transfer-Encoding': 'chunked', 'X-Kept': 'yes' });
      res.end('body');
    });
    const r = await rawRequest(s.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const res = r.responses[0];
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('body');
    expect(res.header['x-kept']).toBe('yes');
    expect(res.header['keep-alive']).toBeUndefined();
    expect(res.headers.filter(([n]) => n.toLowerCase() === 'transfer-encoding')).toHaveLength(0);
    expect(s.errors()).toBe('');
  });

  it('a response ended with one end(body) reaches the gateway as one array body, sync or async', async () => {
    const shapes: string[] = [];
    const wrap = (app: App): App => (environ, startResponse) => {
      const r = app(environ, startResponse);
      if (Array.isArray(r)) shapes.push('array');
      else Promise.resolve(r).then((b) => shapes.push(Array.isArray(b) ? 'later array' : 'stream'));
      return r;
    };
    const s = await tsgi((q, res) => {
      if (q.url === '/sync') res.end('now');
      else setImmediate(() => res.end('later'));
    }, wrap);
    const a = await rawRequest(s.port, 'GET /sync HTTP/1.1\r\nHost: x\r\n\r\n');
    const b = await rawRequest(s.port, 'GET /async HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(a.responses.map((x) => x.body.toString())).toEqual(['now']);
    expect(b.responses.map((x) => x.body.toString())).toEqual(['later']);
    expect(a.responses[0].header['content-length']).toBe('3');
    await until(() => shapes.length === 2);
    expect(shapes).toEqual(['array', 'later array']);
  });

  it('a handler that throws gets a 500 and the worker keeps serving', async () => {
    const s = await tsgi((q, res) => {
      if (q.url === '/throw') throw new Error('handler failed');
      res.end('fine');
    });
    const a = await rawRequest(s.port, 'GET /throw HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(a.responses[0].status).toBe(500);
    expect(s.errors()).toContain('handler failed');
    const b = await rawRequest(s.port, 'GET /ok HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(b.responses[0].body.toString()).toBe('fine');
  });
});

describe('flushHeaders', () => {
  it('sends the head before the body exists, for GET and HEAD', async () => {
    const s = await tsgi((q, res) => {
      res.setHeader('Content-Type', 'text/event-stream');
      // GET flushes from a later turn (outside the request's dispatch), HEAD at once.
      if (q.method === 'HEAD') res.flushHeaders();
      else setTimeout(() => res.flushHeaders(), 20);
      setTimeout(() => res.end('data: late\n\n'), q.method === 'HEAD' ? 50 : 400);
    });
    for (const method of ['GET', 'HEAD']) {
      const sock = net.connect(s.port, '127.0.0.1');
      let got = '';
      sock.on('data', (d) => { got += d.toString('latin1'); });
      sock.write(`${method} /events HTTP/1.1\r\nHost: x\r\n\r\n`);
      await until(() => got.includes('\r\n\r\n'), 5000, `${method}: the head`);
      expect(got.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true);
      if (method === 'GET') {
        expect(got).not.toContain('data: late');
        await until(() => got.includes('data: late'), 5000, 'the body');
        expect(got).toContain('Transfer-Encoding: chunked');
      } else {
        await new Promise((r) => setTimeout(r, 150));
        expect(got.endsWith('\r\n\r\n')).toBe(true);
      }
      sock.destroy();
    }
  });
});

describe('request bodies and destroy()', () => {
  it('a body spooled to a file (past bodyMemorySize) streams to express.raw() whole', async () => {
    const app = express();
    app.post('/up', express.raw({ type: '*/*', limit: '10mb' }), (q, res) => {
      const b = q.body as Buffer;
      let sum = 0;
      for (const x of b) sum = (sum + x) % 65521;
      res.json({ length: b.length, sum });
    });
    const s = await startServer(fromNodeHandler(app), { bodyMemorySize: 64 * 1024 });
    servers.push(s);
    const body = Buffer.alloc(700_000);
    for (let i = 0; i < body.length; i++) body[i] = (i * 31) & 0xff;
    let sum = 0;
    for (const x of body) sum = (sum + x) % 65521;
    const r = await rawRequest(s.port, [Buffer.from(`POST /up HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\n\r\n`), body], { timeoutMs: 20_000 });
    expect(JSON.parse(r.responses[0].body.toString())).toEqual({ length: body.length, sum });
  });

  it('res.destroy() in the middle of a streamed response closes the connection; the next connection is served', async () => {
    const s = await tsgi((q, res) => {
      if (q.url === '/ok') { res.end('ok'); return; }
      res.write('partial');
      setTimeout(() => res.destroy(), 20);
    });
    const r = await rawRequest(s.port, 'GET /cut HTTP/1.1\r\nHost: x\r\n\r\n', { timeoutMs: 5000 });
    expect(r.closed).toBe(true);
    expect(r.responses).toHaveLength(0);
    expect(r.raw.toString('latin1')).toContain('partial');
    const ok = await rawRequest(s.port, 'GET /ok HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(ok.responses[0].body.toString()).toBe('ok');
  });
});

describe('the server around the adapter', () => {
  it('requestEnd hooks (access log, stats) see the status and bytes of adapted responses', async () => {
    const ends: Array<[string, number, number]> = [];
    const app = express();
    app.get('/json', (_q, res) => { res.status(201).json({ a: 1 }); });
    app.get('/stream', (_q, res) => { res.write('12345'); setImmediate(() => res.end('678')); });
    const s = await startServer(fromNodeHandler(app), { hooks: { requestEnd: (env, status, bytes) => { ends.push([env.PATH_INFO, status, bytes]); } } });
    servers.push(s);
    await rawRequest(s.port, 'GET /json HTTP/1.1\r\nHost: x\r\n\r\n');
    await rawRequest(s.port, 'GET /stream HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => ends.length === 2);
    expect(ends).toEqual([['/json', 201, 7], ['/stream', 200, 8]]);
  });
});

describe('server settings seen through the adapter', () => {
  it("urlScheme 'https' makes socket.encrypted true (req.protocol, req.secure); scriptName mounts the handler", async () => {
    const app = express();
    app.get('/info', (q, res) => { res.json({ protocol: q.protocol, secure: q.secure, url: q.url, originalUrl: q.originalUrl, encrypted: (q.socket as { encrypted?: boolean }).encrypted }); });
    const s = await startServer(fromNodeHandler(app), { urlScheme: 'https', scriptName: '/api' });
    servers.push(s);
    const r = await rawRequest(s.port, 'GET /api/info?x=1 HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(JSON.parse(r.responses[0].body.toString())).toEqual({ protocol: 'https', secure: true, url: '/info?x=1', originalUrl: '/api/info?x=1', encrypted: true });
  });
});
