// Streaming responses: a sync generator (sent in batches as fast as the client reads) and
// an async generator (each chunk sent as soon as it is yielded).
//   npx tsgi examples/streaming.js:app --bind 127.0.0.1:8000
//   curl -N 127.0.0.1:8000/ticks     curl 127.0.0.1:8000/numbers?n=100000 | tail -1
'use strict';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function* numbers(n) {
  for (let i = 1; i <= n; i++) yield `${i}\n`;
}

async function* ticks(count) {
  for (let i = 1; i <= count; i++) {
    yield `tick ${i} at ${new Date().toISOString()}\n`;
    await sleep(500);
  }
}

exports.app = function app(environ, startResponse) {
  const path = environ.PATH_INFO;
  if (path === '/numbers') {
    const n = Number(new URLSearchParams(environ.QUERY_STRING).get('n') ?? '1000');
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    return numbers(Number.isFinite(n) ? n : 1000);
  }
  if (path === '/ticks') {
    startResponse('200 OK', [['Content-Type', 'text/plain'], ['Cache-Control', 'no-cache']]);
    return ticks(10);
  }
  startResponse('404 Not Found', [['Content-Type', 'text/plain']]);
  return ['try /numbers?n=1000 or /ticks\n'];
};
