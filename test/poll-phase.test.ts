// Requests read in one pass of the event loop share one callback scope, closed after
// libuv's poll phase: the order JavaScript sees must stay Node's (a request's nextTicks
// and microtasks before any setImmediate it scheduled), and every request is answered,
// synchronous and asynchronous applications alike.
import { afterEach, describe, expect, it } from 'vitest';
import type { App } from '../src/index';
import { burst, parseResponses, type RawResponse } from './helpers/http';
import { startServer, type TestServer } from './helpers/server';

let current: TestServer | undefined;
let other: TestServer | undefined;
afterEach(async () => {
  await current?.close();
  await other?.close();
  current = undefined;
  other = undefined;
});

/** One GET per path, written on as many connections in one turn; each connection's first response. */
async function answers(port: number | number[], paths: string[]): Promise<RawResponse[]> {
  const got = await burst(port, paths.map((p) => `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`));
  return got.map((b) => parseResponses(b).responses[0]);
}

describe('requests read in one pass of the loop', () => {
  it("run each request's nextTicks and microtasks before its setImmediate callbacks, and answer every request", async () => {
    const order: string[] = [];
    const app: App = (environ, startResponse) => {
      const n = environ.PATH_INFO.slice(1);
      process.nextTick(() => order.push(`tick ${n}`));
      queueMicrotask(() => order.push(`micro ${n}`));
      setImmediate(() => order.push(`immediate ${n}`));
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [`r${n}`];
    };
    current = await startServer(app);
    const paths = Array.from({ length: 24 }, (_, i) => `/${i}`);
    const responses = await answers(current.port, paths);
    expect(responses.map((r) => `${r.status} ${r.body.toString()}`)).toEqual(paths.map((p) => `200 r${p.slice(1)}`));
    await new Promise((r) => setImmediate(r));
    for (let i = 0; i < paths.length; i++) {
      const immediate = order.indexOf(`immediate ${i}`);
      expect(immediate).toBeGreaterThan(-1);
      expect(order.indexOf(`tick ${i}`)).toBeGreaterThan(-1);
      expect(order.indexOf(`tick ${i}`)).toBeLessThan(immediate);
      expect(order.indexOf(`micro ${i}`)).toBeGreaterThan(-1);
      expect(order.indexOf(`micro ${i}`)).toBeLessThan(immediate);
    }
  });

  it('answer applications that finish in a microtask, a nextTick or a setImmediate', async () => {
    const app: App = (environ, startResponse) => {
      const n = Number(environ.PATH_INFO.slice(1));
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return new Promise((resolve) => {
        const done = () => resolve([`r${n}`]);
        if (n % 3 === 0) queueMicrotask(done);
        else if (n % 3 === 1) process.nextTick(done);
        else setImmediate(done);
      });
    };
    current = await startServer(app);
    const paths = Array.from({ length: 24 }, (_, i) => `/${i}`);
    const responses = await answers(current.port, paths);
    expect(responses.map((r) => `${r.status} ${r.body.toString()}`)).toEqual(paths.map((p) => `200 r${p.slice(1)}`));
  });

  it('two servers in one process, their requests read in the same passes, answer every request', async () => {
    const app = (name: string): App => (environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      const body = [`${name}${environ.PATH_INFO}`];
      return Number(environ.PATH_INFO.slice(1)) % 2 === 0 ? body : Promise.resolve(body);
    };
    current = await startServer(app('a'));
    other = await startServer(app('b'));
    // Interleaved: a, b, a, b, ... and more requests per server than one pass would take.
    for (let round = 0; round < 4; round++) {
      const paths = Array.from({ length: 48 }, (_, i) => `/${i}`);
      const ports = paths.map((_, i) => (i % 2 === 0 ? current!.port : other!.port));
      const responses = await answers(ports, paths);
      expect(responses.map((r) => `${r.status} ${r.body.toString()}`)).toEqual(paths.map((p, i) => `200 ${i % 2 === 0 ? 'a' : 'b'}${p}`));
    }
  });
});
