// Test client side: raw sockets and a small HTTP/1.x response reader, so tests see exactly
// the bytes the server wrote (framing, order, connection close).
import net from 'node:net';

export interface RawResponse {
  status: number;
  reason: string;
  version: string;
  headers: Array<[string, string]>;
  /** Lower-cased name → value (last wins). */
  header: Record<string, string>;
  body: Buffer;
  chunked: boolean;
  /** The status line and header lines as sent, without the blank line. */
  rawHead: string;
}

/**
 * Parses as many complete responses as `buf` holds. `headRequests[i]` marks responses to
 * HEAD requests (no body). Returns the responses and the bytes consumed; with `eof`, a
 * response without Content-Length or chunking ends at the end of the input; with `eof`
 * and `partial`, a last response cut short (its connection closed early) is returned with
 * the body that arrived.
 */
export function parseResponses(buf: Buffer, eof = false, headRequests: boolean[] = [], partial = false): { responses: RawResponse[]; rest: Buffer } {
  const cutShort = eof && partial;
  const responses: RawResponse[] = [];
  let at = 0;
  for (;;) {
    const end = buf.indexOf('\r\n\r\n', at);
    if (end < 0) break;
    const rawHead = buf.subarray(at, end).toString('latin1');
    const lines = rawHead.split('\r\n');
    const m = /^(HTTP\/1\.[01]) (\d{3}) ?(.*)$/.exec(lines[0]);
    if (!m) throw new Error(`bad status line ${JSON.stringify(lines[0])}`);
    const headers: Array<[string, string]> = [];
    const header: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const c = line.indexOf(':');
      const name = line.slice(0, c);
      const value = line.slice(c + 1).trim();
      headers.push([name, value]);
      header[name.toLowerCase()] = value;
    }
    let pos = end + 4;
    const status = Number(m[2]);
    const noBody = headRequests[responses.length] || status === 204 || status === 304 || (status >= 100 && status < 200);
    let body: Buffer;
    let chunked = false;
    if (noBody) body = Buffer.alloc(0);
    else if (header['transfer-encoding'] === 'chunked') {
      chunked = true;
      const parts: Buffer[] = [];
      let p = pos;
      let complete = false;
      for (;;) {
        const le = buf.indexOf('\r\n', p);
        if (le < 0) break;
        const size = parseInt(buf.subarray(p, le).toString('latin1'), 16);
        if (size === 0) {
          const te = buf.indexOf('\r\n', le + 2);
          if (te < 0) break;
          p = te + 2;
          complete = true;
          break;
        }
        if (buf.length < le + 2 + size + 2) break;
        parts.push(buf.subarray(le + 2, le + 2 + size));
        p = le + 2 + size + 2;
      }
      if (!complete && !cutShort) break;
      body = Buffer.concat(parts);
      pos = complete ? p : buf.length;
    } else if (header['content-length'] !== undefined) {
      const n = Number(header['content-length']);
      if (buf.length < pos + n && !cutShort) break;
      body = buf.subarray(pos, pos + n);
      pos = Math.min(buf.length, pos + n);
    } else {
      if (!eof) break;
      body = buf.subarray(pos);
      pos = buf.length;
    }
    responses.push({ status, reason: m[3], version: m[1], headers, header, body: Buffer.from(body), chunked, rawHead });
    at = pos;
  }
  return { responses, rest: buf.subarray(at) };
}

export interface Exchange {
  /** Every byte the server sent until it closed the connection (or `until` was satisfied). */
  raw: Buffer;
  responses: RawResponse[];
  /** True when the server closed the connection. */
  closed: boolean;
}

/**
 * Writes `request` (string as latin-1, or bytes) on a new connection and collects the
 * answer until `count` responses arrived (then closes) or the server closes the
 * connection, or `timeoutMs` passes.
 */
export function rawRequest(port: number, request: string | Buffer | Array<string | Buffer>, opts: { count?: number; timeoutMs?: number; head?: boolean[]; host?: string } = {}): Promise<Exchange> {
  const count = opts.count ?? 1;
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, opts.host ?? '127.0.0.1');
    const parts: Buffer[] = [];
    let done = false;
    const timer = setTimeout(() => finish(false), opts.timeoutMs ?? 5000);
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      const raw = Buffer.concat(parts);
      let responses: RawResponse[];
      try {
        responses = parseResponses(raw, closed, opts.head).responses;
      } catch (e) {
        reject(e);
        return;
      }
      sock.destroy();
      resolve({ raw, responses, closed });
    };
    sock.on('data', (d) => {
      parts.push(d);
      if (parseResponses(Buffer.concat(parts), false, opts.head).responses.length >= count && count > 0) {
        // Give the server a moment to close, so `closed` is meaningful.
        setTimeout(() => finish(sock.readableEnded), 20);
      }
    });
    sock.on('end', () => finish(true));
    sock.on('error', (e) => (done ? undefined : ((done = true), clearTimeout(timer), reject(e))));
    const list = Array.isArray(request) ? request : [request];
    sock.on('connect', () => {
      for (const r of list) sock.write(typeof r === 'string' ? Buffer.from(r, 'latin1') : r);
    });
  });
}

/** A GET request text. */
export function get(path: string, headers: Record<string, string> = {}, version = '1.1'): string {
  let s = `GET ${path} HTTP/${version}\r\nHost: localhost\r\n`;
  for (const [k, v] of Object.entries(headers)) s += `${k}: ${v}\r\n`;
  return s + '\r\n';
}

export interface Client {
  sock: net.Socket;
  /** Everything received so far, as latin-1. */
  text(): string;
  /** The server's FIN arrived (a clean close; a reset shows as error() instead). */
  ended(): boolean;
  /** The socket closed (for any reason). */
  closed(): boolean;
  closedAt(): number;
  /** The error code of the connection (ECONNRESET, ECONNREFUSED…), if it failed. */
  error(): string | undefined;
}

/** Opens a connection to 127.0.0.1:port that records what arrives and how it ended; the caller writes and destroys it. */
export function openClient(port: number, opts: { noDelay?: boolean } = {}): Client {
  const sock = net.connect(port, '127.0.0.1');
  if (opts.noDelay) sock.setNoDelay(true);
  let text = '';
  let closedAt = 0;
  let ended = false;
  let error: string | undefined;
  sock.on('data', (d: Buffer) => { text += d.toString('latin1'); });
  sock.on('end', () => { ended = true; });
  sock.on('close', () => { closedAt = Date.now(); });
  sock.on('error', (e: NodeJS.ErrnoException) => { error = e.code ?? String(e); });
  return { sock, text: () => text, ended: () => ended, closed: () => closedAt !== 0, closedAt: () => closedAt, error: () => error };
}

/**
 * Opens a connection per payload (to `port`, or port[i]), then writes every payload in
 * the same turn, so that the server reads them in one pass of its event loop. Resolves
 * with the bytes each connection received once it holds `count(i)` responses (default
 * 1), or it closed, or `timeoutMs` passed.
 */
export async function burst(port: number | number[], payloads: string[],
  opts: { count?: (i: number) => number; timeoutMs?: number } = {}): Promise<Buffer[]> {
  const count = opts.count ?? (() => 1);
  const socks = await Promise.all(payloads.map((_, i) => new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect(typeof port === 'number' ? port : port[i], '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  })));
  const got = socks.map((s, i) => new Promise<Buffer>((resolve) => {
    const parts: Buffer[] = [];
    const done = () => { clearTimeout(timer); resolve(Buffer.concat(parts)); };
    const timer = setTimeout(done, opts.timeoutMs ?? 5000);
    s.on('data', (d) => {
      parts.push(d);
      if (parseResponses(Buffer.concat(parts)).responses.length >= count(i)) done();
    });
    s.on('close', done);
    s.on('error', done);
  }));
  socks.forEach((s, i) => s.write(Buffer.from(payloads[i], 'latin1')));
  try {
    return await Promise.all(got);
  } finally {
    for (const s of socks) s.destroy();
  }
}
