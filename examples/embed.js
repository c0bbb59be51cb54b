// Embedding tsgi in a Node process: serve() resolves once listening; Ctrl-C closes it
// gracefully (in-flight requests finish).
//   node examples/embed.js
'use strict';

const { serve, Request } = require('..');

async function main() {
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  const server = await serve((environ, startResponse) => {
    const req = new Request(environ);
    startResponse('200 OK', [['Content-Type', 'application/json']]);
    return [JSON.stringify({ method: req.method, path: req.path, query: Object.fromEntries(req.query) }) + '\n'];
  }, { host: '127.0.0.1', port: 8000, signal: controller.signal });
  const { address, port } = server.address();
  console.log(`listening on http://${address}:${port}/ (Ctrl-C to stop)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
