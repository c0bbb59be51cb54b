// The native core decides the server's part of every response head: Content-Length of a
// wsgi.file_wrapper body (written by the core, after Date, as for an array body), and
// whether a body goes out at all (HEAD, 204, 304), for file, array and streamed bodies.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { App, Environ, FileWrapper } from '../src/index';
import { get, rawRequest } from './helpers/http';
import { startServer, type TestServer } from './helpers/server';

const DATA = 'file body, 26 bytes long!\n';
let dir: string;
let file: string;
let ts: TestServer | undefined;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-server-headers-'));
  file = path.join(dir, 'data.txt');
  fs.writeFileSync(file, DATA);
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
afterEach(async () => { await ts?.close(); ts = undefined; });

const wrap = (env: Environ): FileWrapper => (env['wsgi.file_wrapper'] as (f: string) => FileWrapper)(file);
const HEAD_REQ = 'HEAD / HTTP/1.1\r\nHost: h\r\n\r\n';

/**
 * An app that answers status with DATA as a body of the given kind (declaring its length
 * when asked); /other is answered '200 OK' with 'next'.
 */
function app(status: string, kind: 'file' | 'array' | 'stream', declare = false): App {
  return (env, sr) => {
    if (env.PATH_INFO === '/other') {
      sr('200 OK', []);
      return ['next'];
    }
    sr(status, declare ? [['Content-Type', 'text/plain'], ['Content-Length', String(DATA.length)]] : [['Content-Type', 'text/plain']]);
    if (kind === 'file') return wrap(env);
    if (kind === 'array') return [DATA];
    return (async function* () { yield DATA.slice(0, 10); yield DATA.slice(10); })();
  };
}

describe('wsgi.file_wrapper Content-Length', () => {
  it('without a declared length, the core writes the file size once, after Date', async () => {
    ts = await startServer(app('200 OK', 'file'));
    const r = (await rawRequest(ts.port, get('/'))).responses[0];
    expect(r.body.toString()).toBe(DATA);
    expect(r.rawHead.match(/Content-Length: /g)!.length).toBe(1);
    expect(r.header['content-length']).toBe(String(DATA.length));
    expect(r.rawHead.indexOf('Date: ')).toBeGreaterThan(0);
    expect(r.rawHead.indexOf('Date: ')).toBeLessThan(r.rawHead.indexOf('Content-Length: '));
  });

  it('a declared length stays the application\'s (in its place, once)', async () => {
    ts = await startServer(app('200 OK', 'file', true));
    const r = (await rawRequest(ts.port, get('/'))).responses[0];
    expect(r.body.toString()).toBe(DATA);
    expect(r.rawHead.match(/Content-Length: /g)!.length).toBe(1);
    expect(r.rawHead.indexOf('Content-Length: ')).toBeLessThan(r.rawHead.indexOf('Date: '));
  });
});

describe('HEAD, decided by the core', () => {
  for (const declare of [false, true]) {
    it(`a file_wrapper answers HEAD with the file's Content-Length and no body${declare ? ' (length declared)' : ''}; the next request follows`, async () => {
      ts = await startServer(app('200 OK', 'file', declare));
      const ex = await rawRequest(ts.port, [HEAD_REQ, get('/other')], { count: 2, head: [true, false] });
      expect(ex.responses.map((r) => r.status)).toEqual([200, 200]);
      expect(ex.responses[0].header['content-length']).toBe(String(DATA.length));
      expect(ex.responses[1].body.toString()).toBe('next');
      expect(ex.raw.toString('latin1').includes('file body')).toBe(false);
      expect(ex.closed).toBe(false);
    });
  }

  it('HEAD twice on one connection, then GET: every file response completes', async () => {
    ts = await startServer(app('200 OK', 'file'));
    const ex = await rawRequest(ts.port, [HEAD_REQ, HEAD_REQ, get('/')], { count: 3, head: [true, true, false] });
    expect(ex.responses.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(ex.responses[2].body.toString()).toBe(DATA);
    expect(ex.raw.toString('latin1').split('file body').length).toBe(2);
  });
});

describe('a status without a body sends none, whatever the application returns', () => {
  for (const kind of ['file', 'array', 'stream'] as const) {
    for (const status of ['204 No Content', '304 Not Modified']) {
      it(`${status} with a ${kind} body: no body, no Content-Length, the connection goes on`, async () => {
        ts = await startServer(app(status, kind));
        const ex = await rawRequest(ts.port, [get('/'), get('/other')], { count: 2 });
        expect(ex.responses.map((r) => r.status)).toEqual([Number(status.slice(0, 3)), 200]);
        expect(ex.responses[0].header['content-length']).toBeUndefined();
        expect(ex.responses[0].header['transfer-encoding']).toBeUndefined();
        expect(ex.responses[1].body.toString()).toBe('next');
        expect(ex.raw.toString('latin1').includes('file body')).toBe(false);
        expect(ex.raw.toString('latin1').endsWith('\r\n\r\nnext')).toBe(true);
        expect(ex.closed).toBe(false);
      });
    }
  }
});
