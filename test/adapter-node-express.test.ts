// Express 5 on tsgi through fromNodeHandler, compared byte for byte with the same app on
// node:http: routing, body parsers, cookies, redirects, files (Range, conditional
// requests, download), streaming, static files, error middleware, 404 and HEAD.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import cookieParser from 'cookie-parser';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { req, same, servePair, type Pair } from './helpers/differential';

let dir: string;
let pair: Pair;
const FILE_BYTES = Buffer.alloc(200_000);
for (let i = 0; i < FILE_BYTES.length; i++) FILE_BYTES[i] = (i * 7 + 3) & 0xff;

function build(): express.Express {
  const app = express();
  app.get('/users/:id', (q, s) => { s.json({ id: q.params.id, query: q.query, ip: q.ip, protocol: q.protocol, httpVersion: q.httpVersion }); });
  app.post('/json', express.json(), (q, s) => { s.json({ got: q.body }); });
  app.post('/form', express.urlencoded({ extended: false }), (q, s) => { s.json({ got: q.body }); });
  app.get('/cookies', cookieParser('secret'), (q, s) => {
    s.cookie('seen', 'yes', { httpOnly: true, path: '/' });
    s.cookie('signed', 'v', { signed: true });
    s.json({ cookies: q.cookies, signed: q.signedCookies });
  });
  app.get('/redirect', (_q, s) => { s.redirect(302, '/users/1'); });
  app.get('/file', (_q, s, next) => { s.sendFile(path.join(dir, 'data.bin'), (err) => { if (err) next(err); }); });
  app.get('/download', (_q, s) => { s.download(path.join(dir, 'data.bin'), 'report.bin'); });
  app.get('/stream', (_q, s) => {
    s.type('text/plain');
    let i = 0;
    const tick = () => {
      if (i === 5) { s.end('end\n'); return; }
      s.write(`line ${i++}\n`);
      setImmediate(tick);
    };
    tick();
  });
  app.get('/pipe', (_q, s) => {
    s.setHeader('Content-Type', 'application/octet-stream');
    fs.createReadStream(path.join(dir, 'data.bin')).pipe(s);
  });
  app.use('/static', express.static(path.join(dir, 'public')));
  app.get('/boom', () => { throw new Error('boom'); });
  app.get('/next-error', (_q, _s, next) => { next(Object.assign(new Error('teapot'), { status: 418 })); });
  app.use((err: Error & { status?: number }, _q: express.Request, s: express.Response, _n: express.NextFunction) => {
    s.status(err.status ?? 500).json({ error: err.message });
  });
  return app;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-express-'));
  fs.writeFileSync(path.join(dir, 'data.bin'), FILE_BYTES);
  fs.mkdirSync(path.join(dir, 'public'));
  fs.writeFileSync(path.join(dir, 'public', 'index.html'), '<h1>home</h1>\n');
  fs.writeFileSync(path.join(dir, 'public', 'style.css'), 'body { color: red }\n');
  pair = await servePair(build());
});

afterAll(async () => {
  await pair?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('Express 5 through fromNodeHandler matches node:http', () => {
  it('routes with params and query; req.ip, req.protocol, httpVersion', async () => {
    const { tsgi } = await same(pair, req('GET', '/users/42?sort=asc&tag=a&tag=b'));
    expect(JSON.parse(tsgi.body.toString())).toMatchObject({ id: '42', query: { sort: 'asc', tag: ['a', 'b'] }, ip: '127.0.0.1', protocol: 'http', httpVersion: '1.1' });
  });

  it('express.json() and express.urlencoded() read the body', async () => {
    const j = await same(pair, req('POST', '/json', { 'Content-Type': 'application/json' }, JSON.stringify({ a: 1, b: ['x', 'é'] })));
    expect(JSON.parse(j.tsgi.body.toString())).toEqual({ got: { a: 1, b: ['x', 'é'] } });
    const f = await same(pair, req('POST', '/form', { 'Content-Type': 'application/x-www-form-urlencoded' }, 'name=Ada+L&x=%C3%A9'));
    expect(JSON.parse(f.tsgi.body.toString())).toEqual({ got: { name: 'Ada L', x: 'é' } });
    // A malformed JSON body goes to the error middleware the same way.
    await same(pair, req('POST', '/json', { 'Content-Type': 'application/json' }, '{nope'));
  });

  it('cookie-parser reads cookies; res.cookie sets them', async () => {
    const { tsgi } = await same(pair, req('GET', '/cookies', { Cookie: 'a=1; b=two' }));
    expect(JSON.parse(tsgi.body.toString()).cookies).toEqual({ a: '1', b: 'two' });
    expect(tsgi.headers.filter(([n]) => n.toLowerCase() === 'set-cookie')).toHaveLength(2);
  });

  it('res.redirect', async () => {
    const { tsgi } = await same(pair, req('GET', '/redirect'));
    expect(tsgi.status).toBe(302);
  });

  it('res.sendFile: whole, Range, If-None-Match and If-Modified-Since', async () => {
    const whole = await same(pair, req('GET', '/file'));
    expect(whole.tsgi.body.equals(FILE_BYTES)).toBe(true);
    const range = await same(pair, req('GET', '/file', { Range: 'bytes=100-199' }));
    expect(range.tsgi.status).toBe(206);
    expect(range.tsgi.body.equals(FILE_BYTES.subarray(100, 200))).toBe(true);
    await same(pair, req('GET', '/file', { Range: 'bytes=999999-' }));
    const etag = whole.node.header.etag;
    const lm = whole.node.header['last-modified'];
    const c1 = await same(pair, req('GET', '/file', { 'If-None-Match': etag }));
    expect(c1.tsgi.status).toBe(304);
    const c2 = await same(pair, req('GET', '/file', { 'If-Modified-Since': lm }));
    expect(c2.tsgi.status).toBe(304);
  });

  it('res.download', async () => {
    const { tsgi } = await same(pair, req('GET', '/download'));
    expect(tsgi.header['content-disposition']).toContain('report.bin');
  });

  it('a streamed response (write, write, …, end) is chunked like node:http', async () => {
    const { tsgi } = await same(pair, req('GET', '/stream'));
    expect(tsgi.chunked).toBe(true);
    expect(tsgi.body.toString()).toBe('line 0\nline 1\nline 2\nline 3\nline 4\nend\n');
  });

  it('pipe() of a file stream into res', async () => {
    const { tsgi } = await same(pair, req('GET', '/pipe'));
    expect(tsgi.body.equals(FILE_BYTES)).toBe(true);
  });

  it('express.static: files, index, redirect of a directory, 404 fallthrough', async () => {
    await same(pair, req('GET', '/static/style.css'));
    await same(pair, req('GET', '/static/'));
    await same(pair, req('GET', '/static'));
    await same(pair, req('GET', '/static/missing.txt'));
  });

  it('error-handling middleware: a thrown error and next(err)', async () => {
    const a = await same(pair, req('GET', '/boom'));
    expect(a.tsgi.status).toBe(500);
    const b = await same(pair, req('GET', '/next-error'));
    expect(b.tsgi.status).toBe(418);
  });

  it('404 of an unknown route', async () => {
    const { tsgi } = await same(pair, req('GET', '/nowhere?x=1'));
    expect(tsgi.status).toBe(404);
  });

  it('HTTP/1.0: a whole response, and a streamed one delimited by the connection close', async () => {
    await same(pair, 'GET /users/5 HTTP/1.0\r\nHost: localhost\r\n\r\n');
    const { tsgi } = await same(pair, 'GET /stream HTTP/1.0\r\nHost: localhost\r\n\r\n');
    expect(tsgi.chunked).toBe(false);
    expect(tsgi.body.toString()).toBe('line 0\nline 1\nline 2\nline 3\nline 4\nend\n');
  });

  it('HEAD: same head as node:http, no body', async () => {
    await same(pair, req('HEAD', '/users/7'), { head: true });
    await same(pair, req('HEAD', '/file'), { head: true });
    await same(pair, req('HEAD', '/static/style.css'), { head: true });
  });
});
