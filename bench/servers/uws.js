'use strict';
// uWebSockets.js (registry package @trufflesuite/uws-js-unofficial), idiomatic uWS:
// synchronous handlers, onData for bodies, write/onWritable and tryEnd for backpressure.
const fs = require('node:fs');
const { parseArgs, ready, onShutdown, fail, payloads: p } = require('./common');

function load() {
  return require('@trufflesuite/uws-js-unofficial');
}

const FILE = p.ensureFile();
const FILE_SIZE = fs.statSync(FILE).size;

function routes(app) {
  app.get('/hello', (res) => {
    res.writeHeader('Content-Type', p.CONTENT_TYPES.text).end(p.HELLO);
  });
  app.get('/json', (res) => {
    res.writeHeader('Content-Type', p.CONTENT_TYPES.json).end(JSON.stringify(p.JSON_OBJECT));
  });
  app.get('/headers', (res, req) => {
    const body = p.headersBody(req.getHeader('user-agent'), req.getHeader('accept-language'), req.getHeader('x-request-id'));
    res.writeHeader('Content-Type', p.CONTENT_TYPES.text).end(body);
  });
  app.post('/echo', (res) => {
    let aborted = false;
    const parts = [];
    res.onAborted(() => { aborted = true; });
    res.onData((ab, isLast) => {
      parts.push(Buffer.from(new Uint8Array(ab))); // copy: ab is only valid in this call
      if (!isLast || aborted) return;
      const body = Buffer.concat(parts);
      res.cork(() => res.writeHeader('Content-Type', p.CONTENT_TYPES.binary).end(body));
    });
  });
  app.get('/stream', (res) => {
    let aborted = false;
    let i = 0;
    res.onAborted(() => { aborted = true; });
    // write() always takes the chunk; false means "buffered, wait for onWritable".
    const pump = () => {
      while (i < p.STREAM_CHUNKS.length) {
        if (!res.write(p.STREAM_CHUNKS[i++])) return;
      }
      res.end();
    };
    res.writeHeader('Content-Type', p.CONTENT_TYPES.binary);
    res.onWritable(() => {
      if (!aborted && i <= p.STREAM_CHUNKS.length) pump();
      return true;
    });
    pump();
  });
  app.get('/file', (res) => {
    const stream = fs.createReadStream(FILE);
    let aborted = false;
    res.onAborted(() => { aborted = true; stream.destroy(); });
    res.writeHeader('Content-Type', p.CONTENT_TYPES.binary);
    stream.on('data', (chunk) => {
      if (aborted) return;
      const base = res.getWriteOffset();
      let ok;
      let done;
      res.cork(() => { [ok, done] = res.tryEnd(chunk, FILE_SIZE); });
      if (done) {
        stream.destroy();
      } else if (!ok) {
        stream.pause();
        res.onWritable((offset) => {
          const [ok2, done2] = res.tryEnd(chunk.subarray(offset - base), FILE_SIZE);
          if (done2) stream.destroy();
          else if (ok2) stream.resume();
          return ok2;
        });
      }
    });
    stream.on('error', () => { if (!aborted) res.cork(() => res.close()); });
  });
  app.any('/*', (res) => {
    res.writeStatus('404 Not Found').writeHeader('Content-Type', p.CONTENT_TYPES.text).end('Not Found');
  });
}

function start({ host, port }) {
  const uWS = load();
  const app = uWS.App();
  routes(app);
  app.listen(host, port, (token) => {
    if (!token) fail(new Error(`uWS could not listen on ${host}:${port}`));
    onShutdown(() => uWS.us_listen_socket_close(token));
    ready(uWS.us_socket_local_port(token));
  });
}

if (require.main === module) {
  try {
    start(parseArgs());
  } catch (e) {
    fail(e);
  }
}
module.exports = { load };
