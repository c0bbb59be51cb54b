// HTTPS listeners of the native core over real loopback sockets, with node:https, raw
// TLS sockets and curl as clients: the environ over TLS, keep-alive and pipelining,
// ALPN, protocol versions, large bodies both ways, and what a TLS port does with
// clients that do not speak TLS properly (each without affecting other connections).
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type App, type Server } from '../src/index';
import { sleep, until } from './helpers/time';
import { makeTestCerts, type TestCerts } from './helpers/tls-certs';
import { curl, httpsRequest, rawTls } from './helpers/tls-client';

let certs: TestCerts;
const BIG = crypto.randomBytes(10 * 1024 * 1024);
const BIG_SHA = crypto.createHash('sha256').update(BIG).digest('hex');

const app: App = async (environ, startResponse) => {
  const p = environ.PATH_INFO;
  if (p === '/env') {
    startResponse('200 OK', [['Content-Type', 'application/json']]);
    return [JSON.stringify({
      scheme: environ['wsgi.url_scheme'],
      https: environ.HTTPS,
      tls: environ['tsgi.tls'],
      port: environ.SERVER_PORT,
    })];
  }
  if (p === '/big') {
    startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
    return [BIG];
  }
  if (p === '/file') {
    const handle = await fs.promises.open(certs.file('big.bin'), 'r');
    startResponse('200 OK', [['Content-Type', 'application/octet-stream'], ['Content-Length', String(BIG.length)]]);
    return environ['wsgi.file_wrapper'](handle);
  }
  if (p === '/upload') {
    const hash = crypto.createHash('sha256');
    let n = 0;
    const input = environ['wsgi.input'];
    for (;;) {
      const chunk = input.read(256 * 1024);
      if (chunk.length === 0) break;
      hash.update(chunk);
      n += chunk.length;
    }
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    return [`${n} ${hash.digest('hex')}`];
  }
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [`hello ${p}`];
};

let server: Server;
let port: number;

beforeAll(async () => {
  certs = makeTestCerts();
  fs.writeFileSync(certs.file('big.bin'), BIG);
  server = await serve(app, {
    bind: 'https://127.0.0.1:0',
    tls: { cert: certs.file('server.pem'), key: certs.file('server.key') },
    errors: { write: () => true },
    logLevel: 'critical',
  });
  port = server.address()!.port;
}, 60_000);

afterAll(async () => {
  await server?.close({ timeout: 2000 });
  certs?.remove();
});

describe('HTTPS listener', () => {
  it('serves a request; the environ says https, HTTPS=on and tsgi.tls', async () => {
    const r = await httpsRequest(port, certs, { path: '/env' });
    expect(r.status).toBe(200);
    expect(r.protocol).toBe('TLSv1.3');
    expect(r.peerCN).toBe('localhost');
    const env = JSON.parse(r.body.toString());
    expect(env.scheme).toBe('https');
    expect(env.https).toBe('on');
    expect(env.tls.protocol).toBe('TLSv1.3');
    expect(env.tls.cipher).toMatch(/^TLS_/);
    expect(env.tls.peerSubject).toBe('');
    expect(env.port).toBe(String(port));
  });

  it('keeps a connection alive for several requests', async () => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const ports = new Set<number | undefined>();
      for (let i = 0; i < 5; i++) {
        const r = await httpsRequest(port, certs, { path: `/k${i}`, agent });
        expect(r.status).toBe(200);
        expect(r.body.toString()).toBe(`hello /k${i}`);
        ports.add(r.localPort);
      }
      expect(ports.size).toBe(1);
    } finally {
      agent.destroy();
    }
  });

  it('answers pipelined requests in order', async () => {
    const c = await rawTls(port, certs);
    const req = (p: string) => `GET ${p} HTTP/1.1\r\nHost: localhost\r\n\r\n`;
    c.socket.write(req('/a') + req('/b') + req('/c') + `GET /d HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
    await c.closed;
    const text = c.received().toString('latin1');
    const bodies = text.match(/hello \/[a-d]/g);
    expect(bodies).toEqual(['hello /a', 'hello /b', 'hello /c', 'hello /d']);
    expect(text.match(/HTTP\/1\.1 200 OK/g)?.length).toBe(4);
  });

  it('negotiates http/1.1 with ALPN (curl offers h2 and http/1.1)', async () => {
    const r = await curl(['-v', '--cacert', certs.file('ca.pem'), '--resolve', `localhost:${port}:127.0.0.1`, `https://localhost:${port}/curl`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('hello /curl');
    expect(r.stderr).toMatch(/ALPN.*http\/1\.1/);
  });

  it('ends a closing response with close_notify (openssl s_client sees the alert)', async () => {
    // s_client -ign_eof reads until the server closes, and -msg prints each record received.
    const out = await new Promise<string>((resolve) => {
      const child = execFile('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost',
        '-CAfile', certs.file('ca.pem'), '-msg', '-ign_eof'], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, LD_PRELOAD: '' } },
      (_err, stdout) => resolve(stdout));
      child.stdin!.end('GET /bye HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    });
    expect(out).toContain('hello /bye');
    expect(out).toMatch(/<<< TLS 1\.3, Alert \[length 0002\], warning close_notify/);
  });

  it('refuses TLS 1.1 and serves TLS 1.2', async () => {
    const old = await curl(['--cacert', certs.file('ca.pem'), '--tlsv1.1', '--tls-max', '1.1', '--ciphers', 'DEFAULT:@SECLEVEL=0',
      '--resolve', `localhost:${port}:127.0.0.1`, `https://localhost:${port}/old`]);
    expect(old.code).not.toBe(0);
    await expect(httpsRequest(port, certs, { maxVersion: 'TLSv1.1', minVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' })).rejects.toThrow();
    const r = await httpsRequest(port, certs, { path: '/env', maxVersion: 'TLSv1.2' });
    expect(r.protocol).toBe('TLSv1.2');
    expect(JSON.parse(r.body.toString()).tls.protocol).toBe('TLSv1.2');
  });

  it('sends 10 MB from a Buffer and from a file intact', async () => {
    for (const p of ['/big', '/file']) {
      const r = await httpsRequest(port, certs, { path: p });
      expect(r.status).toBe(200);
      expect(r.body.length).toBe(BIG.length);
      expect(crypto.createHash('sha256').update(r.body).digest('hex')).toBe(BIG_SHA);
    }
    const c = await curl(['--cacert', certs.file('ca.pem'), '--resolve', `localhost:${port}:127.0.0.1`, '-o', certs.file('got.bin'), `https://localhost:${port}/file`]);
    expect(c.code).toBe(0);
    expect(crypto.createHash('sha256').update(fs.readFileSync(certs.file('got.bin'))).digest('hex')).toBe(BIG_SHA);
  }, 60_000);

  it('receives a 10 MB upload intact (node:https and curl)', async () => {
    const r = await httpsRequest(port, certs, { method: 'POST', path: '/upload', body: BIG });
    expect(r.body.toString()).toBe(`${BIG.length} ${BIG_SHA}`);
    const c = await curl(['--cacert', certs.file('ca.pem'), '--resolve', `localhost:${port}:127.0.0.1`,
      '--data-binary', `@${certs.file('big.bin')}`, '-H', 'Content-Type: application/octet-stream', `https://localhost:${port}/upload`]);
    expect(c.code).toBe(0);
    expect(c.stdout).toBe(`${BIG.length} ${BIG_SHA}`);
  }, 60_000);

  it('answers plain HTTP on the TLS port with a 400 in clear, then closes', async () => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    sock.on('data', (c) => chunks.push(c));
    sock.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await new Promise((r) => sock.once('close', r));
    const text = Buffer.concat(chunks).toString('latin1');
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(text).toMatch(/Connection: close/i);
    // the listener still serves TLS
    expect((await httpsRequest(port, certs)).status).toBe(200);
  });

  it('closes a connection that does not finish its handshake in time; others are served meanwhile', async () => {
    // Its own server: a short handshake deadline would be a hazard for the other tests.
    const quick = await serve(app, {
      bind: 'https://127.0.0.1:0',
      tls: { cert: certs.file('server.pem'), key: certs.file('server.key'), handshakeTimeout: 500 },
      errors: { write: () => true },
      logLevel: 'critical',
    });
    try {
      const quickPort = quick.address()!.port;
      const slow = net.connect(quickPort, '127.0.0.1');
      slow.on('error', () => {});
      await new Promise((r) => slow.once('connect', r));
      slow.write(Buffer.from([0x16, 0x03, 0x01]));  // the start of a record, then nothing
      const closedAt = new Promise<number>((r) => slow.once('close', () => r(Date.now())));
      const t0 = Date.now();
      expect((await httpsRequest(quickPort, certs)).status).toBe(200);
      const at = await closedAt;
      expect(at - t0).toBeGreaterThanOrEqual(300);
      expect(at - t0).toBeLessThan(4000);  // its own deadline, not the 5 s first-byte timeout
    } finally {
      await quick.close({ timeout: 2000 });
    }
  }, 20_000);

  it('closes a connection whose client tries to renegotiate; others are unaffected', async () => {
    const c = await rawTls(port, certs, { maxVersion: 'TLSv1.2' });
    c.socket.on('error', () => {});
    c.socket.write('GET /first HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await until(() => c.received().includes('hello /first'), 5000, 'the first response');
    const other = await rawTls(port, certs);
    c.socket.renegotiate({}, () => {});
    await c.closed;
    other.socket.write('GET /other HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    await other.closed;
    expect(other.received().toString()).toContain('hello /other');
  });

  it('closes a connection that sends garbage instead of a handshake', async () => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    sock.on('data', (c) => chunks.push(c));
    sock.on('error', () => {});
    sock.write(Buffer.from([0, 1, 2, 3, 4, 5]));
    await new Promise((r) => sock.once('close', r));
    expect(Buffer.concat(chunks).toString('latin1')).not.toMatch(/HTTP/);
    await sleep(10);
  });
});
