'use strict';
// The express peer's app (bench/servers/express.js) on tsgi: serve(fromNodeHandler(app)).
const { parseArgs, ready, onShutdown, fail } = require('./common');
const { DIST } = require('./tsgi');
const { build } = require('./express');

async function start({ host, port }) {
  const { serve, fromNodeHandler } = require(DIST);
  const server = await serve(fromNodeHandler(build()), { host, port });
  onShutdown(() => server.close());
  ready(server.address().port);
}

if (require.main === module) start(parseArgs()).catch(fail);
