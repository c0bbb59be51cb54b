// Request bodies: Content-Length and chunked (split at every byte), memory and spool file,
// the body limit (413), 100-continue (RFC 9110 §10.1.1) and chunked trailer fields.
import fs from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Environ } from '../src/index';
import { rawRequest } from './helpers/http';
import { startServer as startGateway, type TestServer as GatewayServer } from './helpers/server';
import { b, exchange, parseResponses, sleep, startServer, type Req, type TestServer } from './native-harness';

let srv: TestServer | undefined;
afterEach(async () => { await srv?.close(); srv = undefined; });

function bodyText(req: Req): string {
  if (req.bodyFd >= 0) {
    const buf = Buffer.alloc(req.bodyLength);
    fs.readSync(req.bodyFd, buf, 0, req.bodyLength, 0);
    fs.closeSync(req.bodyFd);
    return buf.toString('latin1');
  }
  return req.body ? req.body.toString('latin1') : '';
}

const echoBody = (req: Req) => {
  b.respond(req.conn, 200, '200 OK\r\n', `${req.bodyLength}:${bodyText(req)}`, -1, 0);
};

describe('request bodies', () => {
  it('delivers a Content-Length body in memory', async () => {
    srv = await startServer({}, echoBody);
    const ex = await exchange(srv.port, ['POST /p HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello', ' world'], { gapMs: 20, until: (t) => t.includes('world') });
    expect(parseResponses(ex.text)[0].body).toBe('11:hello world');
    expect(srv.requests[0].body).toBeInstanceOf(Buffer);
  });

  it('decodes a chunked body split at every byte boundary', async () => {
    srv = await startServer({}, echoBody);
    const req = 'POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1\r\n \r\na\r\n0123456789\r\n0\r\nX-Trailer: y\r\n\r\n';
    const start = req.indexOf('\r\n\r\n') + 4;
    for (let cut = start; cut < req.length; cut++) {
      const ex = await exchange(srv.port, [req.slice(0, cut), req.slice(cut)], { gapMs: 2, until: (t) => t.includes('0123456789') });
      expect(parseResponses(ex.text)[0]?.body, `split at ${cut}`).toBe('16:hello 0123456789');
    }
    expect(srv.requests.every((r) => (r.flags & 4) !== 0)).toBe(true);
  });

  it('handles a whole chunked request delivered one byte at a time', async () => {
    srv = await startServer({}, echoBody);
    const req = 'POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n';
    const ex = await exchange(srv.port, req.split(''), { gapMs: 1, until: (t) => t.includes('5:abcde'), timeoutMs: 5000 });
    expect(parseResponses(ex.text)[0].body).toBe('5:abcde');
  });

  it('spools a body larger than bodyMemorySize to an unlinked file and hands over the fd', async () => {
    srv = await startServer({ bodyMemorySize: 1000 }, echoBody);
    const payload = Buffer.alloc(300_000, 'abcdefghij').toString('latin1');
    const ex = await exchange(srv.port, [`POST /big HTTP/1.1\r\nHost: t\r\nContent-Length: ${payload.length}\r\n\r\n`, payload],
      { until: (t) => parseResponses(t).length > 0 && parseResponses(t)[0].body.length >= 300_007, timeoutMs: 5000 });
    const r = srv.requests[0];
    expect(r.body).toBeNull();
    expect(r.bodyLength).toBe(300_000);
    expect(parseResponses(ex.text)[0].body).toBe(`300000:${payload}`);
  });

  it('spools a chunked body once it outgrows bodyMemorySize', async () => {
    srv = await startServer({ bodyMemorySize: 10 }, (req) => {
      expect(req.bodyFd).toBeGreaterThanOrEqual(0);
      echoBody(req);
    });
    const ex = await exchange(srv.port, 'POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n01234567\r\n8\r\n89abcdef\r\n0\r\n\r\n', { until: (t) => t.includes('cdef') });
    expect(parseResponses(ex.text)[0].body).toBe('16:0123456789abcdef');
  });

  it('refuses a Content-Length over maxBodySize with 413 and closes, without reading it', async () => {
    srv = await startServer({ maxBodySize: 100 }, echoBody);
    const ex = await exchange(srv.port, 'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 101\r\n\r\n');
    const [r] = parseResponses(ex.text);
    expect(r.status).toBe(413);
    expect(r.headers.connection).toBe('close');
    expect(ex.closed).toBe(true);
    expect(srv.requests.length).toBe(0);
  });

  it('refuses a chunked body that grows past maxBodySize with 413', async () => {
    srv = await startServer({ maxBodySize: 10 }, echoBody);
    const ex = await exchange(srv.port, 'POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n01234567\r\n8\r\n89abcdef\r\n0\r\n\r\n');
    expect(parseResponses(ex.text).map((r) => r.status)).toEqual([413]);
    expect(ex.closed).toBe(true);
    expect(srv.requests.length).toBe(0);
  });

  it('sends 100 Continue when the body is wanted, then the final response', async () => {
    srv = await startServer({}, echoBody);
    const ex = await exchange(srv.port, ['POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n'], {
      until: (t) => t.startsWith('HTTP/1.1 100 Continue\r\n\r\n'), timeoutMs: 2000,
    });
    expect(ex.text).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    // and the whole exchange: 100, then 200 once the body came
    const ex2 = await exchange(srv.port, ['POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n', 'abcd'], {
      gapMs: 50, until: (t) => t.includes('4:abcd'),
    });
    expect(parseResponses(ex2.text).map((r) => r.status)).toEqual([100, 200]);
  });

  it('sends no 100 Continue when refusing with 413, nor when the body came with the head', async () => {
    srv = await startServer({ maxBodySize: 3 }, echoBody);
    const ex = await exchange(srv.port, 'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n');
    expect(parseResponses(ex.text).map((r) => r.status)).toEqual([413]);
    const ex2 = await exchange(srv.port, 'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\nab', { until: (t) => t.includes('2:ab') });
    expect(parseResponses(ex2.text).map((r) => r.status)).toEqual([200]);
  });

  it('a body timeout answers 408 and closes', async () => {
    srv = await startServer({ bodyTimeout: 150 }, echoBody);
    const t0 = Date.now();
    const ex = await exchange(srv.port, 'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc', { timeoutMs: 3000 });
    expect(parseResponses(ex.text).map((r) => r.status)).toEqual([408]);
    expect(ex.closed).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(srv.requests.length).toBe(0);
  });

  it('keeps the body timeout from firing while bytes keep coming', async () => {
    srv = await startServer({ bodyTimeout: 200 }, echoBody);
    const ex = await exchange(srv.port, ['POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\n', 'a', 'b', 'c', 'd'], { gapMs: 100, until: (t) => t.includes('4:abcd') });
    expect(parseResponses(ex.text)[0].body).toBe('4:abcd');
    await sleep(1);
  });
});

// Chunked trailer fields (RFC 9112 §7.1.2, RFC 9110 §6.5): those RFC 9110 §6.5.1 keeps out
// of a trailer section are refused with 400; the others reach the application under
// environ['tsgi.trailers'], never merged into the HTTP_* keys.
describe('chunked trailer fields', () => {
  let ts: GatewayServer;
  let seen: Environ[] = [];
  beforeAll(async () => {
    ts = await startGateway((env, sr) => {
      const body = env['wsgi.input'].read().toString('latin1');
      seen.push({ ...env });
      sr('200 OK', [['Content-Type', 'text/plain']]);
      return [body];
    });
  });
  afterAll(() => ts.close());

  const chunked = (trailers: string) =>
    'POST /t HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n' + trailers + '\r\n';

  it('hands allowed trailer fields to the application as [lower-cased name, value] pairs', async () => {
    seen = [];
    const ex = await rawRequest(ts.port, chunked('X-Checksum: abc \r\nServer-Timing:db;dur=53\r\nx-checksum: def\r\n'));
    expect(ex.responses.map((r) => r.status)).toEqual([200]);
    expect(ex.responses[0].body.toString()).toBe('hello');
    expect(seen[0]['tsgi.trailers']).toEqual([['x-checksum', 'abc'], ['server-timing', 'db;dur=53'], ['x-checksum', 'def']]);
    expect(seen[0]).not.toHaveProperty('HTTP_X_CHECKSUM');
    expect(seen[0]).not.toHaveProperty('HTTP_SERVER_TIMING');
    expect(seen[0].CONTENT_LENGTH).toBe('5');
  });

  it('gives an empty tsgi.trailers for a chunked body without trailers and for other bodies', async () => {
    seen = [];
    await rawRequest(ts.port, chunked(''));
    await rawRequest(ts.port, 'POST /t HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi');
    expect(seen.map((e) => e['tsgi.trailers'])).toEqual([[], []]);
  });

  it('keeps the trailers of pipelined chunked requests apart', async () => {
    seen = [];
    const ex = await rawRequest(ts.port, chunked('A: 1\r\n') + chunked('') + chunked('B: 2\r\n'), { count: 3 });
    expect(ex.responses.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(seen.map((e) => e['tsgi.trailers'])).toEqual([[['a', '1']], [], [['b', '2']]]);
  });

  const refused = ['Content-Length', 'transfer-encoding', 'Host', 'Trailer', 'TE', 'Connection', 'Keep-Alive', 'Upgrade',
    'Content-Encoding', 'Content-Range', 'Content-Type', 'Expect', 'Cache-Control', 'Pragma', 'Authorization', 'Cookie',
    'Set-Cookie', 'Max-Forwards', 'Range', 'If-Match', 'If-None-Match', 'If-Modified-Since', 'Proxy-Authorization'];
  it.each(refused)('refuses a %s trailer field with 400, without calling the application', async (name) => {
    seen = [];
    // count 2: read until the server closes (a refusal closes the connection).
    const ex = await rawRequest(ts.port, chunked(`X-Ok: 1\r\n${name}: 7\r\n`), { count: 2 });
    expect(ex.responses.map((r) => r.status)).toEqual([400]);
    expect(ex.closed).toBe(true);
    expect(seen.length).toBe(0);
  });
});
