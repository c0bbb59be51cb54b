// The same Hono app served by @hono/node-server and by tsgi through fromFetch: the same
// requests get the same status, headers (Date, Connection and Keep-Alive aside) and body
// bytes. fromFetch makes tsgi's LightResponse the global Response of this process, so both
// apps build LightResponses: @hono/node-server reads them through the public Response API
// (headers, body stream), tsgi through its direct path, and the bytes must agree.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import { serve as honoServe } from '@hono/node-server';
import { fromFetch } from '../src/index';
import { rawRequest, type RawResponse } from './helpers/http';
import { startServer, type TestServer } from './helpers/server';
import { honoApp } from './fixtures/adapters/hono-routes';

let ts: TestServer;
let nodeServer: ReturnType<typeof honoServe>;
let nodePort = 0;

beforeAll(async () => {
  ts = await startServer(fromFetch(honoApp()));
  // @hono/node-server leaves the globals as fromFetch set them.
  await new Promise<void>((resolve) => {
    nodeServer = honoServe({ fetch: honoApp().fetch, hostname: '127.0.0.1', port: 0, overrideGlobalObjects: false }, () => resolve());
  });
  nodePort = (nodeServer.address() as AddressInfo).port;
});

afterAll(async () => {
  await ts?.close();
  await new Promise((r) => nodeServer?.close(r));
});

const IGNORED = new Set(['date', 'connection', 'keep-alive']);
// @hono/node-server gives a body without Content-Type its own default; the Response has
// none and tsgi adds none.
const NODE_SERVER_DEFAULT_TYPE = 'content-type: text/plain; charset=UTF-8';

function comparable(r: RawResponse, other?: RawResponse) {
  let headers = r.headers.filter(([n]) => !IGNORED.has(n.toLowerCase())).map(([n, v]) => `${n.toLowerCase()}: ${v}`);
  let chunked = r.chunked;
  if (r.body.length === 0) {
    // An empty body is framed either way (node:http chunks it, tsgi says Content-Length: 0).
    headers = headers.filter((h) => h !== 'content-length: 0' && h !== 'transfer-encoding: chunked');
    chunked = false;
  }
  if (other !== undefined && !other.headers.some(([n]) => n.toLowerCase() === 'content-type')) {
    headers = headers.filter((h) => h !== NODE_SERVER_DEFAULT_TYPE);
  }
  return { status: r.status, headers: headers.sort(), chunked, body: r.body.toString('latin1') };
}

function request(method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer): Buffer {
  let head = `${method} ${path} HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  const b = body === undefined ? Buffer.alloc(0) : Buffer.from(body);
  if (body !== undefined) head += `Content-Length: ${b.length}\r\n`;
  return Buffer.concat([Buffer.from(head + '\r\n', 'latin1'), b]);
}

async function both(method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer) {
  const head = method === 'HEAD' ? [true] : undefined;
  const [a, b] = await Promise.all([
    rawRequest(nodePort, request(method, path, headers, body), { head }),
    rawRequest(ts.port, request(method, path, headers, body), { head }),
  ]);
  expect(a.responses).toHaveLength(1);
  expect(b.responses).toHaveLength(1);
  return { node: comparable(a.responses[0], b.responses[0]), tsgi: comparable(b.responses[0]) };
}

const cases: Array<[string, string, Record<string, string>?, (string | Buffer)?]> = [
  ['GET', '/hello'],
  ['GET', '/json'],
  ['GET', '/html'],
  ['GET', '/status'],
  ['GET', '/redirect'],
  ['GET', '/empty'],
  ['GET', '/param/42?q=x%20y&m=1&m=2'],
  ['GET', '/param/a%2Fb%20c%C3%A9?q=%E2%9C%93'],
  ['GET', '/headers', { 'X-Test': 'value, with comma', Cookie: 'a=1; b=2' }],
  ['GET', '/cookies'],
  ['POST', '/echo', { 'Content-Type': 'text/plain; charset=utf-8' }, 'hello body ✓'],
  ['POST', '/json-in', { 'Content-Type': 'application/json' }, '{"a":[1,2,{"b":null}]}'],
  ['POST', '/form', { 'Content-Type': 'application/x-www-form-urlencoded' }, 'x=1&y=two+words'],
  ['PUT', '/bytes', { 'Content-Type': 'application/octet-stream' }, Buffer.from(Array.from({ length: 200_000 }, (_, i) => i % 251))],
  ['GET', '/stream-body'],
  ['GET', '/stream'],
  ['GET', '/stream-text'],
  ['GET', '/guarded/data'],
  ['GET', '/guarded/data', { 'X-Token': 'ok' }],
  ['GET', '/error'],
  ['GET', '/no/such/route'],
  ['POST', '/hello'],
  ['HEAD', '/hello'],
];

describe('Hono on tsgi (fromFetch) answers as Hono on @hono/node-server', () => {
  for (const [method, path, headers, body] of cases) {
    it(`${method} ${path}${headers ? ' ' + JSON.stringify(headers) : ''}`, async () => {
      const { node, tsgi } = await both(method, path, headers, body);
      expect(tsgi).toEqual(node);
    });
  }

  it('pipelined and keep-alive requests are answered in order', async () => {
    const reqs = ['/stream-text', '/hello', '/json', '/stream', '/no/such/route'].map((p) => `GET ${p} HTTP/1.1\r\nHost: h\r\n\r\n`);
    const ex = await rawRequest(ts.port, reqs.join(''), { count: reqs.length });
    expect(ex.responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 404]);
    expect(ex.responses[0].body.toString()).toBe('first\nsecond');
    expect(ex.responses[1].body.toString()).toBe('Hello, Hono!');
    expect(ex.responses[3].body.toString()).toBe('A\nB\nC\n');
    expect(ex.closed).toBe(false);
  });
});
