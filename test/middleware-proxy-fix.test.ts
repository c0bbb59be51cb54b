// proxyFix(): forwarding headers are believed only from trusted proxy addresses, only as
// many hops as are trusted, and anything malformed is ignored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proxyFix, PROXY_FIX_ORIG, type App } from '../src/index';
import { get, rawRequest } from './helpers/http';
import { startServer, type TestServer } from './helpers/server';

const echo: App = (environ, sr) => {
  sr('200 OK', [['Content-Type', 'application/json']]);
  return [JSON.stringify({
    REMOTE_ADDR: environ.REMOTE_ADDR, scheme: environ['wsgi.url_scheme'], HTTP_HOST: environ.HTTP_HOST ?? null,
    SERVER_NAME: environ.SERVER_NAME, SERVER_PORT: environ.SERVER_PORT, SCRIPT_NAME: environ.SCRIPT_NAME,
    PATH_INFO: environ.PATH_INFO, orig: environ[PROXY_FIX_ORIG] ?? null,
  })];
};

let trusted: TestServer;
let untrusted: TestServer;
let chain: TestServer;

beforeAll(async () => {
  trusted = await startServer(proxyFix({ trustedProxies: ['127.0.0.1'] })(echo));
  untrusted = await startServer(proxyFix({ trustedProxies: ['10.0.0.0/8', '::1'] })(echo));
  chain = await startServer(proxyFix({ trustedProxies: ['127.0.0.0/8', '10.0.0.0/8'] })(echo));
});
afterAll(async () => {
  await trusted.close();
  await untrusted.close();
  await chain.close();
});

async function env(s: TestServer, headers: Record<string, string>, host?: string) {
  const x = await rawRequest(s.port, get('/p', headers), host ? { host } : {});
  expect(x.responses[0].status).toBe(200);
  return JSON.parse(x.responses[0].body.toString());
}

describe('proxyFix: trust', () => {
  it('ignores forged headers from an address that is not a trusted proxy', async () => {
    const e = await env(untrusted, { 'X-Forwarded-For': '203.0.113.7', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'evil.example', Forwarded: 'for=198.51.100.1;proto=https' });
    expect(e.REMOTE_ADDR).toBe('127.0.0.1');
    expect(e.scheme).toBe('http');
    expect(e.HTTP_HOST).toBe('localhost');
    expect(e.orig).toBeNull();
  });

  it('from a trusted proxy: client address, scheme, host and port, originals kept', async () => {
    const e = await env(trusted, { 'X-Forwarded-For': '203.0.113.7', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'www.example.com' });
    expect(e).toMatchObject({ REMOTE_ADDR: '203.0.113.7', scheme: 'https', HTTP_HOST: 'www.example.com', SERVER_NAME: 'www.example.com', SERVER_PORT: '443' });
    expect(e.orig).toMatchObject({ REMOTE_ADDR: '127.0.0.1', 'wsgi.url_scheme': 'http', HTTP_HOST: 'localhost', SERVER_NAME: '127.0.0.1', SCRIPT_NAME: '' });
    expect(e.orig.SERVER_PORT).toBe(String(trusted.port));
  });

  it('too many hops: the walk stops at the first untrusted address from the right', async () => {
    // client 203.0.113.7 forged "6.6.6.6" → proxy 10.1.1.1 → proxy 127.0.0.1 → us
    const e = await env(chain, { 'X-Forwarded-For': '6.6.6.6, 203.0.113.7, 10.1.1.1', 'X-Forwarded-Proto': 'http, https, http' });
    expect(e.REMOTE_ADDR).toBe('203.0.113.7');
    expect(e.scheme).toBe('https');
    // Only one proxy trusted: the right-most entry is the client, however many are listed.
    const one = await env(trusted, { 'X-Forwarded-For': '6.6.6.6, 203.0.113.7, 10.1.1.1' });
    expect(one.REMOTE_ADDR).toBe('10.1.1.1');
  });

  it('every listed address trusted: the left-most is the client', async () => {
    expect((await env(chain, { 'X-Forwarded-For': '10.0.0.5, 10.0.0.6' })).REMOTE_ADDR).toBe('10.0.0.5');
  });

  it('IPv4-mapped IPv6 rules match IPv4 peers', async () => {
    const s = await startServer(proxyFix({ trustedProxies: ['::ffff:127.0.0.0/104'] })(echo));
    try {
      expect((await env(s, { 'X-Forwarded-For': '192.0.2.1' })).REMOTE_ADDR).toBe('192.0.2.1');
    } finally {
      await s.close();
    }
  });

  it('an IPv6 proxy (::1) and IPv6 client addresses', async () => {
    let s: TestServer;
    try {
      s = await startServer(proxyFix({ trustedProxies: ['::1/128'] })(echo), { host: '::1' });
    } catch {
      return; // no IPv6 loopback on this machine
    }
    try {
      const e = await env(s, { 'X-Forwarded-For': '2001:db8::1' }, '::1');
      expect(e.REMOTE_ADDR).toBe('2001:db8::1');
      expect(e.orig.REMOTE_ADDR).toBe('::1');
      const f = await env(s, { Forwarded: 'for="[2001:db8:cafe::17]:4711"' }, '::1');
      expect(f.REMOTE_ADDR).toBe('2001:db8:cafe::17');
    } finally {
      await s.close();
    }
  });

  it('rejects a malformed trusted-proxy rule and unknown options with a message', () => {
    expect(() => proxyFix({ trustedProxies: ['10.0.0.0/33'] })).toThrow(/prefix length must be 0–32/);
    expect(() => proxyFix({ trustedProxies: ['proxy.local'] })).toThrow(/not an IP address or CIDR range/);
    expect(() => proxyFix({ trustedProxies: [], xForwardedFor: 1 } as never)).toThrow(/unknown option "xForwardedFor"/);
  });
});

describe('proxyFix: Forwarded (RFC 7239)', () => {
  it('takes for, proto and host from the client element, preferred over X-Forwarded-*', async () => {
    const e = await env(chain, {
      Forwarded: 'for=192.0.2.60;proto=https;host="shop.example:8443", for=10.0.0.9;proto=http',
      'X-Forwarded-For': '1.1.1.1',
    });
    expect(e).toMatchObject({ REMOTE_ADDR: '192.0.2.60', scheme: 'https', HTTP_HOST: 'shop.example:8443', SERVER_NAME: 'shop.example', SERVER_PORT: '8443' });
  });

  it('quoted values and case-insensitive names', async () => {
    const e = await env(trusted, { Forwarded: 'For="192.0.2.43:47011";Proto="https"' });
    expect(e.REMOTE_ADDR).toBe('192.0.2.43');
    expect(e.scheme).toBe('https');
  });

  for (const bad of ['for=192.0.2.60;;proto=https', 'for=1.2.3.4;host=a.example:80', 'for="unterminated', 'for=1.2.3.4,', 'for=1.2.3.4;for=5.6.7.8', '=x', 'for=a b', 'for']) {
    it(`malformed Forwarded ${JSON.stringify(bad)} is ignored`, async () => {
      const e = await env(trusted, { Forwarded: bad });
      expect(e.REMOTE_ADDR).toBe('127.0.0.1');
      expect(e.scheme).toBe('http');
      expect(e.orig).toBeNull();
    });
  }

  it('a malformed Forwarded falls back to X-Forwarded-For', async () => {
    expect((await env(trusted, { Forwarded: 'for="oops', 'X-Forwarded-For': '192.0.2.9' })).REMOTE_ADDR).toBe('192.0.2.9');
  });

  it('for=unknown or an obfuscated node leaves REMOTE_ADDR, other parameters still apply', async () => {
    const e = await env(trusted, { Forwarded: 'for=unknown;proto=https' });
    expect(e.REMOTE_ADDR).toBe('127.0.0.1');
    expect(e.scheme).toBe('https');
  });
});

describe('proxyFix: X-Forwarded values', () => {
  it('malformed values are ignored one by one', async () => {
    const e = await env(trusted, {
      'X-Forwarded-For': 'not-an-ip', 'X-Forwarded-Proto': 'javascript', 'X-Forwarded-Host': 'evil host/x',
      'X-Forwarded-Port': '99999', 'X-Forwarded-Prefix': '/a/../b',
    });
    expect(e).toMatchObject({ REMOTE_ADDR: '127.0.0.1', scheme: 'http', HTTP_HOST: 'localhost', SCRIPT_NAME: '' });
  });

  it('X-Forwarded-Port and X-Forwarded-Prefix', async () => {
    const e = await env(trusted, { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'app.example', 'X-Forwarded-Port': '8443', 'X-Forwarded-Prefix': '/my%20app/' });
    expect(e).toMatchObject({ scheme: 'https', HTTP_HOST: 'app.example:8443', SERVER_NAME: 'app.example', SERVER_PORT: '8443', SCRIPT_NAME: '/my app', PATH_INFO: '/p' });
    expect(e.orig.SCRIPT_NAME).toBe('');
  });
});

describe('proxyFix: Unix sockets', () => {
  it("'unix' trusts the peer of a Unix socket (nginx on the same machine); without it the headers are ignored", async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const net = await import('node:net');
    const { parseResponses } = await import('./helpers/http');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-pfx-'));
    const ask = (sock: string) => new Promise<Record<string, unknown>>((resolve, reject) => {
      const c = net.connect(sock);
      let raw = Buffer.alloc(0);
      c.on('data', (d) => { raw = Buffer.concat([raw, d]); });
      c.on('end', () => resolve(JSON.parse(parseResponses(raw, true).responses[0].body.toString())));
      c.on('error', reject);
      c.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Forwarded-For: 203.0.113.9\r\nX-Forwarded-Proto: https\r\n\r\n');
    });
    const { serve } = await import('../src/index');
    const quiet = { write: () => true };
    const a = await serve(proxyFix({ trustedProxies: ['unix'] })(echo), { bind: `unix:${path.join(dir, 'a.sock')}`, errors: quiet });
    const b = await serve(proxyFix({ trustedProxies: ['127.0.0.1'] })(echo), { bind: `unix:${path.join(dir, 'b.sock')}`, errors: quiet });
    try {
      expect(await ask(path.join(dir, 'a.sock'))).toMatchObject({ REMOTE_ADDR: '203.0.113.9', scheme: 'https' });
      expect(await ask(path.join(dir, 'b.sock'))).toMatchObject({ REMOTE_ADDR: '', scheme: 'http' });
    } finally {
      await a.close();
      await b.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
