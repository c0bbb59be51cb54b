'use strict';
// The benchmark scenarios as one WSGI-style tsgi application. Served in one process by
// bench/servers/tsgi.js (embedding API) and with N workers by the tsgi CLI:
//   node bin/tsgi.js bench/servers/tsgi-app.js:app --workers N --bind 127.0.0.1:PORT
const fs = require('node:fs');
const p = require('../payloads');

const FILE = p.ensureFile();
const FILE_SIZE = String(fs.statSync(FILE).size);
const HELLO_LENGTH = String(p.HELLO_BYTES.length);

function app(environ, startResponse) {
  switch (environ.PATH_INFO) {
    case '/hello':
      startResponse('200 OK', [['Content-Type', p.CONTENT_TYPES.text], ['Content-Length', HELLO_LENGTH]]);
      return [p.HELLO];
    case '/json':
      // As the other peers do: the string as the body, its Content-Length set by the server.
      startResponse('200 OK', [['Content-Type', p.CONTENT_TYPES.json]]);
      return [JSON.stringify(p.JSON_OBJECT)];
    case '/headers': {
      const body = p.headersBody(environ.HTTP_USER_AGENT, environ.HTTP_ACCEPT_LANGUAGE, environ.HTTP_X_REQUEST_ID);
      // The values are ASCII here, so length in characters is length in bytes.
      startResponse('200 OK', [['Content-Type', p.CONTENT_TYPES.text], ['Content-Length', String(body.length)]]);
      return [body];
    }
    case '/echo': {
      const body = environ['wsgi.input'].read();
      startResponse('200 OK', [['Content-Type', p.CONTENT_TYPES.binary], ['Content-Length', String(body.length)]]);
      return [body];
    }
    case '/stream':
      startResponse('200 OK', [['Content-Type', p.CONTENT_TYPES.binary]]);
      return p.streamChunks();
    case '/file':
      startResponse('200 OK', [['Content-Type', p.CONTENT_TYPES.binary], ['Content-Length', FILE_SIZE]]);
      return environ['wsgi.file_wrapper'](FILE);
    default:
      startResponse('404 Not Found', [['Content-Type', p.CONTENT_TYPES.text], ['Content-Length', '9']]);
      return ['Not Found'];
  }
}

module.exports = { app };
