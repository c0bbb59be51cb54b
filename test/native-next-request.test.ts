// nextRequest(conn): the application side takes the next pipelined request of a read
// itself, once the one it was given has been answered, instead of the core calling
// onRequest for each. What it gets must be exactly what a dispatch would have given, and
// whatever the fast step does not cover (a body, a bad head, a request still in flight,
// the health path) must be left to the parse loop.
import { afterEach, describe, expect, it } from 'vitest';
import { FLAG_PIPELINED, REC_FLAGS } from '../src/native';
import { parseResponses as parseRaw } from './helpers/http';
import { b, decode, echo, exchange, GET, parseResponses, startServer, type Req, type TestServer } from './native-harness';

/** The responses to GET, GET, HEAD, GET. */
const withHead = (text: string) => parseRaw(Buffer.from(text, 'latin1'), true, [false, false, true, false], true).responses;

const servers: TestServer[] = [];
afterEach(async () => { await Promise.all(servers.splice(0).map((s) => s.close())); });

interface Seen { via: 'dispatch' | 'pulled'; flagged: boolean; req: Req }

/** A server whose onRequest answers, then pulls what follows as long as the record says more came. */
async function pullingServer(answer: (req: Req) => boolean = (req) => { echo(req); return true; }, limits = {}) {
  const seen: Seen[] = [];
  const s = await startServer(limits, (req) => {
    seen.push({ via: 'dispatch', flagged: (req.flags & FLAG_PIPELINED) !== 0, req });
    let more = (req.flags & FLAG_PIPELINED) !== 0;
    if (!answer(req)) return;
    while (more) {
      const head = b.nextRequest(req.conn);
      if (head === undefined) break;
      more = (b.record[REC_FLAGS] & FLAG_PIPELINED) !== 0;
      const next = decode(req.conn, head, null, -1, 0);
      seen.push({ via: 'pulled', flagged: more, req: next });
      if (!answer(next)) return;
    }
  });
  // The decoded requests are not kept by the harness's own list for pulled ones: seen is the record.
  servers.push(s);
  return { s, seen };
}

/** The parts of a decoded request that do not depend on the sockets (ports). */
function shape(r: Req) {
  return { method: r.method, uri: r.uri, path: r.path, query: r.query, addr: r.addr,
    listener: r.listener, minor: r.minor, flags: r.flags & ~FLAG_PIPELINED, headers: r.headers, overrides: r.overrides,
    body: r.body, bodyFd: r.bodyFd, bodyLength: r.bodyLength };
}

describe('nextRequest', () => {
  it('gives the pipelined requests of one read, in order, as a dispatch would', async () => {
    const wire = GET('/a') + GET('/b?x=1&y', 'X-One: 1\r\nCookie: c=1\r\nAccept: */*\r\n') +
      'HEAD /c HTTP/1.1\r\nHost: t\r\n\r\n' + 'GET /d HTTP/1.0\r\nHost: t\r\nConnection: keep-alive\r\n\r\n';
    const { s, seen } = await pullingServer();
    const ex = await exchange(s.port, wire, { until: (t) => withHead(t).length >= 4 });
    const rs = withHead(ex.text);
    expect(rs.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(rs.map((r) => r.body.toString())).toEqual(['GET /a', 'GET /b?x=1&y', '', 'GET /d']);
    expect(rs[2].header['content-length']).toBe(String('HEAD /c'.length));
    // The first came through onRequest with the flag; the rest were pulled; the last says nothing follows.
    expect(seen.map((x) => [x.via, x.req.uri, x.flagged])).toEqual([
      ['dispatch', '/a', true], ['pulled', '/b?x=1&y', true], ['pulled', '/c', true], ['pulled', '/d', false],
    ]);
    expect(b.stats(s.id).requests).toBe(4);
    expect(seen.every((x) => x.req.localPort === s.port && x.req.remotePort === seen[0].req.remotePort)).toBe(true);

    // The same bytes to a server that pulls nothing: the records are the same.
    const plain = await startServer();
    servers.push(plain);
    await exchange(plain.port, wire, { until: (t) => withHead(t).length >= 4 });
    expect(plain.requests.map(shape)).toEqual(seen.map((x) => shape(x.req)));
    expect(plain.requests.map((r) => (r.flags & FLAG_PIPELINED) !== 0)).toEqual([true, true, true, false]);
  });

  it('leaves a request with a body to the parse loop, and goes on after it', async () => {
    const { s, seen } = await pullingServer();
    const wire = GET('/a') + 'POST /p HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi' + GET('/b') +
      'POST /chunked HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n' + GET('/c');
    const ex = await exchange(s.port, wire, { until: (t) => parseResponses(t, 0).length >= 5 });
    expect(parseResponses(ex.text, 0).map((r) => r.body)).toEqual(['GET /a', 'POST /p', 'GET /b', 'POST /chunked', 'GET /c']);
    expect(seen.map((x) => [x.via, x.req.uri])).toEqual([
      ['dispatch', '/a'], ['dispatch', '/p'], ['pulled', '/b'], ['dispatch', '/chunked'], ['pulled', '/c'],
    ]);
    expect(seen[1].req.body?.toString()).toBe('hi');
    expect(seen[3].req.body?.toString()).toBe('ok');
  });

  it('has nothing while the request it follows is still in flight; the core dispatches it once answered', async () => {
    let pulledWhileInFlight: string | undefined | null = null;
    const { s, seen } = await pullingServer((req) => {
      if (req.uri !== '/slow') { echo(req); return true; }
      pulledWhileInFlight = b.nextRequest(req.conn);
      setTimeout(() => echo(req), 20);
      return false;
    });
    const ex = await exchange(s.port, GET('/a') + GET('/slow') + GET('/b') + GET('/c'), { until: (t) => parseResponses(t, 0).length >= 4 });
    expect(parseResponses(ex.text, 0).map((r) => r.body)).toEqual(['GET /a', 'GET /slow', 'GET /b', 'GET /c']);
    expect(pulledWhileInFlight).toBeUndefined();
    expect(seen.map((x) => [x.via, x.req.uri])).toEqual([['dispatch', '/a'], ['pulled', '/slow'], ['dispatch', '/b'], ['pulled', '/c']]);
  });

  it('leaves a bad head to the parse loop, which answers 400 after the good ones and closes', async () => {
    const { s, seen } = await pullingServer();
    const ex = await exchange(s.port, GET('/a') + GET('/b') + 'BAD\r\n\r\n' + GET('/never'), { until: (_t, ended) => ended });
    const rs = parseResponses(ex.text, 0);
    expect(rs.map((r) => r.status)).toEqual([200, 200, 400]);
    expect(seen.map((x) => x.req.uri)).toEqual(['/a', '/b']);
  });

  it('answers the health path itself and hands over the request after it', async () => {
    const { s, seen } = await pullingServer(undefined, { healthPath: '/healthz' });
    const ex = await exchange(s.port, GET('/a') + GET('/healthz') + GET('/b'), { until: (t) => parseResponses(t, 0).length >= 3 });
    const rs = parseResponses(ex.text, 0);
    expect(rs.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(rs[2].body).toBe('GET /b');
    expect(seen.map((x) => [x.via, x.req.uri])).toEqual([['dispatch', '/a'], ['pulled', '/b']]);
  });

  it('stops at a request that ends the connection', async () => {
    const { s, seen } = await pullingServer();
    const ex = await exchange(s.port, GET('/a') + GET('/last', 'Connection: close\r\n') + GET('/never'), { until: (_t, ended) => ended });
    const rs = parseResponses(ex.text, 0);
    expect(rs.map((r) => r.body)).toEqual(['GET /a', 'GET /last']);
    expect(rs[1].headers.connection).toBe('close');
    expect(seen.map((x) => x.req.uri)).toEqual(['/a', '/last']);
  });

  it('has nothing outside a dispatch, or for an unknown connection', async () => {
    let later: string | undefined | null = null;
    const s = await startServer({}, (req) => {
      echo(req);
      setImmediate(() => { later = b.nextRequest(req.conn); });
    });
    servers.push(s);
    await exchange(s.port, GET('/a') + GET('/b'), { until: (t) => parseResponses(t, 0).length >= 2 });
    await new Promise((r) => setImmediate(r));
    expect(later).toBeUndefined();
    expect(b.nextRequest(-1)).toBeUndefined();
    expect(b.nextRequest(123456789)).toBeUndefined();
  });
});
