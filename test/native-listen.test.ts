// Listening (TCP v4/v6, Unix sockets, inherited fds), address errors, closing (graceful
// or not), and one addon instance per worker thread.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { b, exchange, GET, parseResponses, sleep, startServer, waitFor, type TestServer } from './native-harness';

let srv: TestServer | undefined;
afterEach(async () => { await srv?.close(); srv = undefined; });

const hasIPv6 = Object.values(os.networkInterfaces()).some((l) => l?.some((a) => a.family === 'IPv6' && a.internal));

describe('listening', () => {
  it.skipIf(!hasIPv6)('serves on IPv6 ::1', async () => {
    srv = await startServer({}, undefined, (id) => b.listenTcp(id, '::1', 0, 128));
    expect(srv.address.family).toBe('IPv6');
    expect(srv.address.address).toBe('::1');
    const ex = await exchange(srv.port, GET('/six'), { host: '::1', until: (t) => t.includes('GET /six') });
    expect(parseResponses(ex.text)[0].status).toBe(200);
    expect(srv.requests[0].addr).toBe('::1');
  });

  it.skipIf(!hasIPv6)("host '' listens dual-stack and reports IPv4 clients as IPv4", async () => {
    srv = await startServer({}, undefined, (id) => b.listenTcp(id, '', 0, 128));
    expect(srv.address.address).toBe('::');
    await exchange(srv.port, GET('/'), { host: '127.0.0.1', until: (t) => t.includes('GET /') });
    await exchange(srv.port, GET('/'), { host: '::1', until: (t) => t.includes('GET /') });
    expect(srv.requests.map((r) => r.addr)).toEqual(['127.0.0.1', '::1']);
  });

  it('serves on a Unix socket with the requested mode, and refuses a stale socket file', async () => {
    const sockPath = path.join(os.tmpdir(), `tsgi-native-${process.pid}.sock`);
    try { fs.unlinkSync(sockPath); } catch {}
    srv = await startServer({}, undefined, (id) => b.listenUnix(id, sockPath, 128, 0o600));
    expect(srv.address).toEqual({ address: sockPath, family: 'unix', port: 0 });
    expect(fs.statSync(sockPath).mode & 0o777).toBe(0o600);
    const ex = await exchange(0, GET('/unix'), { path: sockPath, until: (t) => t.includes('GET /unix') });
    expect(parseResponses(ex.text)[0].status).toBe(200);
    expect(srv.requests[0].addr).toBe('');
    expect(srv.requests[0].remotePort).toBe(0);
    expect(srv.requests[0].localPort).toBe(0);
    const other = b.createServer({ ...(await import('./native-harness')).baseLimits }, { onRequest() {}, onDrain() {}, onAbort() {} });
    expect(() => b.listenUnix(other, sockPath, 128, -1)).toThrow(expect.objectContaining({ code: 'EADDRINUSE' }));
    expect(() => b.listenUnix(other, '/tmp/' + 'x'.repeat(120), 128, -1)).toThrow(expect.objectContaining({ code: 'ENAMETOOLONG' }));
    await new Promise<void>((r) => b.close(other, false, r));
    await srv.close();
    srv = undefined;
    expect(fs.existsSync(sockPath)).toBe(false);
  });

  it('listens on an inherited fd (dup: the caller keeps its own)', async () => {
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    const fd = (holder as unknown as { _handle: { fd: number } })._handle.fd;
    const port = (holder.address() as net.AddressInfo).port;
    srv = await startServer({}, undefined, (id) => b.listenFd(id, fd, 128));
    expect(srv.address).toEqual({ address: '127.0.0.1', family: 'IPv4', port });
    holder.close();  // our dup keeps listening
    const ex = await exchange(port, GET('/fd'), { until: (t) => t.includes('GET /fd') });
    expect(parseResponses(ex.text)[0].status).toBe(200);
  });

  it('throws EADDRINUSE with the address in the message, and several listeners count in order', async () => {
    srv = await startServer();
    const id = srv.id;
    let err: (Error & { code?: string }) | undefined;
    try { b.listenTcp(id, '127.0.0.1', srv.port, 128); } catch (e) { err = e as Error; }
    expect(err?.code).toBe('EADDRINUSE');
    expect(err?.message).toContain(`127.0.0.1:${srv.port}`);
    const second = b.listenTcp(id, '127.0.0.1', 0, 128);
    await exchange(second.port, GET('/2'), { until: (t) => t.includes('GET /2') });
    expect(srv.requests[0].listener).toBe(1);
    expect(srv.requests[0].localPort).toBe(second.port);
    expect(b.stats(id).listeners).toBe(2);
  });
});

describe('closing', () => {
  it('graceful: new connections are refused, idle keep-alive connections close after the drain grace, the in-flight request finishes with Connection: close, then done', async () => {
    let pending = 0;
    srv = await startServer({}, (req) => {
      if (req.uri === '/slow') pending = req.conn;
      else b.respond(req.conn, 200, '200 OK\r\n', 'quick', -1, 0);
    });
    const idle = net.connect(srv.port, '127.0.0.1');
    let idleClosed = false;
    let idleText = '';
    idle.on('data', (d) => { idleText += d.toString('latin1'); });
    idle.on('close', () => { idleClosed = true; });
    idle.on('error', () => {});
    idle.write(GET('/quick'));
    await waitFor(() => idleText.includes('quick'), 2000, 'first response on the keep-alive connection');
    const busy = net.connect(srv.port, '127.0.0.1');
    let text = '';
    let busyClosed = false;
    busy.on('data', (d) => { text += d.toString('latin1'); });
    busy.on('close', () => { busyClosed = true; });
    busy.write(GET('/slow'));
    await waitFor(() => pending !== 0 && b.stats(srv!.id).connections === 2, 2000, 'request and idle connection');
    let done = false;
    b.close(srv.id, true, () => { done = true; });
    // no new connections are accepted
    await expect(exchange(srv.port, GET('/'), { timeoutMs: 500 })).rejects.toThrow();
    // the idle connection gets the drain grace (2 s) for a next request, then closes
    expect(idleClosed).toBe(false);
    await waitFor(() => idleClosed, 5000, 'idle connection closed');
    expect(done).toBe(false);
    await sleep(50);
    expect(busyClosed).toBe(false);
    b.respond(pending, 200, '200 OK\r\n', 'late', -1, 0);
    await waitFor(() => done, 3000, 'done');
    expect(parseResponses(text)[0].headers.connection).toBe('close');
    expect(parseResponses(text)[0].body).toBe('late');
    expect(srv.aborts).toEqual([]);
    srv = undefined;
    busy.destroy();
    idle.destroy();
  });

  it('not graceful: every connection closes now, in-flight requests get onAbort, then done', async () => {
    srv = await startServer({}, () => {});
    const sock = net.connect(srv.port, '127.0.0.1');
    sock.on('error', () => {});
    sock.write(GET('/'));
    await waitFor(() => srv!.requests.length === 1, 2000, 'request');
    const s = srv;
    await s.close(false);
    srv = undefined;
    expect(s.aborts).toEqual([s.requests[0].conn]);
    expect(b.stats(s.id).connections).toBe(0);
    sock.destroy();
  });
});

describe('worker threads', () => {
  it('loads in several worker threads at once, each serving on its own loop', async () => {
    const script = `
      const { parentPort, workerData } = require('node:worker_threads');
      const b = require(workerData.addon);
      const limits = ${JSON.stringify({
        maxRequestLine: 8190, maxHeaderSize: 16384, maxHeaders: 100, maxBodySize: 1024, bodyMemorySize: 1024,
        spoolDir: '/tmp', headerTimeout: 5000, bodyTimeout: 5000, keepAliveTimeout: 5000, writeTimeout: 5000, responseHold: 100, sendfile: 'auto',
        maxConnections: 100, maxKeepAliveRequests: 0, firstByteTimeout: 5000, minBodyRate: 0, minBodyRateGrace: 5000,
      })};
      const id = b.createServer(limits, {
        onRequest(conn) { b.respond(conn, 200, '200 OK\\r\\n', 'worker ' + workerData.n, -1, 0); },
        onDrain() {}, onAbort() {},
      });
      const a = b.listenTcp(id, '127.0.0.1', 0, 128);
      parentPort.postMessage(a.port);
      parentPort.once('message', () => b.close(id, true, () => parentPort.postMessage('closed')));
    `;
    const addon: string = require('node-gyp-build').resolve(path.join(__dirname, '..'));
    const workers = [0, 1, 2].map((n) => new Worker(script, { eval: true, workerData: { addon, n } }));
    try {
      const ports = await Promise.all(workers.map((w) => new Promise<number>((r) => w.once('message', r))));
      const bodies = await Promise.all(ports.map((p) => exchange(p, GET('/'), { until: (t) => t.includes('worker') })));
      expect(bodies.map((e) => parseResponses(e.text)[0].body)).toEqual(['worker 0', 'worker 1', 'worker 2']);
      await Promise.all(workers.map((w) => new Promise((r) => { w.once('message', r); w.postMessage('close'); })));
      // a worker that still has a server open is torn down cleanly too
      const exits = await Promise.all(workers.map((w) => w.terminate()));
      expect(exits.length).toBe(3);
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  });

  it('tears down a worker that exits with connections and servers open', async () => {
    const script = `
      const { parentPort, workerData } = require('node:worker_threads');
      const b = require(workerData.addon);
      const limits = { maxRequestLine: 8190, maxHeaderSize: 16384, maxHeaders: 100, maxBodySize: 1024, bodyMemorySize: 1024,
        spoolDir: '/tmp', headerTimeout: 5000, bodyTimeout: 5000, keepAliveTimeout: 5000, writeTimeout: 5000, responseHold: 100, sendfile: 'auto',
        maxConnections: 100, maxKeepAliveRequests: 0, firstByteTimeout: 5000, minBodyRate: 0, minBodyRateGrace: 5000 };
      const id = b.createServer(limits, { onRequest() {}, onDrain() {}, onAbort() {} });
      parentPort.postMessage(b.listenTcp(id, '127.0.0.1', 0, 128).port);
    `;
    const addon: string = require('node-gyp-build').resolve(path.join(__dirname, '..'));
    const w = new Worker(script, { eval: true, workerData: { addon } });
    const port = await new Promise<number>((r) => w.once('message', r));
    const sock = net.connect(port, '127.0.0.1');
    sock.on('error', () => {});
    sock.write(GET('/'));
    await sleep(100);
    const closed = new Promise((r) => sock.on('close', r));
    await w.terminate();
    await closed;
  });
});
