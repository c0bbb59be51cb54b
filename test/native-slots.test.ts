// Connection slots cannot be held by clients that send slowly or nothing: a head has a
// deadline that bytes do not extend, a body a minimum data rate after a grace period, a
// new connection a short wait for its first byte, and at maxConnections the oldest
// connection without a request head makes room before anyone gets 503.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { b, echo, exchange, GET, parseResponses, sleep, startServer, waitFor, type Req, type TestServer } from './native-harness';

let srv: TestServer | undefined;
const open: net.Socket[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) s.destroy();
  await srv?.close();
  srv = undefined;
});

interface Client {
  sock: net.Socket;
  text: () => string;
  closed: () => boolean;
}

/** A raw connection that records what comes back and whether the server closed it. */
async function client(port: number, first?: string): Promise<Client> {
  const sock = net.connect(port, '127.0.0.1');
  open.push(sock);
  let text = '';
  let closed = false;
  sock.on('data', (d) => { text += d.toString('latin1'); });
  sock.on('close', () => { closed = true; });
  sock.on('error', () => { closed = true; });
  await new Promise((r) => sock.once('connect', r));
  if (first) sock.write(first);
  return { sock, text: () => text, closed: () => closed };
}

/** Writes one piece every gapMs until the connection closes or maxMs pass. */
async function trickle(c: Client, piece: string, gapMs: number, maxMs: number): Promise<void> {
  const t0 = Date.now();
  while (!c.closed() && Date.now() - t0 < maxMs) {
    c.sock.write(piece);
    await sleep(gapMs);
  }
}

describe('slow and silent clients', () => {
  it('a head trickled byte by byte gets 408 at headerTimeout, counted from its first byte', async () => {
    srv = await startServer({ headerTimeout: 600, firstByteTimeout: 5000 });
    const c = await client(srv.port, 'GET / HTTP/1.1\r\n');
    const t0 = Date.now();
    await trickle(c, 'X', 50, 4000);  // a header name that never ends, a byte every 50 ms
    const elapsed = Date.now() - t0;
    expect(c.closed()).toBe(true);
    expect(parseResponses(c.text()).map((r) => r.status)).toEqual([408]);
    expect(elapsed).toBeGreaterThanOrEqual(550);
    expect(elapsed).toBeLessThan(3000);
  });

  it('a body below minBodyRate gets 408 once the grace is over, although bytes keep coming', async () => {
    srv = await startServer({ minBodyRate: 1000, minBodyRateGrace: 500, bodyTimeout: 5000 });
    const c = await client(srv.port, 'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n');
    const t0 = Date.now();
    await trickle(c, 'x'.repeat(10), 100, 4000);  // 100 bytes/s, well within bodyTimeout between bytes
    const elapsed = Date.now() - t0;
    expect(c.closed()).toBe(true);
    expect(parseResponses(c.text()).map((r) => r.status)).toEqual([408]);
    expect(elapsed).toBeGreaterThanOrEqual(450);
    expect(elapsed).toBeLessThan(3000);
    expect(srv.requests).toEqual([]);
  });

  it('a body above minBodyRate is delivered even when it takes longer than the grace', async () => {
    srv = await startServer({ minBodyRate: 100, minBodyRateGrace: 200, bodyTimeout: 5000 });
    const c = await client(srv.port, 'POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 400\r\n\r\n');
    for (let i = 0; i < 8; i++) {  // 50 bytes every 100 ms: 500 bytes/s for 0.8 s
      c.sock.write('y'.repeat(50));
      await sleep(100);
    }
    await waitFor(() => c.text().includes('POST /up'), 3000, 'the response');
    expect(parseResponses(c.text()).map((r) => r.status)).toEqual([200]);
    expect(srv.requests[0].bodyLength).toBe(400);
  });

  it('a new connection that sends nothing is closed after firstByteTimeout, not headerTimeout', async () => {
    srv = await startServer({ firstByteTimeout: 300, headerTimeout: 20_000 });
    const t0 = Date.now();
    const ex = await exchange(srv.port, [], { timeoutMs: 5000 });
    const elapsed = Date.now() - t0;
    expect(ex.closed).toBe(true);
    expect(ex.text).toBe('');
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(3000);
  });

  it('with every slot held by silent or slow-head connections, a normal client is served: the oldest is evicted', async () => {
    srv = await startServer({ maxConnections: 20, firstByteTimeout: 60_000, headerTimeout: 60_000 });
    const attackers: Client[] = [];
    for (let i = 0; i < 20; i++) {
      // half send nothing, half a head that never ends
      attackers.push(await client(srv.port, i % 2 ? 'GET / HTTP/1.1\r\nHost: t\r\nX-Slow: ' : undefined));
    }
    await waitFor(() => b.stats(srv!.id).connections === 20, 3000, 'twenty connections');
    for (let i = 0; i < 3; i++) {  // each stays open (keep-alive) after its response
      const c = await client(srv.port, GET(`/normal${i}`));
      await waitFor(() => c.text().includes(`GET /normal${i}`) || c.closed(), 2000, 'a response');
      expect(parseResponses(c.text()).map((r) => r.status)).toEqual([200]);
    }
    // oldest first: the first three attackers made room, the others are still open
    await waitFor(() => attackers.slice(0, 3).every((a) => a.closed()), 2000, 'the oldest three evicted');
    expect(attackers.slice(3).some((a) => a.closed())).toBe(false);
    expect(b.stats(srv.id).evicted).toBe(3);
  });

  it('an idle keep-alive connection counts as waiting for a head and is evicted before anyone gets 503', async () => {
    const held: Req[] = [];
    srv = await startServer({ maxConnections: 3, keepAliveTimeout: 60_000 }, (req) => {
      if (req.uri === '/hold') held.push(req);
      else echo(req);
    });
    const idle = await client(srv.port, GET('/first'));
    await waitFor(() => idle.text().includes('GET /first'), 2000, 'the first response');
    await client(srv.port, GET('/hold'));
    await client(srv.port, GET('/hold'));
    await waitFor(() => held.length === 2, 2000, 'two requests in flight');
    const ex = await exchange(srv.port, GET('/new'), { until: (t) => t.includes('GET /new') });
    expect(parseResponses(ex.text).map((r) => r.status)).toEqual([200]);
    await waitFor(() => idle.closed(), 2000, 'the idle connection evicted');
  });

  it('a body below the minimum rate is evicted (before its grace is over) when no connection is waiting for a head', async () => {
    srv = await startServer({ maxConnections: 4, minBodyRate: 240, minBodyRateGrace: 60_000, bodyTimeout: 60_000 });
    const slow: Client[] = [];
    for (let i = 0; i < 4; i++) slow.push(await client(srv.port, 'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\nx'));
    await waitFor(() => b.stats(srv!.id).connections === 4, 2000, 'four connections');
    await sleep(200);  // 1 byte in 200 ms: below 240 bytes/s
    const ex = await exchange(srv.port, GET('/new'), { until: (t) => t.includes('GET /new') });
    expect(parseResponses(ex.text).map((r) => r.status)).toEqual([200]);
    await waitFor(() => slow[0].closed(), 2000, 'the oldest slow body evicted');
    expect(slow.slice(1).some((s) => s.closed())).toBe(false);
  });

  it('503 only when every slot holds a request in flight', async () => {
    const held: Req[] = [];
    srv = await startServer({ maxConnections: 20 }, (req) => { held.push(req); });
    for (let i = 0; i < 20; i++) await client(srv.port, GET('/hold'));
    await waitFor(() => held.length === 20, 3000, 'twenty requests in flight');
    const ex = await exchange(srv.port, GET('/new'));
    expect(parseResponses(ex.text).map((r) => r.status)).toEqual([503]);
    expect(ex.closed).toBe(true);
    expect(b.stats(srv.id).evicted).toBe(0);
    for (const r of held) b.respond(r.conn, 200, '200 OK\r\n', 'done', -1, 0);
  });
});

describe('admissions at the connection limit', () => {
  it('are rationed per 100 ms (max(16, maxConnections / 100)); the rest wait in the kernel queue and are not dropped', async () => {
    srv = await startServer({ maxConnections: 20, firstByteTimeout: 60_000 });
    const early: Client[] = [];
    for (let i = 0; i < 20; i++) early.push(await client(srv.port));
    await waitFor(() => b.stats(srv!.id).connections === 20, 3000, 'twenty connections');
    const t0 = Date.now();
    const late: Client[] = await Promise.all(Array.from({ length: 48 }, () => client(srv!.port)));
    // Periods start no earlier than t0, so by time t at most 16 per started period (one
    // more for the loop's clock) can have been admitted; a late look only loosens this.
    for (;;) {
      const evicted = b.stats(srv.id).evicted;
      const t = Date.now();
      expect(evicted).toBeLessThanOrEqual(16 * (Math.floor((t - t0) / 100) + 2));
      if (evicted >= 48) break;
      if (t - t0 > 10_000) throw new Error(`only ${evicted} evictions after 10 s`);
      await sleep(2);
    }
    // every newcomer was accepted in the end (none dropped), the oldest made room
    await waitFor(() => early.every((c) => c.closed()), 3000, 'the early connections evicted');
    await waitFor(() => late.filter((c) => c.closed()).length === 28, 3000, '28 late connections evicted');
    expect(b.stats(srv.id).connections).toBe(20);
  });
});
