// Echoes the request body back with its size and SHA-256, reading wsgi.input in blocks
// (large uploads are spooled to disk by the server, so this never holds them in memory).
//   curl --data-binary @somefile 127.0.0.1:8000/
'use strict';

const crypto = require('node:crypto');

exports.app = function app(environ, startResponse) {
  const input = environ['wsgi.input'];
  const hash = crypto.createHash('sha256');
  let size = 0;
  for (;;) {
    const block = input.read(64 * 1024);
    if (block.length === 0) break;
    hash.update(block);
    size += block.length;
  }
  const body = JSON.stringify({ size, sha256: hash.digest('hex'), contentType: environ.CONTENT_TYPE }) + '\n';
  startResponse('200 OK', [['Content-Type', 'application/json'], ['Content-Length', String(Buffer.byteLength(body))]]);
  return [body];
};
