// Pipelined requests of one read are delivered to the application in one batch (one
// callback scope: microtasks and nextTicks run once for the batch), and a head equal to
// the previous one is reused by startResponse. Neither may change what is answered.
import { afterEach, describe, expect, it } from 'vitest';
import type { App } from '../src/index';
import { get, rawRequest } from './helpers/http';
import { startServer, type TestServer } from './helpers/server';

let ts: TestServer | undefined;
afterEach(async () => { await ts?.close(); ts = undefined; });

describe('pipelined requests in one read', () => {
  it('answers sync, promise and nextTick applications in request order', async () => {
    const seen: string[] = [];
    const app: App = (env, sr) => {
      const path = env.PATH_INFO as string;
      seen.push(path);
      const body = [`body ${path}`];
      if (path.startsWith('/promise')) {
        return Promise.resolve().then(() => { sr('200 OK', [['X-Path', path]]); return body; });
      }
      if (path.startsWith('/tick')) {
        return new Promise((resolve) => process.nextTick(() => { sr('200 OK', [['X-Path', path]]); resolve(body); }));
      }
      sr('200 OK', [['X-Path', path]]);
      return body;
    };
    ts = await startServer(app);
    const paths = ['/s1', '/promise1', '/s2', '/tick1', '/s3', '/promise2', '/tick2', '/s4'];
    const { responses } = await rawRequest(ts.port, paths.map((p) => get(p)).join(''), { count: paths.length });
    expect(responses.map((r) => r.header['x-path'])).toEqual(paths);
    expect(responses.map((r) => r.body.toString())).toEqual(paths.map((p) => `body ${p}`));
    expect(seen).toEqual(paths);
  });

  it('a microtask queued by one request runs before the batch is answered, and sees its own request', async () => {
    const order: string[] = [];
    ts = await startServer((env, sr) => {
      const path = env.PATH_INFO as string;
      queueMicrotask(() => order.push(`micro ${path}`));
      order.push(`app ${path}`);
      sr('200 OK', [['Content-Type', 'text/plain']]);
      return [path];
    });
    const paths = ['/a', '/b', '/c'];
    const { responses } = await rawRequest(ts.port, paths.map((p) => get(p)).join(''), { count: 3 });
    expect(responses.map((r) => r.body.toString())).toEqual(paths);
    // Every request ran, and every microtask ran (each after its own request's app call).
    for (const p of paths) expect(order.indexOf(`micro ${p}`)).toBeGreaterThan(order.indexOf(`app ${p}`));
    expect(order.filter((s) => s.startsWith('micro')).length).toBe(3);
  });
});

describe('startResponse reuses an equal head only', () => {
  it('same names with other values, another status, an invalid value after a cached valid one', async () => {
    ts = await startServer((env, sr) => {
      const path = env.PATH_INFO as string;
      if (path === '/one') sr('200 OK', [['X-V', '1'], ['Content-Length', '2']]);
      else if (path === '/two') sr('200 OK', [['X-V', '2'], ['Content-Length', '2']]);
      else if (path === '/status') sr('201 Created', [['X-V', '2'], ['Content-Length', '2']]);
      else if (path === '/bad') sr('200 OK', [['X-V', 'a\u0001'], ['Content-Length', '2']]);
      else if (path === '/hop') sr('200 OK', [['X-V', '1'], ['Connection', 'close']]);
      return ['ok'];
    });
    const paths = ['/one', '/one', '/two', '/status', '/one', '/bad', '/one', '/hop', '/one'];
    const { responses } = await rawRequest(ts.port, paths.map((p) => get(p)).join(''), { count: paths.length });
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 201, 200, 500, 200, 500, 200]);
    expect(responses.map((r) => r.header['x-v'])).toEqual(['1', '1', '2', '2', '1', undefined, '1', undefined, '1']);
    expect(responses.every((r) => r.header['connection'] === undefined)).toBe(true);
  });
});
