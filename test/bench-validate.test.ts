// The harness refuses to measure a server that answers a scenario wrongly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import net from 'node:net';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';

const require = createRequire(import.meta.url);
const { SCENARIOS: ALL, getScenario } = require('../bench/scenarios.js');
// The JavaScript peers' scenarios (the Python ones have their own servers).
const SCENARIOS = ALL.filter((s: { family: string }) => s.family === 'js');
const { validateServer, validateScenario, checkResponse } = require('../bench/validate.js');
const { handler } = require('../bench/servers/node-http.js');
const { parseResponses, formatRequest } = require('../bench/http-client.js');

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

async function listen(h: Handler | net.Server): Promise<{ port: number; close: () => Promise<void> }> {
  const server = h instanceof net.Server ? h : http.createServer(h);
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        for (const s of sockets) s.destroy();
      }),
  };
}

describe('validation', () => {
  const servers: Array<{ close: () => Promise<void> }> = [];
  afterAll(async () => {
    for (const s of servers) await s.close();
  });

  it('accepts the reference node:http server on every scenario', async () => {
    const s = await listen(handler);
    servers.push(s);
    const r = await validateServer(SCENARIOS, { port: s.port });
    expect(r.failures).toEqual({});
    expect(r.ok).toBe(true);
  });

  it('catches a wrong Content-Type, a wrong body and a wrong status', async () => {
    const s = await listen((req, res) => {
      if (req.url === '/json') {
        res.setHeader('Content-Type', 'text/plain');
        res.end(require('../bench/payloads.js').JSON_TEXT);
      } else if (req.url === '/echo') {
        req.resume();
        req.on('end', () => {
          res.setHeader('Content-Type', 'application/octet-stream');
          res.end('short');
        });
      } else if (req.url === '/headers') {
        res.statusCode = 500;
        res.setHeader('Content-Type', 'text/plain; charset=utf-8');
        res.end('oops');
      } else handler(req, res);
    });
    servers.push(s);
    const r = await validateServer(SCENARIOS, { port: s.port });
    expect(r.ok).toBe(false);
    expect(Object.keys(r.failures).sort()).toEqual(['echo', 'headers', 'json']);
    expect(r.failures.json.join()).toMatch(/Content-Type/);
    expect(r.failures.echo.join()).toMatch(/body differs at byte 0 \(got 5 bytes, expected 4096\)/);
    expect(r.failures.headers.join()).toMatch(/status 500, expected 200/);
  });

  it('catches a server that answers only the first of 16 pipelined requests', async () => {
    const raw = net.createServer((sock) => {
      sock.once('data', () => {
        sock.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 11\r\n\r\nHello World');
      });
    });
    const s = await listen(raw);
    servers.push(s);
    expect((await validateScenario(getScenario('hello'), { port: s.port })).ok).toBe(true);
    const piped = await validateScenario(getScenario('pipelined'), { port: s.port, timeoutMs: 2000 });
    expect(piped.ok).toBe(false);
    expect(piped.problems.join()).toMatch(/closed before all responses/);
    const kept = await validateScenario(getScenario('idle'), { port: s.port, timeoutMs: 2000 });
    expect(kept.ok).toBe(false);
  });

  it('reports a server that does not answer at all', async () => {
    const raw = net.createServer(() => {});
    const s = await listen(raw);
    servers.push(s);
    const r = await validateScenario(getScenario('hello'), { port: s.port, timeoutMs: 300 });
    expect(r.ok).toBe(false);
    expect(r.problems[0]).toMatch(/no complete response within 300 ms/);
  });
});

describe('response parsing', () => {
  it('parses chunked and Content-Length responses back to back', () => {
    const buf = Buffer.from(
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: x/y\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n' +
        'HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno',
      'latin1',
    );
    const { responses, offset } = parseResponses(buf);
    expect(offset).toBe(buf.length);
    expect(responses.map((r: { status: number }) => r.status)).toEqual([200, 404]);
    expect(responses[0].body.toString()).toBe('abcde');
    expect(responses[1].body.toString()).toBe('no');
  });

  it('waits for an incomplete body', () => {
    const { responses } = parseResponses(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab'));
    expect(responses).toHaveLength(0);
  });

  it('compares Content-Type case-insensitively and ignores spaces', () => {
    const s = getScenario('hello');
    const ok = checkResponse(s, { status: 200, headers: { 'content-type': 'text/plain;charset=UTF-8' }, body: s.expect.body });
    expect(ok).toEqual([]);
    const bad = checkResponse(s, { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: s.expect.body });
    expect(bad).toHaveLength(1);
  });

  it('formats requests with Host first and a Content-Length for bodies', () => {
    const r = formatRequest({ method: 'POST', path: '/echo', headers: [['X-A', '1']], body: Buffer.from('hi') }, 'h:1').toString();
    expect(r).toBe('POST /echo HTTP/1.1\r\nHost: h:1\r\nX-A: 1\r\nContent-Length: 2\r\n\r\nhi');
  });
});
