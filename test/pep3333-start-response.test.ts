// PEP 3333 "The start_response() Callable" and "Error Handling", through real sockets.
import { afterEach, describe, expect, it } from 'vitest';
import type { App, Body, StartResponse } from '../src/index';
import { get, rawRequest } from './helpers/http';
import { sleep, startServer, until, type TestServer } from './helpers/server';

let ts: TestServer | undefined;
afterEach(async () => { await ts?.close(); ts = undefined; });

/** A gate the test opens: an async generator waits on it. */
function gate() {
  let open!: () => void;
  const p = new Promise<void>((r) => (open = r));
  return { p, open };
}

describe('headers are sent by the server, not by startResponse', () => {
  it('"the start_response callable must not actually transmit the response headers": nothing is sent until the first non-empty chunk', async () => {
    const g = gate();
    ts = await startServer((env, sr) => {
      sr('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () { yield ''; await g.p; yield 'body'; })();
    });
    const received: Buffer[] = [];
    const net = await import('node:net');
    const sock = net.connect(ts.port, '127.0.0.1');
    sock.on('data', (d) => received.push(d));
    sock.write(get('/'));
    await sleep(150);
    expect(Buffer.concat(received).length).toBe(0);
    g.open();
    await until(() => Buffer.concat(received).includes('body'));
    expect(Buffer.concat(received).toString()).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    sock.destroy();
  });

  it('"start_response ... may be called during the first iteration": a generator that starts the response itself', async () => {
    ts = await startServer((env, sr) => (function* () { sr('201 Created', [['X-From', 'generator']]); yield 'made'; })());
    const { responses } = await rawRequest(ts.port, get('/'));
    expect(responses[0]).toMatchObject({ status: 201, reason: 'Created' });
    expect(responses[0].header['x-from']).toBe('generator');
    expect(responses[0].body.toString()).toBe('made');
  });

  it('headers go out "when the iterable ends" for an empty body', async () => {
    ts = await startServer((env, sr) => { sr('204 No Content', [['X-A', '1']]); return []; });
    const { responses } = await rawRequest(ts.port, get('/'));
    expect(responses[0].status).toBe(204);
    expect(responses[0].header['x-a']).toBe('1');
  });

  it('headers go out with "the first write()"', async () => {
    const g = gate();
    let write!: (c: string) => void;
    ts = await startServer((env, sr) => {
      write = sr('200 OK', [['Content-Type', 'text/plain']]);
      write('early ');
      return (async function* () { await g.p; yield 'late'; })();
    });
    const net = await import('node:net');
    const received: Buffer[] = [];
    const sock = net.connect(ts.port, '127.0.0.1');
    sock.on('data', (d) => received.push(d));
    sock.write(get('/'));
    await until(() => Buffer.concat(received).includes('early'));
    expect(Buffer.concat(received).includes('late')).toBe(false);
    g.open();
    await until(() => Buffer.concat(received).includes('late'));
    sock.destroy();
  });
});

describe('exc_info', () => {
  it('"if exc_info is provided" before headers were sent, the new status and headers replace the old', async () => {
    ts = await startServer((env, sr) => {
      sr('200 OK', [['X-Old', '1']]);
      try { throw new Error('boom'); } catch (e) { sr('503 Service Unavailable', [['X-New', '1']], e); }
      return ['sorry'];
    });
    const { responses } = await rawRequest(ts.port, get('/'));
    expect(responses[0].status).toBe(503);
    expect(responses[0].header['x-new']).toBe('1');
    expect(responses[0].header['x-old']).toBeUndefined();
    expect(responses[0].body.toString()).toBe('sorry');
  });

  it('"if ... the HTTP headers have already been sent, start_response must raise an error, and should re-raise using the exc_info"', async () => {
    let rethrown: unknown;
    const original = new Error('late failure');
    ts = await startServer((env, sr) => {
      const write = sr('200 OK', [['Content-Type', 'text/plain']]);
      write('partial');
      try { sr('500 Oops', [], original); } catch (e) { rethrown = e; throw e; }
      return [];
    });
    const ex = await rawRequest(ts.port, get('/'), { count: 0, timeoutMs: 2000 });
    expect(rethrown).toBe(original);
    // Headers were out, so the connection is closed rather than completed.
    expect(ex.closed).toBe(true);
    // No complete response, and no 500 after a 200 head; what was written before the
    // error still went out (head and chunk), with no last chunk.
    expect(ex.responses.length).toBe(0);
    expect(ex.raw.toString()).not.toContain('500');
    expect(ex.raw.toString()).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\n7\r\npartial\r\n$/);
    expect(ts.errors()).toContain('late failure');
  });

  it('"it is a fatal error to call start_response without the exc_info argument if start_response has already been called"', async () => {
    let error: unknown;
    ts = await startServer((env, sr) => {
      sr('200 OK', []);
      try { sr('200 OK', []); } catch (e) { error = e; throw e; }
      return ['x'];
    });
    const { responses } = await rawRequest(ts.port, get('/'));
    expect(error).toMatchObject({ code: 'TSGI_ERR_START_RESPONSE_TWICE' });
    expect(responses[0].status).toBe(500);
  });
});

describe('application errors become 500 (or a closed connection) and the server keeps serving', () => {
  const cases: Array<[string, App]> = [
    ['a throw before startResponse', () => { throw new Error('thrown'); }],
    ['a rejected Promise', () => Promise.reject(new Error('rejected'))],
    ['a body returned without calling startResponse', () => ['x']],
    ['a bare string returned as the body', (e, sr) => { sr('200 OK', []); return 'oops' as unknown as Body; }],
    ['a bare Buffer returned as the body', (e, sr) => { sr('200 OK', []); return Buffer.from('oops') as unknown as Body; }],
    ['null returned as the body', (e, sr) => { sr('200 OK', []); return null as unknown as Body; }],
    ['a chunk that is a number', (e, sr) => { sr('200 OK', []); return [42] as unknown as Body; }],
    ['a generator that throws before its first chunk', (e, sr) => { sr('200 OK', []); return (function* () { throw new Error('gen'); })(); }],
    ['an async generator that throws before its first chunk', (e, sr) => { sr('200 OK', []); return (async function* () { throw new Error('agen'); })(); }],
    ['an iterator whose next() returns undefined', (e, sr) => { sr('200 OK', []); return { [Symbol.iterator]: () => ({ next: () => undefined }) } as unknown as Body; }],
    ['a hop-by-hop header', (e, sr) => { sr('200 OK', [['Connection', 'close']]); return ['x']; }],
    ['a status that is not latin-1', (e, sr) => { sr('200 \u263a', []); return ['x']; }],
    ['a header value with CR LF', (e, sr) => { sr('200 OK', [['X', 'a\r\nSet-Cookie: evil=1']]); return ['x']; }],
    ['a status without a reason', (e, sr) => { sr('200', []); return ['x']; }],
  ];
  it.each(cases)('%s → 500 with the traceback on wsgi.errors', async (_name, app) => {
    ts = await startServer(app);
    const { responses } = await rawRequest(ts.port, [get('/first'), get('/second')], { count: 2 });
    expect(responses.map((r) => r.status)).toEqual([500, 500]);
    expect(responses[0].body.toString()).toBe('Internal Server Error\n');
    expect(responses[0].headers.some(([n]) => /set-cookie/i.test(n))).toBe(false);
    expect(ts.errors()).toMatch(/application error in GET \/first/);
  });

  it('an error after the headers went out closes the connection; the next connection is served', async () => {
    ts = await startServer((env, sr) => {
      if (env.PATH_INFO === '/ok') { sr('200 OK', []); return ['fine']; }
      sr('200 OK', []);
      return (function* () { yield 'x'.repeat(70_000); throw new Error('mid-body'); })();
    });
    const ex = await rawRequest(ts.port, get('/bad'), { count: 0, timeoutMs: 3000 });
    expect(ex.closed).toBe(true);
    expect(ex.responses.length).toBe(0); // chunked response never completed
    expect(ts.errors()).toContain('mid-body');
    const ok = await rawRequest(ts.port, get('/ok'));
    expect(ok.responses[0].body.toString()).toBe('fine');
  });
});

describe('errors while resuming after backpressure', () => {
  it('a body that fails after the server waited for the client to drain closes that connection only', async () => {
    ts = await startServer((env, sr) => {
      sr('200 OK', []);
      if (env.PATH_INFO === '/ok') return ['fine'];
      let n = 0;
      return { [Symbol.iterator]: () => ({ next: () => (++n <= 200 ? { done: false, value: Buffer.alloc(65536, 1) } : undefined) }) } as unknown as Body;
    });
    const net = await import('node:net');
    const sock = net.connect(ts.port, '127.0.0.1');
    sock.pause();
    sock.write(get('/bad'));
    await sleep(300);
    const closed = new Promise((r) => sock.on('close', r));
    sock.resume();
    await closed;
    expect(ts.errors()).toContain('non-object result');
    const ok = await rawRequest(ts.port, get('/ok'));
    expect(ok.responses[0].body.toString()).toBe('fine');
  });
});

describe('close() is called exactly once', () => {
  function tracked(make: () => Iterator<string> | AsyncIterator<string>, sync = true) {
    const state = { closes: 0 };
    const body = {
      close() { state.closes++; },
      [sync ? Symbol.iterator : Symbol.asyncIterator]: make,
    } as unknown as Body;
    return { state, body };
  }

  it('"upon completion of the current request ... close() must be called"', async () => {
    const { state, body } = tracked(() => ['a', 'b'][Symbol.iterator]());
    ts = await startServer((env, sr) => { sr('200 OK', []); return body; });
    const { responses } = await rawRequest(ts.port, get('/'));
    expect(responses[0].body.toString()).toBe('ab');
    await until(() => state.closes > 0);
    await sleep(50);
    expect(state.closes).toBe(1);
  });

  it('an array body carrying close() has it called once', async () => {
    let closes = 0;
    ts = await startServer((env, sr) => { sr('200 OK', []); return Object.assign(['x'], { close() { closes++; } }); });
    await rawRequest(ts.port, get('/'));
    await sleep(50);
    expect(closes).toBe(1);
  });

  it('"whether the request was completed normally, or terminated early due to an application error"', async () => {
    const { state, body } = tracked(() => ({ next() { throw new Error('iter'); } }));
    ts = await startServer((env, sr) => { sr('200 OK', []); return body; });
    const { responses } = await rawRequest(ts.port, get('/'));
    expect(responses[0].status).toBe(500);
    await sleep(50);
    expect(state.closes).toBe(1);
  });

  it('a generator that was not exhausted gets return() (its finally block runs) when it fails a chunk check', async () => {
    let finallyRan = 0;
    ts = await startServer((env, sr) => {
      sr('200 OK', []);
      return (function* () { try { yield 'a'; yield 42 as unknown as string; yield 'never'; } finally { finallyRan++; } })();
    });
    await rawRequest(ts.port, get('/'), { timeoutMs: 1000 });
    await sleep(50);
    expect(finallyRan).toBe(1);
  });

  it('when the client goes away mid-response, close() is called once and nothing more is pulled', async () => {
    let pulled = 0;
    let closes = 0;
    const stream = {
      [Symbol.asyncIterator]() {
        return { async next() { pulled++; await sleep(5); return { done: false, value: 'y'.repeat(1024) }; } };
      },
      close() { closes++; },
    };
    ts = await startServer((env, sr) => { sr('200 OK', []); return stream as unknown as Body; });
    const net = await import('node:net');
    const sock = net.connect(ts.port, '127.0.0.1');
    let got = 0;
    sock.on('data', (d) => (got += d.length));
    sock.write(get('/'));
    await until(() => got > 10_000);
    sock.destroy();
    await until(() => closes > 0, 5000, 'close()');
    const atClose = pulled;
    await sleep(200);
    expect(closes).toBe(1);
    expect(pulled - atClose).toBeLessThanOrEqual(1);
  });

  it('when the client goes away while a sync generator waits for the socket to drain, its finally block runs once', async () => {
    let finallyRan = 0;
    ts = await startServer((env, sr) => {
      sr('200 OK', []);
      return (function* () { try { for (;;) yield Buffer.alloc(65536, 1); } finally { finallyRan++; } })();
    });
    const net = await import('node:net');
    const sock = net.connect(ts.port, '127.0.0.1');
    sock.pause(); // read nothing: the server's queue fills and it waits for onDrain
    sock.write(get('/'));
    await sleep(300);
    sock.destroy();
    await until(() => finallyRan > 0, 5000, 'generator finally');
    await sleep(100);
    expect(finallyRan).toBe(1);
  });

  it('an application that resolves its Promise after the client left still gets close() on the body', async () => {
    let closes = 0;
    const g = gate();
    ts = await startServer(async (env, sr) => {
      await g.p;
      sr('200 OK', []);
      return Object.assign(['late'], { close() { closes++; } });
    });
    const net = await import('node:net');
    const sock = net.connect(ts.port, '127.0.0.1');
    sock.write(get('/'));
    await sleep(100);
    sock.destroy();
    await sleep(100);
    g.open();
    await until(() => closes > 0, 3000, 'close()');
    expect(closes).toBe(1);
  });
});

describe('startResponse returns write()', () => {
  it('write() chunks come before the body chunks, in order', async () => {
    ts = await startServer((env, sr) => { const w = sr('200 OK', []); w('one,'); w(Buffer.from('two,')); return ['three']; });
    const { responses } = await rawRequest(ts.port, get('/'));
    expect(responses[0].body.toString()).toBe('one,two,three');
  });

  it('write() after the response ended is an error', async () => {
    let w!: (c: string) => void;
    ts = await startServer((env, sr) => { w = sr('200 OK', []); return ['x']; });
    await rawRequest(ts.port, get('/'));
    expect(() => w('late')).toThrow(expect.objectContaining({ code: 'TSGI_ERR_WRITE_AFTER_END' }));
  });
});

export type { StartResponse };
