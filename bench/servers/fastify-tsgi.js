'use strict';
// The fastify peer's app (bench/servers/fastify.js) on tsgi: its serverFactory handler,
// served with serve(fromNodeHandler(handler)).
const http = require('node:http');
const { parseArgs, ready, onShutdown, fail } = require('./common');
const { DIST } = require('./tsgi');
const { build } = require('./fastify');

async function start({ host, port }) {
  const { serve, fromNodeHandler } = require(DIST);
  let handler;
  const fastify = build({
    serverFactory: (h) => {
      handler = h;
      return http.createServer(h);
    },
  });
  await fastify.ready();
  const server = await serve(fromNodeHandler(handler), { host, port });
  onShutdown(() => server.close());
  ready(server.address().port);
}

if (require.main === module) start(parseArgs()).catch(fail);
