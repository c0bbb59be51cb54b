// forwardedAllowIps (--forwarded-allow-ips): X-Forwarded-* and Forwarded set REMOTE_ADDR,
// wsgi.url_scheme and HTTP_HOST only when the connection comes from a trusted proxy;
// from anyone else they reach the application exactly as sent.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import type { App, ServerOptions } from '../src/index';
import { get, parseResponses, rawRequest } from './helpers/http';
import { startServer, type TestServer } from './helpers/server';
import { killAll, run, startServer as startTsgi } from './manager-harness';

const echo: App = (environ, sr) => {
  sr('200 OK', [['Content-Type', 'application/json']]);
  return [JSON.stringify({
    REMOTE_ADDR: environ.REMOTE_ADDR, scheme: environ['wsgi.url_scheme'], HTTP_HOST: environ.HTTP_HOST ?? null,
    SERVER_NAME: environ.SERVER_NAME, SERVER_PORT: environ.SERVER_PORT, SCRIPT_NAME: environ.SCRIPT_NAME,
    XFF: environ.HTTP_X_FORWARDED_FOR ?? null, orig: environ['tsgi.proxy_fix.orig'] ?? null,
  })];
};

const servers: TestServer[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  await killAll();
});

async function serverWith(options: ServerOptions): Promise<TestServer> {
  const s = await startServer(echo, options);
  servers.push(s);
  return s;
}

async function env(port: number, headers: Record<string, string>, host?: string) {
  const x = await rawRequest(port, get('/p', headers), host ? { host } : {});
  expect(x.responses[0].status).toBe(200);
  return JSON.parse(x.responses[0].body.toString());
}

const FORGED = { 'X-Forwarded-For': '203.0.113.7', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'www.example.com' };

describe('forwardedAllowIps on an embedded server', () => {
  it('from a trusted address: REMOTE_ADDR, wsgi.url_scheme and HTTP_HOST come from X-Forwarded-*', async () => {
    const s = await serverWith({ forwardedAllowIps: ['127.0.0.1'] });
    const e = await env(s.port, FORGED);
    expect(e).toMatchObject({ REMOTE_ADDR: '203.0.113.7', scheme: 'https', HTTP_HOST: 'www.example.com', SERVER_NAME: 'www.example.com', SERVER_PORT: '443' });
    // proxyFix's record of the replaced values is proxyFix's alone.
    expect(e.orig).toBeNull();
  });

  it('a CIDR range trusts the addresses inside it', async () => {
    const s = await serverWith({ forwardedAllowIps: ['10.0.0.0/8', '127.0.0.0/8'] });
    expect((await env(s.port, FORGED)).REMOTE_ADDR).toBe('203.0.113.7');
  });

  it('from an address that is not trusted: the headers are left exactly as sent', async () => {
    const s = await serverWith({ forwardedAllowIps: ['10.0.0.0/8', '::1'] });
    const e = await env(s.port, { ...FORGED, Forwarded: 'for=198.51.100.1;proto=https;host=evil.example' });
    expect(e).toMatchObject({ REMOTE_ADDR: '127.0.0.1', scheme: 'http', HTTP_HOST: 'localhost', XFF: '203.0.113.7' });
  });

  it('an embedded server trusts no one unless told', async () => {
    const s = await serverWith({});
    expect(await env(s.port, FORGED)).toMatchObject({ REMOTE_ADDR: '127.0.0.1', scheme: 'http' });
  });

  it("'*' trusts every peer", async () => {
    const s = await serverWith({ forwardedAllowIps: ['*'] });
    expect(await env(s.port, FORGED)).toMatchObject({ REMOTE_ADDR: '203.0.113.7', scheme: 'https' });
  });

  it('RFC 7239 Forwarded is read too, and preferred over X-Forwarded-*', async () => {
    const s = await serverWith({ forwardedAllowIps: ['127.0.0.1'] });
    const e = await env(s.port, { Forwarded: 'for="[2001:db8::7]:4711";proto=https;host=api.example', 'X-Forwarded-For': '192.0.2.1' });
    expect(e).toMatchObject({ REMOTE_ADDR: '2001:db8::7', scheme: 'https', HTTP_HOST: 'api.example' });
  });

  it('only the hops from trusted proxies are skipped: a client cannot claim an address by prepending it', async () => {
    const s = await serverWith({ forwardedAllowIps: ['127.0.0.1', '10.0.0.0/8'] });
    expect((await env(s.port, { 'X-Forwarded-For': '6.6.6.6, 203.0.113.9, 10.1.1.1' })).REMOTE_ADDR).toBe('203.0.113.9');
  });

  it('malformed values are ignored, never thrown', async () => {
    const s = await serverWith({ forwardedAllowIps: ['127.0.0.1'] });
    const e = await env(s.port, { 'X-Forwarded-For': 'not-an-ip', 'X-Forwarded-Proto': 'javascript', 'X-Forwarded-Host': 'evil host/x' });
    expect(e).toMatchObject({ REMOTE_ADDR: '127.0.0.1', scheme: 'http', HTTP_HOST: 'localhost' });
  });

  it('X-Forwarded-Prefix is not the server\'s business (proxyFix() takes it): SCRIPT_NAME stays', async () => {
    const s = await serverWith({ forwardedAllowIps: ['127.0.0.1'] });
    expect((await env(s.port, { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Prefix': '/app' })).SCRIPT_NAME).toBe('');
  });

  it('over IPv6 loopback, ::1 is what is trusted', async () => {
    const six = await serverWith({ host: '::1', forwardedAllowIps: ['::1'] });
    expect((await env(six.port, FORGED, '::1')).REMOTE_ADDR).toBe('203.0.113.7');
    const four = await serverWith({ host: '::1', forwardedAllowIps: ['127.0.0.1'] });
    expect((await env(four.port, FORGED, '::1')).REMOTE_ADDR).toBe('::1');
  });

  it("Unix-socket peers are trusted only with 'unix' in the list", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-fwd-'));
    dirs.push(dir);
    const ask = (file: string) => new Promise<Record<string, unknown>>((resolve, reject) => {
      const c = net.connect(file);
      const chunks: Buffer[] = [];
      c.on('data', (d) => chunks.push(d));
      c.on('error', reject);
      c.on('end', () => resolve(JSON.parse(parseResponses(Buffer.concat(chunks), true).responses[0].body.toString())));
      c.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Forwarded-For: 203.0.113.9\r\nX-Forwarded-Proto: https\r\n\r\n');
    });
    const a = path.join(dir, 'a.sock');
    const b = path.join(dir, 'b.sock');
    await serverWith({ bind: `unix:${a}`, host: undefined, port: undefined, forwardedAllowIps: ['unix'] });
    await serverWith({ bind: `unix:${b}`, host: undefined, port: undefined, forwardedAllowIps: ['127.0.0.1', '::1'] });
    expect(await ask(a)).toMatchObject({ REMOTE_ADDR: '203.0.113.9', scheme: 'https' });
    expect(await ask(b)).toMatchObject({ REMOTE_ADDR: '', scheme: 'http', XFF: '203.0.113.9' });
  });

  it('a bad entry is refused when the server is created, naming it', async () => {
    const { createServer } = await import('../src/index');
    expect(() => createServer(echo, { forwardedAllowIps: ['10.0.0.0/33'] })).toThrow(/forwardedAllowIps.*10\.0\.0\.0\/33.*prefix length/);
    expect(() => createServer(echo, { forwardedAllowIps: ['proxy.local'] })).toThrow(/"proxy.local" is not an IP address or CIDR range/);
  });
});

describe('--forwarded-allow-ips on the tsgi command', () => {
  it('trusts loopback by default', async () => {
    const { port } = await startTsgi(['deploy.js:app', '--bind', '127.0.0.1:0']);
    const r = await httpGetWith(port, '/environ', FORGED);
    expect(r).toMatchObject({ REMOTE_ADDR: '203.0.113.7', 'wsgi.url_scheme': 'https', HTTP_HOST: 'www.example.com' });
  });

  it('trusts only the given proxies when set', async () => {
    const { port } = await startTsgi(['deploy.js:app', '--bind', '127.0.0.1:0', '--forwarded-allow-ips', '10.0.0.1', '--forwarded-allow-ips', '192.168.0.0/16']);
    const r = await httpGetWith(port, '/environ', FORGED);
    expect(r).toMatchObject({ REMOTE_ADDR: '127.0.0.1', 'wsgi.url_scheme': 'http', HTTP_HOST: 'localhost', HTTP_X_FORWARDED_FOR: '203.0.113.7' });
  });

  it('a bad CIDR range stops the command with a message naming it (exit 2)', async () => {
    const r = await run(['deploy.js:app', '--forwarded-allow-ips', '10.0.0.0/40']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/forwardedAllowIps \(--forwarded-allow-ips\): "10\.0\.0\.0\/40": the prefix length must be 0–32/);
  });
});

async function httpGetWith(port: number, target: string, headers: Record<string, string>) {
  const x = await rawRequest(port, get(target, headers));
  expect(x.responses[0].status).toBe(200);
  return JSON.parse(x.responses[0].body.toString());
}
