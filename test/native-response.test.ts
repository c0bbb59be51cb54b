// Response framing: Content-Length computed or declared (never more sent, less closes),
// chunked streaming on HTTP/1.1, close-delimited on HTTP/1.0, no body for HEAD/204/304,
// keep-alive rules, backpressure and onDrain, sendFile, aborts.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  RESP_CLOSE, RESP_HAS_DATE, RESP_SET_LENGTH, RESULT_GONE, RESULT_OK, RESULT_SHORT, RESULT_TRUNCATED,
} from '../src/native';
import { b, exchange, GET, parseResponses, sleep, startServer, waitFor, type Req, type TestServer } from './native-harness';

let srv: TestServer | undefined;
afterEach(async () => { await srv?.close(); srv = undefined; });

describe('respond()', () => {
  it('computes Content-Length over an array of Buffers and strings (UTF-8)', async () => {
    const results: Array<number | undefined> = [];
    srv = await startServer({}, (req) => {
      results.push(b.respond(req.conn, 200, '200 OK\r\nX-A: 1\r\n', [Buffer.from('ab'), 'é', Buffer.alloc(20000, 'z'), ''], -1, 0));
    });
    const ex = await exchange(srv.port, GET('/'), { until: (t) => (parseResponses(t)[0]?.body.length ?? 0) >= 20004 });
    const [r] = parseResponses(ex.text);
    expect(r.headers['content-length']).toBe('20004');
    expect(Buffer.from(r.body, 'latin1').toString('utf8').slice(0, 3)).toBe('abé');
    expect(r.rawHead.startsWith('HTTP/1.1 200 OK\r\nX-A: 1\r\nDate: ')).toBe(true);
    // RESULT_OK comes back as undefined from respond().
    expect(results).toEqual([undefined]);
  });

  it('sends strings of every size as UTF-8 with the right Content-Length (short and long, 2-, 3- and 4-byte characters, lone surrogates)', async () => {
    // Short strings and long ones (over 16 Ki UTF-16 units, alone or in all) take different
    // ways into the output; each must come out as Buffer.from(s) would encode it.
    const bodies: Array<Array<string | Buffer>> = [
      ['é€😀', 'a', '\ud800x'],
      ['x'.repeat(16 * 1024), 'é'],
      ['€'.repeat(9000), Buffer.from('|'), '😀'.repeat(5000), '€'.repeat(20000), 'end'],
    ];
    srv = await startServer({}, (req) => {
      const i = Number(req.uri.slice(1));
      b.respond(req.conn, 200, '200 OK\r\n', i === 3 ? '€'.repeat(17000) : bodies[i], -1, 0);
    });
    const expected = [...bodies.map((parts) => Buffer.concat(parts.map((p) => Buffer.from(p)))), Buffer.from('€'.repeat(17000))];
    const total = expected.reduce((n, e) => n + e.length, 0);
    const ex = await exchange(srv.port, GET('/0') + GET('/1') + GET('/2') + GET('/3'), {
      until: (t) => parseResponses(t).length >= 4 && parseResponses(t).reduce((n, r) => n + r.body.length, 0) >= total,
    });
    const rs = parseResponses(ex.text);
    expect(rs.length).toBe(4);
    rs.forEach((r, i) => {
      expect(r.headers['content-length']).toBe(String(expected[i].length));
      expect(Buffer.from(r.body, 'latin1').equals(expected[i])).toBe(true);
    });
  });

  it('never sends more than a declared Content-Length (RESULT_TRUNCATED)', async () => {
    const results: Array<number | undefined> = [];
    srv = await startServer({}, (req) => {
      results.push(b.respond(req.conn, 200, '200 OK\r\nContent-Length: 3\r\n', 'abcdef', 3, 0));
    });
    const ex = await exchange(srv.port, GET('/') + GET('/'), { until: (t) => parseResponses(t).length >= 2 });
    expect(parseResponses(ex.text).map((r) => r.body)).toEqual(['abc', 'abc']);
    expect(ex.text.includes('def')).toBe(false);
    expect(results).toEqual([RESULT_TRUNCATED, RESULT_TRUNCATED]);
  });

  it('closes the connection when less than the declared Content-Length was sent (RESULT_SHORT)', async () => {
    const results: Array<number | undefined> = [];
    srv = await startServer({}, (req) => {
      results.push(b.respond(req.conn, 200, '200 OK\r\nContent-Length: 10\r\n', 'abc', 10, 0));
    });
    const ex = await exchange(srv.port, GET('/') + GET('/second'));
    expect(ex.closed).toBe(true);
    expect(results).toEqual([RESULT_SHORT]);
    expect(srv.requests.length).toBe(1);
  });

  it('sends no body for HEAD, 204 and 304, and no Content-Length for 204/304', async () => {
    srv = await startServer({}, (req) => {
      const status = req.uri === '/204' ? '204 No Content' : req.uri === '/304' ? '304 Not Modified' : '200 OK';
      b.respond(req.conn, Number(status.slice(0, 3)), `${status}\r\n`, 'body!', -1, 0);
    });
    const raw = 'HEAD / HTTP/1.1\r\nHost: t\r\n\r\n' + GET('/204') + GET('/304') + GET('/');
    const ex = await exchange(srv.port, raw, { until: (t) => t.includes('body!') });
    const rs = parseResponses(ex.text, 1);
    expect(rs.map((r) => r.status)).toEqual([200, 204, 304, 200]);
    expect(rs[0].headers['content-length']).toBe('5');
    expect(rs[1].headers['content-length']).toBeUndefined();
    expect(rs[2].headers['content-length']).toBeUndefined();
    expect(rs[3].body).toBe('body!');
    expect(ex.text.split('body!').length).toBe(2);
    expect(srv.requests[0].flags & 2).toBe(2);
  });

  it('leaves Date out with RESP_HAS_DATE and closes with RESP_CLOSE', async () => {
    srv = await startServer({}, (req) => {
      b.respond(req.conn, 200, '200 OK\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\n', 'x', -1, RESP_HAS_DATE | RESP_CLOSE);
    });
    const ex = await exchange(srv.port, GET('/') + GET('/never'));
    const rs = parseResponses(ex.text);
    expect(rs.length).toBe(1);
    expect(rs[0].rawHead.match(/Date:/g)!.length).toBe(1);
    expect(rs[0].headers.connection).toBe('close');
    expect(ex.closed).toBe(true);
  });

  it('takes the status code as a number (100..999): anything else, or the head in its place, throws', async () => {
    const thrown: string[] = [];
    const call = b.respond as unknown as (...args: unknown[]) => number;
    const callHead = b.writeHead as unknown as (...args: unknown[]) => number;
    srv = await startServer({}, (req) => {
      for (const bad of ['200 OK\r\n', '200', undefined, 99, 1000, 200.5]) {
        try { call(req.conn, bad, '200 OK\r\n', 'x', -1, 0); } catch (e) { thrown.push(`respond ${(e as Error).message}`); }
        try { callHead(req.conn, bad, '200 OK\r\n', -1, 0); } catch (e) { thrown.push(`writeHead ${(e as Error).message}`); }
      }
      b.respond(req.conn, 200, '200 OK\r\n', 'after', -1, 0);
    });
    const ex = await exchange(srv.port, GET('/'), { until: (t) => t.includes('after') });
    expect(thrown.length).toBe(12);
    for (const m of thrown) expect(m).toMatch(/^(respond|writeHead) tsgi: \w+\(\) status must be the response's status code/);
    expect(parseResponses(ex.text)[0].body).toBe('after');
  });

  it('RESP_SET_LENGTH: the core writes Content-Length from contentLength (after Date; none for 204/304)', async () => {
    srv = await startServer({}, (req) => {
      const status = req.uri === '/204' ? 204 : req.uri === '/304' ? 304 : 200;
      const head = status === 204 ? '204 No Content\r\n' : status === 304 ? '304 Not Modified\r\n' : '200 OK\r\n';
      if (req.uri === '/stream') {
        b.writeHead(req.conn, status, head, 5, RESP_SET_LENGTH);
        b.end(req.conn, 'hello');
      } else {
        b.respond(req.conn, status, head, 'hello', 5, RESP_SET_LENGTH);
      }
    });
    const raw = GET('/') + GET('/stream') + GET('/204') + GET('/304') + GET('/last');
    const ex = await exchange(srv.port, raw, { until: (t) => parseResponses(t).length >= 5 });
    const rs = parseResponses(ex.text);
    expect(rs.map((r) => r.status)).toEqual([200, 200, 204, 304, 200]);
    for (const i of [0, 1, 4]) {
      expect(rs[i].body).toBe('hello');
      expect(rs[i].rawHead.match(/Content-Length: 5(\r\n|$)/g)!.length).toBe(1);
      expect(rs[i].rawHead.indexOf('Date: ')).toBeLessThan(rs[i].rawHead.indexOf('Content-Length: '));
    }
    for (const i of [2, 3]) {
      expect(rs[i].headers['content-length']).toBeUndefined();
      expect(rs[i].body).toBe('');
    }
    expect(ex.text.split('hello').length).toBe(4);
  });

  it('returns RESULT_GONE for a connection that is gone or has no request in flight', async () => {
    let conn = 0;
    srv = await startServer({}, (req) => { conn = req.conn; b.abort(req.conn); });
    await exchange(srv.port, GET('/'));
    expect(b.respond(conn, 200, '200 OK\r\n', null, -1, 0)).toBe(RESULT_GONE);
    expect(b.respond(123456789, 200, '200 OK\r\n', null, -1, 0)).toBe(RESULT_GONE);
    expect(srv.aborts).toEqual([]);  // abort() by JS is not reported back
  });
});

describe('keep-alive', () => {
  it('HTTP/1.0 without keep-alive: Connection: close, then closed', async () => {
    srv = await startServer();
    const ex = await exchange(srv.port, 'GET /a HTTP/1.0\r\n\r\n');
    const rs = parseResponses(ex.text);
    expect(rs.length).toBe(1);
    expect(rs[0].headers.connection).toBe('close');
    expect(rs[0].rawHead.startsWith('HTTP/1.1 200')).toBe(true);
    expect(ex.closed).toBe(true);
    expect(srv.requests[0].minor).toBe(0);
    expect(srv.requests[0].flags & 1).toBe(0);
  });

  it('HTTP/1.0 with Connection: keep-alive persists and says so', async () => {
    srv = await startServer();
    const req = 'GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n';
    const ex = await exchange(srv.port, req + req, { until: (t) => parseResponses(t).length >= 2 });
    const rs = parseResponses(ex.text);
    expect(rs.map((r) => r.headers.connection)).toEqual(['keep-alive', 'keep-alive']);
    expect(ex.closed).toBe(false);
  });

  it('HTTP/1.1 Connection: close ends the connection after the response', async () => {
    srv = await startServer();
    const ex = await exchange(srv.port, GET('/', 'Connection: close\r\n') + GET('/never'));
    expect(parseResponses(ex.text).map((r) => r.headers.connection)).toEqual(['close']);
    expect(ex.closed).toBe(true);
    expect(srv.requests.length).toBe(1);
  });

  it('maxKeepAliveRequests closes after that many requests', async () => {
    srv = await startServer({ maxKeepAliveRequests: 3 });
    const ex = await exchange(srv.port, GET('/1') + GET('/2') + GET('/3') + GET('/4'));
    const rs = parseResponses(ex.text);
    expect(rs.map((r) => r.headers.connection)).toEqual([undefined, undefined, 'close']);
    expect(ex.closed).toBe(true);
  });
});

describe('streamed responses', () => {
  it('chunks on HTTP/1.1 and writes each chunk without waiting for the next', async () => {
    srv = await startServer({}, (req) => {
      b.writeHead(req.conn, 200, '200 OK\r\n', -1, 0);
      b.write(req.conn, 'first');
      setTimeout(() => { b.write(req.conn, Buffer.from('second')); b.end(req.conn, 'third'); }, 100);
    });
    const sock = net.connect(srv.port, '127.0.0.1');
    let text = '';
    sock.on('data', (d) => { text += d.toString('latin1'); });
    sock.write(GET('/'));
    await waitFor(() => text.includes('first'), 2000, 'first chunk');
    expect(text.includes('second')).toBe(false);
    await waitFor(() => text.endsWith('0\r\n\r\n'), 2000, 'last chunk');
    const [r] = parseResponses(text);
    expect(r.headers['transfer-encoding']).toBe('chunked');
    expect(r.body).toBe('firstsecondthird');
    sock.destroy();
  });

  it('is close-delimited on HTTP/1.0', async () => {
    srv = await startServer({}, (req) => {
      b.writeHead(req.conn, 200, '200 OK\r\n', -1, 0);
      b.write(req.conn, 'a');
      expect(b.end(req.conn, 'b')).toBe(RESULT_OK);
    });
    const ex = await exchange(srv.port, 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    const [r] = parseResponses(ex.text);
    expect(r.headers['transfer-encoding']).toBeUndefined();
    expect(r.headers.connection).toBe('close');
    expect(r.body).toBe('ab');
    expect(ex.closed).toBe(true);
  });

  it('with a declared length: no chunking, excess dropped, short closes', async () => {
    const results: Array<number | undefined> = [];
    srv = await startServer({}, (req) => {
      const n = req.uri === '/short' ? 10 : 4;
      b.writeHead(req.conn, 200, `200 OK\r\nContent-Length: ${n}\r\n`, n, 0);
      b.write(req.conn, 'abc');
      results.push(b.end(req.conn, 'def'));
    });
    const ex = await exchange(srv.port, GET('/ok') + GET('/short'));
    expect(ex.text.includes('abcd\r\n') || ex.text.includes('abcdHTTP')).toBe(true);
    expect(results).toEqual([RESULT_TRUNCATED, RESULT_SHORT]);
    expect(ex.closed).toBe(true);
  });

  it('write() returns false above the high-water mark and onDrain follows', async () => {
    const chunk = Buffer.alloc(64 * 1024, 'y');
    // More than the kernel's socket buffers can absorb for a client that does not read
    // (receive buffers autotune up to net.ipv4.tcp_rmem's maximum, 32 MiB on some kernels).
    const total = 64 * 1024 * 1024;
    let written = 0;
    let sawFalse = false;
    srv = await startServer({}, (req, s) => {
      b.writeHead(req.conn, 200, '200 OK\r\n', -1, 0);
      const pump = () => {
        while (written < total) {
          written += chunk.length;
          if (!b.write(req.conn, chunk)) { sawFalse = true; return; }
        }
        b.end(req.conn, null);
      };
      s.onDrain = pump;
      pump();
    });
    const sock = net.connect(srv.port, '127.0.0.1');
    let got = 0;
    let text = '';
    sock.on('data', (d) => { got += d.length; text = d.subarray(-5).toString('latin1'); });
    sock.write(GET('/'));
    sock.pause();
    await sleep(150);
    expect(sawFalse).toBe(true);
    expect(written).toBeLessThan(total);
    sock.resume();
    await waitFor(() => text.endsWith('0\r\n\r\n'), 20_000, 'the whole body');
    expect(srv.drains.length).toBeGreaterThan(0);
    expect(got).toBeGreaterThan(total);
    sock.destroy();
  });

  it('sendFile sends the file range (chunked and with Content-Length), then onDrain', async () => {
    const file = path.join(os.tmpdir(), `tsgi-sendfile-${process.pid}.bin`);
    const content = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < content.length; i++) content[i] = (i * 7) & 0xff;
    fs.writeFileSync(file, content);
    const fd = fs.openSync(file, 'r');
    try {
      srv = await startServer({}, (req, s) => {
        const chunked = req.uri === '/chunked';
        const len = content.length - 100;
        b.writeHead(req.conn, 200, '200 OK\r\n', chunked ? -1 : len, 0);
        b.write(req.conn, '');
        expect(b.sendFile(req.conn, fd, 100, len)).toBe(RESULT_OK);
        s.onDrain = (c) => { if (c === req.conn) b.end(req.conn, null); };
      });
      for (const uri of ['/length', '/chunked']) {
        const sock = net.connect(srv.port, '127.0.0.1');
        const parts: Buffer[] = [];
        sock.on('data', (d) => parts.push(d));
        sock.write(GET(uri));
        sock.pause();
        await sleep(50);  // let sendfile hit EAGAIN and wait for writability
        sock.resume();
        await waitFor(() => {
          const rs = parseResponses(Buffer.concat(parts).toString('latin1'));
          return rs.length === 1 && rs[0].body.length === content.length - 100;
        }, 5000, `sendFile ${uri}`);
        const [r] = parseResponses(Buffer.concat(parts).toString('latin1'));
        expect(r.chunked).toBe(uri === '/chunked');
        expect(Buffer.from(r.body, 'latin1').equals(content.subarray(100))).toBe(true);
        sock.destroy();
      }
      expect(srv.drains.length).toBeGreaterThanOrEqual(2);
    } finally {
      fs.closeSync(fd);
      fs.unlinkSync(file);
    }
  });

  it('sendFile on a response without a body (HEAD, 204) queues nothing, and onDrain still comes', async () => {
    const file = path.join(os.tmpdir(), `tsgi-sendfile-nobody-${process.pid}.bin`);
    fs.writeFileSync(file, 'file body!');
    const fd = fs.openSync(file, 'r');
    const sent: number[] = [];
    const ended: number[] = [];
    try {
      srv = await startServer({}, (req) => {
        const status = req.uri === '/204' ? 204 : 200;
        b.writeHead(req.conn, status, status === 204 ? '204 No Content\r\n' : '200 OK\r\n', 10, RESP_SET_LENGTH);
        sent.push(b.sendFile(req.conn, fd, 0, 10));
      });
      srv.onDrain = (c) => { ended.push(b.end(c, null)); };
      const raw = 'HEAD / HTTP/1.1\r\nHost: t\r\n\r\n' + GET('/204') + GET('/');
      const ex = await exchange(srv.port, raw, { until: (t) => t.includes('file body!') });
      const rs = parseResponses(ex.text, 1);
      expect(rs.map((r) => r.status)).toEqual([200, 204, 200]);
      expect(rs[0].headers['content-length']).toBe('10');
      expect(rs[1].headers['content-length']).toBeUndefined();
      expect(rs[2].body).toBe('file body!');
      expect(ex.text.split('file body!').length).toBe(2);
      expect(sent).toEqual([RESULT_OK, RESULT_OK, RESULT_OK]);
      expect(ended).toEqual([RESULT_OK, RESULT_OK, RESULT_OK]);
    } finally {
      fs.closeSync(fd);
      fs.unlinkSync(file);
    }
  });

  // A reset (RST), not a FIN: a FIN alone is a half-close, after which the response is
  // still sent (test/native-half-close.test.ts).
  it('reports onAbort when the client resets the connection mid-response', async () => {
    let conn = 0;
    srv = await startServer({}, (req) => {
      conn = req.conn;
      b.writeHead(req.conn, 200, '200 OK\r\n', -1, 0);
      b.write(req.conn, 'partial');
    });
    const sock = net.connect(srv.port, '127.0.0.1');
    sock.write(GET('/'));
    await new Promise((r) => sock.once('data', r));
    sock.resetAndDestroy();
    await waitFor(() => srv!.aborts.length === 1, 2000, 'onAbort');
    expect(srv.aborts).toEqual([conn]);
    expect(b.write(conn, 'more')).toBe(false);
    expect(b.end(conn, null)).toBe(RESULT_GONE);
  });

  it('reports onAbort when the client resets the connection before any response', async () => {
    srv = await startServer({}, () => { /* never answers */ });
    const sock = net.connect(srv.port, '127.0.0.1');
    sock.write(GET('/'));
    await waitFor(() => srv!.requests.length === 1, 2000, 'request');
    sock.resetAndDestroy();
    await waitFor(() => srv!.aborts.length === 1, 2000, 'onAbort');
  });
});

// sendFile in a child process, so TSGI_NO_SENDFILE (read when the addon loads) can be set:
// the same requests through sendfile(2) and through the pread() fallback.
const SENDFILE_CHILD = String.raw`
const fs = require('node:fs');
const path = require('node:path');
const root = process.env.TSGI_TEST_ROOT;
const b = process.env.TSGI_NATIVE_ADDON ? require(path.resolve(process.env.TSGI_NATIVE_ADDON))
  : require(path.join(root, 'node_modules', 'node-gyp-build'))(root);
const fd = fs.openSync(process.env.TSGI_TEST_FILE, 'r');
const size = fs.fstatSync(fd).size;
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const limits = { maxRequestLine: 8190, maxHeaderSize: 16384, maxHeaders: 100, maxBodySize: 1 << 20,
  bodyMemorySize: 1 << 20, spoolDir: '/tmp', headerTimeout: 5000, bodyTimeout: 5000,
  keepAliveTimeout: 5000, writeTimeout: 5000, responseHold: 100, sendfile: process.env.TSGI_TEST_SENDFILE,
  maxConnections: 100, maxKeepAliveRequests: 0, firstByteTimeout: 5000, minBodyRate: 0, minBodyRateGrace: 5000 };
const pending = new Map();
const id = b.createServer(limits, {
  onRequest(conn, head) {
    const uri = head.slice(b.record[1], b.record[2]);
    // /range: [100, size - 1000) with Content-Length; /chunked: the same range chunked;
    // /short: 5000 bytes declared and asked for from size - 1000 (the file has 1000 left).
    const [off, len, declared] = uri === '/short' ? [size - 1000, 5000, 5000]
      : [100, size - 1100, uri === '/chunked' ? -1 : size - 1100];
    b.writeHead(conn, 200, declared >= 0 ? '200 OK\r\nContent-Length: ' + declared + '\r\n' : '200 OK\r\n', declared, 0);
    out({ uri, sendFile: b.sendFile(conn, fd, off, len) });
    pending.set(conn, uri);
  },
  onDrain(conn) {
    const uri = pending.get(conn);
    if (uri === undefined) return;
    pending.delete(conn);
    out({ uri, end: b.end(conn, null) });
  },
  onAbort(conn) { out({ abort: conn }); },
});
out({ port: b.listenTcp(id, '127.0.0.1', 0, 128).port });
process.stdin.on('end', () => b.close(id, false, () => process.exit(0)));
process.stdin.resume();
`;

interface SendFileChild {
  port: number;
  events: Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

// use: the sendfile limit; the client is on 127.0.0.1, so 'always' is what takes sendfile(2).
async function startSendFileChild(file: string, noSendfile: boolean, wrap: string[] = [], use = 'always'): Promise<SendFileChild> {
  const env = { ...process.env, TSGI_TEST_ROOT: path.join(__dirname, '..'), TSGI_TEST_FILE: file, TSGI_NO_SENDFILE: noSendfile ? '1' : '0', TSGI_TEST_SENDFILE: use };
  const argv = [...wrap, process.execPath, '-e', SENDFILE_CHILD];
  const child = spawn(argv[0], argv.slice(1), { env, stdio: ['pipe', 'pipe', 'inherit'] });
  const events: Array<Record<string, unknown>> = [];
  let buf = '';
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) { events.push(JSON.parse(buf.slice(0, nl))); buf = buf.slice(nl + 1); }
  });
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const stop = async () => {
    child.stdin.end();
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  };
  try {
    await waitFor(() => events.length > 0, 10000, 'the child server');
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return { port: events.shift()!.port as number, events, stop };
}

/** One request on a new connection; the client stops reading for a while first (the server hits a full socket). */
function fetchPaused(port: number, raw: string, pauseMs = 50): Promise<{ data: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    const parts: Buffer[] = [];
    let closed = false;
    const timer = setTimeout(() => sock.destroy(), 8000);
    sock.on('data', (d) => parts.push(d));
    sock.on('end', () => { closed = true; });
    sock.on('error', () => {});
    sock.on('close', () => { clearTimeout(timer); resolve({ data: Buffer.concat(parts), closed }); });
    sock.write(raw);
    sock.pause();
    setTimeout(() => sock.resume(), pauseMs);
  });
}

describe('sendFile: sendfile(2) and the pread() fallback (TSGI_NO_SENDFILE=1)', () => {
  const file = path.join(os.tmpdir(), `tsgi-sendfile-modes-${process.pid}.bin`);
  const content = Buffer.alloc(2 * 1024 * 1024 + 333);
  for (let i = 0; i < content.length; i++) content[i] = (i * 13 + (i >> 11)) & 0xff;

  for (const mode of ['sendfile', 'pread'] as const) {
    it(`${mode}: serves the range (Content-Length and chunked); a file shorter than the length closes the connection`, async () => {
      fs.writeFileSync(file, content);
      const child = await startSendFileChild(file, mode === 'pread');
      try {
        const want = content.subarray(100, content.length - 1000);
        for (const uri of ['/range', '/chunked']) {
          const { data, closed } = await fetchPaused(child.port, GET(uri, 'Connection: close\r\n'));
          const rs = parseResponses(data.toString('latin1'));
          expect(rs.length).toBe(1);
          expect(rs[0].chunked).toBe(uri === '/chunked');
          expect(Buffer.from(rs[0].body, 'latin1').equals(want)).toBe(true);
          expect(closed).toBe(true);
        }
        // Short: the head and the 1000 bytes the file has, then the connection closes
        // (the pipelined request behind it is not answered); end() says RESULT_SHORT.
        const { data, closed } = await fetchPaused(child.port, GET('/short') + GET('/range'));
        expect(closed).toBe(true);
        const text = data.toString('latin1');
        const headEnd = text.indexOf('\r\n\r\n') + 4;
        expect(text.slice(0, headEnd)).toContain('Content-Length: 5000\r\n');
        expect(data.subarray(headEnd).equals(content.subarray(content.length - 1000))).toBe(true);
        await waitFor(() => child.events.some((e) => e.uri === '/short' && 'end' in e), 3000, 'end() of /short');
        expect(child.events.filter((e) => 'end' in e)).toEqual([
          { uri: '/range', end: RESULT_OK }, { uri: '/chunked', end: RESULT_OK }, { uri: '/short', end: RESULT_SHORT },
        ]);
        expect(child.events.filter((e) => 'sendFile' in e).every((e) => e.sendFile === RESULT_OK)).toBe(true);
        expect(child.events.filter((e) => 'abort' in e)).toEqual([]);
      } finally {
        await child.stop();
        fs.rmSync(file, { force: true });
      }
    });
  }

  const straceWorks = spawnSync('strace', ['-o', '/dev/null', 'true']).status === 0;
  it.skipIf(!straceWorks)('TSGI_NO_SENDFILE=1, sendfile "never", and "auto" to a loopback client really avoid sendfile(2) (strace)', async () => {
    fs.writeFileSync(file, content);
    const calls: Record<string, string> = {};
    try {
      for (const mode of ['sendfile', 'pread', 'never', 'auto'] as const) {
        const log = path.join(os.tmpdir(), `tsgi-strace-${process.pid}-${mode}.txt`);
        const use = mode === 'sendfile' || mode === 'pread' ? 'always' : mode;
        const child = await startSendFileChild(file, mode === 'pread', ['strace', '-f', '-e', 'trace=sendfile,sendfile64,pread64', '-o', log], use);
        try {
          const { data } = await fetchPaused(child.port, GET('/range', 'Connection: close\r\n'), 0);
          expect(data.length).toBeGreaterThan(content.length - 1100);
        } finally {
          await child.stop();
        }
        calls[mode] = fs.readFileSync(log, 'latin1');
        fs.rmSync(log, { force: true });
      }
    } finally {
      fs.rmSync(file, { force: true });
    }
    expect(calls.sendfile).toMatch(/sendfile(64)?\(/);
    for (const mode of ['pread', 'never', 'auto']) {
      expect(calls[mode]).not.toMatch(/sendfile(64)?\(/);
      // the range is 31 full 64 KiB blocks and a partial one, each read with pread
      expect(calls[mode].match(/^\d+ +pread64\(.*, 65536, \d+\) = 65536$/gm)!.length).toBeGreaterThanOrEqual(31);
    }
  });
});
