// onQueued/takeQueued: requests read from sockets in one pass of the event loop, each the
// only request of its read and without a body, are kept by the core and handed to the
// application side together after the poll phase, which takes them one by one. What it
// gets must be what a dispatch gives for the same bytes; anything else (a body,
// pipelined requests) still comes through onRequest; a connection that closed before
// its request was taken is skipped.
import { afterEach, describe, expect, it } from 'vitest';
import { FLAG_PIPELINED, RESULT_GONE } from '../src/native';
import { burst, parseResponses } from './helpers/http';
import { b, baseLimits, decode, echo, startServer, type Req } from './native-harness';

interface Seen { via: 'dispatch' | 'queued'; req: Req }

const closers: Array<() => Promise<void>> = [];
afterEach(async () => { await Promise.all(closers.splice(0).map((c) => c())); });

/** A server with onQueued; `onQueued` decides how many to take (default: all, answering each). */
function queuingServer(onQueued?: (seen: Seen[], close: () => Promise<void>) => void, limits: Partial<typeof baseLimits> = {}) {
  const seen: Seen[] = [];
  let calls = 0;
  const id = b.createServer({ ...baseLimits, ...limits }, {
    onRequest(conn, head, body, bodyFd, bodyLength) {
      const req = decode(conn, head, body, bodyFd, bodyLength);
      seen.push({ via: 'dispatch', req });
      echo(req);
    },
    onQueued() {
      calls++;
      if (onQueued) return onQueued(seen, close);
      for (let head = b.takeQueued(); head !== undefined; head = b.takeQueued()) {
        const req = decode(b.current[0], head, null, -1, 0);
        seen.push({ via: 'queued', req });
        echo(req);
      }
    },
    onDrain() {},
    onAbort() {},
  });
  const port = b.listenTcp(id, '127.0.0.1', 0, 128).port;
  let closed = false;
  const close = () => (closed ? Promise.resolve() : ((closed = true), new Promise<void>((resolve) => b.close(id, false, resolve))));
  closers.push(close);
  return { id, port, seen, calls: () => calls, close };
}

/** burst() with what each connection received as latin-1 text. */
async function texts(port: number, payloads: string[], count?: (i: number) => number): Promise<string[]> {
  return (await burst(port, payloads, { count, timeoutMs: 3000 })).map((b) => b.toString('latin1'));
}

const get = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`;
const bodies = (text: string) => parseResponses(Buffer.from(text, 'latin1')).responses.map((r) => r.body.toString());

describe('onQueued', () => {
  it('takes the single bodiless requests of a loop pass, with the records a dispatch gives', async () => {
    const s = queuingServer();
    const payloads = Array.from({ length: 16 }, (_, i) => get(`/q${i}?n=${i}`, i % 2 ? 'X-Odd: yes\r\nCookie: c=1\r\n' : ''));
    const got = await texts(s.port, payloads);
    expect(got.map(bodies)).toEqual(payloads.map((_, i) => [`GET /q${i}?n=${i}`]));
    expect(s.seen.every((x) => x.via === 'queued')).toBe(true);
    expect(s.calls()).toBeGreaterThan(0);
    expect(b.stats(s.id).requests).toBe(16);

    // The same bytes to a server without onQueued: every request is dispatched, with the same records.
    const plain = await startServer();
    closers.push(() => plain.close());
    await texts(plain.port, payloads);
    const shape = (r: Req) => ({ method: r.method, uri: r.uri, path: r.path, query: r.query, addr: r.addr,
      minor: r.minor, flags: r.flags, headers: r.headers, body: r.body, bodyLength: r.bodyLength });
    const byUri = (rs: Req[]) => rs.map(shape).sort((a, c) => a.uri.localeCompare(c.uri));
    expect(byUri(s.seen.map((x) => x.req))).toEqual(byUri(plain.requests));
  });

  it('leaves requests with a body and pipelined requests to onRequest', async () => {
    const s = queuingServer();
    const post = 'POST /p HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi';
    const got = await texts(s.port, [post, get('/a') + get('/b'), get('/c')], (i) => (i === 1 ? 2 : 1));
    expect(got.map(bodies)).toEqual([['POST /p'], ['GET /a', 'GET /b'], ['GET /c']]);
    const via = Object.fromEntries(s.seen.map((x) => [x.req.uri, x.via]));
    // /a says more follows; once it is answered, /b is the last of the read and waits to be taken.
    expect(via).toEqual({ '/p': 'dispatch', '/a': 'dispatch', '/b': 'queued', '/c': 'queued' });
    expect(s.seen.find((x) => x.req.uri === '/a')!.req.flags & FLAG_PIPELINED).toBe(FLAG_PIPELINED);
  });

  it('skips the requests whose connection closed before they were taken', async () => {
    let taken = 0;
    let after: string | undefined = 'not called';
    const s = queuingServer((seen, close) => {
      const head = b.takeQueued();
      if (head === undefined) return;
      taken++;
      seen.push({ via: 'queued', req: decode(b.current[0], head, null, -1, 0) });
      // Every connection closes now (the one taken too): nothing is left to take.
      void close();
      after = b.takeQueued();
    });
    const got = await texts(s.port, Array.from({ length: 8 }, (_, i) => get(`/${i}`)));
    expect(taken).toBeGreaterThan(0);
    expect(after).toBeUndefined();
    // Nobody was answered; every connection was closed.
    expect(got.every((t) => t === '')).toBe(true);
  });

  it('respondTake answers a request and hands over the next kept one, with the record a takeQueued gives', async () => {
    const takes: Array<number | string | undefined> = [];
    const s = queuingServer((seen) => {
      let head = b.takeQueued();
      while (head !== undefined) {
        const req = decode(b.current[0], head, null, -1, 0);
        seen.push({ via: 'queued', req });
        const r = b.respondTake(req.conn, 200, '200 OK\r\nContent-Type: text/plain\r\n', `${req.method} ${req.uri}`, -1, 0);
        takes.push(r);
        head = typeof r === 'string' ? r : undefined;
      }
    });
    const payloads = Array.from({ length: 16 }, (_, i) => get(`/t${i}?n=${i}`, i % 2 ? 'X-Odd: yes\r\n' : ''));
    const got = await texts(s.port, payloads);
    expect(got.map(bodies)).toEqual(payloads.map((_, i) => [`GET /t${i}?n=${i}`]));
    expect(s.seen.every((x) => x.via === 'queued')).toBe(true);
    // Every onQueued call ends with the one response that found nothing left to take.
    expect(takes.filter((r) => r === undefined).length).toBe(s.calls());
    expect(takes.filter((r) => typeof r === 'string').length).toBe(16 - s.calls());
    const plain = await startServer();
    closers.push(() => plain.close());
    await texts(plain.port, payloads);
    const shape = (r: Req) => ({ method: r.method, uri: r.uri, path: r.path, query: r.query, addr: r.addr,
      minor: r.minor, flags: r.flags, headers: r.headers });
    const byUri = (rs: Req[]) => rs.map(shape).sort((a, c) => a.uri.localeCompare(c.uri));
    expect(byUri(s.seen.map((x) => x.req))).toEqual(byUri(plain.requests));
  });

  it('respondTake to a closed connection takes nothing and says the client is gone', async () => {
    let result: number | string | undefined = 'not called';
    let left: string | undefined = 'not called';
    const s = queuingServer(() => {
      const head = b.takeQueued();
      if (head === undefined) return;
      const conn = b.current[0];
      b.abort(conn);
      result = b.respondTake(conn, 200, '200 OK\r\n', 'x', -1, 0);
      // What was not taken is still there to take (and is answered as usual).
      for (let h = b.takeQueued(); h !== undefined; h = b.takeQueued()) echo(decode(b.current[0], h, null, -1, 0));
      left = b.takeQueued();
    });
    await texts(s.port, [get('/a'), get('/b')]);
    expect(result).toBe(RESULT_GONE);
    expect(left).toBeUndefined();
  });

  /** A queuing server answering as it takes; what stats.bytesSent grew by after the first answer of each call, and after the second. */
  function holdProbe(limits: Partial<typeof baseLimits>, appMs = 0) {
    const calls: Array<{ first: number; second?: number }> = [];
    let id = 0;
    const answer = (seen: Seen[], head: string) => {
      const req = decode(b.current[0], head, null, -1, 0);
      seen.push({ via: 'queued', req });
      const until = performance.now() + appMs;
      while (performance.now() < until) { /* an application that takes appMs */ }
      echo(req);
    };
    const s = queuingServer((seen) => {
      const before = b.stats(id).bytesSent;
      const head = b.takeQueued();
      if (head === undefined) return;
      answer(seen, head);
      const call: { first: number; second?: number } = { first: b.stats(id).bytesSent - before };
      calls.push(call);
      for (let h = b.takeQueued(); h !== undefined; h = b.takeQueued()) {
        answer(seen, h);
        call.second ??= b.stats(id).bytesSent - before;
      }
    }, limits);
    id = s.id;
    return { s, calls };
  }

  it('holds the responses it completes until it returns, and sends them then', async () => {
    // responseHold 10 s: every answer is quick enough to be held.
    const { s, calls } = holdProbe({ responseHold: 10_000_000 });
    const payloads = Array.from({ length: 16 }, (_, i) => get(`/h${i}`));
    const got = await texts(s.port, payloads);
    expect(got.map(bodies)).toEqual(payloads.map((_, i) => [`GET /h${i}`]));
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every((c) => c.first === 0 && (c.second ?? 0) === 0)).toBe(true);
    // The 16 requests arrive before the test's process reads: some call takes more than one.
    expect(calls.some((c) => c.second !== undefined)).toBe(true);
    expect(b.stats(s.id).bytesSent).toBeGreaterThan(0);
  });

  it('sends at once, with what is held, the response of an application slower than responseHold', async () => {
    // responseHold 100 µs, applications of 2 ms: nothing may wait for them.
    const { s, calls } = holdProbe({ responseHold: 100 }, 2);
    const payloads = Array.from({ length: 16 }, (_, i) => get(`/s${i}`));
    const got = await texts(s.port, payloads);
    expect(got.map(bodies)).toEqual(payloads.map((_, i) => [`GET /s${i}`]));
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every((c) => c.first > 0)).toBe(true);
    expect(calls.some((c) => c.second !== undefined && c.second > c.first)).toBe(true);
  });

  it('holds nothing with responseHold 0', async () => {
    const { s, calls } = holdProbe({ responseHold: 0 });
    const payloads = Array.from({ length: 16 }, (_, i) => get(`/z${i}`));
    const got = await texts(s.port, payloads);
    expect(got.map(bodies)).toEqual(payloads.map((_, i) => [`GET /z${i}`]));
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every((c) => c.first > 0)).toBe(true);
  });

  it('is never called outside onQueued: takeQueued() returns nothing', () => {
    expect(b.takeQueued()).toBeUndefined();
  });
});
