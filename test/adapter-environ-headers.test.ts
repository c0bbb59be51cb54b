// The request headers fromFetch hands a fetch handler: get() and has() read the environ,
// everything else goes to a real Headers built on first need, and both agree.
import { afterEach, describe, expect, it } from 'vitest';
import { fromFetch } from '../src/index';
import { rawRequest } from './helpers/http';
import { startServer, type TestServer } from './helpers/server';

let ts: TestServer | undefined;
afterEach(async () => {
  await ts?.close();
  ts = undefined;
});

async function seen(head: string, look: (headers: Headers) => unknown): Promise<unknown> {
  let result: unknown;
  ts = await startServer(fromFetch((request) => {
    result = look(request.headers);
    return new Response('ok');
  }));
  const ex = await rawRequest(ts.port, head);
  expect(ex.responses[0]?.status).toBe(200);
  return result;
}

const HEAD = 'POST /p HTTP/1.1\r\nHost: example.test\r\nX-One: 1\r\nX-Rep: a\r\nX-Rep: b\r\nCookie: a=1\r\nCookie: b=2\r\n'
  + 'Content-Type: text/plain\r\nContent-Length: 2\r\nX-Empty:\r\nConnection: close\r\n\r\nhi';

describe('request.headers', () => {
  it('answers get() and has() by any case, as the full Headers does', async () => {
    const r = await seen(HEAD, (h) => {
      const names = ['x-one', 'X-ONE', 'x-rep', 'cookie', 'content-type', 'Content-Length', 'x-empty', 'host', 'x-missing', 'x_one', 'connection'];
      const light = names.map((n) => [n, h.get(n), h.has(n)]);
      const full = new Headers([...h]);
      return { isHeaders: h instanceof Headers, tag: Object.prototype.toString.call(h), light, full: names.map((n) => [n, full.get(n), full.has(n)]) };
    }) as { isHeaders: boolean; tag: string; light: unknown[]; full: unknown[] };
    expect(r.isHeaders).toBe(true);
    expect(r.tag).toBe('[object Headers]');
    expect(r.light).toEqual(r.full);
    expect(r.light).toContainEqual(['x-one', '1', true]);
    expect(r.light).toContainEqual(['x_one', null, false]);
    expect(r.light).toContainEqual(['x-missing', null, false]);
    expect(r.light).toContainEqual(['Content-Length', '2', true]);
  });

  it('iterates, copies and changes through the real Headers, and get() follows the change', async () => {
    const r = await seen(HEAD, (h) => {
      const entries = [...h.entries()].map(([n]) => n);
      const copy = new Headers(h).get('x-one');
      h.set('x-one', 'changed');
      h.delete('x-rep');
      const each: string[] = [];
      h.forEach((_v, n) => each.push(n));
      return { entries, copy, after: h.get('X-One'), rep: h.has('x-rep'), each };
    }) as { entries: string[]; copy: string; after: string; rep: boolean; each: string[] };
    expect(r.entries).toEqual(expect.arrayContaining(['x-one', 'x-rep', 'cookie', 'content-type', 'content-length', 'host']));
    expect([r.copy, r.after, r.rep]).toEqual(['1', 'changed', false]);
    expect(r.each).not.toContain('x-rep');
  });

  it('refuses an invalid name as Headers does', async () => {
    const r = await seen(HEAD, (h) => {
      try { h.get('bad name'); return 'no error'; } catch (e) { return (e as Error).name; }
    });
    expect(r).toBe('TypeError');
  });

  it('are the headers of the real Request when one is built', async () => {
    const r = await seen(HEAD, (h) => h.get('x-one'));
    expect(r).toBe('1');
    let fromClone: unknown;
    await ts!.close();
    ts = await startServer(fromFetch((request) => {
      fromClone = request.clone().headers.get('x-one');
      return new Response('ok');
    }));
    await rawRequest(ts.port, HEAD);
    expect(fromClone).toBe('1');
  });
});
