// tsgi behind the real nginx, each started as a real process on loopback: proxy_pass over
// a Unix socket with keep-alive upstreams, uwsgi_pass (TCP and Unix socket, the stock
// uwsgi_params) and the stream module's PROXY protocol. For each: GET, a 20 MB POST, a
// chunked upload, a streamed response, a wsgi.file_wrapper file, what the application saw,
// and 10,000 requests through nginx with zero errors. The uwsgi and PROXY protocol suites
// run when the native core has them (binding().capabilities); otherwise they are skipped
// and say why.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binding } from '../src/native';
import { freePort, nginxMissing, startNginx, UWSGI_PARAMS, type Nginx } from './helpers/nginx';
import { killAll, removeTmpdirs, startServer, tmpdir, type Tsgi } from './manager-harness';

const caps = binding().capabilities ?? {};
const noNginx = nginxMissing();
const noStream = nginxMissing({ stream: true });
const skipProxyPass = noNginx !== '' ? `skipped: ${noNginx}` : '';
const skipUwsgi = noNginx !== '' ? `skipped: ${noNginx}` : caps.uwsgi ? '' : 'skipped: the native core has no uwsgi protocol yet (binding().capabilities.uwsgi)';
const skipProxyProtocol = noStream !== '' ? `skipped: ${noStream}` : caps.proxyProtocol ? '' : 'skipped: the native core has no PROXY protocol yet (binding().capabilities.proxyProtocol)';

const MB = 1024 * 1024;
const FILE_SIZE = 3 * MB + 123;
const dir = tmpdir('tsgi-deploy-');
const file = path.join(dir, 'download.bin');
fs.writeFileSync(file, crypto.randomBytes(FILE_SIZE));
const fileSha = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const env = { DEPLOY_FILE: file };

const running: Nginx[] = [];
afterAll(async () => {
  for (const n of running.splice(0)) await n.stop();
  await killAll();
  removeTmpdirs();
});

async function nginx(c: Parameters<typeof startNginx>[0]): Promise<Nginx> {
  const n = await startNginx(c);
  running.push(n);
  return n;
}

interface Reply { status: number; headers: http.IncomingHttpHeaders; body: Buffer }

/** One request; `body` as an array is sent chunked (one write per element). */
function request(port: number, method: string, target: string, opts: { body?: Buffer | Buffer[]; headers?: Record<string, string>; agent?: http.Agent } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { Host: 'app.example', ...opts.headers };
    if (Buffer.isBuffer(opts.body)) headers['Content-Length'] = opts.body.length;
    else if (Array.isArray(opts.body)) headers['Transfer-Encoding'] = 'chunked';
    const req = http.request({ host: '127.0.0.1', port, method, path: target, headers, agent: opts.agent ?? false, timeout: 60_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${target}: no response within 60 s`)));
    req.on('error', reject);
    if (Array.isArray(opts.body)) for (const c of opts.body) req.write(c);
    else if (opts.body) req.write(opts.body);
    req.end();
  });
}

const json = (r: Reply) => JSON.parse(r.body.toString()) as Record<string, unknown>;
const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

/** `total` GETs of / over `concurrency` keep-alive connections, bounded by `deadlineMs`. */
async function load(port: number, total: number, concurrency: number, deadlineMs: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const deadline = Date.now() + deadlineMs;
  let issued = 0;
  let ok = 0;
  const errors: string[] = [];
  const worker = async () => {
    while (issued < total && Date.now() < deadline) {
      issued++;
      try {
        const r = await request(port, 'GET', '/', { agent });
        if (r.status === 200 && r.body.toString() === 'ok\n') ok++;
        else errors.push(`status ${r.status}: ${r.body.toString().slice(0, 80)}`);
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  return { ok, errors, issued };
}

/** The same requests through each front end: GET, bodies both ways, a file, and a bounded load. */
function commonSuite(front: () => number) {
  it('GET', async () => {
    const r = await request(front(), 'GET', '/');
    expect([r.status, r.body.toString()]).toEqual([200, 'ok\n']);
  });

  it('POST of a 20 MB body arrives whole', async () => {
    const body = crypto.randomBytes(20 * MB);
    const r = await request(front(), 'POST', '/echo', { body, headers: { 'Content-Type': 'application/octet-stream' } });
    expect(r.status).toBe(200);
    expect(json(r)).toMatchObject({ length: body.length, sha256: sha(body) });
  });

  it('a chunked upload arrives whole', async () => {
    const parts = Array.from({ length: 64 }, (_, i) => crypto.randomBytes(16 * 1024 + i));
    const r = await request(front(), 'POST', '/echo', { body: parts });
    expect(r.status).toBe(200);
    const all = Buffer.concat(parts);
    expect(json(r)).toMatchObject({ length: all.length, sha256: sha(all) });
  });

  it('a streamed response arrives whole', async () => {
    const r = await request(front(), 'GET', '/stream?n=300');
    expect(r.status).toBe(200);
    expect(r.body.length).toBe(300 * 1024);
    for (let i = 0; i < 300; i += 37) expect(r.body[i * 1024 + 5]).toBe(97 + (i % 26));
  });

  it('a wsgi.file_wrapper file arrives whole', async () => {
    const r = await request(front(), 'GET', '/file');
    expect(r.status).toBe(200);
    expect(r.body.length).toBe(FILE_SIZE);
    expect(sha(r.body)).toBe(fileSha);
  });

  it('10,000 requests through nginx (50 at a time) with zero errors', async () => {
    const { ok, errors, issued } = await load(front(), 10_000, 50, 150_000);
    expect(errors.slice(0, 5)).toEqual([]);
    expect([issued, ok]).toEqual([10_000, 10_000]);
  }, 180_000);
}

// As the README's configuration: every forwarding header tsgi reads is set or removed.
const PROXY_HEADERS = `
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $host;
    proxy_set_header X-Forwarded-For $remote_addr;
    proxy_set_header X-Forwarded-Host $host;
    proxy_set_header X-Forwarded-Port "";
    proxy_set_header Forwarded "";`;

describe.skipIf(skipProxyPass !== '')(`nginx proxy_pass to tsgi over a Unix socket, keep-alive upstream ${skipProxyPass}`, () => {
  let port = 0;
  let https = 0;
  let untrusting = 0;
  let t: Tsgi;
  beforeAll(async () => {
    const sock = path.join(dir, 'http.sock');
    const other = path.join(dir, 'untrusting.sock');
    ({ t } = await startServer(['deploy.js:app', '--bind', `unix:${sock}`, '--workers', '2'], { env }));
    await startServer(['deploy.js:app', '--bind', `unix:${other}`, '--forwarded-allow-ips', '127.0.0.1'], { env });
    [port, https, untrusting] = [await freePort(), await freePort(), await freePort()];
    await nginx({
      listens: [port, https, untrusting],
      http: `
  upstream tsgi { server unix:${sock}; keepalive 16; }
  upstream untrusting { server unix:${other}; keepalive 4; }
  # The same proxy in front of a tsgi that does not trust Unix-socket peers.
  server {
    listen 127.0.0.1:${untrusting};
    location / {
      proxy_pass http://untrusting;${PROXY_HEADERS}
      proxy_set_header X-Forwarded-Proto https;
    }
  }
  server {
    listen 127.0.0.1:${port};
    client_max_body_size 64m;
    location / {
      proxy_pass http://tsgi;${PROXY_HEADERS}
      proxy_set_header X-Forwarded-Proto $scheme;
    }
    location = /unbuffered-echo {
      proxy_pass http://tsgi/echo;
      proxy_request_buffering off;${PROXY_HEADERS}
    }
  }
  # As a TLS-terminating proxy would: X-Forwarded-Proto https.
  server {
    listen 127.0.0.1:${https};
    location / {
      proxy_pass http://tsgi;${PROXY_HEADERS}
      proxy_set_header X-Forwarded-Proto https;
    }
  }`,
    });
  });

  commonSuite(() => port);

  it('the application sees the client through the trusted forwarded headers (Unix-socket peers are trusted by default)', async () => {
    const plain = json(await request(port, 'GET', '/environ?x=1', { headers: { 'X-Forwarded-For': '6.6.6.6' } }));
    expect(plain).toMatchObject({ REMOTE_ADDR: '127.0.0.1', 'wsgi.url_scheme': 'http', HTTP_HOST: 'app.example', QUERY_STRING: 'x=1', PATH_INFO: '/environ' });
    const tls = json(await request(https, 'GET', '/environ'));
    expect(tls).toMatchObject({ REMOTE_ADDR: '127.0.0.1', 'wsgi.url_scheme': 'https', HTTP_HOST: 'app.example', SERVER_PORT: '443' });
  });

  it('forwarding headers a client sends itself are overwritten or removed by the proxy, so they claim nothing', async () => {
    const e = json(await request(https, 'GET', '/environ', { headers: {
      'X-Forwarded-For': '6.6.6.6', 'X-Forwarded-Host': 'evil.example', 'X-Forwarded-Port': '8443',
      Forwarded: 'for=6.6.6.6;proto=http;host=evil.example',
    } }));
    expect(e).toMatchObject({ REMOTE_ADDR: '127.0.0.1', 'wsgi.url_scheme': 'https', HTTP_HOST: 'app.example', SERVER_NAME: 'app.example', SERVER_PORT: '443' });
  });

  it('a tsgi whose --forwarded-allow-ips leaves out unix takes nothing from the same headers', async () => {
    const e = json(await request(untrusting, 'GET', '/environ'));
    expect(e).toMatchObject({ REMOTE_ADDR: '', 'wsgi.url_scheme': 'http', HTTP_X_FORWARDED_FOR: '127.0.0.1', HTTP_X_FORWARDED_PROTO: 'https' });
  });

  it('nginx keeps its upstream connections alive: many requests share few tsgi connections', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const e = json(await request(port, 'GET', '/environ'));
      seen.add(`${e.pid}/${e['tsgi.connection']}`);
    }
    expect(seen.size).toBeLessThan(10);
  });

  it('with proxy_request_buffering off (the body is passed on as it arrives), a chunked upload arrives whole', async () => {
    const parts = Array.from({ length: 40 }, () => crypto.randomBytes(50_000));
    const r = await request(port, 'POST', '/unbuffered-echo', { body: parts });
    const all = Buffer.concat(parts);
    expect(json(r)).toMatchObject({ length: all.length, sha256: sha(all) });
  });

  it('nginx logged no upstream error', () => {
    expect(running[0].errorLog()).not.toMatch(/\[(error|crit|alert|emerg)\]/);
    expect(t.err()).not.toMatch(/level=error/);
  });
});

describe.skipIf(skipUwsgi !== '')(`nginx uwsgi_pass to tsgi with the stock uwsgi_params, over TCP and a Unix socket ${skipUwsgi}`, () => {
  let tcpFront = 0;
  let unixFront = 0;
  let uwsgiPort = 0;
  beforeAll(async () => {
    const sock = path.join(dir, 'uwsgi.sock');
    uwsgiPort = await freePort();
    await startServer(['deploy.js:app', '--bind', `uwsgi://127.0.0.1:${uwsgiPort}`, '--bind', `uwsgi+unix:${sock}`, '--workers', '2'], { env });
    [tcpFront, unixFront] = [await freePort(), await freePort()];
    await nginx({
      listens: [tcpFront, unixFront],
      http: `
  server {
    listen 127.0.0.1:${tcpFront};
    client_max_body_size 64m;
    location / { include ${UWSGI_PARAMS}; uwsgi_pass 127.0.0.1:${uwsgiPort}; }
  }
  server {
    listen 127.0.0.1:${unixFront};
    client_max_body_size 64m;
    # As behind TLS termination: HTTPS on in the uwsgi variables.
    location / { include ${UWSGI_PARAMS}; uwsgi_param HTTPS on; uwsgi_pass unix:${sock}; }
  }`,
    });
  });

  describe('over TCP', () => commonSuite(() => tcpFront));
  describe('over a Unix socket', () => commonSuite(() => unixFront));

  it('the environ comes from the uwsgi variables nginx sent', async () => {
    const client = net.connect(tcpFront, '127.0.0.1');
    await new Promise((r) => client.once('connect', r));
    const local = client.localPort;
    const answer = await new Promise<string>((resolve) => {
      let text = '';
      client.on('data', (d) => { text += d; });
      client.on('end', () => resolve(text));
      client.write('GET /environ?a=b HTTP/1.1\r\nHost: app.example\r\nConnection: close\r\n\r\n');
    });
    const e = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4).replace(/^[0-9a-f]+\r\n|\r\n0\r\n\r\n$/g, ''));
    expect(e).toMatchObject({ REQUEST_METHOD: 'GET', PATH_INFO: '/environ', QUERY_STRING: 'a=b', REQUEST_URI: '/environ?a=b', REMOTE_ADDR: '127.0.0.1', REMOTE_PORT: String(local), HTTP_HOST: 'app.example', 'wsgi.url_scheme': 'http' });
    const viaUnix = json(await request(unixFront, 'GET', '/environ'));
    expect(viaUnix).toMatchObject({ HTTPS: 'on', 'wsgi.url_scheme': 'https', REMOTE_ADDR: '127.0.0.1' });
  });

  it('a packet over --uwsgi-buffer-size (4096 by default) is refused with 431, the next request is served', async () => {
    const big = await request(tcpFront, 'GET', '/environ', { headers: { Cookie: `c=${'x'.repeat(6000)}` } });
    expect(big.status).toBe(431);
    expect((await request(tcpFront, 'GET', '/')).status).toBe(200);
  });
});

describe.skipIf(skipProxyProtocol !== '')(`nginx stream with proxy_protocol on in front of tsgi --proxy-protocol ${skipProxyProtocol}`, () => {
  let front = 0;
  let backend = 0;
  let refusingFront = 0;
  beforeAll(async () => {
    backend = await freePort();
    const refusing = await freePort();
    await startServer(['deploy.js:app', '--bind', `127.0.0.1:${backend}`, '--proxy-protocol', '--workers', '2'], { env });
    // A tsgi that takes the PROXY header from 10.0.0.1 only: nginx on loopback is refused.
    await startServer(['deploy.js:app', '--bind', `127.0.0.1:${refusing}`, '--proxy-protocol', '--proxy-allow-ips', '10.0.0.1'], { env });
    [front, refusingFront] = [await freePort(), await freePort()];
    await nginx({
      listens: [front, refusingFront],
      stream: `
  server {
    listen 127.0.0.1:${front};
    proxy_pass 127.0.0.1:${backend};
    proxy_protocol on;
  }
  server {
    listen 127.0.0.1:${refusingFront};
    proxy_pass 127.0.0.1:${refusing};
    proxy_protocol on;
  }`,
    });
  });

  commonSuite(() => front);

  it('PROXY protocol v1 from nginx: REMOTE_ADDR and REMOTE_PORT are the client\'s, not nginx\'s', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    let local = 0;
    const req = http.get({ host: '127.0.0.1', port: front, path: '/environ', agent });
    req.on('socket', (s) => s.on('connect', () => { local = s.localPort!; }));
    const e = await new Promise<Record<string, unknown>>((resolve, reject) => {
      req.on('response', (res) => { let b = ''; res.on('data', (d) => { b += d; }); res.on('end', () => resolve(JSON.parse(b))); });
      req.on('error', reject);
    });
    agent.destroy();
    expect(e).toMatchObject({ REMOTE_ADDR: '127.0.0.1', REMOTE_PORT: String(local) });
  });

  it('PROXY protocol v2 (nginx sends only v1; a raw client sends v2): the address from the header', async () => {
    const header = Buffer.concat([
      Buffer.from('0d0a0d0a000d0a515549540a', 'hex'),
      Buffer.from([0x21, 0x11, 0x00, 0x0c]),          // v2 PROXY, TCP over IPv4, 12 address bytes
      Buffer.from([192, 0, 2, 10, 127, 0, 0, 1]),      // source, destination
      Buffer.from([0x12, 0x67, backend >> 8, backend & 0xff]), // source port 4711, destination port
    ]);
    const answer = await new Promise<string>((resolve, reject) => {
      const c = net.connect(backend, '127.0.0.1');
      let text = '';
      c.on('data', (d) => { text += d; });
      c.on('end', () => resolve(text));
      c.on('error', reject);
      c.write(Buffer.concat([header, Buffer.from('GET /environ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')]));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    expect(answer).toMatch(/"REMOTE_ADDR":"192\.0\.2\.10"/);
    expect(answer).toMatch(/"REMOTE_PORT":"4711"/);
  });

  it('a proxy not in --proxy-allow-ips is closed without a response', async () => {
    const answer = await new Promise<string>((resolve) => {
      const c = net.connect(refusingFront, '127.0.0.1');
      let text = '';
      c.on('data', (d) => { text += d; });
      c.on('close', () => resolve(text));
      c.on('error', () => {});
      c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    });
    expect(answer).toBe('');
  });

  it('a connection without the PROXY header is closed without a response', async () => {
    const answer = await new Promise<string>((resolve) => {
      const c = net.connect(backend, '127.0.0.1');
      let text = '';
      c.on('data', (d) => { text += d; });
      c.on('close', () => resolve(text));
      c.on('error', () => {});
      c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    });
    expect(answer).not.toMatch(/^HTTP\/1\.1 200/);
  });
});
