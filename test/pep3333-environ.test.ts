// The environ the application receives for a table of raw requests, through the real
// addon: methods, targets with percent-escapes and non-ASCII bytes, query strings,
// repeated headers, bodies.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Environ } from '../src/index';
import { rawRequest } from './helpers/http';
import { startServer, type TestServer } from './helpers/server';

let ts: TestServer;
let seen: Environ[] = [];
let bodies: string[] = [];
beforeAll(async () => {
  ts = await startServer((env, sr) => {
    seen.push({ ...env });
    bodies.push(env['wsgi.input'].read().toString('latin1'));
    sr('200 OK', [['Content-Type', 'text/plain']]);
    return ['ok'];
  });
});
afterAll(() => ts.close());

interface Case {
  name: string;
  raw: string;
  expect: Record<string, unknown>;
  absent?: string[];
  body?: string;
}

const cases: Case[] = [
  {
    name: 'a plain GET',
    raw: 'GET / HTTP/1.1\r\nHost: example.com\r\n\r\n',
    expect: { REQUEST_METHOD: 'GET', SCRIPT_NAME: '', PATH_INFO: '/', QUERY_STRING: '', REQUEST_URI: '/', SERVER_PROTOCOL: 'HTTP/1.1', HTTP_HOST: 'example.com', CONTENT_TYPE: '', CONTENT_LENGTH: '' },
    absent: ['HTTP_CONTENT_LENGTH', 'HTTP_CONTENT_TYPE'],
  },
  {
    name: 'a query string, kept raw',
    raw: 'GET /search?q=a%20b&x=%C3%A9&flag HTTP/1.1\r\nHost: h\r\n\r\n',
    expect: { PATH_INFO: '/search', QUERY_STRING: 'q=a%20b&x=%C3%A9&flag', REQUEST_URI: '/search?q=a%20b&x=%C3%A9&flag' },
  },
  {
    name: 'percent-escapes in the path, decoded to bytes (%2F included)',
    raw: 'GET /a%20b/caf%C3%A9/x%2Fy HTTP/1.1\r\nHost: h\r\n\r\n',
    expect: { PATH_INFO: '/a b/caf\xc3\xa9/x/y', REQUEST_URI: '/a%20b/caf%C3%A9/x%2Fy' },
  },
  {
    name: 'raw non-ASCII bytes in the target, one latin-1 character per byte',
    raw: 'GET /\xc3\xa9t\xc3\xa9?k=\xff HTTP/1.1\r\nHost: h\r\n\r\n',
    expect: { PATH_INFO: '/\xc3\xa9t\xc3\xa9', QUERY_STRING: 'k=\xff' },
  },
  {
    name: 'repeated headers joined with ",", Cookie with "; "',
    raw: 'GET / HTTP/1.1\r\nHost: h\r\nAccept: text/html\r\nX-Multi: 1\r\nCookie: a=1\r\nAccept: */*\r\nX-Multi: 2\r\nCookie: b=2\r\n\r\n',
    expect: { HTTP_ACCEPT: 'text/html,*/*', HTTP_X_MULTI: '1,2', HTTP_COOKIE: 'a=1; b=2' },
  },
  {
    name: 'header names of any case become HTTP_ keys; values with bytes above 0x7f are latin-1',
    raw: 'GET / HTTP/1.1\r\nhost: h\r\nx-lower-case: v\r\nX-Name: J\xc3\xbcrgen\r\nUser-Agent: t/1\r\n\r\n',
    expect: { HTTP_HOST: 'h', HTTP_X_LOWER_CASE: 'v', HTTP_X_NAME: 'J\xc3\xbcrgen', HTTP_USER_AGENT: 't/1' },
  },
  {
    name: 'a POST with Content-Length and Content-Type',
    raw: 'POST /form HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\na=1&b=2',
    expect: { REQUEST_METHOD: 'POST', CONTENT_TYPE: 'application/x-www-form-urlencoded', CONTENT_LENGTH: '7' },
    body: 'a=1&b=2',
  },
  {
    name: 'a chunked body: CONTENT_LENGTH is the number of bytes received',
    raw: 'PUT /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n',
    expect: { REQUEST_METHOD: 'PUT', CONTENT_LENGTH: '11' },
    body: 'hello world',
  },
  {
    name: 'HTTP/1.0 without Host',
    raw: 'GET /old HTTP/1.0\r\n\r\n',
    expect: { SERVER_PROTOCOL: 'HTTP/1.0', PATH_INFO: '/old' },
    absent: ['HTTP_HOST'],
  },
  {
    name: 'other methods pass through',
    raw: 'DELETE /item/1 HTTP/1.1\r\nHost: h\r\n\r\n',
    expect: { REQUEST_METHOD: 'DELETE', PATH_INFO: '/item/1' },
  },
  {
    name: 'an absolute-form target',
    raw: 'GET http://example.com/abs?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n',
    expect: { PATH_INFO: '/abs', QUERY_STRING: 'x=1', REQUEST_URI: 'http://example.com/abs?x=1' },
  },
];

describe('environ for raw requests (through the addon)', () => {
  it.each(cases)('$name', async (c) => {
    seen = [];
    bodies = [];
    const { responses } = await rawRequest(ts.port, c.raw);
    expect(responses[0]?.status).toBe(200);
    const env = seen[0];
    expect(env).toMatchObject(c.expect);
    for (const k of c.absent ?? []) expect(env, k).not.toHaveProperty(k);
    expect(bodies[0]).toBe(c.body ?? '');
    // The constant part of every environ.
    expect(env).toMatchObject({ SERVER_NAME: '127.0.0.1', SERVER_PORT: String(ts.port), REMOTE_ADDR: '127.0.0.1', 'wsgi.url_scheme': 'http', 'wsgi.input_terminated': true, 'wsgi.run_once': false });
    expect(env['wsgi.version']).toEqual([1, 0]);
    expect(Number(env.REMOTE_PORT)).toBeGreaterThan(0);
  });

  it('header names the core has no id for keep their own keys, request after request, in any mix and spelling', async () => {
    // Interleaved sequences whose unknown names differ only in letters (the core codes
    // their keys), past the point where each sequence has a compiled builder.
    const heads = [
      (i: number) => `GET /a HTTP/1.1\r\nHost: h\r\nX-Aa-Token: a${i}\r\nX-Zz: z${i}\r\n\r\n`,
      (i: number) => `GET /b HTTP/1.1\r\nHost: h\r\nX-Bb-Token: b${i}\r\nX-Zz: z${i}\r\n\r\n`,
      (i: number) => `GET /c HTTP/1.1\r\nHost: h\r\nx-aa-token: c${i}\r\nX-Yy: y${i}\r\n\r\n`,
    ];
    for (let i = 0; i < 6; i++) {
      seen = [];
      const { responses } = await rawRequest(ts.port, heads.map((h) => h(i)).join(''), { count: 3 });
      expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
      const [a, b, c] = seen;
      expect(Object.keys(a).slice(-3)).toEqual(['HTTP_HOST', 'HTTP_X_AA_TOKEN', 'HTTP_X_ZZ']);
      expect(Object.keys(b).slice(-3)).toEqual(['HTTP_HOST', 'HTTP_X_BB_TOKEN', 'HTTP_X_ZZ']);
      expect(Object.keys(c).slice(-3)).toEqual(['HTTP_HOST', 'HTTP_X_AA_TOKEN', 'HTTP_X_YY']);
      expect([a.HTTP_X_AA_TOKEN, a.HTTP_X_ZZ, b.HTTP_X_BB_TOKEN, b.HTTP_X_ZZ, c.HTTP_X_AA_TOKEN, c.HTTP_X_YY])
        .toEqual([`a${i}`, `z${i}`, `b${i}`, `z${i}`, `c${i}`, `y${i}`]);
      expect('HTTP_X_BB_TOKEN' in a || 'HTTP_X_AA_TOKEN' in b || 'HTTP_X_ZZ' in c).toBe(false);
    }
  });

  it('every string value is a native string (no character above 0xff)', async () => {
    seen = [];
    await rawRequest(ts.port, 'GET /\xe2\x98\x83?\xe2\x98\x83 HTTP/1.1\r\nHost: h\r\nX-S: \xe2\x98\x83\r\n\r\n');
    for (const [k, v] of Object.entries(seen[0])) {
      if (typeof v === 'string') expect([...v].every((ch) => ch.charCodeAt(0) <= 0xff), k).toBe(true);
    }
    expect(Buffer.from(seen[0].PATH_INFO, 'latin1').toString('utf8')).toBe('/\u2603');
  });
});

describe('SCRIPT_NAME mount prefix', () => {
  it('PATH_INFO is what follows the scriptName option', async () => {
    const envs: Environ[] = [];
    const mounted = await startServer((env, sr) => { envs.push(env); sr('200 OK', []); return []; }, { scriptName: '/app' });
    try {
      await rawRequest(mounted.port, 'GET /app/users/1?x HTTP/1.1\r\nHost: h\r\n\r\n');
      expect(envs[0]).toMatchObject({ SCRIPT_NAME: '/app', PATH_INFO: '/users/1', QUERY_STRING: 'x' });
    } finally {
      await mounted.close();
    }
  });
});
