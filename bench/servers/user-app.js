'use strict';
// `--app`: the user's own application on tsgi or on node:http, loaded by the tsgi CLI's
// loader (dist/app-loader.js) and detected as the CLI detects it (dist/adapters/detect.js).
//   node bench/servers/user-app.js --server tsgi|node --app MODULE[:EXPORT] --cwd DIR
//        [--interface auto|tsgi|node|fetch] --host HOST --port PORT
// On node:http a node handler (Express, Koa's callback(), Fastify's routing) is passed
// to http.createServer as it is; a tsgi app or a fetch handler runs through toNodeHandler().
const http = require('node:http');
const path = require('node:path');
const { ready, onShutdown, fail } = require('./common');

const DIST = path.join(__dirname, '..', '..', 'dist');

function parseArgs(argv = process.argv.slice(2)) {
  const o = { server: null, app: null, cwd: process.cwd(), interface: 'auto', host: '127.0.0.1', port: 0 };
  const flags = { '--server': 'server', '--app': 'app', '--cwd': 'cwd', '--interface': 'interface', '--host': 'host', '--port': 'port' };
  for (let i = 0; i < argv.length; i++) {
    const key = flags[argv[i]];
    if (!key || i + 1 >= argv.length) throw new Error(`user-app: bad argument ${argv[i]}`);
    o[key] = argv[++i];
  }
  o.port = Number(o.port);
  if (o.server !== 'tsgi' && o.server !== 'node') throw new Error('user-app: --server must be tsgi or node');
  if (!o.app) throw new Error('user-app: --app MODULE[:EXPORT] is required');
  return o;
}

/** The node:http request listener for an export of the given detected interface. */
async function nodeHandler(exported, detection) {
  const { adaptExport } = require(path.join(DIST, 'adapters', 'detect.js'));
  const { toNodeHandler } = require(path.join(DIST, 'index.js'));
  if (detection.interface !== 'node') return toNodeHandler(await adaptExport(exported, detection));
  if (detection.kind === 'Fastify instance') {
    await exported.ready();
    return (req, res) => exported.routing(req, res);
  }
  if (detection.kind === 'Koa app') return exported.callback();
  return exported;
}

async function start(o) {
  const { loadApp } = require(path.join(DIST, 'app-loader.js'));
  const { describeExport, adaptExport } = require(path.join(DIST, 'adapters', 'detect.js'));
  const exported = await loadApp(o.app, o.cwd);
  const detection = describeExport(exported, o.interface, o.app);
  process.stderr.write(`user-app: ${o.app} is a ${detection.kind} (${detection.why}); serving it on ${o.server === 'tsgi' ? 'tsgi' : 'node:http'}\n`);
  if (o.server === 'tsgi') {
    const { serve } = require(path.join(DIST, 'index.js'));
    const server = await serve(await adaptExport(exported, detection, o.app), { host: o.host, port: o.port });
    onShutdown(() => server.close());
    ready(server.address().port);
    return;
  }
  const server = http.createServer(await nodeHandler(exported, detection));
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, resolve);
  });
  onShutdown(() => new Promise((r) => { server.close(r); server.closeAllConnections(); }));
  ready(server.address().port);
}

if (require.main === module) {
  let o;
  try {
    o = parseArgs();
  } catch (e) {
    fail(e);
  }
  start(o).catch(fail);
}
module.exports = { parseArgs };
