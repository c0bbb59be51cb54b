// Drives the native core directly (src/native.ts binding()) with tiny handlers, so the
// C++ server is tested independently of the TypeScript gateway. Raw sockets on the
// client side show exactly the bytes the server wrote.
import net from 'node:net';
import {
  binding, type NativeBinding, type NativeLimits, type NativeAddress,
  REC_VERSION_MINOR, REC_METHOD_END, REC_TARGET_END, REC_QUERY_START, REC_PATH_END, REC_ADDR_END,
  REC_REMOTE_PORT, REC_LOCAL_PORT, REC_LISTENER, REC_FLAGS, REC_HEADER_COUNT, REC_HEADERS, REC_HEADER_STRIDE,
  REC_OVERRIDE_COUNT,
} from '../src/native';
import { parseResponses as parseRaw } from './helpers/http';
import { sleep, until } from './helpers/time';

export const b: NativeBinding = binding();
const known = b.knownHeaders();

export const baseLimits: NativeLimits = {
  maxRequestLine: 8190,
  maxHeaderSize: 16384,
  maxHeaders: 100,
  maxBodySize: 1 << 20,
  bodyMemorySize: 64 * 1024,
  spoolDir: '/tmp',
  headerTimeout: 5000,
  firstByteTimeout: 5000,
  bodyTimeout: 5000,
  minBodyRate: 240,
  minBodyRateGrace: 5000,
  keepAliveTimeout: 5000,
  writeTimeout: 5000,
  responseHold: 100,
  sendfile: 'auto',
  maxConnections: 1000,
  maxKeepAliveRequests: 0,
};

export interface Req {
  conn: number;
  method: string;
  uri: string;
  path: string;
  query: string | null;
  addr: string;
  remotePort: number;
  localPort: number;
  listener: number;
  minor: number;
  flags: number;
  headers: Array<[string, string]>;
  /** Environ keys the listener's protocol sets outright (uwsgi variables, tsgi.proxy.*). */
  overrides: Array<[string, string]>;
  /** The head string as received (for buildEnviron). */
  head: string;
  body: Buffer | null;
  bodyFd: number;
  bodyLength: number;
}

/** Decodes the request record + head string the way the gateway does. */
export function decode(conn: number, head: string, body: Buffer | null, bodyFd: number, bodyLength: number): Req {
  const r = b.record;
  const headers: Array<[string, string]> = [];
  let prev = r[REC_ADDR_END];
  for (let i = 0; i < r[REC_HEADER_COUNT]; i++) {
    const o = REC_HEADERS + i * REC_HEADER_STRIDE;
    const id = r[o], keyEnd = r[o + 1], valueEnd = r[o + 2];
    headers.push([id > 0 ? known[id] : head.slice(prev, keyEnd), head.slice(keyEnd, valueEnd)]);
    prev = valueEnd;
  }
  const overrides: Array<[string, string]> = [];
  for (let i = 0; i < r[REC_OVERRIDE_COUNT]; i++) {
    const o = REC_HEADERS + (r[REC_HEADER_COUNT] + i) * REC_HEADER_STRIDE;
    overrides.push([head.slice(prev, r[o + 1]), head.slice(r[o + 1], r[o + 2])]);
    prev = r[o + 2];
  }
  return {
    conn,
    method: head.slice(0, r[REC_METHOD_END]),
    uri: head.slice(r[REC_METHOD_END], r[REC_TARGET_END]),
    query: r[REC_QUERY_START] < 0 ? null : head.slice(r[REC_QUERY_START], r[REC_TARGET_END]),
    path: head.slice(r[REC_TARGET_END], r[REC_PATH_END]),
    addr: head.slice(r[REC_PATH_END], r[REC_ADDR_END]),
    remotePort: r[REC_REMOTE_PORT],
    localPort: r[REC_LOCAL_PORT],
    listener: r[REC_LISTENER],
    minor: r[REC_VERSION_MINOR],
    flags: r[REC_FLAGS],
    headers,
    overrides,
    head,
    body,
    bodyFd,
    bodyLength,
  };
}

export interface TestServer {
  id: number;
  port: number;
  address: NativeAddress;
  requests: Req[];
  aborts: number[];
  drains: number[];
  onDrain: (conn: number) => void;
  close(graceful?: boolean): Promise<void>;
}

/** Default handler: 200 with a body naming the request. */
export function echo(req: Req): void {
  b.respond(req.conn, 200, '200 OK\r\nContent-Type: text/plain\r\n', `${req.method} ${req.uri}`, -1, 0);
}

export async function startServer(
  limits: Partial<NativeLimits> = {},
  handler: (req: Req, s: TestServer) => void = echo,
  listen: (id: number) => NativeAddress = (id) => b.listenTcp(id, '127.0.0.1', 0, 128),
): Promise<TestServer> {
  const s = {} as TestServer;
  s.requests = [];
  s.aborts = [];
  s.drains = [];
  s.onDrain = () => {};
  s.id = b.createServer({ ...baseLimits, ...limits }, {
    onRequest(conn, head, body, bodyFd, bodyLength) {
      const req = decode(conn, head, body, bodyFd, bodyLength);
      s.requests.push(req);
      handler(req, s);
    },
    onDrain(conn) {
      s.drains.push(conn);
      s.onDrain(conn);
    },
    onAbort(conn) {
      s.aborts.push(conn);
    },
  });
  s.address = listen(s.id);
  s.port = s.address.port;
  let closed = false;
  s.close = (graceful = false) => {
    if (closed) return Promise.resolve();
    closed = true;
    return new Promise<void>((resolve) => b.close(s.id, graceful, resolve));
  };
  return s;
}

export interface Exchange {
  data: Buffer;
  text: string;
  /** The server closed the connection (we saw EOF or a reset). */
  closed: boolean;
  dataEvents: number;
}

export interface ExchangeOptions {
  /** Pause between the pieces written. */
  gapMs?: number;
  /** Stop (without waiting for close) once this holds. */
  until?: (text: string) => boolean;
  /** Give up waiting after this long. */
  timeoutMs?: number;
  host?: string;
  path?: string;
  port?: number;
}

/** Connects, writes the pieces, and collects what comes back until close, `until` or timeout. */
export function exchange(port: number, pieces: Array<string | Buffer> | string | Buffer, opts: ExchangeOptions = {}): Promise<Exchange> {
  const list = typeof pieces === 'string' || Buffer.isBuffer(pieces) ? [pieces] : pieces;
  return new Promise((resolve, reject) => {
    const sock = opts.path ? net.connect(opts.path) : net.connect(port, opts.host ?? '127.0.0.1');
    sock.setNoDelay(true);
    const chunks: Buffer[] = [];
    let dataEvents = 0;
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      const data = Buffer.concat(chunks);
      sock.destroy();
      resolve({ data, text: data.toString('latin1'), closed, dataEvents });
    };
    const timer = setTimeout(() => finish(false), opts.timeoutMs ?? 3000);
    sock.on('data', (d) => {
      chunks.push(d);
      dataEvents++;
      if (opts.until && opts.until(Buffer.concat(chunks).toString('latin1'))) finish(false);
    });
    sock.on('end', () => finish(true));
    sock.on('close', () => finish(true));
    sock.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNRESET' || e.code === 'EPIPE') finish(true);
      else if (!done) { done = true; clearTimeout(timer); reject(e); }
    });
    sock.on('connect', async () => {
      for (let i = 0; i < list.length; i++) {
        if (done) return;
        sock.write(list[i]);
        if (opts.gapMs && i < list.length - 1) await sleep(opts.gapMs);
      }
    });
  });
}

export interface Resp {
  status: number;
  headers: Record<string, string>;
  rawHead: string;
  body: string;
  chunked: boolean;
}

/** Splits everything a connection received into responses (Content-Length, chunked, or to the end), bodies as latin-1 text. */
export function parseResponses(text: string, headRequests = 0): Resp[] {
  const heads = Array.from({ length: headRequests }, () => true);
  return parseRaw(Buffer.from(text, 'latin1'), true, heads, true).responses.map((r) => ({
    status: r.status, headers: r.header, rawHead: r.rawHead, body: r.body.toString('latin1'), chunked: r.chunked,
  }));
}

export { sleep };

/** Waits until `cond()` holds (polling), or fails after `ms`. */
export const waitFor = until;

export const GET = (path = '/', extra = '') => `GET ${path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`;
