// compress(): gzip/brotli by Accept-Encoding q-values, streamed chunk by chunk (each
// flushed), and every case that must pass through untouched.
import net from 'node:net';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compress, type App, type Environ, type StartResponse } from '../src/index';
import { get, parseResponses, rawRequest } from './helpers/http';
import { startServer, until, type TestServer } from './helpers/server';

const TEXT = 'The quick brown fox jumps over the lazy dog. '.repeat(100); // 4500 bytes
let closes = 0;
let gate: (() => void) | null = null;

const routes: Record<string, App> = {
  '/array': (_e, sr) => { sr('200 OK', [['Content-Type', 'text/plain; charset=utf-8'], ['Content-Length', String(TEXT.length)], ['ETag', '"v1"']]); return [TEXT]; },
  '/small': (_e, sr) => { sr('200 OK', [['Content-Type', 'text/plain'], ['Content-Length', '5']]); return ['small']; },
  '/small-nolength': (_e, sr) => { sr('200 OK', [['Content-Type', 'text/plain']]); return ['tiny']; },
  '/png': (_e, sr) => { sr('200 OK', [['Content-Type', 'image/png']]); return [TEXT]; },
  '/encoded': (_e, sr) => { sr('200 OK', [['Content-Type', 'text/plain'], ['Content-Encoding', 'gzip']]); return [zlib.gzipSync(TEXT)]; },
  '/no-transform': (_e, sr) => { sr('200 OK', [['Content-Type', 'text/plain'], ['Cache-Control', 'public, no-transform']]); return [TEXT]; },
  '/vary': (_e, sr) => { sr('200 OK', [['Content-Type', 'application/json'], ['Vary', 'Cookie']]); return [JSON.stringify({ t: TEXT })]; },
  '/204': (_e, sr) => { sr('204 No Content', [['Content-Type', 'text/plain']]); return []; },
  '/304': (_e, sr) => { sr('304 Not Modified', [['Content-Type', 'text/plain'], ['ETag', '"v1"']]); return []; },
  '/generator': (_e, sr) => {
    sr('200 OK', [['Content-Type', 'text/plain']]);
    const body = (function* () { for (let i = 0; i < 50; i++) yield `line ${i} ${TEXT.slice(0, 100)}\n`; })();
    return Object.assign(body, { close() { closes++; } });
  },
  '/lazy': (_e, sr) => (async function* () {
    sr('200 OK', [['Content-Type', 'text/plain']]);
    yield TEXT;
  })(),
  '/legacy-write': (_e, sr) => {
    const write = sr('200 OK', [['Content-Type', 'text/plain']]);
    write('first:' + TEXT);
    return ['|last'];
  },
  '/stream': (_e: Environ, sr: StartResponse) => {
    sr('200 OK', [['Content-Type', 'text/plain']]);
    const it = (async function* () {
      yield 'BLOCK-ONE ' + TEXT;
      await new Promise<void>((resolve) => { gate = resolve; });
      yield 'BLOCK-TWO';
    })();
    return Object.assign(it, { close() { closes++; } });
  },
  '/many': (_e, sr) => {
    sr('200 OK', [['Content-Type', 'text/plain']]);
    return (function* () { for (let i = 0; i < 20000; i++) yield `${i}\n`; })();
  },
  '/array-close': (_e, sr) => {
    sr('200 OK', [['Content-Type', 'text/plain']]);
    return Object.assign([TEXT], { close() { closes++; } });
  },
  '/bad-headers': (_e, sr) => { sr('200 OK', [['Content-Type', 'text/plain'], ['X-Num', 5 as never]]); return [TEXT]; },
  '/promise': async (_e, sr) => { sr('200 OK', [['Content-Type', 'text/html']]); return [TEXT]; },
};

const app: App = (environ, sr) => (routes[environ.PATH_INFO] ?? routes['/array'])(environ, sr);
let srv: TestServer;

beforeAll(async () => { srv = await startServer(compress()(app)); });
afterAll(async () => { await srv.close(); });

const req = async (path: string, headers: Record<string, string> = {}, method = 'GET') =>
  (await rawRequest(srv.port, get(path, headers).replace(/^GET/, method), { head: [method === 'HEAD'] })).responses[0];

const decode = (enc: string | undefined, b: Buffer) =>
  (enc === 'gzip' ? zlib.gunzipSync(b) : enc === 'br' ? zlib.brotliDecompressSync(b) : b).toString();

describe('compress: negotiation', () => {
  it('no Accept-Encoding: identity, Content-Length kept, Vary: Accept-Encoding', async () => {
    const r = await req('/array');
    expect(r.header['content-encoding']).toBeUndefined();
    expect(r.header['content-length']).toBe(String(TEXT.length));
    expect(r.header['vary']).toBe('Accept-Encoding');
    expect(r.body.toString()).toBe(TEXT);
  });

  it('gzip: recoded with Content-Length of the compressed bytes, a weak ETag', async () => {
    const r = await req('/array', { 'Accept-Encoding': 'gzip' });
    expect(r.header['content-encoding']).toBe('gzip');
    expect(Number(r.header['content-length'])).toBe(r.body.length);
    expect(r.body.length).toBeLessThan(TEXT.length / 4);
    expect(r.header['etag']).toBe('W/"v1"');
    expect(decode('gzip', r.body)).toBe(TEXT);
  });

  const cases: Array<[string, string | undefined]> = [
    ['gzip, deflate, br', 'br'],
    ['br;q=0.5, gzip', 'gzip'],
    ['gzip;q=0.2, br;q=0.9', 'br'],
    ['br;q=0, gzip;q=0.1', 'gzip'],
    ['*', 'br'],
    ['*;q=0.5, br;q=0', 'gzip'],
    ['*;q=0', undefined],
    ['gzip;q=0', undefined],
    ['identity', undefined],
    ['identity;q=1, gzip;q=0.5', undefined],
    ['deflate', undefined],
    ['x-gzip', 'gzip'],
    ['gzip;q=2, br;q=abc', undefined],
    ['', undefined],
  ];
  for (const [accept, expected] of cases) {
    it(`Accept-Encoding ${JSON.stringify(accept)} → ${expected ?? 'identity'}`, async () => {
      const r = await req('/array', { 'Accept-Encoding': accept });
      expect(r.header['content-encoding']).toBe(expected);
      expect(decode(expected, r.body)).toBe(TEXT);
    });
  }
});

describe('compress: passes through', () => {
  it('a body under the threshold (Content-Length known, or a small array)', async () => {
    for (const p of ['/small', '/small-nolength']) {
      const r = await req(p, { 'Accept-Encoding': 'gzip' });
      expect(r.header['content-encoding'], p).toBeUndefined();
      expect(r.header['vary'], p).toBe('Accept-Encoding');
    }
  });

  it('an already encoded body, Cache-Control: no-transform, an image type', async () => {
    const e = await req('/encoded', { 'Accept-Encoding': 'br, gzip' });
    expect(e.header['content-encoding']).toBe('gzip');
    expect(zlib.gunzipSync(e.body).toString()).toBe(TEXT);
    const n = await req('/no-transform', { 'Accept-Encoding': 'gzip' });
    expect(n.header['content-encoding']).toBeUndefined();
    expect(n.body.toString()).toBe(TEXT);
    const p = await req('/png', { 'Accept-Encoding': 'gzip' });
    expect(p.header['content-encoding']).toBeUndefined();
    expect(p.header['vary']).toBeUndefined();
  });

  it('HEAD, 204 and 304', async () => {
    const h = await req('/array', { 'Accept-Encoding': 'gzip' }, 'HEAD');
    expect(h.header['content-encoding']).toBeUndefined();
    expect(h.header['content-length']).toBe(String(TEXT.length));
    expect((await req('/204', { 'Accept-Encoding': 'gzip' })).header['content-encoding']).toBeUndefined();
    const n = await req('/304', { 'Accept-Encoding': 'gzip' });
    expect(n.status).toBe(304);
    expect(n.header['content-encoding']).toBeUndefined();
    expect(n.header['vary']).toBe('Accept-Encoding');
  });

  it('appends Accept-Encoding to an existing Vary', async () => {
    const r = await req('/vary', { 'Accept-Encoding': 'br' });
    expect(r.header['vary']).toBe('Cookie, Accept-Encoding');
    expect(JSON.parse(decode('br', r.body)).t).toBe(TEXT);
  });
});

describe('compress: bodies', () => {
  it('a sync generator is compressed chunked, without Content-Length, and closed once', async () => {
    closes = 0;
    const r = await req('/generator', { 'Accept-Encoding': 'gzip' });
    expect(r.chunked).toBe(true);
    expect(r.header['content-length']).toBeUndefined();
    const text = decode('gzip', r.body);
    expect(text.split('\n').length).toBe(51);
    await until(() => closes === 1);
    const r2 = await req('/generator');
    expect(r2.header['content-encoding']).toBeUndefined();
    await until(() => closes === 2);
    await new Promise((res) => setTimeout(res, 50));
    expect(closes).toBe(2);
  });

  it('what a sync body produces at once is compressed and flushed together, not chunk by chunk', async () => {
    const x = await rawRequest(srv.port, get('/many', { 'Accept-Encoding': 'gzip' }), { timeoutMs: 30_000 });
    const r = x.responses[0];
    const expected = Array.from({ length: 20000 }, (_, i) => `${i}\n`).join('');
    expect(decode('gzip', r.body)).toBe(expected);
    // Count the chunks of the chunked framing: a flush per app chunk would give 20,000.
    const framing = x.raw.subarray(x.raw.indexOf('\r\n\r\n') + 4);
    let chunks = 0;
    for (let p = 0; ;) {
      const le = framing.indexOf('\r\n', p);
      const size = parseInt(framing.subarray(p, le).toString(), 16);
      if (size === 0) break;
      chunks++;
      p = le + 2 + size + 2;
    }
    expect(chunks).toBeLessThan(50);
  });

  it("an array body's close() still runs once when it is recoded in one call", async () => {
    closes = 0;
    const r = await req('/array-close', { 'Accept-Encoding': 'gzip' });
    expect(decode('gzip', r.body)).toBe(TEXT);
    await until(() => closes === 1);
    await new Promise((res) => setTimeout(res, 50));
    expect(closes).toBe(1);
  });

  it("a malformed head is left for the server's startResponse to report (500)", async () => {
    const r = await req('/bad-headers', { 'Accept-Encoding': 'gzip' });
    expect(r.status).toBe(500);
    expect(srv.errors()).toMatch(/header/i);
  });

  it('startResponse called inside an async generator (decided when the body starts)', async () => {
    const r = await req('/lazy', { 'Accept-Encoding': 'br' });
    expect(r.header['content-encoding']).toBe('br');
    expect(decode('br', r.body)).toBe(TEXT);
    const id = await req('/lazy');
    expect(id.body.toString()).toBe(TEXT);
  });

  it('the legacy write() is recoded too, before the returned body', async () => {
    const r = await req('/legacy-write', { 'Accept-Encoding': 'gzip' });
    expect(r.header['content-encoding']).toBe('gzip');
    expect(decode('gzip', r.body)).toBe('first:' + TEXT + '|last');
  });

  it('an app returning a Promise', async () => {
    const r = await req('/promise', { 'Accept-Encoding': 'gzip' });
    expect(decode('gzip', r.body)).toBe(TEXT);
  });

  for (const enc of ['gzip', 'br'] as const) {
    it(`${enc}: a streamed body is compressed as it streams — the first block decodes before the app yields the second`, async () => {
      closes = 0;
      gate = null;
      const sock = net.connect(srv.port, '127.0.0.1');
      let raw = Buffer.alloc(0);
      sock.on('data', (d) => { raw = Buffer.concat([raw, d]); });
      sock.write(get('/stream', { 'Accept-Encoding': enc }));
      const partialText = (): string => {
        const end = raw.indexOf('\r\n\r\n');
        if (end < 0) return '';
        // Collect the complete chunks received so far.
        const parts: Buffer[] = [];
        let p = end + 4;
        for (;;) {
          const le = raw.indexOf('\r\n', p);
          if (le < 0) break;
          const size = parseInt(raw.subarray(p, le).toString(), 16);
          if (!(size > 0) || raw.length < le + 2 + size + 2) break;
          parts.push(raw.subarray(le + 2, le + 2 + size));
          p = le + 4 + size;
        }
        if (parts.length === 0) return '';
        const data = Buffer.concat(parts);
        try {
          return (enc === 'gzip'
            ? zlib.gunzipSync(data, { finishFlush: zlib.constants.Z_SYNC_FLUSH })
            : zlib.brotliDecompressSync(data, { finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH })).toString();
        } catch {
          return '';
        }
      };
      try {
        await until(() => gate !== null && partialText() === 'BLOCK-ONE ' + TEXT, 10_000, 'the first block, decoded, while the app waits');
        expect(raw.toString('latin1')).toContain(`Content-Encoding: ${enc}`);
        gate!();
        await until(() => raw.includes('\r\n0\r\n\r\n'), 10_000, 'the end of the response');
        const r = parseResponses(raw).responses[0];
        expect(decode(enc, r.body)).toBe('BLOCK-ONE ' + TEXT + 'BLOCK-TWO');
        await until(() => closes === 1);
      } finally {
        sock.destroy();
      }
    });
  }
});

describe('compress: options', () => {
  it('rejects unknown and out-of-range options with a message', () => {
    expect(() => compress({ level: 5 } as never)).toThrow(/unknown option "level"/);
    expect(() => compress({ gzipLevel: 12 })).toThrow(/gzipLevel must be 0–9/);
    expect(() => compress({ encodings: ['deflate' as never] })).toThrow(/encodings/);
  });

  it('threshold and encodings are honoured', async () => {
    const s = await startServer(compress({ threshold: 0, encodings: ['gzip'] })(app));
    try {
      const r = (await rawRequest(s.port, get('/small', { 'Accept-Encoding': 'br, gzip' }))).responses[0];
      expect(r.header['content-encoding']).toBe('gzip');
      expect(decode('gzip', r.body)).toBe('small');
    } finally {
      await s.close();
    }
  });
});

describe('compress over a file', () => {
  it('a text file from wsgi.file_wrapper is compressed; an image from it passes through untouched', async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-cfile-'));
    fs.writeFileSync(path.join(dir, 'a.txt'), TEXT);
    let closed = 0;
    const fileApp: App = (environ, sr) => {
      const type = environ.PATH_INFO === '/a.png' ? 'image/png' : 'text/plain';
      sr('200 OK', [['Content-Type', type], ['Content-Length', String(TEXT.length)]]);
      const w = (environ['wsgi.file_wrapper'] as (f: string) => { close(): void })(path.join(dir, 'a.txt'));
      const close = w.close.bind(w);
      w.close = () => { closed++; close(); };
      return w as never;
    };
    const s = await startServer(compress()(fileApp));
    try {
      const t = (await rawRequest(s.port, get('/a.txt', { 'Accept-Encoding': 'gzip' }))).responses[0];
      expect(t.header['content-encoding']).toBe('gzip');
      expect(zlib.gunzipSync(t.body).toString()).toBe(TEXT);
      const p = (await rawRequest(s.port, get('/a.png', { 'Accept-Encoding': 'gzip' }))).responses[0];
      expect(p.header['content-encoding']).toBeUndefined();
      expect(p.body.toString()).toBe(TEXT);
      await until(() => closed === 2);
    } finally {
      await s.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('compress: the client leaves mid-stream', () => {
  it('the inner body is closed exactly once', async () => {
    closes = 0;
    gate = null;
    const sock = net.connect(srv.port, '127.0.0.1');
    let got = 0;
    sock.on('data', (d) => { got += d.length; });
    sock.on('error', () => {});
    sock.write(get('/stream', { 'Accept-Encoding': 'gzip' }));
    await until(() => gate !== null && got > 0, 10_000, 'the first block');
    sock.destroy();
    // A half-closed connection is noticed when the next block is written.
    await new Promise((r) => setTimeout(r, 50));
    gate!();
    await until(() => closes === 1, 10_000, 'close()');
    await new Promise((r) => setTimeout(r, 100));
    expect(closes).toBe(1);
  });
});

describe('compress: a large array body', () => {
  it('over 1 MiB it is streamed (no Content-Length) and decodes to the same bytes', async () => {
    const big = 'x'.repeat(1024) + TEXT.repeat(300);
    const s = await startServer(compress()((_e, sr) => { sr('200 OK', [['Content-Type', 'text/plain']]); return [big]; }));
    try {
      const r = (await rawRequest(s.port, get('/', { 'Accept-Encoding': 'gzip' }), { timeoutMs: 30_000 })).responses[0];
      expect(r.chunked).toBe(true);
      expect(decode('gzip', r.body)).toBe(big);
    } finally {
      await s.close();
    }
  });
});
