// The smallest tsgi application: `npm start` serves it on 127.0.0.1:8000.
//   curl 127.0.0.1:8000/café      → Hello from /café
// The environ's strings are PEP 3333 "native strings": one character per byte (latin-1),
// so PATH_INFO carries the path's UTF-8 bytes undecoded. Request decodes them.
'use strict';

const { Request } = require('tsgi');

exports.app = function app(environ, startResponse) {
  const path = new Request(environ).path;
  startResponse('200 OK', [['Content-Type', 'text/plain; charset=utf-8']]);
  return [`Hello from ${path}\n`];
};
