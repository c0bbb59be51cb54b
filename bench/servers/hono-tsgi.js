'use strict';
// The same Hono app as hono.js, served by tsgi through fromFetch instead of @hono/node-server.
const fs = require('node:fs');
const { Readable } = require('node:stream');
const { parseArgs, ready, onShutdown, fail, payloads: p } = require('./common');
const { build, FILE } = require('./hono');
const { DIST } = require('./tsgi');

/** /file as a fetch handler sends it anywhere: a Response over the file's stream. */
function fileRoute(c) {
  const size = fs.statSync(FILE).size;
  return c.body(Readable.toWeb(fs.createReadStream(FILE)), 200, {
    'Content-Type': p.CONTENT_TYPES.binary,
    'Content-Length': String(size),
  });
}

async function start({ host, port }) {
  const { serve, fromFetch } = require(DIST);
  const server = await serve(fromFetch(build(fileRoute)), { host, port });
  onShutdown(() => server.close());
  ready(server.address().port);
}

if (require.main === module) start(parseArgs()).catch(fail);
