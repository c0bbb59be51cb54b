// wsgi.file_wrapper(file, blockSize, { offset, length }): the native sendfile path and the
// iterating path (a body walked by middleware) send exactly that byte range.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileWrapper, type App, type FileRange } from '../src/index';
import { get, rawRequest } from './helpers/http';
import { startServer, type TestServer } from './helpers/server';

let dir: string;
let file: string;
const DATA = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 31) & 0xff));
let srv: TestServer;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-fwrange-'));
  file = path.join(dir, 'data.bin');
  fs.writeFileSync(file, DATA);
  const app: App = (environ, sr) => {
    const q = new URLSearchParams(environ.QUERY_STRING);
    const range: FileRange = { offset: Number(q.get('offset') ?? 0) };
    if (q.has('length')) range.length = Number(q.get('length'));
    sr('200 OK', [['Content-Type', 'application/octet-stream']]);
    const w = (environ['wsgi.file_wrapper'] as (f: string, b?: number, r?: FileRange) => FileWrapper)(file, 4096, range);
    if (environ.PATH_INFO === '/iterate') {
      // What a recoding middleware sees: the wrapper as an ordinary async iterable.
      return Object.assign((async function* () { yield* w; })(), { close: () => w.close() });
    }
    if (environ.PATH_INFO === '/sync') return Object.assign((function* () { yield* w; })(), { close: () => w.close() });
    return w;
  };
  srv = await startServer(app);
});

afterAll(async () => {
  await srv.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('wsgi.file_wrapper range', () => {
  for (const route of ['/send', '/iterate', '/sync']) {
    it(`${route}: offset and length select exactly those bytes`, async () => {
      const r = (await rawRequest(srv.port, get(`${route}?offset=12345&length=100000`))).responses[0];
      expect(r.status).toBe(200);
      expect(Buffer.compare(r.body, DATA.subarray(12345, 112345))).toBe(0);
    });

    it(`${route}: an offset alone goes to the end; a length past the end stops at it`, async () => {
      const a = (await rawRequest(srv.port, get(`${route}?offset=299000`))).responses[0];
      expect(Buffer.compare(a.body, DATA.subarray(299000))).toBe(0);
      const b = (await rawRequest(srv.port, get(`${route}?offset=299990&length=500`))).responses[0];
      expect(Buffer.compare(b.body, DATA.subarray(299990))).toBe(0);
    });
  }

  it('the sendfile path declares the range size as Content-Length', async () => {
    const r = (await rawRequest(srv.port, get('/send?offset=100&length=1000'))).responses[0];
    expect(r.header['content-length']).toBe('1000');
  });

  it('a bad range is refused with a message', () => {
    expect(() => new FileWrapper(file, undefined, { offset: -1 })).toThrow(/range must be/);
    expect(() => new FileWrapper(file, undefined, { offset: 0, length: 1.5 })).toThrow(/range must be/);
  });
});
