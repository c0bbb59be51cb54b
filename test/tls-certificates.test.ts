// Certificates on HTTPS listeners: client certificates (required, optional), SNI,
// session resumption, errors in the configuration, and a reload that gives new
// handshakes the new certificate while open connections keep theirs.
import fs from 'node:fs';
import net from 'node:net';
import https from 'node:https';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type App, type Server } from '../src/index';
import { makeTestCerts, KEY_PASSPHRASE, type TestCerts } from './helpers/tls-certs';
import { curl, httpsRequest, rawTls } from './helpers/tls-client';

let certs: TestCerts;
const servers: Server[] = [];

const app: App = (environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'application/json']]);
  return [JSON.stringify({ path: environ.PATH_INFO, tls: environ['tsgi.tls'], remote: environ.REMOTE_ADDR, https: environ.HTTPS })];
};

async function start(tls: Record<string, unknown>): Promise<{ server: Server; port: number }> {
  const server = await serve(app, { bind: 'https://127.0.0.1:0', tls: tls as never, errors: { write: () => true }, logLevel: 'critical' });
  servers.push(server);
  return { server, port: server.address()!.port };
}

beforeAll(() => {
  certs = makeTestCerts();
}, 60_000);

afterAll(async () => {
  for (const s of servers) await s.close({ timeout: 2000 });
  certs?.remove();
});

describe('client certificates', () => {
  it('required: refused without a certificate, served with one (peer subject in tsgi.tls)', async () => {
    const { port } = await start({ cert: certs.file('server.pem'), key: certs.file('server.key'), ca: certs.file('ca.pem'), certReqs: 'required' });
    await expect(httpsRequest(port, certs)).rejects.toThrow();
    const r = await httpsRequest(port, certs, { clientCert: true, path: '/who' });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body.toString()).tls.peerSubject).toMatch(/CN=tsgi client/);
    const c = await curl(['--cacert', certs.file('ca.pem'), '--cert', certs.file('client.pem'), '--key', certs.file('client.key'),
      '--resolve', `localhost:${port}:127.0.0.1`, `https://localhost:${port}/curl`]);
    expect(c.code).toBe(0);
    expect(JSON.parse(c.stdout).tls.peerSubject).toMatch(/CN=tsgi client/);
    const none = await curl(['--cacert', certs.file('ca.pem'), '--resolve', `localhost:${port}:127.0.0.1`, `https://localhost:${port}/curl`]);
    expect(none.code).not.toBe(0);
  });

  it('optional: served with or without a certificate', async () => {
    const { port } = await start({ cert: certs.file('server.pem'), key: certs.file('server.key'), ca: certs.file('ca.pem'), certReqs: 'optional' });
    const without = await httpsRequest(port, certs);
    expect(JSON.parse(without.body.toString()).tls.peerSubject).toBe('');
    const withCert = await httpsRequest(port, certs, { clientCert: true });
    expect(JSON.parse(withCert.body.toString()).tls.peerSubject).toMatch(/CN=tsgi client/);
  });
});

describe('SNI and sessions', () => {
  it('picks the certificate by server name, exact and wildcard, else the default', async () => {
    const { port } = await start({
      cert: certs.file('server.pem'), key: certs.file('server.key'),
      sni: { 'other.test': { cert: certs.file('other.pem'), key: certs.file('other.key') },
             '*.wild.test': { cert: certs.file('wild.pem'), key: certs.file('wild.key') } },
    });
    expect((await httpsRequest(port, certs, { servername: 'other.test' })).peerCN).toBe('other.test');
    expect((await httpsRequest(port, certs, { servername: 'a.wild.test' })).peerCN).toBe('*.wild.test');
    expect((await httpsRequest(port, certs, { servername: 'localhost' })).peerCN).toBe('localhost');
    const c = await curl(['--cacert', certs.file('ca.pem'), '--resolve', `other.test:${port}:127.0.0.1`, `https://other.test:${port}/sni`]);
    expect(c.code).toBe(0);
    expect(JSON.parse(c.stdout).path).toBe('/sni');
  });

  it('resumes a session (TLS 1.3 and 1.2)', async () => {
    const { port } = await start({ cert: certs.file('server.pem'), key: certs.file('server.key') });
    for (const maxVersion of ['TLSv1.3', 'TLSv1.2'] as const) {
      const agent = new https.Agent({ keepAlive: false, maxCachedSessions: 10 });
      try {
        const first = await httpsRequest(port, certs, { agent, maxVersion });
        expect(first.reused).toBe(false);
        const second = await httpsRequest(port, certs, { agent, maxVersion });
        expect(second.status).toBe(200);
        expect(second.reused).toBe(true);
      } finally {
        agent.destroy();
      }
    }
  });
});

describe('configuration errors and reload', () => {
  it('a key that does not match the certificate is refused with a clear message', async () => {
    await expect(start({ cert: certs.file('server.pem'), key: certs.file('other.key') })).rejects.toThrow(/does not match the certificate/);
  });

  it('an encrypted key needs its passphrase', async () => {
    await expect(start({ cert: certs.file('server.pem'), key: certs.file('server-enc.key') })).rejects.toThrow(/encrypted and no passphrase/);
    await expect(start({ cert: certs.file('server.pem'), key: certs.file('server-enc.key'), passphrase: 'nope' })).rejects.toThrow(/passphrase/);
    const { port } = await start({ cert: certs.file('server.pem'), key: certs.file('server-enc.key'), passphrase: KEY_PASSPHRASE });
    expect((await httpsRequest(port, certs)).status).toBe(200);
  });

  it('reloadTls: new handshakes get the new certificate, an open connection keeps working', async () => {
    const { server, port } = await start({ cert: certs.file('server.pem'), key: certs.file('server.key') });
    const old = await rawTls(port, certs);
    expect(old.socket.getPeerCertificate().subject.CN).toBe('localhost');
    server.reloadTls({ cert: certs.file('server2.pem'), key: certs.file('server2.key') });
    expect((await httpsRequest(port, certs)).peerCN).toBe('localhost-2');
    old.socket.write('GET /old HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    await old.closed;
    expect(old.received().toString()).toContain('"path":"/old"');
    // a reload that fails keeps the current certificate and says why
    expect(() => server.reloadTls({ cert: certs.file('server.pem'), key: certs.file('other.key') })).toThrow(/does not match/);
    expect((await httpsRequest(port, certs)).peerCN).toBe('localhost-2');
  });
});

describe('listeners and closing', () => {
  it('serves HTTPS on a Unix socket (https+unix:)', async () => {
    const sock = path.join(certs.dir, 'tls.sock');
    const server = await serve(app, { bind: `https+unix:${sock}`, tls: { cert: certs.file('server.pem'), key: certs.file('server.key') },
      errors: { write: () => true }, logLevel: 'critical' });
    servers.push(server);
    const body = await new Promise<string>((resolve, reject) => {
      const req = https.request({ socketPath: sock, path: '/unix', servername: 'localhost', ca: certs.read('ca.pem'), agent: false }, (res) => {
        let text = '';
        res.on('data', (c) => { text += c; });
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.end();
    });
    expect(JSON.parse(body).path).toBe('/unix');
    expect(fs.existsSync(sock)).toBe(true);
  });

  it('a graceful close ends an idle keep-alive connection cleanly, never with a reset', async () => {
    const { server, port } = await start({ cert: certs.file('server.pem'), key: certs.file('server.key') });
    const c = await rawTls(port, certs);
    let error: Error | undefined;
    let ended = false;
    c.socket.on('error', (e) => { error = e; });
    c.socket.on('end', () => { ended = true; });
    c.socket.write('GET /idle HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await new Promise<void>((r) => { const t = setInterval(() => { if (c.received().includes('/idle')) { clearInterval(t); r(); } }, 10); });
    const closing = server.close({ timeout: 5000 });
    await c.closed;
    await closing;
    expect(error).toBeUndefined();
    expect(ended).toBe(true);
    expect((c.socket as tls.TLSSocket).readableEnded).toBe(true);
  }, 20_000);

  it('reads a PROXY protocol header in clear before the TLS handshake', async () => {
    const server = await serve(app, { bind: 'https://127.0.0.1:0', tls: { cert: certs.file('server.pem'), key: certs.file('server.key') },
      proxyProtocol: true, errors: { write: () => true }, logLevel: 'critical' });
    servers.push(server);
    const port = server.address()!.port;
    const raw = net.connect(port, '127.0.0.1');
    await new Promise((r) => raw.once('connect', r));
    raw.write('PROXY TCP4 203.0.113.7 192.0.2.1 40000 443\r\n');
    const body = await new Promise<string>((resolve, reject) => {
      const socket = tls.connect({ socket: raw, servername: 'localhost', ca: certs.read('ca.pem') }, () => {
        socket.write('GET /proxied HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
      });
      let text = '';
      socket.on('data', (c) => { text += c; });
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    const json = JSON.parse(body.slice(body.indexOf('\r\n\r\n') + 4));
    expect(json).toMatchObject({ path: '/proxied', remote: '203.0.113.7', https: 'on' });
  });
});
