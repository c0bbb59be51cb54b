// Graceful close (reload, recycling, stop) loses no request a client has begun to send
// or may be sending, and resets no connection: connections accepted a moment ago,
// partial heads, bytes already in the socket, and connections still in the kernel's
// accept queue are answered (Connection: close); an idle keep-alive connection (also one
// whose streamed response began before the close) has its next request answered with
// Connection: close within the drain grace, and is ended cleanly (FIN) after it; a
// listener asked to refuse stops its shared socket; done comes when nothing is left.
// Also the backlog given to listenFd.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openClient, type Client } from './helpers/http';
import { bindSocket, tryConnect } from './helpers/sockets';
import { b, GET, parseResponses, sleep, startServer, waitFor, type TestServer } from './native-harness';

let servers: TestServer[] = [];
const clients: net.Socket[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await Promise.all(servers.map((s) => s.close(false)));
  servers = [];
});

async function server(...args: Parameters<typeof startServer>): Promise<TestServer> {
  const s = await startServer(...args);
  servers.push(s);
  return s;
}

function client(port: number): Client {
  const c = openClient(port, { noDelay: true });
  clients.push(c.sock);
  return c;
}

/** Resolves once connected, or once the connection failed (then c.error() says how). */
function connected(c: Client): Promise<void> {
  return new Promise<void>((r) => {
    if (c.sock.readyState === 'open' || c.closed()) return r();
    c.sock.once('connect', () => r());
    c.sock.once('close', () => r());
  });
}

/** Calls close(graceful) and reports when done fired. */
function gracefulClose(s: TestServer): { done: () => boolean; at: () => number } {
  let doneAt = 0;
  b.close(s.id, true, () => { doneAt = Date.now(); });
  servers = servers.filter((x) => x !== s);
  return { done: () => doneAt !== 0, at: () => doneAt };
}

/** Blocks the thread (not the kernel): connections complete their handshake meanwhile, nobody accepts them. */
function blockLoop(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

describe('graceful close', () => {
  it('a connection accepted before close that has sent nothing yet gets its request answered with Connection: close; done after', async () => {
    let closing: ReturnType<typeof gracefulClose> | undefined;
    let doneBeforeAnswer: boolean | undefined;
    const s = await server({}, (req) => {
      doneBeforeAnswer = closing?.done();
      b.respond(req.conn, 200, '200 OK\r\n', `${req.method} ${req.uri}`, -1, 0);
    });
    const c = client(s.port);
    await connected(c);
    await waitFor(() => b.stats(s.id).connections === 1, 2000, 'accepted');
    closing = gracefulClose(s);
    await sleep(150);
    expect(c.closed()).toBe(false);
    expect(closing.done()).toBe(false);
    c.sock.write(GET('/late'));
    await waitFor(() => parseResponses(c.text()).length === 1 && parseResponses(c.text())[0].body === 'GET /late', 2000, 'response');
    const r = parseResponses(c.text())[0];
    expect(r.status).toBe(200);
    expect(r.headers.connection).toBe('close');
    expect(doneBeforeAnswer).toBe(false);
    await waitFor(() => c.closed(), 3000, 'server closes after the response');
    await waitFor(closing.done, 3000, 'done');
    expect(c.error()).toBeUndefined();
    expect(s.aborts).toEqual([]);
  });

  it('a partial head received before close is completed after it and answered', async () => {
    const s = await server();
    const c = client(s.port);
    await connected(c);
    c.sock.write('GET /split HTTP/1.1\r\nHo');
    await waitFor(() => b.stats(s.id).bytesReceived > 0, 2000, 'partial head read');
    const closing = gracefulClose(s);
    await sleep(100);
    expect(c.closed()).toBe(false);
    c.sock.write('st: t\r\n\r\n');
    await waitFor(() => parseResponses(c.text()).length === 1, 2000, 'response');
    const r = parseResponses(c.text())[0];
    expect(r.body).toBe('GET /split');
    expect(r.headers.connection).toBe('close');
    c.sock.destroy();
    await waitFor(closing.done, 3000, 'done');
  });

  it('a connection that never sends anything is closed by the header timeout, then done', async () => {
    const s = await server({ headerTimeout: 400 });
    const c = client(s.port);
    await connected(c);
    await waitFor(() => b.stats(s.id).connections === 1, 2000, 'accepted');
    const t0 = Date.now();
    const closing = gracefulClose(s);
    await sleep(150);
    expect(c.closed()).toBe(false);
    await waitFor(closing.done, 3000, 'done');
    expect(c.text()).toBe('');  // closed without a response: there was no request
    await waitFor(() => c.closed(), 1000, 'client sees the close');
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(s.requests).toEqual([]);
  });

  it('while closing, a connection that sent nothing gets a short grace (2 s), not the whole header timeout', async () => {
    const s = await server({ headerTimeout: 60_000 });
    const c = client(s.port);
    await connected(c);
    await waitFor(() => b.stats(s.id).connections === 1, 2000, 'accepted');
    const t0 = Date.now();
    const closing = gracefulClose(s);
    await sleep(1000);
    expect(c.closed()).toBe(false);  // still inside the grace: a late request would be answered
    await waitFor(closing.done, 5000, 'done');
    expect(Date.now() - t0).toBeLessThan(4500);
    expect(c.text()).toBe('');
    expect(s.requests).toEqual([]);
  });

  it('an idle keep-alive connection stays open for the drain grace: its next request is answered with Connection: close, then it closes cleanly', async () => {
    const s = await server({ keepAliveTimeout: 30000 });
    const c = client(s.port);
    c.sock.write(GET('/one'));
    await waitFor(() => parseResponses(c.text()).length === 1, 2000, 'first response');
    expect(parseResponses(c.text())[0].headers.connection).toBeUndefined();
    const closing = gracefulClose(s);
    // A client in the middle of a series of requests: its next one comes a moment later.
    await sleep(300);
    expect(c.closed()).toBe(false);
    c.sock.write(GET('/two'));
    await waitFor(() => parseResponses(c.text()).length === 2, 2000, 'second response');
    const r = parseResponses(c.text())[1];
    expect(r.body).toBe('GET /two');
    expect(r.headers.connection).toBe('close');
    await waitFor(() => c.closed() && closing.done(), 4000, 'closed and done');
    expect(c.ended()).toBe(true);
    expect(c.error()).toBeUndefined();
  });

  it('an idle keep-alive connection that sends nothing is ended after the grace (2 s) with a FIN, not a reset, and done fires', async () => {
    const s = await server({ keepAliveTimeout: 30000 });
    const c = client(s.port);
    c.sock.write(GET('/one'));
    await waitFor(() => parseResponses(c.text()).length === 1, 2000, 'first response');
    const t0 = Date.now();
    const closing = gracefulClose(s);
    await sleep(1000);
    expect(c.closed()).toBe(false);  // still inside the grace
    expect(closing.done()).toBe(false);
    await waitFor(() => c.closed() && closing.done(), 6000, 'closed and done');
    expect(c.closedAt() - t0).toBeGreaterThanOrEqual(1500);
    expect(c.closedAt() - t0).toBeLessThan(5000);  // the grace, not the 30 s keep-alive timeout
    expect(c.ended()).toBe(true);
    expect(c.error()).toBeUndefined();
    expect(s.requests.length).toBe(1);
  });

  it('a connection idle longer than the grace when the close begins is ended at once', async () => {
    const s = await server({ keepAliveTimeout: 30000 });
    const c = client(s.port);
    c.sock.write(GET('/one'));
    await waitFor(() => parseResponses(c.text()).length === 1, 2000, 'first response');
    await sleep(2300);
    const t0 = Date.now();
    const closing = gracefulClose(s);
    await waitFor(() => c.closed() && closing.done(), 2000, 'closed and done');
    expect(c.closedAt() - t0).toBeLessThan(1000);
    expect(c.ended()).toBe(true);
    expect(c.error()).toBeUndefined();
  });

  it('the grace is capped by the keep-alive timeout', async () => {
    const s = await server({ keepAliveTimeout: 300 });
    const c = client(s.port);
    c.sock.write(GET('/one'));
    await waitFor(() => parseResponses(c.text()).length === 1, 2000, 'first response');
    const t0 = Date.now();
    const closing = gracefulClose(s);
    await waitFor(() => c.closed() && closing.done(), 2000, 'closed and done');
    expect(c.closedAt() - t0).toBeLessThan(1000);
  });

  it('a streamed response whose head went out before the close: after it ends, the next request gets Connection: close', async () => {
    const s = await server({ keepAliveTimeout: 15000 }, (req) => {
      b.writeHead(req.conn, 200, '200 OK\r\n', -1, 0);
      b.write(req.conn, 'first ');
      if (req.uri === '/stream') setTimeout(() => b.end(req.conn, 'last'), 400);
      else b.end(req.conn, 'again');
    });
    const c = client(s.port);
    c.sock.write(GET('/stream'));
    await waitFor(() => c.text().includes('first'), 2000, 'first chunk');
    const closing = gracefulClose(s);
    await waitFor(() => parseResponses(c.text()).length === 1 && c.text().endsWith('0\r\n\r\n'), 2000, 'streamed response');
    const first = parseResponses(c.text())[0];
    expect(first.body).toBe('first last');
    expect(first.headers.connection).toBeUndefined();  // decided before the close began
    await sleep(100);
    c.sock.write(GET('/next'));
    await waitFor(() => parseResponses(c.text()).length === 2, 2000, 'second response');
    expect(parseResponses(c.text())[1].headers.connection).toBe('close');
    await waitFor(() => c.closed() && closing.done(), 4000, 'closed and done');
    expect(c.ended()).toBe(true);
    expect(c.error()).toBeUndefined();
  });

  it('a streamed response whose head went out before the close: a client that then sends nothing does not hold the close for the keep-alive timeout', async () => {
    const s = await server({ keepAliveTimeout: 15000 }, (req) => {
      b.writeHead(req.conn, 200, '200 OK\r\n', -1, 0);
      b.write(req.conn, 'first ');
      setTimeout(() => b.end(req.conn, 'last'), 400);
    });
    const c = client(s.port);
    c.sock.write(GET('/stream'));
    await waitFor(() => c.text().includes('first'), 2000, 'first chunk');
    const t0 = Date.now();
    const closing = gracefulClose(s);
    await waitFor(() => c.text().endsWith('0\r\n\r\n'), 2000, 'streamed response');
    await waitFor(() => closing.done(), 8000, 'done');
    expect(closing.at() - t0).toBeLessThan(5000);
    expect(c.ended()).toBe(true);
    expect(c.error()).toBeUndefined();
  });

  it('a connection lingering after its Connection: close response when the close begins keeps lingering: what the client still sends is read, no reset', async () => {
    const s = await server();
    const c = client(s.port);
    c.sock.allowHalfOpen = true;  // this client keeps its side open after the server's FIN
    c.sock.write(GET('/last', 'Connection: close\r\n'));
    await waitFor(() => parseResponses(c.text()).length === 1, 2000, 'response');
    await waitFor(() => c.ended(), 2000, 'server FIN');
    const closing = gracefulClose(s);
    await sleep(200);
    // Bytes the server must read, not leave unread for close() to answer with a reset. (A
    // closed socket would answer the first write with a reset, and the second one would
    // fail with EPIPE here.)
    c.sock.write(GET('/ignored'));
    await sleep(150);
    c.sock.write(GET('/ignored-too'));
    await sleep(150);
    expect(c.error()).toBeUndefined();
    c.sock.end();
    await waitFor(() => c.closed() && closing.done(), 4000, 'closed and done');
    expect(c.error()).toBeUndefined();
    expect(s.requests.map((r) => r.uri)).toEqual(['/last']);
  });

  it('an idle keep-alive connection whose next request is already in its socket gets it answered', async () => {
    const s = await server({ keepAliveTimeout: 30000 });
    const c = client(s.port);
    c.sock.write(GET('/one'));
    await waitFor(() => parseResponses(c.text()).length === 1, 2000, 'first response');
    await sleep(20);
    // Written straight to the socket (loopback: in the server's receive queue at once),
    // and the close comes before the server's loop reads it.
    c.sock.write(GET('/two'));
    blockLoop(20);
    const closing = gracefulClose(s);
    await waitFor(() => parseResponses(c.text()).length === 2 || c.closed(), 2000, 'second response or close');
    const rs = parseResponses(c.text());
    expect(rs.map((r) => r.body)).toEqual(['GET /one', 'GET /two']);
    expect(rs[1].headers.connection).toBe('close');
    c.sock.destroy();
    await waitFor(closing.done, 3000, 'done');
  });

  it('connections still in the accept queue are accepted and answered, not reset', async () => {
    const s = await server();
    const cs = [client(s.port), client(s.port), client(s.port)];
    // net.connect() connects on the next tick; the handshakes complete in the kernel
    // while the loop is blocked, so the connections wait in the queue, unaccepted.
    await new Promise<void>((r) => process.nextTick(r));
    blockLoop(50);
    expect(b.stats(s.id).connections).toBe(0);
    const closing = gracefulClose(s);
    const acceptedAtClose = b.stats(s.id).connections;
    for (const c of cs) {
      await connected(c);
      if (!c.closed()) c.sock.write(GET('/queued'));
    }
    await waitFor(() => cs.every((c) => parseResponses(c.text()).length === 1 || c.closed()), 3000, 'responses');
    for (const c of cs) {
      expect(c.error()).toBeUndefined();
      const r = parseResponses(c.text())[0];
      expect(r?.body).toBe('GET /queued');
      expect(r.headers.connection).toBe('close');
      c.sock.destroy();
    }
    expect(acceptedAtClose).toBe(3);
    await waitFor(closing.done, 3000, 'done');
  });

  it('an fd listener whose socket others share leaves its queue to them: closing it changes nothing for the others', async () => {
    // The master: binds, never accepts, keeps its descriptor.
    const holder = bindSocket();
    const { port, fd } = holder;
    try {
      // Two workers accept on the same socket.
      const a = await server({}, undefined, (id) => b.listenFd(id, fd, 64));
      const other = await server({}, undefined, (id) => b.listenFd(id, fd, 64));
      const cs = [client(port), client(port), client(port)];
      await new Promise<void>((r) => process.nextTick(r));
      blockLoop(50);
      const closing = gracefulClose(a);
      expect(b.stats(a.id).connections).toBe(0);  // not taken by the closing worker
      await waitFor(closing.done, 2000, 'done of the closed worker');
      for (const c of cs) {
        await connected(c);
        if (!c.closed()) c.sock.write(GET('/shared'));
      }
      await waitFor(() => cs.every((c) => parseResponses(c.text()).length === 1 || c.closed()), 3000, 'responses');
      for (const c of cs) expect(parseResponses(c.text())[0]?.body).toBe('GET /shared');
      expect(a.requests).toEqual([]);
      expect(other.requests.length).toBe(3);
      // New connections keep coming to the other worker.
      const late = client(port);
      late.sock.write(GET('/after'));
      await waitFor(() => parseResponses(late.text()).length === 1, 2000, 'response after the close');
      expect(other.requests.length).toBe(4);
    } finally {
      holder.close();
    }
  });
});

describe('refusing new connections on a shared socket', () => {
  it('refuseFds: the queue is accepted and answered, then the shared socket refuses new clients for every holder', async () => {
    const holder = bindSocket();
    const { port, fd } = holder;
    try {
      const a = await server({}, undefined, (id) => b.listenFd(id, fd, 64));
      const other = await server({}, undefined, (id) => b.listenFd(id, fd, 64));
      const cs = [client(port), client(port), client(port)];
      await new Promise<void>((r) => process.nextTick(r));
      blockLoop(50);
      // As a server stopping for good does: stop listening, refusing on the shared socket.
      b.stopListening(a.id, [fd]);
      const closing = gracefulClose(a);
      expect(b.stats(a.id).connections).toBe(3);  // the queue was taken, not left to reset
      for (const c of cs) {
        await connected(c);
        if (!c.closed()) c.sock.write(GET('/queued'));
      }
      await waitFor(() => cs.every((c) => parseResponses(c.text()).length === 1 || c.closed()), 3000, 'responses');
      for (const c of cs) {
        expect(c.error()).toBeUndefined();
        expect(parseResponses(c.text())[0]?.body).toBe('GET /queued');
      }
      // New clients are refused at once, although the holder and the other server keep
      // descriptors of the socket.
      const late = client(port);
      await connected(late);
      expect(late.error()).toBe('ECONNREFUSED');
      await waitFor(closing.done, 3000, 'done');
      // The other server's listener saw its socket stop and closed it; it is not spinning.
      await waitFor(() => b.stats(other.id).listeners === 0, 2000, 'the other listener closed');
      expect(other.requests).toEqual([]);
    } finally {
      holder.close();
    }
  });

  it('refuseFds on a shared Unix socket: new clients are refused, and the other holder closes its listener', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-refuse-'));
    const file = path.join(dir, 's.sock');
    const holder = bindSocket(file);
    try {
      const a = await server({}, undefined, (id) => b.listenFd(id, holder.fd, 64));
      const other = await server({}, undefined, (id) => b.listenFd(id, holder.fd, 64));
      b.stopListening(a.id, [holder.fd]);
      expect(await tryConnect(file)).toBe('ECONNREFUSED');
      await waitFor(() => b.stats(other.id).listeners === 0, 2500, 'the other listener closed');
    } finally {
      holder.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('without refuseFds the shared socket keeps listening for the others', async () => {
    const holder = bindSocket();
    const port = holder.port;
    try {
      const a = await server({}, undefined, (id) => b.listenFd(id, holder.fd, 64));
      const other = await server({}, undefined, (id) => b.listenFd(id, holder.fd, 64));
      b.stopListening(a.id, []);
      const late = client(port);
      late.sock.write(GET('/after'));
      await waitFor(() => parseResponses(late.text()).length === 1, 2000, 'response from the other server');
      expect(other.requests.length).toBe(1);
    } finally {
      holder.close();
    }
  });
});

function ssListenQueueMax(port: number): number | undefined {
  const out = execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' });
  const line = out.split('\n').find((l) => l.trim().startsWith('LISTEN'));
  return line ? Number(line.trim().split(/\s+/)[2]) : undefined;  // State Recv-Q Send-Q …
}

let hasSs = false;
try { execFileSync('ss', ['-V'], { stdio: 'ignore' }); hasSs = true; } catch { /* not installed */ }

describe('listenFd backlog', () => {
  it('listens on a bound, not listening socket with the given backlog', async () => {
    const h = bindSocket();
    try {
      const port = h.port;
      const s = await server({}, undefined, (id) => b.listenFd(id, h.fd, 37));
      expect(s.port).toBe(port);
      const c = client(port);
      c.sock.write(GET('/backlog'));
      await waitFor(() => parseResponses(c.text()).length === 1, 2000, 'response');
      expect(parseResponses(c.text())[0].body).toBe('GET /backlog');
    } finally {
      h.close();
    }
  });

  it.skipIf(!hasSs)('the kernel queue takes the backlog, and a second listenFd on the listening socket resizes it', async () => {
    const h = bindSocket();
    try {
      const port = h.port;
      await server({}, undefined, (id) => b.listenFd(id, h.fd, 37));
      expect(ssListenQueueMax(port)).toBe(37);
      await server({}, undefined, (id) => b.listenFd(id, h.fd, 53));
      expect(ssListenQueueMax(port)).toBe(53);
    } finally {
      h.close();
    }
  });
  if (!hasSs) it.skip('ss(8) is not installed: the kernel backlog is not checked', () => {});
});
