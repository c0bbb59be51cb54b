// Response: an object that is itself a tsgi application, served over real sockets.
import { afterEach, describe, expect, it } from 'vitest';
import { ApplicationError, Request, Response, validator, type App } from '../src/index';
import { get, rawRequest } from './helpers/http';
import { sleep, startServer, until, type TestServer } from './helpers/server';

let ts: TestServer | undefined;
afterEach(async () => { await ts?.close(); ts = undefined; });

async function fetchRaw(app: App, request = get('/')) {
  ts = await startServer(app);
  const { responses } = await rawRequest(ts.port, request);
  return responses[0];
}

describe('Response is a tsgi application', () => {
  it('is a function and an instance of Response, and serves text with Content-Type and Content-Length', async () => {
    const r = new Response('héllo', { status: 201, headers: { 'X-A': '1' } });
    expect(typeof r).toBe('function');
    expect(r).toBeInstanceOf(Response);
    const res = await fetchRaw(r);
    expect(res.status).toBe(201);
    expect(res.reason).toBe('Created');
    expect(res.header['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.header['content-length']).toBe(String(Buffer.byteLength('héllo')));
    expect(res.header['x-a']).toBe('1');
    expect(res.body.toString()).toBe('héllo');
  });

  it('can be returned by another application (validated: no violation)', async () => {
    const app: App = (env, sr) => {
      const req = new Request(env);
      return Response.json({ path: req.path, q: req.query.get('q') }, { status: 202, statusText: 'Taken' })(env, sr);
    };
    const res = await fetchRaw(validator(app), get('/p?q=%C3%A9'));
    expect(res.status).toBe(202);
    expect(res.reason).toBe('Taken');
    expect(res.header['content-type']).toBe('application/json');
    expect(JSON.parse(res.body.toString())).toEqual({ path: '/p', q: 'é' });
  });

  it('redirect() sets Location (non-ASCII percent-encoded, CR LF cannot split the header) and refuses non-redirect statuses', async () => {
    const res = await fetchRaw(Response.redirect('/caf\u00e9?x=1\r\nSet-Cookie: evil=1', 303));
    expect(res.status).toBe(303);
    expect(res.header.location).toBe('/caf%C3%A9?x=1%0D%0ASet-Cookie:%20evil=1');
    expect(res.headers.filter(([n]) => /set-cookie/i.test(n))).toEqual([]);
    expect(res.header['content-length']).toBe('0');
    expect(Response.redirect('https://example.com/').status).toBe(302);
    expect(() => Response.redirect('/x', 200)).toThrow(expect.objectContaining({ code: 'TSGI_ERR_INVALID_STATUS' }));
  });

  it('header helpers: set replaces, append adds, delete removes, get is case-insensitive; bad headers are refused at once', () => {
    const r = new Response('x');
    r.setHeader('X-A', '1').appendHeader('x-a', '2').setHeader('Cache-Control', 'no-store');
    expect(r.getHeader('X-A')).toBe('1');
    expect(r.headers.filter(([n]) => n.toLowerCase() === 'x-a').map(([, v]) => v)).toEqual(['1', '2']);
    r.setHeader('x-A', '3');
    expect(r.headers.filter(([n]) => n.toLowerCase() === 'x-a')).toEqual([['x-A', '3']]);
    r.deleteHeader('CACHE-CONTROL');
    expect(r.hasHeader('cache-control')).toBe(false);
    expect(() => r.setHeader('X Y', '1')).toThrow(expect.objectContaining({ code: 'TSGI_ERR_INVALID_HEADER' }));
    expect(() => r.setHeader('X', 'a\r\nb: c')).toThrow(expect.objectContaining({ code: 'TSGI_ERR_INVALID_HEADER' }));
    expect(() => r.setHeader('Connection', 'close')).toThrow(expect.objectContaining({ code: 'TSGI_ERR_HOP_BY_HOP_HEADER' }));
    expect(() => new Response('x', { status: 99 })).toThrow(ApplicationError);
  });

  it('a streamed body is passed through as it is: chunks arrive as yielded and close() is called once', async () => {
    let closes = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const body = Object.assign((async function* () { yield 'first;'; await gate; yield 'second'; })(), { close() { closes++; } });
    ts = await startServer(new Response(body, { headers: [['Content-Type', 'text/plain']] }));
    const net = await import('node:net');
    const sock = net.connect(ts.port, '127.0.0.1');
    const got: Buffer[] = [];
    sock.on('data', (d) => got.push(d));
    sock.write(get('/'));
    await until(() => Buffer.concat(got).includes('first;'));
    expect(Buffer.concat(got).includes('second')).toBe(false);
    release();
    await until(() => Buffer.concat(got).includes('0\r\n\r\n'));
    sock.destroy();
    await sleep(50);
    expect(closes).toBe(1);
    expect(Buffer.concat(got).toString()).toMatch(/transfer-encoding: chunked/i);
  });
});

describe('cookies', () => {
  it('setCookie with every attribute, deleteCookie, and a UTF-8 value that round-trips through Request.cookies', async () => {
    const expires = new Date(Date.UTC(2030, 0, 2, 3, 4, 5));
    const r = new Response('ok')
      .setCookie('sid', 'a b;c,d"é', { maxAge: 3600.7, expires, path: '/app', domain: 'example.com', secure: true, httpOnly: true, sameSite: 'none', partitioned: true })
      .setCookie('__Host-t', '1', { secure: true, path: '/' })
      .deleteCookie('old', { path: '/' });
    const res = await fetchRaw(r);
    const cookies = res.headers.filter(([n]) => n === 'Set-Cookie').map(([, v]) => v);
    expect(cookies).toEqual([
      'sid=a%20b%3Bc%2Cd%22%C3%A9; Max-Age=3600; Expires=Wed, 02 Jan 2030 03:04:05 GMT; Domain=example.com; Path=/app; Secure; HttpOnly; SameSite=None; Partitioned',
      '__Host-t=1; Path=/; Secure',
      'old=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/',
    ]);
    // What the client sends back parses to the original value.
    let seen: ReadonlyMap<string, string> | undefined;
    await ts!.close();
    ts = await startServer((env, sr) => { seen = new Request(env).cookies; sr('200 OK', []); return []; });
    await rawRequest(ts.port, get('/', { Cookie: `${cookies[0].split(';')[0]}; broken; =x; n="q"; bad=%E0%A4%A; sid=second` }));
    expect(Object.fromEntries(seen!)).toEqual({ sid: 'a b;c,d"é', n: 'q', bad: '%E0%A4%A' });
  });

  it('refuses header injection and what browsers would refuse', () => {
    const r = new Response('x');
    const bad: Array<[string, string, object]> = [
      ['a=b', 'v', {}],
      ['a\r\nSet-Cookie: x', 'v', {}],
      ['a;b', 'v', {}],
      ['', 'v', {}],
      ['ok', 'v', { path: '/x; Domain=evil.com' }],
      ['ok', 'v', { path: '/x\r\nX: y' }],
      ['ok', 'v', { domain: 'evil.com; Secure' }],
      ['ok', 'v', { sameSite: 'Sometimes' }],
      ['ok', 'v', { sameSite: 'None' }],
      ['ok', 'v', { partitioned: true }],
      ['ok', 'v', { maxAge: Number.NaN }],
      ['ok', 'v', { expires: new Date('nope') }],
      ['__Secure-a', 'v', {}],
      ['__Host-a', 'v', { secure: true, path: '/', domain: 'example.com' }],
    ];
    for (const [name, value, opts] of bad) {
      expect(() => r.setCookie(name, value, opts), `${name} ${JSON.stringify(opts)}`).toThrow(expect.objectContaining({ code: 'TSGI_ERR_INVALID_COOKIE' }));
    }
    // A value can hold anything: it is encoded, never able to end the header.
    r.setCookie('v', 'x\r\nSet-Cookie: evil=1; Domain=evil.com');
    const header = r.headers.find(([n]) => n === 'Set-Cookie')![1];
    expect(header).toBe('v=x%0D%0ASet-Cookie:%20evil=1%3B%20Domain=evil.com');
    expect(r.headers.filter(([n]) => n === 'Set-Cookie').length).toBe(1);
  });
});
