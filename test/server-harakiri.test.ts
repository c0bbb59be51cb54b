// The per-request deadline (harakiri) of an embedded server: a request still waiting on
// the application past it is answered 504 (or its connection closed once the response
// has started) and its body closed once; the other requests and the server go on. Also
// the embedding's gracefulTimeout (close()'s default) and the refused `timeout`.
import { describe, expect, it } from 'vitest';
import { createServer, serve, OptionError, type App, type Environ } from '../src/index';
import { get, rawRequest } from './helpers/http';
import { sleep } from './helpers/server';
import { resolveOptions } from '../src/options';

const quiet = { errors: { write() { return true; } } };
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** /slow?ms=N answers after N ms; its body counts close() calls. */
function slowApp(closes: Map<string, number>): App {
  return (env: Environ, sr) => {
    const ms = Number(/ms=(\d+)/.exec(String(env.QUERY_STRING))?.[1] ?? 0);
    const key = String(env.QUERY_STRING);
    let done = false;
    return {
      async *[Symbol.asyncIterator]() {
        await wait(ms);
        if (done) return;
        sr('200 OK', [['Content-Type', 'text/plain']]);
        yield `waited ${ms}\n`;
      },
      close() {
        done = true;
        closes.set(key, (closes.get(key) ?? 0) + 1);
      },
    } as unknown as Iterable<string>;
  };
}

describe('harakiri (per-request deadline)', () => {
  it('the slow request gets 504 and close() once; a concurrent shorter one completes with 200', async () => {
    const closes = new Map<string, number>();
    const ended: Array<{ status: number; code: string | undefined }> = [];
    const lines: string[] = [];
    const server = await serve(slowApp(closes), {
      port: 0, harakiri: 1000, errors: { write(s: string | Uint8Array) { lines.push(String(s)); return true; } },
      hooks: { requestEnd: (_e, status, _b, _d, error) => ended.push({ status, code: (error as { code?: string } | undefined)?.code }) },
    });
    try {
      const port = server.address()!.port;
      const slow = rawRequest(port, get('/slow?ms=5000'), { timeoutMs: 8000 });
      await sleep(400);
      // Ends 1.3 s after the slow one started: after the slow one's deadline.
      const other = rawRequest(port, get('/other?ms=900'), { timeoutMs: 8000 });
      const [s, o] = await Promise.all([slow, other]);
      expect(s.responses[0]?.status).toBe(504);
      expect(o.responses[0]?.status).toBe(200);
      expect(o.responses[0]?.body.toString()).toBe('waited 900\n');
      // The slow body was closed exactly once, even after its pending wait ended.
      await sleep(4000);
      expect(closes.get('ms=5000')).toBe(1);
      expect(ended).toContainEqual({ status: 504, code: 'TSGI_ERR_HARAKIRI' });
      expect(ended).toContainEqual({ status: 200, code: undefined });
      expect(lines.join('')).toMatch(/GET \/slow\?ms=5000: the request ran longer than harakiri \(1000 ms\); answered 504/);
      // The server still serves.
      expect((await rawRequest(port, get('/again?ms=10'))).responses[0]?.status).toBe(200);
    } finally {
      await server.close();
    }
  }, 20_000);

  it('once the response has started, the deadline closes its connection; close() once', async () => {
    let closes = 0;
    const server = await serve((_e, sr) => {
      sr('200 OK', [['Content-Type', 'text/plain']]);
      return Object.assign((async function* () { yield 'first part\n'; await wait(60_000); yield 'never'; })(), { close() { closes++; } });
    }, { port: 0, harakiri: 500, ...quiet });
    try {
      const r = await rawRequest(server.address()!.port, get('/'), { count: 0, timeoutMs: 5000 });
      expect(r.closed).toBe(true);
      expect(r.raw.toString('latin1')).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*first part\n/);
      expect(r.raw.toString('latin1')).not.toMatch(/never/);
      expect(closes).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('a promise of a body that resolves after the deadline: 504, and the late body is closed once', async () => {
    let closes = 0;
    const server = await serve(async (_e, sr) => {
      await wait(800);
      sr('200 OK', []);
      return Object.assign(['late'], { close() { closes++; } });
    }, { port: 0, harakiri: 300, ...quiet });
    try {
      const r = await rawRequest(server.address()!.port, get('/'), { timeoutMs: 5000 });
      expect(r.responses[0]?.status).toBe(504);
      await sleep(900);
      expect(closes).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('without harakiri (the default) a slow request is not ended', async () => {
    const closes = new Map<string, number>();
    const server = await serve(slowApp(closes), { port: 0, ...quiet });
    try {
      const r = await rawRequest(server.address()!.port, get('/slow?ms=1200'), { timeoutMs: 5000 });
      expect(r.responses[0]?.status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('harakiri is milliseconds, or text with a unit; negative or unitless text is refused', () => {
    expect(() => createServer(() => [], { harakiri: -1 })).toThrow(/harakiri \(--harakiri\) must be at least 0/);
    expect(() => createServer(() => [], { harakiri: '2' })).toThrow(/harakiri/);
    expect(resolveOptions({ harakiri: '2s' }).harakiri).toBe(2000);
    expect(resolveOptions({ harakiri: 1500 }).harakiri).toBe(1500);
  });
});

describe('embedding options shared with the process manager', () => {
  it('gracefulTimeout is close()\'s default: a request that outlives it is cut off and close() resolves', async () => {
    const closes = new Map<string, number>();
    const server = await serve(slowApp(closes), { port: 0, gracefulTimeout: 300, ...quiet });
    const slow = rawRequest(server.address()!.port, get('/slow?ms=20000'), { count: 0, timeoutMs: 10_000 });
    await sleep(200);
    const at = Date.now();
    await server.close();
    expect(Date.now() - at).toBeLessThan(5000);
    const r = await slow;
    expect(r.closed).toBe(true);
    expect(r.responses).toHaveLength(0);
    expect(closes.get('ms=20000')).toBe(1);
  });

  it('timeout (the blocked-event-loop deadline) is refused: it belongs to the process manager', () => {
    let err: unknown;
    try { createServer(() => [], { timeout: 1000 } as never); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(OptionError);
    expect((err as OptionError).code).toBe('TSGI_ERR_INVALID_OPTION');
    expect((err as Error).message).toMatch(/"timeout" is the process manager's blocked-event-loop deadline \(tsgi --timeout\)/);
    expect((err as Error).message).toMatch(/use "harakiri"/);
  });
});
