// Pipelined requests are answered in order, in as few writes as possible (RFC 9112 §9.3.2).
import { afterEach, describe, expect, it } from 'vitest';
import { b, exchange, GET, parseResponses, startServer, type TestServer } from './native-harness';

let srv: TestServer | undefined;
afterEach(async () => { await srv?.close(); srv = undefined; });

describe('pipelining', () => {
  it('answers 16 requests sent in one write, in order, corked into one write', async () => {
    srv = await startServer();
    const reqs = Array.from({ length: 16 }, (_, i) => GET(`/r${i}`)).join('');
    const ex = await exchange(srv.port, reqs, { until: (t) => parseResponses(t).length >= 16 });
    const rs = parseResponses(ex.text);
    expect(rs.map((r) => r.body)).toEqual(Array.from({ length: 16 }, (_, i) => `GET /r${i}`));
    expect(rs.every((r) => r.status === 200 && r.headers['connection'] === undefined)).toBe(true);
    expect(rs.every((r) => /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(r.headers.date))).toBe(true);
    // all 16 came from one read of the server: one write, so (on loopback) one data event
    expect(ex.dataEvents).toBe(1);
    expect(srv.requests.length).toBe(16);
    expect(new Set(srv.requests.map((r) => r.conn)).size).toBe(1);
    const st = b.stats(srv.id);
    expect(st.requests).toBe(16);
    expect(st.bytesReceived).toBe(reqs.length);
    expect(st.bytesSent).toBe(ex.data.length);
    expect(st.listeners).toBe(1);
  });

  it('keeps order when responses are asynchronous', async () => {
    srv = await startServer({}, (req) => {
      const delay = 20 - Number(req.uri.slice(2));
      setTimeout(() => b.respond(req.conn, 200, '200 OK\r\n', req.uri, -1, 0), delay);
    });
    const reqs = Array.from({ length: 8 }, (_, i) => GET(`/r${i}`)).join('');
    const ex = await exchange(srv.port, reqs, { until: (t) => parseResponses(t).length >= 8 });
    expect(parseResponses(ex.text).map((r) => r.body)).toEqual(Array.from({ length: 8 }, (_, i) => `/r${i}`));
  });

  it('has one request in flight at a time per connection', async () => {
    let inFlight = 0;
    let max = 0;
    srv = await startServer({}, (req) => {
      inFlight++;
      max = Math.max(max, inFlight);
      setImmediate(() => { inFlight--; b.respond(req.conn, 204, '204 No Content\r\n', null, -1, 0); });
    });
    const ex = await exchange(srv.port, GET('/a') + GET('/b') + GET('/c'), { until: (t) => parseResponses(t).length >= 3 });
    expect(parseResponses(ex.text).map((r) => r.status)).toEqual([204, 204, 204]);
    expect(max).toBe(1);
  });

  it('decodes the request record: path, query, headers, address', async () => {
    srv = await startServer();
    await exchange(srv.port, 'GET http://example.com:8080/a%20b%zz%41?x=%20&y HTTP/1.1\r\nHost: example.com\r\nX-Custom-Thing: v 1\r\nX_Spoof: no\r\nContent-Type: text/x\r\n\r\n',
      { until: (t) => t.includes('\r\n\r\n') });
    const r = srv.requests[0];
    expect(r.method).toBe('GET');
    expect(r.uri).toBe('http://example.com:8080/a%20b%zz%41?x=%20&y');
    expect(r.path).toBe('/a b%zzA');
    expect(r.query).toBe('x=%20&y');
    expect(r.addr).toBe('127.0.0.1');
    expect(r.remotePort).toBeGreaterThan(0);
    expect(r.localPort).toBe(srv.port);
    expect(r.listener).toBe(0);
    expect(r.minor).toBe(1);
    // The absolute-form target's authority replaces the Host value (RFC 9112 §3.2.2).
    expect(r.headers).toEqual([['HTTP_HOST', 'example.com:8080'], ['HTTP_X_CUSTOM_THING', 'v 1'], ['CONTENT_TYPE', 'text/x']]);
    expect(r.body).toBeNull();
    expect(r.bodyFd).toBe(-1);
  });
});

describe('pipelining under load', () => {
  it('stops reading while much is buffered behind a slow request, then serves it all in order', async () => {
    srv = await startServer({}, (req) => {
      setImmediate(() => b.respond(req.conn, 200, '200 OK\r\n', req.uri, -1, 0));
    });
    const pad = 'x'.repeat(1000);
    const n = 400;  // ~420 KB of requests: more than the server buffers at once
    const reqs = Array.from({ length: n }, (_, i) => GET(`/r${i}`, `X-Pad: ${pad}\r\n`)).join('');
    const ex = await exchange(srv.port, reqs, { until: (t) => parseResponses(t).length >= n, timeoutMs: 10000 });
    const bodies = parseResponses(ex.text).map((r) => r.body);
    expect(bodies.length).toBe(n);
    expect(bodies).toEqual(Array.from({ length: n }, (_, i) => `/r${i}`));
  });
});
