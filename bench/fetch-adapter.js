'use strict';
// What fromFetch's shortcuts save, measured in-process as ratios in one run:
//  - the lazy Request (method/url/headers from the environ) against building a real
//    Request for every call, for a handler that never reads the body;
//  - a Response created with its whole body (sent as a one-element array, one native
//    call) against the same bytes read from the Response's stream.
// Usage: node bench/fetch-adapter.js [--iterations N]   (after npm run build:ts)
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const { fromFetch } = require(path.join(__dirname, '..', 'dist', 'index.js'));
const { RequestInput } = require(path.join(__dirname, '..', 'dist', 'input.js'));

const n = Number(process.argv[process.argv.indexOf('--iterations') + 1]) || 50_000;

function environ() {
  const body = Buffer.from('{"hello":"world"}');
  return {
    REQUEST_METHOD: 'POST', SCRIPT_NAME: '', PATH_INFO: '/api/items/42', QUERY_STRING: 'page=2&sort=desc',
    CONTENT_TYPE: 'application/json', CONTENT_LENGTH: String(body.length), SERVER_NAME: '127.0.0.1', SERVER_PORT: '8000',
    SERVER_PROTOCOL: 'HTTP/1.1', REMOTE_ADDR: '127.0.0.1', REMOTE_PORT: '50000', REQUEST_URI: '/api/items/42?page=2&sort=desc',
    'wsgi.url_scheme': 'http', 'wsgi.input': new RequestInput(body, -1, body.length), 'wsgi.errors': process.stderr,
    HTTP_HOST: 'localhost:8000', HTTP_USER_AGENT: 'bench', HTTP_ACCEPT: '*/*', HTTP_ACCEPT_LANGUAGE: 'en', HTTP_X_REQUEST_ID: 'abc',
  };
}

const sr = () => () => {};

async function time(label, fn) {
  for (let i = 0; i < 2000; i++) await fn();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn();
  const us = ((performance.now() - t0) * 1000) / n;
  return { label, us };
}

async function drain(body) {
  const b = await body;
  if (Array.isArray(b)) return b.length;
  let k = 0;
  for await (const c of b) k += c.length;
  return k;
}

(async () => {
  // 1. Request construction: the handler reads method and URL only.
  const lazyApp = fromFetch((req) => { void req.method; void req.url; return new Response('ok'); });
  // The same, but touching a property only the real Request has, so it is built (with its body).
  const eagerApp = fromFetch((req) => { void req.method; void req.url; void req.cache; return new Response('ok'); });
  const lazy = await time('lazy Request (method, url)', () => drain(lazyApp(environ(), sr)));
  const full = await time('real Request built', () => drain(eagerApp(environ(), sr)));
  // 2. Response body: whole (array fast path) against the same bytes through its stream.
  const text = 'x'.repeat(200);
  const wholeApp = fromFetch(() => new Response(text));
  const streamApp = fromFetch(() => new Response(new Blob([text]).stream()));
  const whole = await time('Response(text) → [text]', () => drain(wholeApp(environ(), sr)));
  const streamed = await time('Response(stream) → stream reads', () => drain(streamApp(environ(), sr)));
  for (const r of [lazy, full, whole, streamed]) console.log(`${r.label.padEnd(34)} ${r.us.toFixed(2)} µs/call`);
  console.log(`real Request ÷ lazy: ${(full.us / lazy.us).toFixed(2)}×   stream path ÷ whole-body path: ${(streamed.us / whole.us).toFixed(2)}×`);
})();
