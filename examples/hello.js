// The smallest tsgi application: `npm start` serves it on 127.0.0.1:8000.
'use strict';

const BODY = Buffer.from('Hello World');

exports.app = function app(environ, startResponse) {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [BODY];
};
