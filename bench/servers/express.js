'use strict';
// express 5 with its defaults (ETag, X-Powered-By), responses written the express way.
const { Readable } = require('node:stream');
const { parseArgs, ready, onShutdown, fail, payloads: p } = require('./common');

const FILE = p.ensureFile();

function build() {
  const express = require('express');
  const app = express();
  app.get('/hello', (req, res) => {
    res.type('text/plain').send(p.HELLO);
  });
  app.get('/json', (req, res) => {
    res.json(p.JSON_OBJECT);
  });
  app.get('/headers', (req, res) => {
    res.type('text/plain').send(p.headersBody(req.get('user-agent'), req.get('accept-language'), req.get('x-request-id')));
  });
  app.post('/echo', express.raw({ type: 'application/octet-stream', limit: '1mb' }), (req, res) => {
    res.type('application/octet-stream').send(req.body);
  });
  app.get('/stream', (req, res) => {
    res.type('application/octet-stream');
    Readable.from(p.streamChunks()).pipe(res);
  });
  app.get('/file', (req, res) => {
    res.sendFile(FILE);
  });
  return app;
}

function start({ host, port }) {
  const server = build().listen(port, host, () => ready(server.address().port));
  onShutdown(() => new Promise((r) => { server.close(r); server.closeAllConnections(); }));
}

module.exports = { build };
if (require.main === module) {
  try {
    start(parseArgs());
  } catch (e) {
    fail(e);
  }
}
