// Timeouts: an incomplete head gets 408, a silent connection is just closed, an idle
// keep-alive connection is closed, a client that stops reading is dropped.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { b, exchange, GET, parseResponses, startServer, waitFor, type TestServer } from './native-harness';

let srv: TestServer | undefined;
afterEach(async () => { await srv?.close(); srv = undefined; });

describe('timeouts', () => {
  it('408 and close when the head is incomplete after headerTimeout', async () => {
    srv = await startServer({ headerTimeout: 150 });
    const t0 = Date.now();
    const ex = await exchange(srv.port, 'GET / HTTP/1.1\r\nHost: t\r\n');
    const elapsed = Date.now() - t0;
    expect(parseResponses(ex.text).map((r) => r.status)).toEqual([408]);
    expect(ex.closed).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(140);
    expect(elapsed).toBeLessThan(1500);
  });

  it('closes a connection that sent nothing, without a response, after firstByteTimeout', async () => {
    srv = await startServer({ firstByteTimeout: 150 });
    const ex = await exchange(srv.port, []);
    expect(ex.text).toBe('');
    expect(ex.closed).toBe(true);
  });

  it('closes an idle keep-alive connection after keepAliveTimeout', async () => {
    srv = await startServer({ keepAliveTimeout: 200, headerTimeout: 5000 });
    const t0 = Date.now();
    const ex = await exchange(srv.port, GET('/'));
    const elapsed = Date.now() - t0;
    expect(parseResponses(ex.text).map((r) => r.status)).toEqual([200]);
    expect(ex.closed).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(2000);
  });

  it('the keep-alive clock does not cut a response still being written to a slow reader', async () => {
    const body = Buffer.alloc(16 * 1024 * 1024, 'k');
    srv = await startServer({ keepAliveTimeout: 200, writeTimeout: 5000 }, (req) => {
      b.respond(req.conn, 200, '200 OK\r\n', body, -1, 0);
    });
    const sock = net.connect(srv.port, '127.0.0.1');
    let got = 0;
    let closed = false;
    sock.on('data', (d) => { got += d.length; });
    sock.on('close', () => { closed = true; });
    sock.write(GET('/'));
    sock.pause();
    await new Promise((r) => setTimeout(r, 800));  // several keep-alive timeouts, well within the write timeout
    sock.resume();
    await waitFor(() => got > body.length || closed, 5000, 'the whole response or a close');
    expect(got).toBeGreaterThan(body.length);
    // once it is out, the connection is idle and the keep-alive timeout closes it
    await waitFor(() => closed, 2000, 'the keep-alive close');
    sock.destroy();
  });

  it('a new request resets the keep-alive clock', async () => {
    srv = await startServer({ keepAliveTimeout: 250 });
    const ex = await exchange(srv.port, [GET('/1'), GET('/2'), GET('/3')], { gapMs: 150, until: (t) => t.includes('GET /3') });
    expect(parseResponses(ex.text).map((r) => r.body)).toEqual(['GET /1', 'GET /2', 'GET /3']);
  });

  it('drops a client that stops reading a response (writeTimeout) and reports onAbort', async () => {
    const big = Buffer.alloc(1 << 20, 'x');
    srv = await startServer({ writeTimeout: 200 }, (req, s) => {
      b.writeHead(req.conn, 200, '200 OK\r\n', -1, 0);
      const pump = () => { while (b.write(req.conn, big)); };
      s.onDrain = pump;
      pump();
    });
    const sock = net.connect(srv.port, '127.0.0.1');
    sock.on('error', () => {});
    sock.write(GET('/'));
    sock.pause();  // never read
    await waitFor(() => srv!.aborts.length === 1, 4000, 'onAbort');
    expect(b.stats(srv.id).connections).toBe(0);
    sock.destroy();
  });

  it('counts the write timeout from when output became pending, not from the last write', async () => {
    const big = Buffer.alloc(8 * 1024 * 1024, 'q');
    srv = await startServer({ writeTimeout: 300 }, (req) => {
      b.writeHead(req.conn, 200, `200 OK\r\nContent-Length: ${big.length}\r\n`, big.length, 0);
      // idle for longer than the write timeout, then a large write the socket cannot take at once
      setTimeout(() => { b.write(req.conn, big); b.end(req.conn, null); }, 500);
    });
    const sock = net.connect(srv.port, '127.0.0.1');
    let got = 0;
    sock.on('data', (d) => { got += d.length; });
    sock.write(GET('/'));
    await waitFor(() => got > big.length, 8000, 'the whole body');
    sock.destroy();
    expect(srv.aborts).toEqual([]);
  });
});
