// Differential testing of the node:http adapter: the same handler served by node:http and
// by tsgi through fromNodeHandler, the same raw requests sent to both, and the responses
// compared (status, reason, headers except Date/Connection/Keep-Alive, body bytes).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import { fromNodeHandler, type NodeHandler } from '../../src/index';
import { rawRequest, type RawResponse } from './http';
import { startServer, type TestServer } from './server';

const IGNORED = new Set(['date', 'connection', 'keep-alive']);

export interface Pair {
  nodePort: number;
  tsgi: TestServer;
  close(): Promise<void>;
}

/** Serves `handler` on node:http (or uses `nodePort` when the framework listens itself) and on tsgi. */
export async function servePair(handler: NodeHandler, nodePort?: number): Promise<Pair> {
  let server: http.Server | undefined;
  if (nodePort === undefined) {
    server = http.createServer(handler);
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    nodePort = (server.address() as AddressInfo).port;
  }
  const tsgi = await startServer(fromNodeHandler(handler));
  return {
    nodePort,
    tsgi,
    async close() {
      await tsgi.close();
      if (server !== undefined) {
        server.closeAllConnections();
        await new Promise((r) => server!.close(r));
      }
    },
  };
}

export interface Compared {
  node: RawResponse;
  tsgi: RawResponse;
}

/** The headers that must match, as sorted 'name: value' lines. */
function comparable(r: RawResponse): string[] {
  return r.headers.filter(([n]) => !IGNORED.has(n.toLowerCase())).map(([n, v]) => `${n.toLowerCase()}: ${v}`).sort();
}

/** Sends `request` (one raw request) to both servers and expects the same response. */
export async function same(pair: Pair, request: string | Buffer, opts: { head?: boolean } = {}): Promise<Compared> {
  const o = { count: 1, head: opts.head ? [true] : undefined, timeoutMs: 10_000 };
  const [a, b] = await Promise.all([rawRequest(pair.nodePort, request, o), rawRequest(pair.tsgi.port, request, o)]);
  expect(a.responses.length, 'node:http answered').toBe(1);
  expect(b.responses.length, `tsgi answered (errors: ${pair.tsgi.errors()})`).toBe(1);
  const node = a.responses[0];
  const tsgi = b.responses[0];
  expect({ status: tsgi.status, reason: tsgi.reason }).toEqual({ status: node.status, reason: node.reason });
  expect(comparable(tsgi)).toEqual(comparable(node));
  expect(tsgi.body.equals(node.body), `bodies differ:\n node: ${JSON.stringify(node.body.toString('latin1').slice(0, 300))}\n tsgi: ${JSON.stringify(tsgi.body.toString('latin1').slice(0, 300))}`).toBe(true);
  if (opts.head) expect(b.raw.toString('latin1').endsWith('\r\n\r\n')).toBe(true);
  return { node, tsgi };
}

/** A request text: method, path, headers, body (Content-Length added for a body). */
export function req(method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer): Buffer {
  let s = `${method} ${path} HTTP/1.1\r\nHost: localhost\r\n`;
  for (const [k, v] of Object.entries(headers)) s += `${k}: ${v}\r\n`;
  const b = body === undefined ? Buffer.alloc(0) : Buffer.from(body);
  if (body !== undefined) s += `Content-Length: ${b.length}\r\n`;
  return Buffer.concat([Buffer.from(s + '\r\n', 'latin1'), b]);
}
