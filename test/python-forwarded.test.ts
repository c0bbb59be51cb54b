// forwardedAllowIps (--forwarded-allow-ips) for Python applications: a trusted proxy's
// X-Forwarded-* and Forwarded headers set REMOTE_ADDR, wsgi.url_scheme and HTTP_HOST
// (SERVER_NAME/SERVER_PORT with it) in the environ the core builds in C++, by the rule the
// JavaScript gateway applies (test/forwarded-allow-ips.test.ts); from anyone else they
// reach the application exactly as sent. A plain WSGI application and Flask, through the
// CLI, over real sockets.
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createServer } from '../src/index';
import { loadPythonApp } from '../src/python';
import { killAll, removeTmpdirs, run, startServer, tmpdir } from './manager-harness';
import { hasPython, PY_APPS, request, skipReason, startPython } from './helpers/python';

afterAll(async () => {
  await killAll();
  removeTmpdirs();
});

const FORGED = { 'X-Forwarded-For': '203.0.113.7', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'www.example.com' };

/** hello.py's /environ page as an object. */
function parseEnviron(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

async function env(port: number, headers: Record<string, string>) {
  const r = await request(port, 'GET', '/environ', { headers: { Host: 'localhost', ...headers } });
  expect(r.status).toBe(200);
  return parseEnviron(r.text);
}

/** One request over a socket (TCP to host:port, or a Unix socket path), the environ page back. */
function rawEnviron(target: { port: number; host: string } | { path: string }, headers: string): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    const c = 'path' in target ? net.connect(target.path) : net.connect(target.port, target.host);
    const chunks: Buffer[] = [];
    c.on('data', (d) => chunks.push(d));
    c.on('error', reject);
    c.on('end', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const at = text.indexOf('\r\n\r\n');
      if (!/^HTTP\/1\.1 200/.test(text) || at < 0) return reject(new Error(`unexpected answer: ${text.slice(0, 200)}`));
      // chunked body: the page is small; take the chunk payloads
      let body = text.slice(at + 4);
      if (/transfer-encoding: chunked/i.test(text.slice(0, at))) {
        let out = '';
        for (;;) {
          const nl = body.indexOf('\r\n');
          const n = parseInt(body.slice(0, nl), 16);
          if (!n) break;
          out += body.slice(nl + 2, nl + 2 + n);
          body = body.slice(nl + 2 + n + 2);
        }
        body = out;
      }
      resolve(parseEnviron(body));
    });
    c.write(`GET /environ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n${headers}\r\n`);
  });
}

describe.skipIf(!hasPython)(`Python: --forwarded-allow-ips${skipReason}`, () => {
  it('trusts loopback by default: REMOTE_ADDR, wsgi.url_scheme, HTTP_HOST, SERVER_NAME and SERVER_PORT come from X-Forwarded-*', async () => {
    const { port } = await startPython(['hello.py:app']);
    expect(await env(port, FORGED)).toMatchObject({
      REMOTE_ADDR: '203.0.113.7', 'wsgi.url_scheme': 'https', HTTP_HOST: 'www.example.com',
      SERVER_NAME: 'www.example.com', SERVER_PORT: '443', HTTP_X_FORWARDED_FOR: '203.0.113.7',
    });
    // RFC 7239 Forwarded is read too, and preferred over X-Forwarded-*.
    expect(await env(port, { Forwarded: 'for="[2001:db8::7]:4711";proto=https;host=api.example', 'X-Forwarded-For': '192.0.2.1' }))
      .toMatchObject({ REMOTE_ADDR: '2001:db8::7', 'wsgi.url_scheme': 'https', HTTP_HOST: 'api.example' });
    // Malformed values are ignored, never thrown.
    expect(await env(port, { 'X-Forwarded-For': 'not-an-ip', 'X-Forwarded-Proto': 'javascript', 'X-Forwarded-Host': 'evil host/x' }))
      .toMatchObject({ REMOTE_ADDR: '127.0.0.1', 'wsgi.url_scheme': 'http', HTTP_HOST: 'localhost' });
    // X-Forwarded-Prefix is not the server's business: SCRIPT_NAME stays.
    expect((await env(port, { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Prefix': '/app' })).SCRIPT_NAME).toBe('');
    // X-Forwarded-Port: the port goes into HTTP_HOST and SERVER_PORT.
    expect(await env(port, { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Port': '8443' }))
      .toMatchObject({ 'wsgi.url_scheme': 'https', HTTP_HOST: 'localhost:8443', SERVER_PORT: '8443' });
    // Without forwarding headers the environ is the server's own.
    expect(await env(port, {})).toMatchObject({ REMOTE_ADDR: '127.0.0.1', 'wsgi.url_scheme': 'http', HTTP_HOST: 'localhost' });
  });

  it('only the hops from trusted proxies are skipped: a client cannot claim an address by prepending it', async () => {
    const { port } = await startPython(['hello.py:app', '--forwarded-allow-ips', '127.0.0.1', '--forwarded-allow-ips', '10.0.0.0/8']);
    expect((await env(port, { 'X-Forwarded-For': '6.6.6.6, 203.0.113.9, 10.1.1.1' })).REMOTE_ADDR).toBe('203.0.113.9');
  });

  it('from an address that is not trusted the headers are left exactly as sent', async () => {
    const { port } = await startPython(['hello.py:app', '--forwarded-allow-ips', '10.0.0.1', '--forwarded-allow-ips', '192.168.0.0/16']);
    expect(await env(port, { ...FORGED, Forwarded: 'for=198.51.100.1;proto=https;host=evil.example' })).toMatchObject({
      REMOTE_ADDR: '127.0.0.1', 'wsgi.url_scheme': 'http', HTTP_HOST: 'localhost', SERVER_PORT: String(port),
      HTTP_X_FORWARDED_FOR: '203.0.113.7', HTTP_FORWARDED: 'for=198.51.100.1;proto=https;host=evil.example',
    });
  });

  it("'*' trusts every peer; with --threads the environ built on a Python thread gets the same", async () => {
    const { port } = await startPython(['hello.py:app', '--forwarded-allow-ips', '*', '--threads', '2']);
    expect(await env(port, FORGED)).toMatchObject({ REMOTE_ADDR: '203.0.113.7', 'wsgi.url_scheme': 'https' });
  });

  it('over IPv6 loopback, ::1 is what is trusted', async () => {
    const six = await startServer(['hello.py:app', '--bind', '[::1]:0', '--workers', '1', '--forwarded-allow-ips', '::1'], { cwd: PY_APPS });
    const four = await startServer(['hello.py:app', '--bind', '[::1]:0', '--workers', '1', '--forwarded-allow-ips', '127.0.0.1'], { cwd: PY_APPS });
    const xff = 'X-Forwarded-For: 203.0.113.7\r\n';
    expect((await rawEnviron({ port: six.port, host: '::1' }, xff)).REMOTE_ADDR).toBe('203.0.113.7');
    expect((await rawEnviron({ port: four.port, host: '::1' }, xff)).REMOTE_ADDR).toBe('::1');
  });

  it("Unix-socket peers are trusted only with 'unix' in the list", async () => {
    const dir = tmpdir('tsgi-pyfwd-');
    const a = path.join(dir, 'a.sock');
    const b = path.join(dir, 'b.sock');
    await startServer(['hello.py:app', '--bind', `unix:${a}`, '--workers', '1', '--forwarded-allow-ips', 'unix'], { cwd: PY_APPS });
    await startServer(['hello.py:app', '--bind', `unix:${b}`, '--workers', '1', '--forwarded-allow-ips', '127.0.0.1,::1'], { cwd: PY_APPS });
    const h = 'X-Forwarded-For: 203.0.113.9\r\nX-Forwarded-Proto: https\r\n';
    expect(await rawEnviron({ path: a }, h)).toMatchObject({ REMOTE_ADDR: '203.0.113.9', 'wsgi.url_scheme': 'https' });
    expect(await rawEnviron({ path: b }, h)).toMatchObject({ REMOTE_ADDR: '', 'wsgi.url_scheme': 'http', HTTP_X_FORWARDED_FOR: '203.0.113.9' });
  });

  it('Flask sees the client, the scheme and the host its URLs are built from', async () => {
    const { port } = await startPython(['--python', 'flask_app:app']);
    const r = await request(port, 'GET', '/client', { headers: { Host: 'localhost', ...FORGED } });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toEqual({
      remote_addr: '203.0.113.7', scheme: 'https', host: 'www.example.com',
      url: 'https://www.example.com/client', external: 'https://www.example.com/whoami',
    });
    const plain = JSON.parse((await request(port, 'GET', '/client', { headers: { Host: 'localhost' } })).text);
    expect(plain).toMatchObject({ remote_addr: '127.0.0.1', scheme: 'http', host: 'localhost' });
  });

  it('a bad CIDR range stops the command with a message naming it (exit 2)', async () => {
    const r = await run(['hello.py:app', '--forwarded-allow-ips', '10.0.0.0/40'], { cwd: PY_APPS });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/forwardedAllowIps \(--forwarded-allow-ips\): "10\.0\.0\.0\/40": the prefix length must be 0–32/);
  });
});

describe.skipIf(!hasPython)(`Python embedded through createServer: the server's forwardedAllowIps${skipReason}`, () => {
  it("applies to the Python application, and wins over loadPythonApp's own list", async () => {
    // One interpreter per process: this file's only embedded application.
    const app = loadPythonApp({
      app: path.join(PY_APPS, 'hello.py') + ':app', chdir: PY_APPS, pythonpath: [], virtualenv: '',
      scriptName: '', urlScheme: 'http', multiprocess: false, harakiri: 0, threads: 1,
      forwardedAllowIps: ['10.0.0.0/8'],
    });
    const server = createServer(app, { host: '127.0.0.1', port: 0, forwardedAllowIps: ['127.0.0.1'] });
    await server.listen();
    try {
      const port = server.address()!.port;
      expect(await env(port, FORGED)).toMatchObject({
        REMOTE_ADDR: '203.0.113.7', 'wsgi.url_scheme': 'https', HTTP_HOST: 'www.example.com', SERVER_PORT: '443',
      });
      expect(await env(port, {})).toMatchObject({ REMOTE_ADDR: '127.0.0.1', 'wsgi.url_scheme': 'http', HTTP_HOST: 'localhost' });
    } finally {
      await server.close({ timeout: 2000 });
    }
  }, 60_000);
});
