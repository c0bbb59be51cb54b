// A static site and a small JSON API in one application, with the middleware kit:
// proxyFix (trust forwarding headers from the local proxy), compress (gzip/brotli), and
// mount ('/api' to the API, everything else to the files in examples/public/).
//   npx tsgi examples/site.js:app --bind 127.0.0.1:8000
//   curl -s 127.0.0.1:8000/                      curl -s --compressed 127.0.0.1:8000/api/hello?name=you
//   curl -sN --compressed 127.0.0.1:8000/api/ticks
'use strict';

const path = require('node:path');
const { Request, compose, compress, mount, proxyFix, staticFiles } = require('..');

const json = (startResponse, status, value) => {
  const body = JSON.stringify(value) + '\n';
  startResponse(status, [['Content-Type', 'application/json'], ['Content-Length', String(Buffer.byteLength(body))]]);
  return [body];
};

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function api(environ, startResponse) {
  const req = new Request(environ);
  if (req.path === '/hello') {
    return json(startResponse, '200 OK', {
      hello: req.query.get('name') ?? 'world',
      client: req.remoteAddr,
      url: req.url,
      mountedAt: req.scriptRoot,
    });
  }
  if (req.path === '/ticks') {
    // Streamed: each line is compressed and flushed on its own, so it arrives as it is made.
    startResponse('200 OK', [['Content-Type', 'text/plain; charset=utf-8'], ['Cache-Control', 'no-cache']]);
    const count = Math.min(Number(req.query.get('n') ?? 5) || 5, 100);
    return (async function* ticks() {
      for (let i = 1; i <= count; i++) {
        yield `tick ${i}\n`;
        if (i < count) await sleep(200);
      }
    })();
  }
  return json(startResponse, '404 Not Found', { error: `no API route ${req.path}` });
}

function notFound(environ, startResponse) {
  const body = 'Not Found\n';
  startResponse('404 Not Found', [['Content-Type', 'text/plain; charset=utf-8'], ['Content-Length', String(body.length)]]);
  return environ.REQUEST_METHOD === 'HEAD' ? [] : [body];
}

const site = staticFiles(path.join(__dirname, 'public'), { cacheControl: 'public, max-age=300' })(notFound);

exports.app = compose(
  proxyFix({ trustedProxies: ['127.0.0.1', '::1'] }),
  compress(),
)(mount({ '/api': api, '/': site }));
