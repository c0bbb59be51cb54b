// Every refusal has its precise status, comes from the canned table with
// Connection: close, and the connection is closed after it.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { b, baseLimits, echo, exchange, GET, parseResponses, sleep, startServer, waitFor, type Req, type TestServer } from './native-harness';

let srv: TestServer | undefined;
afterEach(async () => { await srv?.close(); srv = undefined; });

async function refused(raw: string, limits = {}): Promise<number> {
  srv = await startServer(limits);
  const ex = await exchange(srv.port, raw);
  const rs = parseResponses(ex.text);
  expect(rs.length).toBe(1);
  expect(rs[0].headers.connection).toBe('close');
  expect(ex.closed).toBe(true);
  expect(srv.requests.length).toBe(0);
  return rs[0].status;
}

describe('limits and refusals', () => {
  it('414 for a request line over maxRequestLine', async () => {
    expect(await refused(GET('/' + 'a'.repeat(200)), { maxRequestLine: 100 })).toBe(414);
  });
  it('431 for more header fields than maxHeaders', async () => {
    const many = Array.from({ length: 11 }, (_, i) => `X-H${i}: v\r\n`).join('');
    expect(await refused(GET('/', many), { maxHeaders: 10 })).toBe(431);
  });
  it('431 for a head over maxHeaderSize', async () => {
    expect(await refused(GET('/', `X-Big: ${'b'.repeat(600)}\r\n`), { maxHeaderSize: 512 })).toBe(431);
  });
  it('501 for an unknown transfer coding', async () => {
    expect(await refused('POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: frobnicate, chunked\r\n\r\n')).toBe(501);
  });
  it('505 for an HTTP/2.0 request line', async () => {
    expect(await refused('GET / HTTP/2.0\r\nHost: t\r\n\r\n')).toBe(505);
  });
  it('417 for an Expect other than 100-continue', async () => {
    expect(await refused('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nExpect: teapot\r\n\r\nx')).toBe(417);
  });
  for (const [what, raw] of [
    ['no Host on HTTP/1.1', 'GET / HTTP/1.1\r\n\r\n'],
    ['two Hosts', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'],
    ['obs-fold', 'GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n'],
    ['space before the colon', 'GET / HTTP/1.1\r\nHost : a\r\n\r\n'],
    ['bad Content-Length', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n'],
    ['Content-Length and Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n'],
    ['bare CR', 'GET / HTTP/1.1\rHost: a\r\n\r\n'],
    ['garbage', '\x00\x01\x02 nonsense\r\n\r\n'],
    ['a bad chunk size', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
  ] as const) {
    it(`400 for ${what}`, async () => {
      expect(await refused(raw)).toBe(400);
    });
  }

  it('answers a valid request before refusing the bad one pipelined after it', async () => {
    srv = await startServer();
    const ex = await exchange(srv.port, GET('/ok') + 'BAD\r\n\r\n');
    expect(parseResponses(ex.text).map((r) => r.status)).toEqual([200, 400]);
    expect(ex.closed).toBe(true);
  });

  it('503 once maxConnections hold requests in flight, and serves again when one ends', async () => {
    const held: Req[] = [];
    srv = await startServer({ maxConnections: 2 }, (req) => {
      if (req.uri === '/hold') held.push(req);
      else echo(req);
    });
    const hold: net.Socket[] = [];
    for (let i = 0; i < 2; i++) {
      const s = net.connect(srv.port, '127.0.0.1');
      s.on('error', () => {});
      await new Promise((r) => s.on('connect', r));
      s.write(GET('/hold'));
      hold.push(s);
    }
    await waitFor(() => held.length === 2, 2000, 'two requests in flight');
    const ex = await exchange(srv.port, GET('/'));
    expect(parseResponses(ex.text).map((r) => r.status)).toEqual([503]);
    expect(ex.closed).toBe(true);
    b.respond(held[0].conn, 200, '200 OK\r\n', 'done', -1, 0);
    hold[0].destroy();
    await waitFor(() => b.stats(srv!.id).connections === 1, 2000, 'one connection');
    const ex2 = await exchange(srv.port, GET('/'), { until: (t) => t.includes('GET /') });
    expect(parseResponses(ex2.text).map((r) => r.status)).toEqual([200]);
    hold[1].destroy();
  });

  it('never crashes on random bytes', async () => {
    srv = await startServer();
    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const alphabet = 'GET /HTTP1.\r\n: \t0123456789abcdefxChunkedTransfer-EncodingContent-LengthHost%\x00\x7f\xff';
    for (let i = 0; i < 60; i++) {
      const len = Math.floor(rand() * 300);
      let s = i % 2 ? 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n' : '';
      for (let j = 0; j < len; j++) s += alphabet[Math.floor(rand() * alphabet.length)];
      await exchange(srv.port, Buffer.from(s, 'latin1'), { timeoutMs: 100 });
    }
    const ex = await exchange(srv.port, GET('/alive'), { until: (t) => t.includes('GET /alive') });
    expect(parseResponses(ex.text)[0].status).toBe(200);
    await sleep(1);
  });
});

describe('the native core takes its limits from the settings only', () => {
  const handlers = { onRequest() {}, onDrain() {}, onAbort() {} };
  it('createServer refuses a limits object missing a field, naming it (no native default fills the gap)', () => {
    for (const key of ['maxBodySize', 'keepAliveTimeout', 'maxKeepAliveRequests', 'spoolDir', 'sendfile'] as const) {
      const limits: Record<string, unknown> = { ...baseLimits };
      delete limits[key];
      expect(() => b.createServer(limits as never, handlers), key)
        .toThrow(expect.objectContaining({ code: 'TSGI_ERR_INVALID_LIMITS', message: expect.stringContaining(key) }));
    }
    expect(() => b.createServer({ ...baseLimits, maxConnections: -1 }, handlers))
      .toThrow(expect.objectContaining({ code: 'TSGI_ERR_INVALID_LIMITS', message: expect.stringContaining('maxConnections') }));
    expect(() => b.createServer({ ...baseLimits, sendfile: 'sometimes' } as never, handlers))
      .toThrow(expect.objectContaining({ code: 'TSGI_ERR_INVALID_LIMITS', message: expect.stringContaining('sendfile') }));
  });
});

