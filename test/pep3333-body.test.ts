// PEP 3333 on the response body and wsgi.input, through real sockets: Content-Length
// honoured, framing without it, unbuffered streaming, backpressure, file_wrapper.
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Body } from '../src/index';
import { get, rawRequest } from './helpers/http';
import { sleep, startServer, until, type TestServer } from './helpers/server';

let ts: TestServer | undefined;
afterEach(async () => { await ts?.close(); ts = undefined; });

describe('Content-Length from the application is honoured', () => {
  it('an array body of the declared length is sent as is', async () => {
    ts = await startServer((e, sr) => { sr('200 OK', [['Content-Length', '11']]); return ['Hello', ' World']; });
    const { responses, closed } = await rawRequest(ts.port, get('/'));
    expect(responses[0].header['content-length']).toBe('11');
    expect(responses[0].body.toString()).toBe('Hello World');
    expect(closed).toBe(false);
  });

  it('"never send more": a longer body is cut at the declared length', async () => {
    ts = await startServer((e, sr) => { sr('200 OK', [['Content-Length', '5']]); return ['Hello', ' World']; });
    const { raw } = await rawRequest(ts.port, get('/'), { timeoutMs: 1000 });
    const text = raw.toString();
    expect(text.slice(text.indexOf('\r\n\r\n') + 4)).toBe('Hello');
    expect(text.match(/content-length/gi)?.length).toBe(1);
  });

  it('a longer streamed body is cut, and the generator is not pulled forever', async () => {
    let pulled = 0;
    ts = await startServer((e, sr) => { sr('200 OK', [['Content-Length', '100000']]); return (function* () { for (;;) { pulled++; yield 'z'.repeat(10_000); } })(); });
    const { responses } = await rawRequest(ts.port, get('/'), { timeoutMs: 3000 });
    expect(responses[0].body.length).toBe(100_000);
    expect(pulled).toBeLessThan(20);
  });

  it('"if the app sends less": the connection is closed and the short response is logged on wsgi.errors', async () => {
    ts = await startServer((e, sr) => { sr('200 OK', [['Content-Length', '100']]); return ['only this']; });
    const ex = await rawRequest(ts.port, [get('/'), get('/')], { count: 2, timeoutMs: 2000 });
    expect(ex.closed).toBe(true);
    expect(ex.responses.length).toBe(0);
    await until(() => ts!.errors().includes('Content-Length'));
    expect(ts.errors()).toMatch(/GET \/: the application declared Content-Length: 100 but its body was 9 bytes/);
  });

  it('a short streamed body closes the connection too', async () => {
    ts = await startServer((e, sr) => { sr('200 OK', [['Content-Length', '100']]); return (async function* () { yield 'abc'; })(); });
    const ex = await rawRequest(ts.port, get('/'), { count: 0, timeoutMs: 2000 });
    expect(ex.closed).toBe(true);
    await until(() => ts!.errors().includes('Content-Length: 100'));
  });
});

describe('framing without Content-Length', () => {
  it('an array body gets a computed Content-Length', async () => {
    ts = await startServer((e, sr) => { sr('200 OK', []); return ['abc', Buffer.from('dé')]; });
    const { responses } = await rawRequest(ts.port, get('/'));
    expect(responses[0].header['content-length']).toBe(String(3 + Buffer.byteLength('dé')));
    expect(responses[0].body.toString()).toBe('abcdé');
  });

  it('"HTTP/1.1 responses are chunked" when streamed', async () => {
    ts = await startServer((e, sr) => { sr('200 OK', []); return (async function* () { yield 'a'; yield 'b'; })(); });
    const { responses } = await rawRequest(ts.port, get('/'));
    expect(responses[0].chunked).toBe(true);
    expect(responses[0].body.toString()).toBe('ab');
  });

  it('"HTTP/1.0 responses end with the connection"', async () => {
    ts = await startServer((e, sr) => { sr('200 OK', []); return (async function* () { yield 'a'; yield 'b'; })(); });
    const ex = await rawRequest(ts.port, 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n', { count: 0, timeoutMs: 2000 });
    expect(ex.closed).toBe(true);
    expect(ex.responses[0].header['transfer-encoding']).toBeUndefined();
    expect(ex.responses[0].body.toString()).toBe('ab');
  });

  it('strings are sent as UTF-8', async () => {
    ts = await startServer((e, sr) => { sr('200 OK', []); return (function* () { yield 'héllo ☃'; })(); });
    const { responses } = await rawRequest(ts.port, get('/'));
    expect(responses[0].body.toString('utf8')).toBe('héllo ☃');
  });

  it('Uint8Array chunks that are not Buffers are sent from their own bytes', async () => {
    const u = new Uint8Array([0, 104, 105, 0]).subarray(1, 3);
    ts = await startServer((e, sr) => { sr('200 OK', []); return [u]; });
    const { responses } = await rawRequest(ts.port, get('/'));
    expect(responses[0].body.toString()).toBe('hi');
  });

  it('a HEAD response carries the headers and no body', async () => {
    ts = await startServer((e, sr) => { sr('200 OK', [['Content-Type', 'text/plain']]); return ['body!']; });
    const ex = await rawRequest(ts.port, ['HEAD / HTTP/1.1\r\nHost: h\r\n\r\n', get('/')], { count: 2, head: [true, false] });
    expect(ex.responses[0].status).toBe(200);
    expect(ex.responses[0].header['content-length']).toBe('5');
    expect(ex.responses[1].body.toString()).toBe('body!');
  });
});

describe('"each yielded chunk is sent without waiting for the next"', () => {
  it('an async generator\'s chunk reaches the client while the next one is pending', async () => {
    let release!: () => void;
    const hold = new Promise<void>((r) => (release = r));
    ts = await startServer((e, sr) => { sr('200 OK', []); return (async function* () { yield 'first-chunk'; await hold; yield 'second-chunk'; })(); });
    const sock = net.connect(ts.port, '127.0.0.1');
    const got: Buffer[] = [];
    sock.on('data', (d) => got.push(d));
    sock.write(get('/'));
    await until(() => Buffer.concat(got).includes('first-chunk'), 3000, 'first chunk before the second exists');
    expect(Buffer.concat(got).includes('second-chunk')).toBe(false);
    release();
    await until(() => Buffer.concat(got).includes('second-chunk'));
    sock.destroy();
  });

  it('a sync generator that produces much more than a batch streams it all, in order', async () => {
    ts = await startServer((e, sr) => { sr('200 OK', []); return (function* () { for (let i = 0; i < 50_000; i++) yield `${i}\n`; })(); });
    const { responses } = await rawRequest(ts.port, get('/'), { timeoutMs: 10_000 });
    const lines = responses[0].body.toString().trimEnd().split('\n');
    expect(lines.length).toBe(50_000);
    expect(lines[49_999]).toBe('49999');
    expect(lines.every((l, i) => l === String(i))).toBe(true);
  });

  it('backpressure: a client that does not read stops the generator from being pulled', async () => {
    let pulled = 0;
    ts = await startServer((e, sr) => { sr('200 OK', []); return (function* () { for (;;) { pulled++; yield Buffer.alloc(64 * 1024); } })(); });
    const sock = net.connect(ts.port, '127.0.0.1');
    sock.pause();
    sock.write(get('/'));
    await sleep(500);
    const stalled = pulled;
    await sleep(300);
    expect(pulled).toBe(stalled);
    expect(stalled * 64 * 1024).toBeLessThan(64 * 1024 * 1024);
    sock.destroy();
  });
});

describe('wsgi.input over the wire', () => {
  it('read(n), readline() and EOF on a real body; an empty Buffer at the end, never a hang', async () => {
    const reads: string[] = [];
    ts = await startServer((env, sr) => {
      const input = env['wsgi.input'];
      reads.push(input.readline().toString(), input.read(3).toString(), input.read().toString(), String(input.read().length), String(input.readline().length));
      sr('200 OK', []);
      return [];
    });
    await rawRequest(ts.port, 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 14\r\n\r\nline one\nabcde');
    expect(reads).toEqual(['line one\n', 'abc', 'de', '0', '0']);
  });

  it('a request without a body reads as empty', async () => {
    let len = -1;
    ts = await startServer((env, sr) => { len = env['wsgi.input'].read().length; sr('200 OK', []); return []; });
    await rawRequest(ts.port, get('/'));
    expect(len).toBe(0);
  });

  it('an async application can read the body after awaiting', async () => {
    ts = await startServer(async (env, sr) => {
      await sleep(10);
      const chunks: Buffer[] = [];
      for await (const c of env['wsgi.input']) chunks.push(c);
      sr('200 OK', []);
      return [Buffer.concat(chunks)];
    });
    const { responses } = await rawRequest(ts.port, 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello');
    expect(responses[0].body.toString()).toBe('hello');
  });
});

describe('wsgi.file_wrapper', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-fw-'));
  const file = path.join(dir, 'data.bin');
  const data = crypto.randomBytes(300_000);
  fs.writeFileSync(file, data);

  it('a path is sent whole with a Content-Length', async () => {
    ts = await startServer((env, sr) => { sr('200 OK', [['Content-Type', 'application/octet-stream']]); return env['wsgi.file_wrapper'](file); });
    const { responses } = await rawRequest(ts.port, get('/'), { timeoutMs: 5000 });
    expect(responses[0].header['content-length']).toBe(String(data.length));
    expect(responses[0].body.equals(data)).toBe(true);
  });

  it('the application\'s Content-Length is honoured: only that much of the file is sent', async () => {
    ts = await startServer((env, sr) => { sr('200 OK', [['Content-Length', '1000']]); return env['wsgi.file_wrapper'](fs.openSync(file, 'r')); });
    const ex = await rawRequest(ts.port, [get('/'), get('/')], { count: 2, timeoutMs: 5000 });
    expect(ex.responses[0].body.equals(data.subarray(0, 1000))).toBe(true);
    expect(ex.responses[1].body.equals(data.subarray(0, 1000))).toBe(true);
  });

  it('a FileHandle is accepted and closed when the response ends', async () => {
    let handle: fs.promises.FileHandle | undefined;
    ts = await startServer(async (env, sr) => {
      handle = await fs.promises.open(file, 'r');
      sr('200 OK', []);
      return env['wsgi.file_wrapper'](handle);
    });
    const { responses } = await rawRequest(ts.port, get('/'), { timeoutMs: 5000 });
    expect(responses[0].body.equals(data)).toBe(true);
    await until(() => { try { fs.fstatSync(handle!.fd); return false; } catch { return true; } }, 2000, 'handle closed');
  });

  it('under middleware that iterates it, the wrapper is an ordinary iterable of blocks', async () => {
    ts = await startServer((env, sr) => {
      sr('200 OK', []);
      const inner = env['wsgi.file_wrapper'](file, 4096) as Iterable<Buffer>;
      return (function* () { for (const b of inner) yield b; })() as Body;
    });
    const { responses } = await rawRequest(ts.port, get('/'), { timeoutMs: 5000 });
    expect(responses[0].body.equals(data)).toBe(true);
  });

  it('a pipe (no size to send) is streamed block by block', async () => {
    const fifo = path.join(dir, 'pipe');
    const { execFileSync, spawn } = await import('node:child_process');
    execFileSync('mkfifo', [fifo]);
    const writer = spawn('sh', ['-c', `printf 'through a pipe' > ${fifo}`]);
    ts = await startServer((env, sr) => { sr('200 OK', []); return env['wsgi.file_wrapper'](fs.openSync(fifo, 'r')); });
    const { responses } = await rawRequest(ts.port, get('/'), { timeoutMs: 5000 });
    expect(responses[0].chunked).toBe(true);
    expect(responses[0].body.toString()).toBe('through a pipe');
    writer.kill();
  });

  it('a missing file is an application error (500)', async () => {
    ts = await startServer((env, sr) => { sr('200 OK', []); return env['wsgi.file_wrapper'](path.join(dir, 'nope')); });
    const { responses } = await rawRequest(ts.port, get('/'));
    expect(responses[0].status).toBe(500);
  });
});

describe('"100-continue ... and request de-chunking are the server\'s job"', () => {
  it('a client that sends Expect: 100-continue gets 100 Continue, sends its body, and the application reads it', async () => {
    ts = await startServer((env, sr) => { sr('200 OK', []); return [env['wsgi.input'].read()]; });
    const sock = net.connect(ts.port, '127.0.0.1');
    const got: Buffer[] = [];
    sock.on('data', (d) => got.push(d));
    sock.write('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
    await until(() => Buffer.concat(got).toString().startsWith('HTTP/1.1 100 Continue\r\n\r\n'), 3000, '100 Continue');
    sock.write('hello');
    await until(() => Buffer.concat(got).toString().endsWith('hello'), 3000, 'the final response');
    expect(Buffer.concat(got).toString()).toMatch(/HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
    sock.destroy();
  });
});

describe('wsgi.errors', () => {
  it('write(), writelines() and flush() go to the configured errors stream', async () => {
    ts = await startServer((env, sr) => {
      const errors = env['wsgi.errors'];
      errors.write('one\n');
      errors.writelines(['two\n', 'three\n']);
      errors.flush();
      sr('200 OK', []);
      return [];
    });
    await rawRequest(ts.port, get('/'));
    expect(ts.errors()).toBe('one\ntwo\nthree\n');
  });
});
