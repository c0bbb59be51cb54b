'use strict';
// A minimal HTTP/1.1 client over a raw socket: it sends requests exactly as the load
// generators do (several per write when pipelining) and parses the responses byte for
// byte (Content-Length or chunked), so validation sees what wrk/autocannon see.
const net = require('node:net');

/** Serializes one request. `headers` excludes Host, which always goes first. */
function formatRequest({ method, path, headers = [], body = null }, host) {
  let head = `${method} ${path} HTTP/1.1\r\nHost: ${host}\r\n`;
  for (const [k, v] of headers) head += `${k}: ${v}\r\n`;
  if (body) head += `Content-Length: ${body.length}\r\n`;
  head += '\r\n';
  return body ? Buffer.concat([Buffer.from(head, 'latin1'), body]) : Buffer.from(head, 'latin1');
}

/**
 * Parses as many complete responses as `buf` holds, starting at `start`.
 * Returns { responses, offset } where offset is where the unparsed rest begins.
 */
function parseResponses(buf, start = 0) {
  const responses = [];
  let off = start;
  for (;;) {
    const headEnd = buf.indexOf('\r\n\r\n', off, 'latin1');
    if (headEnd < 0) break;
    const lines = buf.toString('latin1', off, headEnd).split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0]);
    if (!m) throw new Error(`bad status line: ${JSON.stringify(lines[0].slice(0, 80))}`);
    const headers = {};
    for (const line of lines.slice(1)) {
      const i = line.indexOf(':');
      if (i <= 0) throw new Error(`bad header line: ${JSON.stringify(line.slice(0, 80))}`);
      const name = line.slice(0, i).trim().toLowerCase();
      const value = line.slice(i + 1).trim();
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    let pos = headEnd + 4;
    let body;
    const te = (headers['transfer-encoding'] || '').toLowerCase();
    if (te.includes('chunked')) {
      const parts = [];
      let complete = false;
      for (;;) {
        const le = buf.indexOf('\r\n', pos, 'latin1');
        if (le < 0) break;
        const size = parseInt(buf.toString('latin1', pos, le).split(';')[0], 16);
        if (Number.isNaN(size)) throw new Error('bad chunk size');
        if (size === 0) {
          // Skip trailers up to the empty line.
          const end = buf.indexOf('\r\n\r\n', le, 'latin1');
          if (end < 0 && !(buf.length >= le + 4 && buf.toString('latin1', le, le + 4) === '\r\n\r\n')) break;
          pos = (end < 0 ? le : end) + 4;
          complete = true;
          break;
        }
        if (buf.length < le + 2 + size + 2) break;
        parts.push(buf.subarray(le + 2, le + 2 + size));
        pos = le + 2 + size + 2;
      }
      if (!complete) break;
      body = Buffer.concat(parts);
    } else if (headers['content-length'] !== undefined) {
      const len = Number(headers['content-length']);
      if (buf.length < pos + len) break;
      body = buf.subarray(pos, pos + len);
      pos += len;
    } else if (m[1] === '204' || m[1] === '304') {
      body = Buffer.alloc(0);
    } else {
      throw new Error('response without Content-Length or chunked framing (close-delimited)');
    }
    responses.push({ status: Number(m[1]), reason: m[2] || '', headers, body: Buffer.from(body), chunked: te.includes('chunked') });
    off = pos;
  }
  return { responses, offset: off };
}

/**
 * Sends `requests` (one write when more than one) on a fresh or given connection and
 * resolves with the parsed responses. Rejects on timeout, error, or an early close.
 */
function exchange({ host = '127.0.0.1', port, socket, requests, timeoutMs = 5000 }) {
  return new Promise((resolve, reject) => {
    const sock = socket || net.connect({ host, port });
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (err, value) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.off('data', onData);
      sock.off('error', onError);
      sock.off('close', onClose);
      if (err) {
        sock.destroy();
        reject(err);
      } else resolve(value);
    };
    const timer = setTimeout(() => finish(new Error(`no complete response within ${timeoutMs} ms`)), timeoutMs);
    const onData = (d) => {
      buf = Buffer.concat([buf, d]);
      try {
        const { responses } = parseResponses(buf);
        if (responses.length >= requests.length) finish(null, { responses, socket: sock });
      } catch (e) {
        finish(e);
      }
    };
    const onError = (e) => finish(e);
    const onClose = () => finish(new Error('connection closed before all responses arrived'));
    sock.on('data', onData);
    sock.on('error', onError);
    sock.on('close', onClose);
    sock.write(Buffer.concat(requests.map((r) => formatRequest(r, `${host}:${port}`))));
  });
}

/** One request; resolves with its response and closes the connection. */
async function request(opts) {
  const { responses, socket } = await exchange({ ...opts, requests: [opts.request] });
  socket.destroy();
  return responses[0];
}

module.exports = { formatRequest, parseResponses, exchange, request };
