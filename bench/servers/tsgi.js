'use strict';
// tsgi in one process, through the embedding API: serve(app, { host, port }).
const path = require('node:path');
const { parseArgs, ready, onShutdown, fail } = require('./common');

const DIST = path.join(__dirname, '..', '..', 'dist', 'index.js');

async function start({ host, port }) {
  const { serve } = require(DIST);
  const { app } = require('./tsgi-app');
  const server = await serve(app, { host, port });
  onShutdown(() => server.close());
  ready(boundPort(server, port));
}

/** The port the server listens on, whichever way the Server object reports it. */
function boundPort(server, requested) {
  const a = typeof server.address === 'function' ? server.address() : server.address;
  if (a && typeof a === 'object' && a.port) return a.port;
  if (typeof server.port === 'number' && server.port) return server.port;
  if (requested) return requested;
  throw new Error('tsgi server did not report its port; start it with an explicit --port');
}

if (require.main === module) start(parseArgs()).catch(fail);
module.exports = { DIST };
