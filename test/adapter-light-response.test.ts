// fromFetch's LightResponse: installed as globalThis.Response (unless opted out), it
// behaves as a Response everywhere, and what the handler sets on it (even after
// creating it) is what goes out on the socket.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { fromFetch, toFetch } from '../src/index';
import { nativeResponse } from '../src/adapters/light-response';
import { get, rawRequest } from './helpers/http';
import { startServer, type TestServer } from './helpers/server';

let NativeResponse: typeof Response;
let ts: TestServer | undefined;
afterEach(async () => {
  await ts?.close();
  ts = undefined;
});

beforeAll(() => {
  fromFetch(() => new Response('')); // installs the global, as serving a fetch handler does
  NativeResponse = nativeResponse();
});

async function serveOnce(handler: (request: Request) => Response | Promise<Response>, request = get('/')) {
  ts = await startServer(fromFetch(handler));
  const ex = await rawRequest(ts.port, request);
  expect(ex.responses).toHaveLength(1);
  return ex.responses[0];
}

describe('LightResponse as a Response', () => {
  it('is installed as the global and is instanceof Response, as are real ones', async () => {
    expect(globalThis.Response).not.toBe(NativeResponse);
    const r = new Response('x');
    expect(r).toBeInstanceOf(Response);
    expect(r).toBeInstanceOf(NativeResponse);
    expect(r.constructor.name).toBe('Response');
    expect(Object.prototype.toString.call(r)).toBe('[object Response]');
    expect(new NativeResponse('y')).toBeInstanceOf(Response);
  });

  it('answers every getter as Node\'s Response does', async () => {
    const init = { status: 201, statusText: 'Made', headers: { 'X-A': ' 1 ', 'Content-Type': 'text/x' } };
    const light = new Response('hello', init);
    const real = new NativeResponse('hello', init);
    for (const r of [light, real]) expect(r.bodyUsed).toBe(false);
    const pick = (r: Response) => ({ status: r.status, statusText: r.statusText, ok: r.ok, type: r.type, url: r.url, redirected: r.redirected, headers: [...r.headers] });
    expect(pick(light)).toEqual(pick(real));
    expect(pick(new Response('t'))).toEqual(pick(new NativeResponse('t'))); // the default text/plain type
    expect(pick(new Response(new Uint8Array([1])))).toEqual(pick(new NativeResponse(new Uint8Array([1]))));
    expect(new Response(null, { status: 500 }).ok).toBe(false);
    expect(new Response(null, { status: 204 }).body).toBeNull();
    const withBody = new Response('abc');
    expect(withBody.body).toBeInstanceOf(ReadableStream);
    expect(await new NativeResponse(withBody.body).text()).toBe('abc');
    expect(withBody.bodyUsed).toBe(true);
  });

  it('reads its body with text, json, arrayBuffer, bytes and blob, once', async () => {
    const r = new Response('{"a":[1]}');
    expect(await r.json()).toEqual({ a: [1] });
    expect(r.bodyUsed).toBe(true);
    await expect(r.text()).rejects.toThrow(TypeError);
    expect(await new Response('abc').text()).toBe('abc');
    expect(Buffer.from(await new Response(new Uint8Array([1, 2])).arrayBuffer())).toEqual(Buffer.from([1, 2]));
    expect(Buffer.from(await new Response('hi').bytes())).toEqual(Buffer.from('hi'));
    const blob = await new Response('b', { headers: { 'content-type': 'text/x' } }).blob();
    expect([blob.type, await blob.text()]).toEqual(['text/x', 'b']);
  });

  it('copies bytes it is given, as Node\'s Response does', async () => {
    const bytes = Buffer.from('abc');
    const ab = new TextEncoder().encode('xyz').buffer;
    const r = new Response(bytes);
    const s = new Response(ab);
    bytes[0] = 0x7a;
    new Uint8Array(ab)[0] = 0x41;
    expect([await r.text(), await s.text()]).toEqual(['abc', 'xyz']);
    const res = await serveOnce(() => {
      const buf = Buffer.from('sent');
      const out = new Response(buf);
      buf.fill(0x2d);
      return out;
    });
    expect(res.body.toString()).toBe('sent');
  });

  it('clones, before and after the body stream was taken, with later header changes', async () => {
    const r = new Response('data', { headers: { 'x-a': '1' } });
    r.headers.set('x-b', '2');
    const c = r.clone();
    expect(await c.text()).toBe('data');
    expect(await r.text()).toBe('data');
    expect(c.headers.get('x-b')).toBe('2');
    const s = new Response('streamed');
    void s.body;
    s.headers.set('x-c', '3');
    const c2 = s.clone();
    expect([await c2.text(), await s.text(), c2.headers.get('x-c')]).toEqual(['streamed', 'streamed', '3']);
  });

  it('takes over the unread body stream of another as Node\'s Response does', async () => {
    const first = new Response('moved', { status: 201, headers: { 'x-a': '1' } });
    const second = new Response(first.body);
    expect([...second.headers]).toEqual([...new NativeResponse(new NativeResponse('moved').body).headers]);
    expect(await second.text()).toBe('moved');
    await expect(first.text()).rejects.toThrow(TypeError);
    const third = new Response('again', { headers: { 'x-b': '2' } });
    const fourth = new Response(third.body, third);
    expect([fourth.status, fourth.headers.get('x-b'), fourth.headers.get('content-type'), await fourth.text()]).toEqual([200, '2', 'text/plain;charset=UTF-8', 'again']);
  });

  it('keeps the statics and the errors of invalid arguments', async () => {
    const j = Response.json({ a: 1 }, { status: 202, headers: { 'x-j': 'y' } });
    expect([j.status, j.headers.get('content-type'), j.headers.get('x-j'), await j.json()]).toEqual([202, 'application/json', 'y', { a: 1 }]);
    expect(Response.error().type).toBe('error');
    const redirect = Response.redirect('http://example.test/x', 301);
    expect([redirect.status, redirect.headers.get('location')]).toEqual([301, 'http://example.test/x']);
    expect(() => new Response('x', { status: 99 })).toThrow(RangeError);
    expect(() => new Response('x', { status: 204 })).toThrow(TypeError);
    expect(() => new Response('x', { headers: { 'x-bad': 'a\nb' } })).toThrow(TypeError);
    expect(() => new Response('x', { headers: { 'bad name': 'a' } })).toThrow(TypeError);
    expect(() => Response.json(undefined)).toThrow(TypeError);
  });

  it('leaves fetch() returning Node\'s own Responses', async () => {
    ts = await startServer(fromFetch(() => new Response('served')));
    const res = await fetch(`http://127.0.0.1:${ts.port}/`, { headers: { connection: "close" } });
    expect(res).toBeInstanceOf(Response);
    expect(Object.getPrototypeOf(res)).toBe(NativeResponse.prototype);
    expect(await res.text()).toBe('served');
  });

  it('leaves toFetch working, its Responses streaming the tsgi app\'s body', async () => {
    const handler = toFetch((environ, startResponse) => {
      startResponse('201 Created', [['x-t', '1']]);
      return ['to', 'fetch'];
    });
    const res = await handler(new Request('http://example.test/'));
    expect(res).toBeInstanceOf(Response);
    expect([res.status, res.headers.get('x-t'), await res.text()]).toEqual([201, '1', 'tofetch']);
  });
});

describe('serving a LightResponse', () => {
  it('sends headers changed after the Response was created', async () => {
    const res = await serveOnce(() => {
      const r = new Response('body', { headers: { 'x-early': 'a' } });
      r.headers.set('x-late', 'b');
      r.headers.delete('x-early');
      return r;
    });
    expect(res.header['x-late']).toBe('b');
    expect(res.header['x-early']).toBeUndefined();
    expect(res.body.toString()).toBe('body');
  });

  it('sends headers a Hono middleware sets after next()', async () => {
    const app = new Hono();
    app.use(async (c, next) => { await next(); c.header('x-mw', 'after'); });
    app.get('/', (c) => c.json({ ok: true }, 200, { 'X-Route': 'r' }));
    const res = await serveOnce(app.fetch);
    expect([res.header['x-mw'], res.header['x-route'], res.header['content-type'], res.body.toString()]).toEqual(['after', 'r', 'application/json', '{"ok":true}']);
  });

  it('sends every Set-Cookie on its own line, from Headers, arrays and after creation', async () => {
    const h = new Headers();
    h.append('set-cookie', 'a=1');
    h.append('set-cookie', 'b=2');
    const cookies = (r: { headers: Array<[string, string]> }) => r.headers.filter(([n]) => n.toLowerCase() === 'set-cookie').map(([, v]) => v);
    expect(cookies(await serveOnce(() => new Response('x', { headers: h })))).toEqual(['a=1', 'b=2']);
    await ts!.close();
    expect(cookies(await serveOnce(() => new Response('x', { headers: [['Set-Cookie', 'c=3'], ['Set-Cookie', 'd=4']] })))).toEqual(['c=3', 'd=4']);
    await ts!.close();
    expect(cookies(await serveOnce(() => {
      const r = new Response('x', { headers: { 'set-cookie': 'e=5' } });
      r.headers.append('set-cookie', 'f=6');
      return r;
    }))).toEqual(['e=5', 'f=6']);
  });

  it('sends a stream body, the status and statusText', async () => {
    const res = await serveOnce(() => new Response(new ReadableStream({
      start(c) { c.enqueue(new TextEncoder().encode('one ')); c.enqueue(new TextEncoder().encode('two')); c.close(); },
    }), { status: 202, statusText: 'Taken' }));
    expect([res.status, res.reason, res.body.toString()]).toEqual([202, 'Taken', 'one two']);
  });

  it('sends no body for null-body statuses 204 and 304', async () => {
    for (const status of [204, 304]) {
      const res = await serveOnce(() => new Response(null, { status, headers: { 'x-s': String(status) } }));
      expect([res.status, res.header['x-s'], res.body.length]).toEqual([status, String(status), 0]);
      await ts!.close();
      ts = undefined;
    }
  });

  it('sends a real Response and a Response made from a LightResponse', async () => {
    expect((await serveOnce(() => new NativeResponse('native', { status: 203 }))).status).toBe(203);
    await ts!.close();
    const res = await serveOnce(() => {
      const first = new Response('copied', { status: 201, headers: { 'x-a': '1' } });
      return new Response(first.body, first); // as Hono does when c.res is replaced
    });
    expect([res.status, res.header['x-a'], res.body.toString()]).toEqual([201, '1', 'copied']);
  });
});

describe('overrideGlobalObjects', () => {
  const dist = path.resolve(__dirname, '..', 'dist', 'index.js');
  const probe = (options: string) => execFileSync(process.execPath, ['-e', `
    const before = globalThis.Response;
    require(${JSON.stringify(dist)}).fromFetch(() => new Response(''), ${options});
    process.stdout.write(String(globalThis.Response === before));
  `], { encoding: 'utf8' });

  it('false leaves globalThis.Response untouched; the default replaces it', () => {
    expect(probe('{ overrideGlobalObjects: false }')).toBe('true');
    expect(probe('{}')).toBe('false');
  });
});
