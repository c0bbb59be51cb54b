// toFetch: a tsgi application answering Request objects directly, with the PEP 3333
// obligations kept: streamed bodies both ways, excInfo, close() exactly once, Content-Length.
import { describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { fromFetch, toFetch, type App, type Environ } from '../src/index';

function sink() {
  const lines: string[] = [];
  return { write(c: string | Uint8Array) { lines.push(String(c)); return true; }, text: () => lines.join('') };
}

function closable<T extends object>(body: T, counter: { n: number }): T & { close(): void } {
  return Object.assign(body, { close() { counter.n++; } });
}

describe('toFetch', () => {
  it('builds the environ from the Request and answers with status, headers and body', async () => {
    let env: Environ | undefined;
    const handler = toFetch((environ, sr) => {
      env = environ;
      sr('201 Created', [['Content-Type', 'text/plain'], ['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2']]);
      return [`${environ.REQUEST_METHOD} ${environ.PATH_INFO} ${environ.QUERY_STRING} `, environ['wsgi.input'].read()];
    }, { scriptName: '/mnt' });
    const res = await handler(new Request('https://example.test:8443/mnt/caf%C3%A9%20x?q=1', {
      method: 'POST', body: 'the body', headers: { 'X-Custom': 'yes', 'Content-Type': 'text/plain' },
    }));
    expect(res.status).toBe(201);
    expect(res.statusText).toBe('Created');
    expect(res.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(await res.text()).toBe('POST /caf\u00c3\u00a9 x q=1 the body');
    expect(env).toMatchObject({
      SCRIPT_NAME: '/mnt', SERVER_NAME: 'example.test', SERVER_PORT: '8443', 'wsgi.url_scheme': 'https',
      HTTP_X_CUSTOM: 'yes', CONTENT_TYPE: 'text/plain', CONTENT_LENGTH: '8', REQUEST_URI: '/mnt/caf%C3%A9%20x?q=1',
      HTTP_HOST: 'example.test:8443',
    });
  });

  it('streams the response: the first chunk is readable before the application produces the next', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const handler = toFetch((environ, sr) => {
      sr('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () { yield 'first'; await gate; yield 'second'; })();
    });
    const res = await handler(new Request('http://h/'));
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(Buffer.from(first.value!).toString()).toBe('first');
    release();
    const second = await reader.read();
    expect(Buffer.from(second.value!).toString()).toBe('second');
    expect((await reader.read()).done).toBe(true);
  });

  it("input: 'stream' hands the application the request body as it arrives (an echo, chunk for chunk)", async () => {
    const handler = toFetch((environ, sr) => {
      sr('200 OK', []);
      return (async function* () {
        for await (const chunk of environ['wsgi.input']) yield Buffer.concat([Buffer.from('<'), chunk, Buffer.from('>')]);
      })();
    }, { input: 'stream' });
    let feed!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({ start(c) { feed = c; } });
    const resPromise = handler(new Request('http://h/echo', { method: 'POST', body, duplex: 'half' } as RequestInit));
    feed.enqueue(new TextEncoder().encode('one'));
    const res = await resPromise;
    const reader = res.body!.getReader();
    expect(Buffer.from((await reader.read()).value!).toString()).toBe('<one>');
    // The second piece is sent only after the first came back: both directions stream.
    feed.enqueue(new TextEncoder().encode('two'));
    expect(Buffer.from((await reader.read()).value!).toString()).toBe('<two>');
    feed.close();
    expect((await reader.read()).done).toBe(true);
  });

  it("input: 'stream' refuses a synchronous read with an error that says what to do", async () => {
    const errors = sink();
    const handler = toFetch((environ, sr) => { sr('200 OK', []); return [environ['wsgi.input'].read()]; }, { input: 'stream', errors });
    const res = await handler(new Request('http://h/', { method: 'POST', body: 'x' }));
    expect(res.status).toBe(500);
    expect(errors.text()).toMatch(/TSGI_ERR_INPUT_STREAMED|for await/);
  });

  it('a buffered body larger than maxBodySize gets 413', async () => {
    const handler = toFetch((e, sr) => { sr('200 OK', []); return []; }, { maxBodySize: 10 });
    expect((await handler(new Request('http://h/', { method: 'POST', body: 'x'.repeat(11) }))).status).toBe(413);
    expect((await handler(new Request('http://h/', { method: 'POST', body: 'x'.repeat(10) }))).status).toBe(200);
  });

  it('excInfo before the first chunk replaces the status and headers', async () => {
    const counter = { n: 0 };
    const handler = toFetch((environ, sr) => {
      sr('200 OK', [['Content-Type', 'text/html']]);
      try {
        throw new Error('late failure');
      } catch (e) {
        sr('503 Service Unavailable', [['Content-Type', 'text/plain']], e);
      }
      return closable(['try later'], counter);
    });
    const res = await handler(new Request('http://h/'));
    expect([res.status, res.headers.get('content-type'), await res.text()]).toEqual([503, 'text/plain', 'try later']);
    expect(counter.n).toBe(1);
  });

  it('excInfo after the first chunk is rethrown: the stream errors and close() runs once', async () => {
    const counter = { n: 0 };
    const errors = sink();
    const handler = toFetch((environ, sr) => {
      sr('200 OK', []);
      return closable((function* () {
        yield 'partial';
        sr('500 Internal Server Error', [], new Error('after the headers'));
        yield 'never';
      })(), counter);
    }, { errors });
    const res = await handler(new Request('http://h/'));
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
    expect(counter.n).toBe(1);
    expect(errors.text()).toMatch(/after the headers/);
  });

  it('close() runs exactly once: at the end, on an error, and when the consumer cancels', async () => {
    const ends = { n: 0 };
    const done = toFetch((e, sr) => { sr('200 OK', []); return closable(['a', 'b'], ends); });
    expect(await (await done(new Request('http://h/'))).text()).toBe('ab');
    expect(ends.n).toBe(1);

    const fails = { n: 0 };
    const failing = toFetch((e, sr) => { sr('200 OK', []); return closable((function* () { yield 'x'; throw new Error('mid-body'); })(), fails); }, { errors: sink() });
    await expect((await failing(new Request('http://h/'))).text()).rejects.toThrow(/mid-body/);
    expect(fails.n).toBe(1);

    const cancels = { n: 0 };
    let produced = 0;
    const endless = toFetch((e, sr) => { sr('200 OK', []); return closable((function* () { for (;;) { produced++; yield 'tick'; } })(), cancels); });
    const reader = (await endless(new Request('http://h/'))).body!.getReader();
    await reader.read();
    await reader.read();
    await reader.cancel();
    expect(cancels.n).toBe(1);
    const at = produced;
    await new Promise((r) => setTimeout(r, 20));
    expect(produced).toBe(at);
    expect(at).toBeLessThan(10);
  });

  it('honours Content-Length: never more, and a short body errors the stream', async () => {
    const errors = sink();
    const long = toFetch((e, sr) => { sr('200 OK', [['Content-Length', '5']]); return ['0123', '456789']; }, { errors });
    expect(await (await long(new Request('http://h/'))).text()).toBe('01234');
    expect(errors.text()).toMatch(/longer than its Content-Length: 5/);
    const short = toFetch((e, sr) => { sr('200 OK', [['Content-Length', '10']]); return (function* () { yield '0123'; yield '4'; })(); }, { errors });
    await expect((await short(new Request('http://h/'))).text()).rejects.toThrow(/shorter than its Content-Length/);
  });

  it('misuse is a 500: no startResponse, startResponse twice, a bare string, hop-by-hop headers', async () => {
    const errors = sink();
    const apps: App[] = [
      () => ['no start'],
      (e, sr) => { sr('200 OK', []); sr('200 OK', []); return []; },
      (e, sr) => { sr('200 OK', []); return 'bare' as never; },
      (e, sr) => { sr('200 OK', [['Connection', 'close']]); return []; },
    ];
    for (const app of apps) expect((await toFetch(app, { errors })(new Request('http://h/'))).status).toBe(500);
    expect(errors.text()).toMatch(/TSGI_ERR_START_RESPONSE_MISSING|without calling startResponse/);
    expect(errors.text()).toMatch(/hop-by-hop/);
  });

  it('startResponse may be called during the first iteration; write() sends before the body', async () => {
    const handler = toFetch((environ, sr) => (function* () {
      const write = sr('202 Accepted', []);
      write('from write, ');
      yield '';
      yield 'from the body';
    })());
    const res = await handler(new Request('http://h/'));
    expect([res.status, await res.text()]).toEqual([202, 'from write, from the body']);
  });

  it('a Hono app round-trips through fromFetch and toFetch unchanged', async () => {
    const app = new Hono();
    app.get('/hi/:name', (c) => c.json({ hi: c.req.param('name'), q: c.req.query('q') }));
    app.post('/echo', async (c) => c.text(await c.req.text()));
    const handler = toFetch(fromFetch(app));
    for (const req of [new Request('http://h/hi/%C3%A9?q=1'), new Request('http://h/echo', { method: 'POST', body: 'round trip' }), new Request('http://h/missing')]) {
      const direct = await app.fetch(req.clone());
      const through = await handler(req);
      expect([through.status, through.headers.get('content-type'), await through.text()]).toEqual([direct.status, direct.headers.get('content-type'), await direct.text()]);
    }
  });
});
