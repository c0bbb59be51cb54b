'use strict';
// node:http, written the way a plain Node server is written.
const http = require('node:http');
const fs = require('node:fs');
const { pipeline, Readable } = require('node:stream');
const { parseArgs, ready, onShutdown, fail, payloads: p } = require('./common');

const FILE = p.ensureFile();
const FILE_SIZE = fs.statSync(FILE).size;

// setHeader + end(body) lets node:http compute Content-Length (writeHead first would
// fix the head before the body is known and fall back to chunked framing).
function send(res, type, body) {
  res.setHeader('Content-Type', type);
  res.end(body);
}

function handler(req, res) {
  switch (req.url) {
    case '/hello':
      send(res, p.CONTENT_TYPES.text, p.HELLO);
      return;
    case '/json':
      send(res, p.CONTENT_TYPES.json, JSON.stringify(p.JSON_OBJECT));
      return;
    case '/headers': {
      const h = req.headers;
      send(res, p.CONTENT_TYPES.text, p.headersBody(h['user-agent'], h['accept-language'], h['x-request-id']));
      return;
    }
    case '/echo': {
      const parts = [];
      req.on('data', (c) => parts.push(c));
      req.on('end', () => {
        send(res, p.CONTENT_TYPES.binary, Buffer.concat(parts));
      });
      return;
    }
    case '/stream':
      res.writeHead(200, { 'Content-Type': p.CONTENT_TYPES.binary });
      pipeline(Readable.from(p.streamChunks()), res, () => {});
      return;
    case '/file':
      res.writeHead(200, { 'Content-Type': p.CONTENT_TYPES.binary, 'Content-Length': FILE_SIZE });
      pipeline(fs.createReadStream(FILE), res, () => {});
      return;
    default:
      res.statusCode = 404;
      send(res, p.CONTENT_TYPES.text, 'Not Found');
  }
}

function start({ host, port }) {
  const server = http.createServer(handler);
  server.listen(port, host, () => {
    ready(server.address().port);
  });
  onShutdown(() => new Promise((r) => { server.close(r); server.closeAllConnections(); }));
  return server;
}

module.exports = { handler, start };
if (require.main === module) {
  try {
    start(parseArgs());
  } catch (e) {
    fail(e);
  }
}
