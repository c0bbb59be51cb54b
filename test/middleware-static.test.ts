// staticFiles(): files sent with wsgi.file_wrapper, validators and conditional requests,
// byte ranges, HEAD, index files, precompressed siblings, and refusal of anything outside
// the root — raw request targets over a raw socket so no client normalizes them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticFiles, type App } from '../src/index';
import { get, rawRequest } from './helpers/http';
import { startServer, type TestServer } from './helpers/server';

let dir: string;
let root: string;
let srv: TestServer;
let fellThrough: string[] = [];
const BIG = Buffer.alloc(200_000);
for (let i = 0; i < BIG.length; i++) BIG[i] = (i * 7 + (i >> 9)) & 0xff;

const fallback: App = (environ, startResponse) => {
  fellThrough.push(`${environ.REQUEST_METHOD} ${environ.PATH_INFO}`);
  startResponse('404 Not Found', [['Content-Type', 'text/plain']]);
  return ['app fallback'];
};

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-static-'));
  root = path.join(dir, 'public');
  fs.mkdirSync(path.join(root, 'sub'), { recursive: true });
  fs.mkdirSync(path.join(root, 'noindex'));
  fs.writeFileSync(path.join(dir, 'secret.txt'), 'TOP SECRET');
  fs.writeFileSync(path.join(root, 'hello.txt'), 'hello world\n');
  fs.writeFileSync(path.join(root, 'big.bin'), BIG);
  fs.writeFileSync(path.join(root, 'empty.txt'), '');
  fs.writeFileSync(path.join(root, 'index.html'), '<h1>home</h1>');
  fs.writeFileSync(path.join(root, 'sub', 'index.html'), '<h1>sub</h1>');
  fs.writeFileSync(path.join(root, '%2e%2e'), 'literally percent-2e');
  fs.writeFileSync(path.join(root, '.env'), 'HIDDEN');
  const css = 'body { color: red; }\n'.repeat(100);
  fs.writeFileSync(path.join(root, 'app.css'), css);
  fs.writeFileSync(path.join(root, 'app.css.gz'), zlib.gzipSync(css));
  fs.writeFileSync(path.join(root, 'app.css.br'), zlib.brotliCompressSync(css));
  fs.symlinkSync(path.join(dir, 'secret.txt'), path.join(root, 'escape.txt'));
  fs.symlinkSync(dir, path.join(root, 'updir'));
  fs.symlinkSync(path.join(root, 'hello.txt'), path.join(root, 'inside-link.txt'));
  const mtime = new Date('2024-01-02T03:04:05Z');
  fs.utimesSync(path.join(root, 'hello.txt'), mtime, mtime);
  srv = await startServer(staticFiles(root, { cacheControl: 'public, max-age=60' })(fallback));
});

afterAll(async () => {
  await srv.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const req = (target: string, headers: Record<string, string> = {}, method = 'GET') =>
  rawRequest(srv.port, get(target, headers).replace(/^GET /, method + ' '), { head: [method === 'HEAD'] }).then((x) => x.responses[0]);

describe('staticFiles: serving', () => {
  it('sends a file with Content-Type, Content-Length, ETag, Last-Modified, Cache-Control', async () => {
    const r = await req('/hello.txt');
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('hello world\n');
    expect(r.header['content-type']).toBe('text/plain; charset=utf-8');
    expect(r.header['content-length']).toBe('12');
    expect(r.header['etag']).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
    expect(r.header['last-modified']).toBe('Tue, 02 Jan 2024 03:04:05 GMT');
    expect(r.header['cache-control']).toBe('public, max-age=60');
    expect(r.header['accept-ranges']).toBe('bytes');
  });

  it('sends a large binary file whole and exact (sendfile path)', async () => {
    const r = await req('/big.bin');
    expect(r.status).toBe(200);
    expect(r.header['content-type']).toBe('application/octet-stream');
    expect(Buffer.compare(r.body, BIG)).toBe(0);
  });

  it('HEAD has the headers and no body', async () => {
    const x = await rawRequest(srv.port, 'HEAD /big.bin HTTP/1.1\r\nHost: x\r\n\r\n', { head: [true] });
    const r = x.responses[0];
    expect(r.status).toBe(200);
    expect(r.header['content-length']).toBe(String(BIG.length));
    expect(x.raw.length).toBeLessThan(1000);
  });

  it('serves index.html for / and a directory with a trailing slash, redirects without it', async () => {
    expect((await req('/')).body.toString()).toBe('<h1>home</h1>');
    expect((await req('/sub/')).body.toString()).toBe('<h1>sub</h1>');
    const r = await req('/sub?x=1');
    expect(r.status).toBe(301);
    expect(r.header['location']).toBe('/sub/?x=1');
    // Never a scheme-relative Location ('//sub/' would send the client to the host "sub").
    const r2 = await req('//sub');
    expect(r2.status).toBe(301);
    expect(r2.header['location']).toBe('/sub/');
  });

  it('falls through to the app when no file matches, for other methods, and for a directory without index', async () => {
    fellThrough = [];
    expect((await req('/missing.txt')).body.toString()).toBe('app fallback');
    expect((await req('/hello.txt', {}, 'POST')).body.toString()).toBe('app fallback');
    expect((await req('/noindex/')).body.toString()).toBe('app fallback');
    expect((await req('/.env')).body.toString()).toBe('app fallback');
    expect(fellThrough).toEqual(['GET /missing.txt', 'POST /hello.txt', 'GET /noindex/', 'GET /.env']);
  });

  it('serves a symlink that stays inside root', async () => {
    expect((await req('/inside-link.txt')).body.toString()).toBe('hello world\n');
  });

  it('empty file: 200 with Content-Length 0', async () => {
    const r = await req('/empty.txt');
    expect(r.status).toBe(200);
    expect(r.header['content-length']).toBe('0');
  });
});

describe('staticFiles: refusing paths outside root', () => {
  const targets = [
    '/../secret.txt',
    '/sub/../../secret.txt',
    '/%2e%2e/secret.txt',
    '/%2E%2E/%2e%2e/secret.txt',
    '/sub/%2e%2e/%2e%2e/secret.txt',
    '/..%2fsecret.txt',
    '/%2e%2e%2fsecret.txt',
    '/sub%2f..%2f..%2fsecret.txt',
    '/..\\secret.txt',
    '/%5c..%5csecret.txt',
    '/hello.txt%00.png',
    '/escape.txt',
    '/updir/secret.txt',
  ];
  for (const t of targets) {
    it(`refuses ${t}`, async () => {
      const x = await rawRequest(srv.port, `GET ${t} HTTP/1.1\r\nHost: x\r\n\r\n`);
      const r = x.responses[0];
      // Refused by staticFiles itself (not passed on to the app, not refused by the parser).
      expect(r.status).toBe(404);
      expect(r.body.toString()).toBe('Not Found\n');
      expect(x.raw.toString('latin1')).not.toContain('TOP SECRET');
      expect(x.raw.toString('latin1')).not.toContain('hello world');
    });
  }

  it('does not decode twice: %252e%252e names the file "%2e%2e" inside root', async () => {
    const r = await req('/%252e%252e');
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('literally percent-2e');
    const r2 = await req('/%252e%252e/secret.txt');
    expect(r2.body.toString()).toBe('app fallback');
  });

  it('followSymlinksOutsideRoot: true serves a symlink out of root', async () => {
    const s = await startServer(staticFiles(root, { followSymlinksOutsideRoot: true })(fallback));
    try {
      const x = await rawRequest(s.port, get('/escape.txt'));
      expect(x.responses[0].body.toString()).toBe('TOP SECRET');
      // Dot segments are still refused.
      const y = await rawRequest(s.port, get('/%2e%2e/secret.txt'));
      expect(y.raw.toString()).not.toContain('TOP SECRET');
    } finally {
      await s.close();
    }
  });
});

describe('staticFiles: conditional requests', () => {
  it('If-None-Match with the ETag → 304 with validators and no body; a different tag → 200', async () => {
    const etag = (await req('/hello.txt')).header['etag'];
    const r = await req('/hello.txt', { 'If-None-Match': `"nope", ${etag}` });
    expect(r.status).toBe(304);
    expect(r.header['etag']).toBe(etag);
    expect(r.header['cache-control']).toBe('public, max-age=60');
    expect(r.body.length).toBe(0);
    expect((await req('/hello.txt', { 'If-None-Match': 'W/' + etag })).status).toBe(304); // weak comparison
    expect((await req('/hello.txt', { 'If-None-Match': '"other"' })).status).toBe(200);
    expect((await req('/hello.txt', { 'If-None-Match': '*' })).status).toBe(304);
  });

  it('If-Modified-Since at or after Last-Modified → 304; before → 200; garbage ignored', async () => {
    expect((await req('/hello.txt', { 'If-Modified-Since': 'Tue, 02 Jan 2024 03:04:05 GMT' })).status).toBe(304);
    expect((await req('/hello.txt', { 'If-Modified-Since': 'Wed, 03 Jan 2024 00:00:00 GMT' })).status).toBe(304);
    expect((await req('/hello.txt', { 'If-Modified-Since': 'Mon, 01 Jan 2024 00:00:00 GMT' })).status).toBe(200);
    expect((await req('/hello.txt', { 'If-Modified-Since': 'yesterday' })).status).toBe(200);
    // If-None-Match takes precedence over If-Modified-Since.
    expect((await req('/hello.txt', { 'If-None-Match': '"other"', 'If-Modified-Since': 'Wed, 03 Jan 2024 00:00:00 GMT' })).status).toBe(200);
  });

  it('If-Match that does not match → 412; matching → 200; weak tags never match strongly', async () => {
    const etag = (await req('/hello.txt')).header['etag'];
    expect((await req('/hello.txt', { 'If-Match': '"other"' })).status).toBe(412);
    expect((await req('/hello.txt', { 'If-Match': etag })).status).toBe(200);
    expect((await req('/hello.txt', { 'If-Match': 'W/' + etag })).status).toBe(412);
    expect((await req('/hello.txt', { 'If-Match': '*' })).status).toBe(200);
  });

  it('If-Unmodified-Since before Last-Modified → 412; after → 200', async () => {
    expect((await req('/hello.txt', { 'If-Unmodified-Since': 'Mon, 01 Jan 2024 00:00:00 GMT' })).status).toBe(412);
    expect((await req('/hello.txt', { 'If-Unmodified-Since': 'Wed, 03 Jan 2024 00:00:00 GMT' })).status).toBe(200);
  });
});

describe('staticFiles: ranges', () => {
  it('a single range → 206 with Content-Range and exactly those bytes (sendfile with an offset)', async () => {
    const r = await req('/big.bin', { Range: 'bytes=1000-1999' });
    expect(r.status).toBe(206);
    expect(r.header['content-range']).toBe(`bytes 1000-1999/${BIG.length}`);
    expect(r.header['content-length']).toBe('1000');
    expect(Buffer.compare(r.body, BIG.subarray(1000, 2000))).toBe(0);
  });

  it('open-ended and suffix ranges', async () => {
    const a = await req('/big.bin', { Range: 'bytes=199000-' });
    expect(a.status).toBe(206);
    expect(Buffer.compare(a.body, BIG.subarray(199000))).toBe(0);
    const b = await req('/big.bin', { Range: 'bytes=-500' });
    expect(b.header['content-range']).toBe(`bytes ${BIG.length - 500}-${BIG.length - 1}/${BIG.length}`);
    expect(Buffer.compare(b.body, BIG.subarray(BIG.length - 500))).toBe(0);
    const c = await req('/hello.txt', { Range: 'bytes=6-1000' });
    expect(c.status).toBe(206);
    expect(c.body.toString()).toBe('world\n');
    expect(c.header['content-range']).toBe('bytes 6-11/12');
  });

  it('an unsatisfiable range → 416 with Content-Range: bytes */size', async () => {
    for (const range of ['bytes=12-', 'bytes=5000-6000', 'bytes=-0']) {
      const r = await req('/hello.txt', { Range: range });
      expect(r.status, range).toBe(416);
      expect(r.header['content-range']).toBe('bytes */12');
    }
    const e = await req('/empty.txt', { Range: 'bytes=0-' });
    expect(e.status).toBe(416);
    expect(e.header['content-range']).toBe('bytes */0');
  });

  it('a malformed range or another unit is ignored → 200 whole', async () => {
    for (const range of ['bytes=abc', 'bytes=5-2', 'items=0-1', 'bytes=', 'bytes=--1', 'bytes 0-1']) {
      const r = await req('/hello.txt', { Range: range });
      expect(r.status, range).toBe(200);
      expect(r.body.toString()).toBe('hello world\n');
    }
  });

  it('several ranges fall back to 200 whole', async () => {
    const r = await req('/hello.txt', { Range: 'bytes=0-1,4-5' });
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('hello world\n');
  });

  it('If-Range: the current ETag or date applies the range; another one sends the whole', async () => {
    const etag = (await req('/hello.txt')).header['etag'];
    expect((await req('/hello.txt', { Range: 'bytes=0-4', 'If-Range': etag })).status).toBe(206);
    expect((await req('/hello.txt', { Range: 'bytes=0-4', 'If-Range': '"stale"' })).status).toBe(200);
    expect((await req('/hello.txt', { Range: 'bytes=0-4', 'If-Range': 'Tue, 02 Jan 2024 03:04:05 GMT' })).status).toBe(206);
    expect((await req('/hello.txt', { Range: 'bytes=0-4', 'If-Range': 'Mon, 01 Jan 2024 00:00:00 GMT' })).status).toBe(200);
  });

  it('HEAD with a range → 206 headers only', async () => {
    const x = await rawRequest(srv.port, 'HEAD /big.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=0-99\r\n\r\n', { head: [true] });
    expect(x.responses[0].status).toBe(206);
    expect(x.responses[0].header['content-length']).toBe('100');
  });
});

describe('staticFiles: precompressed siblings', () => {
  it('sends app.css.br / .gz by Accept-Encoding with Content-Encoding and Vary, identity otherwise', async () => {
    const css = fs.readFileSync(path.join(root, 'app.css'), 'utf8');
    const br = await req('/app.css', { 'Accept-Encoding': 'gzip, br' });
    expect(br.header['content-encoding']).toBe('br');
    expect(br.header['content-type']).toBe('text/css; charset=utf-8');
    expect(br.header['vary']).toBe('Accept-Encoding');
    expect(zlib.brotliDecompressSync(br.body).toString()).toBe(css);
    const gz = await req('/app.css', { 'Accept-Encoding': 'gzip' });
    expect(gz.header['content-encoding']).toBe('gzip');
    expect(zlib.gunzipSync(gz.body).toString()).toBe(css);
    expect(gz.header['etag']).not.toBe(br.header['etag']);
    const id = await req('/app.css');
    expect(id.header['content-encoding']).toBeUndefined();
    expect(id.header['vary']).toBe('Accept-Encoding');
    expect(id.body.toString()).toBe(css);
    const refused = await req('/app.css', { 'Accept-Encoding': 'br;q=0, gzip;q=0' });
    expect(refused.header['content-encoding']).toBeUndefined();
  });

  it('q-values pick the sibling; a sibling that resolves outside root is never sent', async () => {
    const gz = await req('/app.css', { 'Accept-Encoding': 'br;q=0.5, gzip;q=0.8' });
    expect(gz.header['content-encoding']).toBe('gzip');
    fs.writeFileSync(path.join(root, 'leak.txt'), 'plain text here');
    fs.writeFileSync(path.join(dir, 'outside.gz'), zlib.gzipSync('TOP SECRET'));
    fs.symlinkSync(path.join(dir, 'outside.gz'), path.join(root, 'leak.txt.gz'));
    const r = await req('/leak.txt', { 'Accept-Encoding': 'gzip' });
    expect(r.header['content-encoding']).toBeUndefined();
    expect(r.body.toString()).toBe('plain text here');
  });

  it('a Range request is answered from the identity file', async () => {
    const r = await req('/app.css', { 'Accept-Encoding': 'br', Range: 'bytes=0-3' });
    expect(r.status).toBe(206);
    expect(r.header['content-encoding']).toBeUndefined();
    expect(r.body.toString()).toBe('body');
  });
});

describe('staticFiles: options', () => {
  it('rejects unknown options and a missing root with a message', () => {
    expect(() => staticFiles(root, { indx: 'a' } as never)).toThrow(/unknown option "indx"/);
    expect(() => staticFiles(path.join(dir, 'nope'))).toThrow(/cannot be resolved/);
  });

  it('index: false serves no index; a custom index name is used', async () => {
    fs.writeFileSync(path.join(root, 'sub', 'default.htm'), 'custom');
    const s = await startServer(staticFiles(root, { index: ['missing.html', 'default.htm'] })(fallback));
    const t = await startServer(staticFiles(root, { index: false })(fallback));
    try {
      expect((await rawRequest(s.port, get('/sub/'))).responses[0].body.toString()).toBe('custom');
      expect((await rawRequest(t.port, get('/sub/'))).responses[0].body.toString()).toBe('app fallback');
    } finally {
      await s.close();
      await t.close();
    }
  });
});

describe('staticFiles: odd names', () => {
  it('extensions that are Object.prototype names get the default type, not a 500', async () => {
    fs.writeFileSync(path.join(root, 'x.constructor'), 'c');
    fs.writeFileSync(path.join(root, 'x.__proto__'), 'p');
    for (const name of ['/x.constructor', '/x.__proto__']) {
      const r = await req(name);
      expect(r.status, name).toBe(200);
      expect(r.header['content-type']).toBe('application/octet-stream');
    }
  });

  it('a FIFO under root is not a file: it falls through at once (no thread waits for a writer)', async () => {
    const { execFileSync } = await import('node:child_process');
    execFileSync('mkfifo', [path.join(root, 'pipe.txt')]);
    for (let i = 0; i < 6; i++) {
      // More requests than libuv has threads: a blocking open would stall them all.
      expect((await req('/pipe.txt')).body.toString()).toBe('app fallback');
    }
    expect((await req('/hello.txt')).status).toBe(200);
  });

  it('a file asked for with a trailing slash is not served', async () => {
    expect((await req('/hello.txt/')).body.toString()).toBe('app fallback');
  });
});
