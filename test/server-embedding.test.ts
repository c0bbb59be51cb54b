// The embedding API: serve/createServer, port 0, address(), graceful close with a request
// in flight, AbortSignal, asyncDispose, several servers, hooks, and option errors.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createServer, serve, type App, type Environ } from '../src/index';
import { get, rawRequest } from './helpers/http';
import { sleep, until } from './helpers/server';

const hello: App = (env, sr) => { sr('200 OK', [['Content-Type', 'text/plain']]); return ['Hello World']; };
const quiet = { errors: { write() { return true; } } };

describe('serve and address', () => {
  it('port 0 picks a free port; address() is shaped as net.Server\'s', async () => {
    const server = await serve(hello, { host: '127.0.0.1', port: 0, ...quiet });
    try {
      const a = server.address()!;
      expect(a).toEqual({ address: '127.0.0.1', family: 'IPv4', port: expect.any(Number) });
      expect(a.port).toBeGreaterThan(0);
      expect(server.listening).toBe(true);
      const r = await fetch(`http://127.0.0.1:${a.port}/`);
      expect(await r.text()).toBe('Hello World');
    } finally {
      await server.close();
    }
    expect(server.listening).toBe(false);
  });

  it('stats() reports the native counters', async () => {
    const server = await serve(hello, { port: 0, ...quiet });
    try {
      await rawRequest(server.address()!.port, [get('/'), get('/')], { count: 2 });
      expect(server.stats()).toMatchObject({ requests: 2, listeners: 1 });
      expect(server.stats()!.bytesSent).toBeGreaterThan(0);
    } finally {
      await server.close();
    }
    expect(server.stats()).toBeNull();
  });

  it('createServer does not listen until listen(); address() is null before', async () => {
    const server = createServer(hello, { port: 0, ...quiet });
    expect(server.address()).toBeNull();
    await server.listen();
    expect(server.address()!.port).toBeGreaterThan(0);
    await expect(server.listen()).rejects.toMatchObject({ code: 'TSGI_ERR_SERVER_STATE' });
    await server.close();
  });

  it('bind takes several addresses (TCP and Unix); addresses() lists them in order', async () => {
    const sock = path.join(os.tmpdir(), `tsgi-test-${process.pid}-${Date.now()}.sock`);
    const server = await serve(hello, { bind: ['127.0.0.1:0', `unix:${sock}`], ...quiet });
    try {
      const [tcp, unix] = server.addresses();
      expect(tcp.family).toBe('IPv4');
      expect(unix).toEqual({ address: sock, family: 'unix', port: 0 });
      const body = await new Promise<string>((resolve, reject) => {
        const s = net.connect(sock);
        let out = '';
        s.on('data', (d) => { out += d; if (out.includes('Hello World')) { s.destroy(); resolve(out); } });
        s.on('error', reject);
        s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      });
      expect(body).toContain('200 OK');
    } finally {
      await server.close();
      fs.rmSync(sock, { force: true });
    }
  });

  it('bind fd://N serves on an inherited listening socket (as a process manager hands it over)', async () => {
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    const fd = (holder as unknown as { _handle: { fd: number } })._handle.fd;
    const port = (holder.address() as net.AddressInfo).port;
    const server = await serve(hello, { bind: `fd://${fd}`, ...quiet });
    try {
      expect(server.address()).toMatchObject({ family: 'IPv4', port });
      holder.close(); // the server dup()ed the socket; the holder's copy can go
      const { responses } = await rawRequest(port, get('/'));
      expect(responses[0].body.toString()).toBe('Hello World');
    } finally {
      await server.close();
    }
  });

  it('IPv6 loopback works when the machine has it', async () => {
    let server;
    try {
      server = await serve(hello, { bind: '[::1]:0', ...quiet });
    } catch (e) {
      if ((e as { syscallCode?: string }).syscallCode === 'EADDRNOTAVAIL') return; // no IPv6 here
      throw e;
    }
    expect(server.address()).toMatchObject({ address: '::1', family: 'IPv6' });
    await server.close();
  });

  it('a port in use is a ListenError naming the address and the fix', async () => {
    const first = await serve(hello, { port: 0, ...quiet });
    try {
      await expect(serve(hello, { port: first.address()!.port, ...quiet })).rejects.toMatchObject({
        code: 'TSGI_ERR_LISTEN', syscallCode: 'EADDRINUSE', message: expect.stringContaining(`127.0.0.1:${first.address()!.port}`),
      });
    } finally {
      await first.close();
    }
  });

  it('two servers in one process serve their own applications', async () => {
    const a = await serve((e, sr) => { sr('200 OK', []); return ['A']; }, { port: 0, ...quiet });
    const b = await serve((e, sr) => { sr('200 OK', []); return ['B']; }, { port: 0, ...quiet });
    try {
      const [ra, rb] = await Promise.all([rawRequest(a.address()!.port, get('/')), rawRequest(b.address()!.port, get('/'))]);
      expect(ra.responses[0].body.toString()).toBe('A');
      expect(rb.responses[0].body.toString()).toBe('B');
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('close', () => {
  it('graceful close lets an in-flight request finish, refuses new connections, and resolves when done', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let started = false;
    const server = await serve(async (e, sr) => { started = true; await held; sr('200 OK', []); return ['finished']; }, { port: 0, ...quiet });
    const port = server.address()!.port;
    const inflight = rawRequest(port, get('/'), { timeoutMs: 5000 });
    await until(() => started);
    let closed = false;
    const closing = server.close().then(() => { closed = true; });
    await sleep(100);
    expect(closed).toBe(false);
    await expect(new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1');
      s.on('connect', () => { s.destroy(); reject(new Error('connected after close()')); });
      s.on('error', resolve);
    })).resolves.toMatchObject({ code: 'ECONNREFUSED' });
    release();
    const ex = await inflight;
    expect(ex.responses[0].body.toString()).toBe('finished');
    expect(ex.responses[0].header.connection?.toLowerCase()).toBe('close');
    await closing;
    expect(closed).toBe(true);
  });

  it('close() closes idle keep-alive connections and is idempotent', async () => {
    const server = await serve(hello, { port: 0, ...quiet });
    const s = net.connect(server.address()!.port, '127.0.0.1');
    s.resume(); // read (and drop) the response, so the close is seen
    await new Promise((r) => s.on('connect', r));
    s.write(get('/'));
    await sleep(50);
    const ended = new Promise((r) => s.on('close', r));
    const p1 = server.close();
    const p2 = server.close();
    expect(p1).toBe(p2);
    await p1;
    await ended;
  });

  it('close({ graceful: false }) abandons in-flight requests and calls close() on their bodies', async () => {
    let closes = 0;
    const server = await serve((e, sr) => {
      sr('200 OK', []);
      return Object.assign((async function* () { yield 'a'; await new Promise(() => {}); })(), { close() { closes++; } });
    }, { port: 0, ...quiet });
    const ex = rawRequest(server.address()!.port, get('/'), { count: 0, timeoutMs: 3000 });
    await sleep(100);
    await server.close({ graceful: false });
    expect((await ex).closed).toBe(true);
    expect(closes).toBe(1);
  });

  it('aborting the signal option closes the server', async () => {
    const ac = new AbortController();
    const server = await serve(hello, { port: 0, signal: ac.signal, ...quiet });
    const port = server.address()!.port;
    ac.abort();
    await until(() => !server.listening);
    await server.close();
    await expect(rawRequest(port, get('/'))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('close() while listen() is resolving a host name: listen() rejects and nothing is left listening', async () => {
    const server = createServer(hello, { host: 'localhost', port: 0, ...quiet });
    const listening = server.listen();
    await server.close();
    await expect(listening).rejects.toMatchObject({ code: 'TSGI_ERR_SERVER_STATE' });
    expect(server.address()).toBeNull();
  });

  it('an already aborted signal makes listen() reject', async () => {
    await expect(serve(hello, { port: 0, signal: AbortSignal.abort(), ...quiet })).rejects.toBeDefined();
  });

  it('await using closes the server at the end of the scope ([Symbol.asyncDispose])', async () => {
    let port = 0;
    {
      const server = await serve(hello, { port: 0, ...quiet });
      port = server.address()!.port;
      await server[Symbol.asyncDispose]();
    }
    await expect(rawRequest(port, get('/'))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});

describe('hooks', () => {
  it('requestStart and requestEnd see each request once, with status, bytes and duration', async () => {
    const starts: Environ[] = [];
    const ends: Array<[string, number, number, number, unknown]> = [];
    const server = await serve((e, sr) => {
      if (e.PATH_INFO === '/boom') throw new Error('boom');
      sr('201 Created', []);
      return e.PATH_INFO === '/stream' ? (async function* () { yield 'abc'; yield 'de'; })() : ['hello'];
    }, {
      port: 0, ...quiet,
      hooks: {
        requestStart: (env) => starts.push(env),
        requestEnd: (env, status, bytes, ms, err) => ends.push([env.PATH_INFO, status, bytes, ms, err]),
      },
    });
    try {
      const port = server.address()!.port;
      await rawRequest(port, [get('/a'), get('/stream'), get('/boom')], { count: 3 });
      await until(() => ends.length === 3);
      expect(starts.map((e) => e.PATH_INFO)).toEqual(['/a', '/stream', '/boom']);
      expect(ends.map(([p, s, b]) => [p, s, b])).toEqual([['/a', 201, 5], ['/stream', 201, 5], ['/boom', 500, 22]]);
      expect(ends.every(([, , , ms]) => ms >= 0)).toBe(true);
      expect(ends[2][4]).toBeInstanceOf(Error);
    } finally {
      await server.close();
    }
  });
});

describe('bad options are errors that name the option and what to do', () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['an unknown option suggests the closest', { prot: 8000 }, /unknown option "prot"; did you mean "port"/],
    ['a port out of range', { port: 70000 }, /port \(--port\) must be at most 65535/],
    ['a port that is a string', { port: '8000' }, /port \(--port\) must be a whole number/],
    ['a bad bind string', { bind: 'localhost' }, /bind "localhost": the port is missing; use HOST:PORT/],
    ['bind with host', { bind: '127.0.0.1:1', host: '0.0.0.0' }, /host\/port and bind were both given/],
    ['a bad limit', { maxHeaders: 0 }, /maxHeaders \(--max-headers\) must be at least 1/],
    ['a timeout that is not a number', { keepAliveTimeout: true }, /keepAliveTimeout .* must be a duration/],
    ['a timeout as text without a unit', { keepAliveTimeout: '5' }, /keepAliveTimeout must be a number of milliseconds \(e\.g\. 5000\) or text with a unit/],
    ['a bad scriptName', { scriptName: 'app/' }, /scriptName .* must be '' or start with '\/'/],
    ['a bad urlScheme', { urlScheme: 'ftp' }, /urlScheme .* must be one of http, https/],
    ['errors that is not a stream', { errors: 'stderr' }, /option errors must be a writable stream/],
    ['a hook that is not a function', { hooks: { requestEnd: 1 } }, /hooks.requestEnd must be a function/],
    ['an unknown hook', { hooks: { onRequest() {} } }, /hooks.onRequest is not a hook/],
    ['a signal that is not an AbortSignal', { signal: {} }, /signal must be an AbortSignal/],
  ];
  it.each(cases)('%s', (_name, options, message) => {
    expect(() => createServer(hello, options as never)).toThrow(expect.objectContaining({ code: expect.stringMatching(/^TSGI_ERR_INVALID_(OPTION|BIND)$/), message: expect.stringMatching(message) }));
  });

  it('the application must be a function', () => {
    expect(() => createServer('app.js' as never)).toThrow(/the application must be a function/);
  });

  it('serve() rejects (rather than throws) on bad options', async () => {
    await expect(serve(hello, { prot: 1 } as never)).rejects.toMatchObject({ code: 'TSGI_ERR_INVALID_OPTION' });
  });
});
