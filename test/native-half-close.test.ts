// A client that half-closes (shutdown(SHUT_WR), `printf … | nc -N`, HTTP/1.0-style tools)
// after its requests still gets every complete one answered, in order, and then the
// connection closes. A real reset still reports onAbort; a half-closed client that stops
// reading is still dropped by the write timeout.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { b, GET, parseResponses, startServer, waitFor, type TestServer } from './native-harness';

let srv: TestServer | undefined;
afterEach(async () => { await srv?.close(); srv = undefined; });

interface HalfClosed {
  text: string;
  /** The server closed its side (we saw its FIN). */
  ended: boolean;
  /** The connection was reset instead of closed cleanly. */
  reset: boolean;
}

/** Connects, writes `data`, half-closes at once, and reads until the server closes (or timeout). */
function halfClose(port: number, data: string, timeoutMs = 3000): Promise<HalfClosed> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let ended = false;
    let reset = false;
    const timer = setTimeout(() => sock.destroy(), timeoutMs);
    sock.on('data', (d) => chunks.push(d));
    sock.on('end', () => { ended = true; });
    sock.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'ECONNRESET' || e.code === 'EPIPE') reset = true; });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(chunks).toString('latin1'), ended, reset });
    });
    sock.on('connect', () => { sock.end(data); });
  });
}

describe('half-close: the client sends FIN after its requests', () => {
  it('gets a synchronous response, then the connection closes', async () => {
    srv = await startServer();
    const r = await halfClose(srv.port, GET('/sync'));
    const rs = parseResponses(r.text);
    expect(rs.map((x) => [x.status, x.body])).toEqual([[200, 'GET /sync']]);
    expect(r.ended).toBe(true);
    expect(r.reset).toBe(false);
    expect(srv.aborts).toEqual([]);
  });

  it('gets a response given ~50 ms later (no onAbort), marked Connection: close, then the connection closes', async () => {
    srv = await startServer({}, (req) => {
      setTimeout(() => b.respond(req.conn, 200, '200 OK\r\n', `late ${req.uri}`, -1, 0), 50);
    });
    const r = await halfClose(srv.port, GET('/async'));
    const rs = parseResponses(r.text);
    expect(rs.map((x) => [x.status, x.body])).toEqual([[200, 'late /async']]);
    expect(rs[0].headers.connection).toBe('close');
    expect(r.ended).toBe(true);
    expect(r.reset).toBe(false);
    expect(srv.aborts).toEqual([]);
    await waitFor(() => b.stats(srv!.id).connections === 0, 2000, 'the connection to close');
  });

  it('gets a streamed response written after the FIN arrived', async () => {
    srv = await startServer({}, (req) => {
      setTimeout(() => {
        b.writeHead(req.conn, 200, '200 OK\r\n', -1, 0);
        b.write(req.conn, 'one,');
        setTimeout(() => { b.write(req.conn, Buffer.from('two,')); b.end(req.conn, 'three'); }, 30);
      }, 30);
    });
    const r = await halfClose(srv.port, GET('/stream'));
    const rs = parseResponses(r.text);
    expect(rs.length).toBe(1);
    expect(rs[0].chunked).toBe(true);
    expect(rs[0].body).toBe('one,two,three');
    expect(r.text.endsWith('0\r\n\r\n')).toBe(true);
    expect(r.ended).toBe(true);
    expect(srv.aborts).toEqual([]);
  });

  it('an HTTP/1.0 request answered asynchronously (printf … | nc -N)', async () => {
    srv = await startServer({}, (req) => {
      setTimeout(() => b.respond(req.conn, 200, '200 OK\r\n', 'for nc', -1, 0), 20);
    });
    const r = await halfClose(srv.port, 'GET / HTTP/1.0\r\n\r\n');
    const rs = parseResponses(r.text);
    expect(rs.map((x) => [x.status, x.body, x.headers.connection])).toEqual([[200, 'for nc', 'close']]);
    expect(r.ended).toBe(true);
    expect(srv.aborts).toEqual([]);
  });

  it('3 pipelined requests answered asynchronously, then FIN: 3 responses in order, then closed', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    srv = await startServer({}, (req) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      setTimeout(() => { inFlight--; b.respond(req.conn, 200, '200 OK\r\n', req.uri, -1, 0); }, 30);
    });
    const r = await halfClose(srv.port, GET('/1') + GET('/2') + GET('/3'));
    const rs = parseResponses(r.text);
    expect(rs.map((x) => x.body)).toEqual(['/1', '/2', '/3']);
    expect(rs.every((x) => x.status === 200)).toBe(true);
    expect(r.ended).toBe(true);
    expect(r.reset).toBe(false);
    expect(maxInFlight).toBe(1);
    expect(srv.requests.map((q) => q.uri)).toEqual(['/1', '/2', '/3']);
    expect(srv.aborts).toEqual([]);
  });

  it('3 pipelined requests answered synchronously, then FIN: 3 responses in order, then closed', async () => {
    srv = await startServer();
    const r = await halfClose(srv.port, GET('/a') + GET('/b') + GET('/c'));
    expect(parseResponses(r.text).map((x) => x.body)).toEqual(['GET /a', 'GET /b', 'GET /c']);
    expect(r.ended).toBe(true);
  });

  it('complete requests before an incomplete head are answered; the fragment is dropped', async () => {
    srv = await startServer({}, (req) => {
      setTimeout(() => b.respond(req.conn, 200, '200 OK\r\n', req.uri, -1, 0), 20);
    });
    const r = await halfClose(srv.port, GET('/1') + GET('/2') + 'GET /3 HTTP/1.1\r\nHost: t\r\n');
    expect(parseResponses(r.text).map((x) => x.body)).toEqual(['/1', '/2']);
    expect(r.ended).toBe(true);
    expect(srv.requests.length).toBe(2);
  });

  it('a partial head then FIN: closed without a response, and no onRequest', async () => {
    srv = await startServer();
    const r = await halfClose(srv.port, 'GET /partial HTTP/1.1\r\nHost: t\r\n');
    expect(r.text).toBe('');
    expect(r.ended).toBe(true);
    expect(r.reset).toBe(false);
    expect(srv.requests).toEqual([]);
    await waitFor(() => b.stats(srv!.id).connections === 0, 2000, 'the connection to close');
  });

  it('nothing sent then FIN: closed without a response', async () => {
    srv = await startServer();
    const r = await halfClose(srv.port, '');
    expect(r.text).toBe('');
    expect(r.ended).toBe(true);
    expect(srv.requests).toEqual([]);
  });

  it('a complete head with a partial body then FIN: 400, then closed, and no onRequest', async () => {
    srv = await startServer();
    for (const body of [
      'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc',
      'POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n',
    ]) {
      const r = await halfClose(srv.port, body);
      expect(parseResponses(r.text).map((x) => x.status)).toEqual([400]);
      expect(r.ended).toBe(true);
    }
    expect(srv.requests).toEqual([]);
  });

  it('a reset after the half-close, mid-response, still reports onAbort', async () => {
    let conn = 0;
    srv = await startServer({}, (req) => {
      conn = req.conn;
      b.writeHead(req.conn, 200, '200 OK\r\n', -1, 0);
      b.write(req.conn, 'partial');
    });
    const sock = net.connect(srv.port, '127.0.0.1');
    sock.on('error', () => {});
    sock.end(GET('/'));
    await new Promise((r) => sock.once('data', r));
    await new Promise((r) => setTimeout(r, 50));
    expect(srv.aborts).toEqual([]);  // half-closed: the response is still wanted
    sock.resetAndDestroy();
    await waitFor(() => srv!.aborts.length === 1, 2000, 'onAbort');
    expect(srv.aborts).toEqual([conn]);
    expect(b.end(conn, null)).toBe(-1);
  });

  it('a client that closed completely is found out by the reset its first late write draws: onAbort', async () => {
    let conn = 0;
    srv = await startServer({}, (req) => {
      conn = req.conn;
      setTimeout(() => { b.writeHead(req.conn, 200, '200 OK\r\n', -1, 0); b.write(req.conn, 'late'); }, 50);
    });
    const sock = net.connect(srv.port, '127.0.0.1');
    sock.on('error', () => {});
    sock.write(GET('/'));
    await waitFor(() => srv!.requests.length === 1, 2000, 'request');
    sock.destroy();  // a FIN, like a half-close: nothing tells them apart yet
    await new Promise((r) => setTimeout(r, 30));
    expect(srv.aborts).toEqual([]);
    // the write draws a reset from the client's kernel; nothing more is written after it
    await waitFor(() => srv!.aborts.length === 1, 2000, 'onAbort');
    expect(srv.aborts).toEqual([conn]);
  });

  it('a half-closed client that never reads is dropped by writeTimeout', async () => {
    const chunk = Buffer.alloc(64 * 1024, 'z');
    srv = await startServer({ writeTimeout: 400 }, (req, s) => {
      b.writeHead(req.conn, 200, '200 OK\r\n', -1, 0);
      const pump = () => { while (b.write(req.conn, chunk)) { /* fill */ } };
      s.onDrain = pump;
      pump();
    });
    const sock = net.connect(srv.port, '127.0.0.1');
    sock.on('error', () => {});
    sock.pause();
    sock.end(GET('/'));
    await waitFor(() => srv!.requests.length === 1, 2000, 'request');
    const t0 = Date.now();
    await waitFor(() => b.stats(srv!.id).connections === 0, 4000, 'the write timeout to close the connection');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    expect(srv.aborts).toEqual([srv.requests[0].conn]);
    sock.destroy();
  });
});
