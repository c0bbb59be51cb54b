// How the gateway drives streamed bodies: fairness between responses, batching of chunks
// that are available together, and the single native call of the array fast path.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { get, rawRequest } from './helpers/http';
import { startServer, type TestServer } from './helpers/server';

let ts: TestServer | undefined;
afterEach(async () => { await ts?.close(); ts = undefined; });

describe('streaming fairness', () => {
  it('a sync generator streaming to a fast client does not starve other requests', async () => {
    ts = await startServer((env, sr) => {
      sr('200 OK', []);
      if (env.PATH_INFO === '/small') return ['small'];
      const block = Buffer.alloc(64 * 1024, 0x62);
      return (function* () { for (let i = 0; i < 4000; i++) yield block; })(); // 256 MB
    });
    const big = net.connect(ts.port, '127.0.0.1');
    let bigBytes = 0;
    big.on('data', (d) => (bigBytes += d.length));
    big.write(get('/big'));
    while (bigBytes < 4 * 1024 * 1024) await new Promise((r) => setTimeout(r, 5));
    const t0 = Date.now();
    const { responses } = await rawRequest(ts.port, get('/small'), { timeoutMs: 5000 });
    const waited = Date.now() - t0;
    expect(responses[0].body.toString()).toBe('small');
    expect(waited).toBeLessThan(1000);
    expect(bigBytes).toBeLessThan(256 * 1024 * 1024); // the big one was still streaming
    big.destroy();
  });
});

describe('chunks available together', () => {
  it('many small chunks of a sync generator arrive intact and in order (merged into few writes)', async () => {
    ts = await startServer((env, sr) => {
      sr('200 OK', []);
      return (function* () { for (let i = 0; i < 10_000; i++) yield i % 2 ? `${i},` : Buffer.from(`${i},`); })();
    });
    const { responses } = await rawRequest(ts.port, get('/'), { timeoutMs: 5000 });
    const expected = Array.from({ length: 10_000 }, (_, i) => `${i},`).join('');
    expect(responses[0].body.toString()).toBe(expected);
  });

  it('a sync generator that ends before a batch fills is sent as one response with a Content-Length', async () => {
    ts = await startServer((env, sr) => { sr('200 OK', []); return (function* () { yield 'a'; yield 'b'; yield 'c'; })(); });
    const { responses } = await rawRequest(ts.port, get('/'));
    expect(responses[0].header['content-length']).toBe('3');
    expect(responses[0].chunked).toBe(false);
    expect(responses[0].body.toString()).toBe('abc');
  });

  it('large Buffers and small strings mixed keep their order', async () => {
    const big = Buffer.alloc(100_000, 0x41);
    ts = await startServer((env, sr) => { sr('200 OK', []); return (function* () { yield 'x'; yield big; yield 'y'; yield big; yield 'z'; })(); });
    const { responses } = await rawRequest(ts.port, get('/'), { timeoutMs: 5000 });
    expect(responses[0].body.equals(Buffer.concat([Buffer.from('x'), big, Buffer.from('y'), big, Buffer.from('z')]))).toBe(true);
  });
});

describe('a sync body cannot hold the event loop', () => {
  it('a generator of very many (even empty) chunks lets timers run in between, and completes', async () => {
    let timerRanDuringBody = false;
    let bodyDone = false;
    ts = await startServer((env, sr) => {
      sr('200 OK', []);
      setTimeout(() => { if (!bodyDone) timerRanDuringBody = true; }, 0);
      return (function* () {
        for (let i = 0; i < 400_000; i++) yield i % 1000 === 0 ? '.' : '';
        bodyDone = true;
        yield 'end';
      })();
    });
    const { responses } = await rawRequest(ts.port, get('/'), { timeoutMs: 10_000 });
    expect(responses[0].body.toString()).toBe('.'.repeat(400) + 'end');
    expect(timerRanDuringBody).toBe(true);
  });
});
