// A uwsgi listener ({ protocol: 'uwsgi' }) over real loopback and Unix sockets: packets as
// nginx's uwsgi_pass sends them (written raw from a Node socket here; the nginx suites
// drive the real thing), the request record and environ they become, the body framed by
// CONTENT_LENGTH, the HTTP/1.1 answer with Connection: close, and the refusals.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildEnviron, type EnvironContext } from '../src/environ';
import { ErrorOutput } from '../src/errors-stream';
import { fileWrapper } from '../src/file-wrapper';
import { EMPTY_INPUT } from '../src/input';
import { FLAG_UWSGI, type NativeListenOptions } from '../src/native';
import type { FileWrapperFactory } from '../src/types';
import { b, exchange, parseResponses, startServer, type Req, type TestServer } from './native-harness';

let srv: TestServer | undefined;
afterEach(async () => { await srv?.close(); srv = undefined; });

type Vars = Array<[string, string]>;

/** A uwsgi packet: modifier1, datasize (u16 LE), modifier2, then the variables. */
function packet(vars: Vars, modifier1 = 0): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of vars) {
    const kb = Buffer.from(k, 'latin1');
    const vb = Buffer.from(v, 'latin1');
    const kl = Buffer.alloc(2); kl.writeUInt16LE(kb.length);
    const vl = Buffer.alloc(2); vl.writeUInt16LE(vb.length);
    parts.push(kl, kb, vl, vb);
  }
  const block = Buffer.concat(parts);
  const header = Buffer.alloc(4);
  header[0] = modifier1;
  header.writeUInt16LE(block.length, 1);
  return Buffer.concat([header, block]);
}

/** Percent-decoding to bytes as latin-1 characters ($document_uri is decoded bytes). */
const decodeBytes = (s: string) => s.replace(/%([0-9A-Fa-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));

/** What nginx's stock uwsgi_params send for a request. */
function nginxVars(method: string, uri: string, extra: Vars = [], body = ''): Vars {
  const q = uri.indexOf('?');
  return [
    ['QUERY_STRING', q < 0 ? '' : uri.slice(q + 1)],
    ['REQUEST_METHOD', method],
    ['CONTENT_TYPE', body ? 'text/plain' : ''],
    ['CONTENT_LENGTH', body ? String(Buffer.byteLength(body)) : ''],
    ['REQUEST_URI', uri],
    ['PATH_INFO', decodeBytes(q < 0 ? uri : uri.slice(0, q))],
    ['DOCUMENT_ROOT', '/usr/share/nginx/html'],
    ['SERVER_PROTOCOL', 'HTTP/1.1'],
    ['REQUEST_SCHEME', 'http'],
    ['REMOTE_ADDR', '203.0.113.9'],
    ['REMOTE_PORT', '51515'],
    ['SERVER_PORT', '8080'],
    ['SERVER_NAME', 'www.example'],
    ['HTTP_HOST', 'www.example:8080'],
    ['HTTP_USER_AGENT', 'curl/8.5.0'],
    ...extra,
  ];
}

const uwsgi = (o: NativeListenOptions = {}): NativeListenOptions => ({ protocol: 'uwsgi', ...o });
const listenUwsgi = (o: NativeListenOptions = {}) => (id: number) => b.listenTcp(id, '127.0.0.1', 0, 128, uwsgi(o));

function echoBody(req: Req): void {
  const body = req.body ? req.body.toString('latin1') : '';
  b.respond(req.conn, 200, '200 OK\r\nContent-Type: text/plain\r\n', `${req.method} ${req.uri} [${body}]`, -1, 0);
}

function environOf(req: Req) {
  const ctx: EnvironContext = {
    scriptName: '', urlScheme: 'http', multithread: false, multiprocess: false,
    errors: new ErrorOutput({ write() { return true; } }), fileWrapper: fileWrapper as FileWrapperFactory,
    knownKeys: b.knownHeaders(), serverNames: ['127.0.0.1'], serverPorts: ['1'],
  };
  // The record is rewritten per request: rebuild it from the decoded request.
  return buildEnviron(ctx, recordOf(req), req.head, req.conn, EMPTY_INPUT, req.bodyLength);
}

// A copy of the record as it was for this request (the harness decodes it at dispatch).
const records = new Map<Req, Int32Array>();
function recordOf(req: Req): Int32Array {
  const r = records.get(req);
  if (!r) throw new Error('no record kept for this request');
  return r;
}
function keepRecord(handler: (req: Req) => void) {
  return (req: Req) => {
    records.set(req, b.record.slice());
    handler(req);
  };
}

describe('uwsgi listener', () => {
  it('a GET as nginx sends it: the record and the environ carry the packet, the answer is HTTP/1.1 and closes', async () => {
    srv = await startServer({}, keepRecord(echoBody), listenUwsgi());
    const ex = await exchange(srv.port, packet(nginxVars('GET', '/caf%C3%A9/x?a=1&b=2', [['HTTPS', 'on']])));
    expect(ex.closed).toBe(true);
    expect(ex.text.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true);
    const [res] = parseResponses(ex.text);
    expect(res.headers.connection).toBe('close');
    expect(res.body).toBe('GET /caf%C3%A9/x?a=1&b=2 []');
    expect(srv.requests).toHaveLength(1);
    const req = srv.requests[0];
    expect(req).toMatchObject({ method: 'GET', uri: '/caf%C3%A9/x?a=1&b=2', query: 'a=1&b=2', addr: '203.0.113.9', remotePort: 51515, minor: 1 });
    expect(req.path).toBe(Buffer.from('/café/x', 'utf8').toString('latin1'));
    expect(req.flags & FLAG_UWSGI).toBe(FLAG_UWSGI);
    expect(req.headers).toEqual([['HTTP_HOST', 'www.example:8080'], ['HTTP_USER_AGENT', 'curl/8.5.0']]);
    const env = environOf(req);
    expect(env).toMatchObject({
      REQUEST_METHOD: 'GET', REQUEST_URI: '/caf%C3%A9/x?a=1&b=2', QUERY_STRING: 'a=1&b=2', PATH_INFO: req.path,
      REMOTE_ADDR: '203.0.113.9', REMOTE_PORT: '51515', SERVER_NAME: 'www.example', SERVER_PORT: '8080',
      SERVER_PROTOCOL: 'HTTP/1.1', HTTPS: 'on', 'wsgi.url_scheme': 'https', HTTP_HOST: 'www.example:8080',
      CONTENT_LENGTH: '', CONTENT_TYPE: '',
    });
    expect(env.DOCUMENT_ROOT).toBeUndefined();
  });

  it('a POST body framed by CONTENT_LENGTH, the packet and body split over many writes', async () => {
    srv = await startServer({}, keepRecord(echoBody), listenUwsgi());
    const body = 'hello=world&x=' + 'y'.repeat(3000);
    const wire = Buffer.concat([packet(nginxVars('POST', '/form', [], body)), Buffer.from(body)]);
    const pieces: Buffer[] = [];
    for (let at = 0; at < wire.length; at += 97) pieces.push(wire.subarray(at, at + 97));
    const ex = await exchange(srv.port, pieces, { gapMs: 1 });
    const [res] = parseResponses(ex.text);
    expect(res.status).toBe(200);
    expect(res.body).toBe(`POST /form [${body}]`);
    const env = environOf(srv.requests[0]);
    expect(env).toMatchObject({ CONTENT_LENGTH: String(body.length), CONTENT_TYPE: 'text/plain' });
  });

  it('a streamed response of unknown length is close-delimited (no chunked coding: nginx reads uwsgi to the close)', async () => {
    srv = await startServer({}, (req) => {
      b.writeHead(req.conn, 200, '200 OK\r\nContent-Type: text/plain\r\n', -1, 0);
      b.write(req.conn, 'part one, ');
      b.end(req.conn, 'part two');
    }, listenUwsgi());
    const ex = await exchange(srv.port, packet(nginxVars('GET', '/stream')));
    expect(ex.closed).toBe(true);
    const head = ex.text.slice(0, ex.text.indexOf('\r\n\r\n'));
    expect(head).not.toMatch(/transfer-encoding/i);
    expect(head).toMatch(/\r\nConnection: close/i);
    expect(ex.text.slice(ex.text.indexOf('\r\n\r\n') + 4)).toBe('part one, part two');
  });

  it('no REQUEST_URI: the target is PATH_INFO and QUERY_STRING; a rewritten QUERY_STRING wins over the URI\'s', async () => {
    srv = await startServer({}, keepRecord(echoBody), listenUwsgi());
    await exchange(srv.port, packet([['REQUEST_METHOD', 'GET'], ['PATH_INFO', '/only'], ['QUERY_STRING', 'k=v']]));
    await exchange(srv.port, packet([['REQUEST_METHOD', 'GET'], ['REQUEST_URI', '/orig?old=1'], ['PATH_INFO', '/index'], ['QUERY_STRING', 'new=2']]));
    const [a, c] = srv.requests;
    expect(environOf(a)).toMatchObject({ REQUEST_URI: '/only?k=v', PATH_INFO: '/only', QUERY_STRING: 'k=v', REMOTE_ADDR: '127.0.0.1' });
    expect(environOf(c)).toMatchObject({ REQUEST_URI: '/orig?old=1', PATH_INFO: '/index', QUERY_STRING: 'new=2' });
  });

  it('bytes after the body are not a second request: one answer, then the close', async () => {
    srv = await startServer({}, echoBody, listenUwsgi());
    const wire = Buffer.concat([packet(nginxVars('POST', '/one', [], 'abc')), Buffer.from('abc'), packet(nginxVars('GET', '/two'))]);
    const ex = await exchange(srv.port, wire);
    expect(ex.closed).toBe(true);
    expect(parseResponses(ex.text).map((r) => r.body)).toEqual(['POST /one [abc]']);
    expect(srv.requests.map((r) => r.uri)).toEqual(['/one']);
  });

  it('a body shorter than CONTENT_LENGTH at EOF: 400 and the close, the application is not called', async () => {
    srv = await startServer({}, echoBody, listenUwsgi());
    const ex = await new Promise<{ text: string }>((resolve, reject) => {
      const s = net.connect(srv!.port, '127.0.0.1', () => {
        s.write(packet(nginxVars('POST', '/short', [], '0123456789')));
        s.end('01234');
      });
      const chunks: Buffer[] = [];
      s.on('data', (d) => chunks.push(d));
      s.on('close', () => resolve({ text: Buffer.concat(chunks).toString('latin1') }));
      s.on('error', reject);
    });
    expect(parseResponses(ex.text).map((r) => r.status)).toEqual([400]);
    expect(srv.requests).toHaveLength(0);
  });

  it.each([
    ['modifier1 5 (not a WSGI request)', packet(nginxVars('GET', '/'), 5), 400],
    ['a plain HTTP request on the uwsgi port', Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n'), 400],
    ['a variable running past the packet', Buffer.concat([Buffer.from([0, 6, 0, 0, 3, 0]), Buffer.from('KEYxxx')]), 400],
    ['CONTENT_LENGTH twice', packet([...nginxVars('GET', '/'), ['CONTENT_LENGTH', '1']]), 400],
    ['CONTENT_LENGTH not a number', packet(nginxVars('GET', '/').map(([k, v]) => [k, k === 'CONTENT_LENGTH' ? '1e3' : v] as [string, string])), 400],
    ['no REQUEST_METHOD', packet([['REQUEST_URI', '/']]), 400],
    ['a packet over the default uwsgi-buffer-size (4096)', packet([...nginxVars('GET', '/'), ['HTTP_X_BIG', 'b'.repeat(4100)]]), 431],
  ])('%s: the status, then the close, the application is not called', async (_name, wire, status) => {
    srv = await startServer({}, echoBody, listenUwsgi());
    const ex = await exchange(srv.port, wire);
    expect(ex.closed).toBe(true);
    expect(parseResponses(ex.text).map((r) => r.status)).toEqual([status]);
    expect(srv.requests).toHaveLength(0);
  });

  it('uwsgiBufferSize raises the packet limit up to 65535', async () => {
    srv = await startServer({}, echoBody, listenUwsgi({ uwsgiBufferSize: 65535 }));
    const ex = await exchange(srv.port, packet([...nginxVars('GET', '/big'), ['HTTP_X_BIG', 'b'.repeat(60000)]]));
    expect(parseResponses(ex.text).map((r) => r.status)).toEqual([200]);
    expect(srv.requests[0].headers.find(([k]) => k === 'HTTP_X_BIG')?.[1]).toHaveLength(60000);
  });

  it('a body over maxBodySize is refused with 413 from CONTENT_LENGTH alone', async () => {
    srv = await startServer({ maxBodySize: 100 }, echoBody, listenUwsgi());
    const ex = await exchange(srv.port, packet(nginxVars('POST', '/', [], 'x'.repeat(101))));
    expect(parseResponses(ex.text).map((r) => r.status)).toEqual([413]);
    expect(srv.requests).toHaveLength(0);
  });

  it('serves uwsgi on a Unix socket (uwsgi+unix:PATH)', async () => {
    const sockPath = path.join(os.tmpdir(), `tsgi-uwsgi-${process.pid}.sock`);
    try { fs.unlinkSync(sockPath); } catch {}
    srv = await startServer({}, keepRecord(echoBody), (id) => b.listenUnix(id, sockPath, 128, -1, uwsgi()));
    const ex = await exchange(0, packet(nginxVars('GET', '/unix')), { path: sockPath });
    expect(parseResponses(ex.text)[0].body).toBe('GET /unix []');
    expect(environOf(srv.requests[0])).toMatchObject({ REMOTE_ADDR: '203.0.113.9', SERVER_NAME: 'www.example' });
  });

  it('an HTTP listener beside it is unaffected', async () => {
    srv = await startServer({}, echoBody, listenUwsgi());
    const http = b.listenTcp(srv.id, '127.0.0.1', 0, 128);
    const ex = await exchange(http.port, 'GET /plain HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    expect(parseResponses(ex.text)[0].body).toBe('GET /plain []');
    expect(srv.requests[0].flags & FLAG_UWSGI).toBe(0);
  });

  it('invalid listen options throw and name the option', async () => {
    srv = await startServer({}, echoBody);
    expect(() => b.listenTcp(srv!.id, '127.0.0.1', 0, 128, { protocol: 'gopher' as never })).toThrow(/protocol/);
    expect(() => b.listenTcp(srv!.id, '127.0.0.1', 0, 128, uwsgi({ uwsgiBufferSize: 0 }))).toThrow(/uwsgiBufferSize/);
    expect(() => b.listenTcp(srv!.id, '127.0.0.1', 0, 128, uwsgi({ uwsgiBufferSize: 65536 }))).toThrow(/uwsgiBufferSize/);
  });
});
