// A plain WSGI application served by the embedded interpreter through the CLI: the
// environ built in C++, wsgi.input over memory and spooled bodies, streamed bodies, the
// gateway's PEP 3333 obligations, and errors in the application.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { killAll } from './manager-harness';
import { rawRequest, get as rawGet } from './helpers/http';
import { hasPython, request, skipReason, startPython } from './helpers/python';

describe.skipIf(!hasPython)(`Python: a plain WSGI application${skipReason}`, () => {
  let port = 0;
  let err: () => string;
  beforeAll(async () => {
    const s = await startPython(['hello.py:app']);
    port = s.port;
    err = () => s.t.err();
  }, 60_000);
  afterAll(killAll);

  it('serves hello with the application\'s Content-Length', async () => {
    const r = await request(port, 'GET', '/');
    expect([r.status, r.text, r.headers['content-length'], r.headers['content-type']]).toEqual([200, 'Hello, World!', '13', 'text/plain']);
    expect(r.headers.date).toMatch(/GMT$/);
  });

  it('builds the environ: every PEP 3333 key, latin-1 values, repeated headers joined', async () => {
    const r = await request(port, 'GET', '/environ/caf%C3%A9?q=%41&b=2', { headers: { 'X-Thing': ['one', 'two'], Cookie: 'a=1', 'X-Latin': 'caf\xe9' } });
    const lines = r.body.toString('latin1').split('\n');
    const env = Object.fromEntries(lines.filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    expect(env.REQUEST_METHOD).toBe('GET');
    expect(env.PATH_INFO).toBe('/environ/caf\xc3\xa9');  // percent-decoded bytes as latin-1 characters
    expect(env.QUERY_STRING).toBe('q=%41&b=2');
    expect(env.REQUEST_URI).toBe('/environ/caf%C3%A9?q=%41&b=2');
    expect(env.SERVER_PROTOCOL).toBe('HTTP/1.1');
    expect(env.SERVER_PORT).toBe(String(port));
    expect(env.SERVER_NAME).toBe('127.0.0.1');
    expect(env.REMOTE_ADDR).toBe('127.0.0.1');
    expect(Number(env.REMOTE_PORT)).toBeGreaterThan(0);
    expect(env.SCRIPT_NAME).toBe('');
    expect(env.HTTP_X_THING).toBe('one,two');
    expect(env.HTTP_COOKIE).toBe('a=1');
    expect(env.HTTP_X_LATIN).toBe('caf\xe9');
    expect(env['wsgi.version']).toBe('(1, 0)');
    expect(env['wsgi.url_scheme']).toBe('http');
    expect(env['wsgi.input_terminated']).toBe('True');
  });

  it('each request has an environ of its own: what one request sets or removes does not reach the next', async () => {
    const environOf = (body: string) => Object.fromEntries(body.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    const ex = await rawRequest(port, [
      'POST /environ/first?a=1 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi',
      rawGet('/environ-mutate', { 'X-One': '1' }),
      'PROPFIND /environ/second HTTP/1.1\r\nHost: localhost\r\n\r\n',
      rawGet('/environ/third'),
      rawGet('/environ/fourth', {}, '1.0'),
    ], { count: 5 });
    expect(ex.responses.map((r) => r.status)).toEqual([200, 204, 200, 200, 200]);
    const [first, , second, third, fourth] = ex.responses.map((r) => environOf(r.body.toString('latin1')));
    expect([first.REQUEST_METHOD, first.CONTENT_TYPE, first.CONTENT_LENGTH, first.QUERY_STRING]).toEqual(['POST', 'text/plain', '2', 'a=1']);
    for (const env of [second, third, fourth]) {
      expect(env.SERVER_NAME).toBe('127.0.0.1');
      expect(env.SERVER_PORT).toBe(String(port));
      expect(env['wsgi.url_scheme']).toBe('http');
      expect(env.X_ADDED).toBeUndefined();
      expect(env.HTTP_X_ONE).toBeUndefined();
      expect([env.CONTENT_TYPE, env.CONTENT_LENGTH, env.QUERY_STRING]).toEqual(['', '', '']);
      expect(env.REMOTE_PORT).toBe(first.REMOTE_PORT);
      expect(env.REMOTE_ADDR).toBe('127.0.0.1');
    }
    expect([second.REQUEST_METHOD, second.PATH_INFO, second.SERVER_PROTOCOL]).toEqual(['PROPFIND', '/environ/second', 'HTTP/1.1']);
    expect([third.REQUEST_METHOD, third.PATH_INFO, third.REQUEST_URI]).toEqual(['GET', '/environ/third', '/environ/third']);
    expect([fourth.PATH_INFO, fourth.SERVER_PROTOCOL]).toEqual(['/environ/fourth', 'HTTP/1.0']);
  });

  it('start_response takes its arguments by position or keyword; wrong calls raise TypeError', async () => {
    const r = await request(port, 'GET', '/start-response-arguments');
    expect([r.status, r.headers['content-type'], r.text]).toEqual([200, 'text/plain', 'TypeError TypeError TypeError TypeError TypeError write=True']);
  });

  it('wsgi.input reads a body in memory, line by line too', async () => {
    const echo = await request(port, 'POST', '/echo', { body: 'hello body', headers: { 'Content-Type': 'text/plain' } });
    expect([echo.status, echo.text]).toEqual([200, 'hello body']);
    const lines = await request(port, 'POST', '/lines', { body: 'a\nb\nc' });
    expect(lines.text).toBe('3\na\nb\nc');
  });

  it('wsgi.input reads a chunked body (CONTENT_LENGTH is what arrived)', async () => {
    const ex = await rawRequest(port, 'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n');
    expect(ex.responses[0].body.toString()).toBe('hello world');
  });

  it('a generator is streamed chunked, chunk by chunk', async () => {
    const ex = await rawRequest(port, rawGet('/stream'));
    const res = ex.responses[0];
    expect(res.chunked).toBe(true);
    expect(res.body.toString()).toBe('chunk 0\nchunk 1\nchunk 2\nchunk 3\nchunk 4\n');
  });

  it('keep-alive and pipelined requests are answered in order', async () => {
    const ex = await rawRequest(port, rawGet('/') + rawGet('/stream') + rawGet('/'), { count: 3 });
    expect(ex.responses.map((r) => r.body.toString())).toEqual(['Hello, World!', 'chunk 0\nchunk 1\nchunk 2\nchunk 3\nchunk 4\n', 'Hello, World!']);
  });

  it('HEAD gets the head only', async () => {
    const ex = await rawRequest(port, 'HEAD / HTTP/1.1\r\nHost: x\r\n\r\n', { head: [true] });
    expect(ex.responses[0].status).toBe(200);
    expect(ex.responses[0].header['content-length']).toBe('13');
    expect(ex.responses[0].body.length).toBe(0);
  });

  it('an exception in the application is a 500 with its traceback in the error log; the worker keeps serving', async () => {
    const r = await request(port, 'GET', '/raise');
    expect(r.status).toBe(500);
    expect(r.text).toBe('Internal Server Error\n');
    await expect.poll(() => err()).toMatch(/RuntimeError: boom from the application/);
    expect(err()).toMatch(/Traceback \(most recent call last\)/);
    expect((await request(port, 'GET', '/')).status).toBe(200);
  });

  it('a 404 from the application', async () => {
    const r = await request(port, 'GET', '/nope');
    expect([r.status, r.text]).toEqual([404, 'not found\n']);
  });
});

describe.skipIf(!hasPython)(`Python: a spooled request body${skipReason}`, () => {
  afterEach(killAll);

  it('a body over --body-memory-size is read from the spooled file', async () => {
    const { port } = await startPython(['hello.py:app', '--body-memory-size', '1KB', '--max-body-size', '64MB']);
    const body = Buffer.alloc(5 * 1024 * 1024 + 3);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7 + (i >> 11)) & 0xff;
    const r = await request(port, 'POST', '/echo', { body });
    expect(r.status).toBe(200);
    expect(r.body.equals(body)).toBe(true);
    const lines = await request(port, 'POST', '/lines', { body: 'x'.repeat(3000) + '\nsecond\n' });
    expect(lines.text).toBe('2\n' + 'x'.repeat(3000) + '\nsecond\n');
  }, 60_000);
});

describe.skipIf(!hasPython)(`Python: --threads runs requests on Python threads${skipReason}`, () => {
  afterEach(killAll);

  it('three requests run at once on three of the four threads; wsgi.multithread is True', async () => {
    const { port } = await startPython(['gateway.py:app', '--threads', '4']);
    const replies = await Promise.all([1, 2, 3].map(() => request(port, 'GET', '/barrier')));
    expect(replies.map((r) => r.text)).toEqual(Array(3).fill('together multithread=True'));
  }, 60_000);
});

for (const threads of ['1', '3']) describe.skipIf(!hasPython)(`Python: the gateway's obligations (PEP 3333), --threads ${threads}${skipReason}`, () => {
  let port = 0;
  let err: () => string;
  const events = async () => (await request(port, 'GET', '/events')).text;
  beforeAll(async () => {
    const s = await startPython(['gateway.py:app', '--threads', threads]);
    port = s.port;
    err = () => s.t.err();
  }, 60_000);
  afterAll(killAll);

  it('headers wait for the first non-empty chunk: exc_info may still replace them', async () => {
    const r = await request(port, 'GET', '/exc-before');
    expect([r.status, r.text, r.headers['x-first']]).toEqual([500, 'recovered', undefined]);
  });

  it('exc_info after the headers went out re-raises; the connection is closed, close() called', async () => {
    const ex = await rawRequest(port, rawGet('/exc-after'), { count: 0, timeoutMs: 5000 });
    // The response cannot be completed: the connection is closed without a complete one.
    expect(ex.closed).toBe(true);
    expect(ex.responses).toEqual([]);
    expect(ex.raw.toString('latin1')).not.toContain('never');
    expect(await events()).toBe('exc-after:re-raised:too late');
    await expect.poll(() => err()).toMatch(/ValueError: too late/);
    // What was sent before the error arrives (PEP 3333: the response is aborted after it),
    // without a last chunk.
    const raw = ex.raw.toString('latin1');
    expect(raw).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(raw).toContain('\r\n5\r\nfirst\r\n');
    expect(raw).not.toMatch(/\r\n0\r\n\r\n$/);
  });

  it('after an error past the headers, every byte queued before it is flushed, then the connection closes', async () => {
    // A client that reads nothing for a while, then everything until the connection closes.
    const raw = await new Promise<string>((resolve, reject) => {
      const sock = net.connect(port, '127.0.0.1');
      const parts: Buffer[] = [];
      const timer = setTimeout(() => reject(new Error('the connection was not closed')), 20_000);
      sock.on('data', (d) => parts.push(d));
      sock.on('error', reject);
      sock.on('close', () => {
        clearTimeout(timer);
        resolve(Buffer.concat(parts).toString('latin1'));
      });
      sock.write('GET /exc-after-big HTTP/1.1\r\nHost: x\r\n\r\n');
      sock.pause();
      setTimeout(() => sock.resume(), 1000);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    let body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
    // De-chunk: 'first', then four chunks of 8 KB; no last chunk, no 'never'.
    const sizes: number[] = [];
    while (body.length > 0) {
      const nl = body.indexOf('\r\n');
      const n = parseInt(body.slice(0, nl), 16);
      expect(body.length).toBeGreaterThanOrEqual(nl + 2 + n + 2);
      sizes.push(n);
      body = body.slice(nl + 2 + n + 2);
    }
    expect(sizes).toEqual([5, 8192, 8192, 8192, 8192]);
    await expect.poll(() => err()).toMatch(/ValueError: too late, after 32 KB/);
  }, 30_000);

  it('close() is called once on completion', async () => {
    const r = await request(port, 'GET', '/close-complete');
    expect(r.text).toBe('abc');
    expect(await events()).toBe('closed:complete:3');
  });

  it('close() is called once when the iterable raises (500 before any output)', async () => {
    const r = await request(port, 'GET', '/close-error');
    expect(r.status).toBe(500);
    expect(await events()).toBe('closed:error:0');
  });

  it('a slow client pauses the iteration; close() is called when it goes away', async () => {
    const sock = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => sock.on('connect', () => resolve()));
    sock.write(rawGet('/close-disconnect'));
    sock.pause();  // reads nothing: the output fills up and the generator must wait
    await new Promise((r) => setTimeout(r, 1500));
    sock.destroy();
    await expect.poll(async () => events(), { timeout: 10_000, interval: 200 }).toMatch(/^closed:disconnect:\d+$/);
    // Without backpressure all 400 chunks of 1 MiB would have been produced.
  });

  it('the generator produced only what the socket could take', async () => {
    const sock = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => sock.on('connect', () => resolve()));
    sock.write(rawGet('/close-disconnect'));
    sock.pause();
    await new Promise((r) => setTimeout(r, 1500));
    sock.destroy();
    let seen = '';
    await expect.poll(async () => (seen = await events()), { timeout: 10_000, interval: 200 }).toMatch(/^closed:disconnect:\d+$/);
    expect(Number(seen.split(':')[2])).toBeLessThan(100);
  });

  it('a body shorter than Content-Length closes the connection, and is logged', async () => {
    const ex = await rawRequest(port, rawGet('/cl-short'), { count: 0, timeoutMs: 5000 });
    expect(ex.closed).toBe(true);
    const text = ex.raw.toString('latin1');
    expect(text).toMatch(/Content-Length: 10\r\n/i);
    expect(text.endsWith('\r\n\r\nabc')).toBe(true);
    await expect.poll(() => err()).toMatch(/shorter than its Content-Length \(10 bytes\)/);
    expect(await events()).toBe('closed:short:1');
  });

  it('a body longer than Content-Length is cut, and logged; the connection stays usable', async () => {
    const ex = await rawRequest(port, rawGet('/cl-long') + rawGet('/pid'), { count: 2 });
    expect(ex.responses[0].body.toString()).toBe('abc');
    expect(ex.responses[1].status).toBe(200);
    await expect.poll(() => err()).toMatch(/longer than its Content-Length \(3 bytes\)/);
  });

  it.each([
    ['/hop-by-hop', /hop-by-hop header 'Connection'/],
    ['/non-latin1', /characters that are not latin-1/],
    ['/header-newline', /control character/],
    ['/twice', /start_response\(\) called a second time without exc_info/],
    ['/no-start-response', /without calling start_response\(\)/],
    ['/not-bytes', /yielded str, not bytes/],
  ])('%s is an application error: 500, logged', async (p, logged) => {
    const r = await request(port, 'GET', p);
    expect([r.status, r.text]).toEqual([500, 'Internal Server Error\n']);
    expect(r.headers['set-cookie']).toBeUndefined();
    await expect.poll(() => err()).toMatch(logged);
  });

  it('a file_wrapper without Content-Length gets the file\'s size from the core (after Date); HEAD gets it with no body', async () => {
    const ex = await rawRequest(port, [rawGet('/file'), 'HEAD /file HTTP/1.1\r\nHost: x\r\n\r\n', rawGet('/pid')], { count: 3, head: [false, true, false] });
    const [get, head, next] = ex.responses;
    expect(get.body.toString()).toBe('static file contents\n');
    expect(get.rawHead.match(/Content-Length: 21(\r\n|$)/g)!.length).toBe(1);
    expect(get.rawHead.indexOf('Date: ')).toBeLessThan(get.rawHead.indexOf('Content-Length: '));
    expect(head.header['content-length']).toBe('21');
    expect(next.status).toBe(200);
    expect(ex.raw.toString('latin1').split('static file contents').length).toBe(2);
  });

  it('a 204 with a body sends none and no Content-Length; the connection goes on', async () => {
    const ex = await rawRequest(port, [rawGet('/204-body'), rawGet('/pid')], { count: 2 });
    expect(ex.responses.map((r) => r.status)).toEqual([204, 200]);
    expect(ex.responses[0].header['x-status']).toBe('no content');
    expect(ex.responses[0].header['content-length']).toBeUndefined();
    expect(ex.raw.toString('latin1')).not.toContain('must not be sent');
  });

  it('write() mixed with the returned iterable keeps the order', async () => {
    const r = await request(port, 'GET', '/write-mixed');
    expect([r.status, r.text]).toEqual([200, 'one two three']);
  });
});
