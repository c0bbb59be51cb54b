'use strict';
// The servers the harness can compare, how to start each, and whether it can run here.
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const server = (name) => path.join(__dirname, 'servers', `${name}.js`);

function uwsLoads() {
  try {
    require('@trufflesuite/uws-js-unofficial');
    return null;
  } catch (e) {
    return `@trufflesuite/uws-js-unofficial does not load on Node ${process.version}: ${e.message.split('\n')[0]}`;
  }
}

function tsgiBuilt() {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'index.js'))) return 'dist/index.js is missing: run `npm run build`';
  try {
    require('node-gyp-build').resolve(ROOT);
  } catch {
    return 'the native addon is not built: run `npm run build:native`';
  }
  try {
    const api = require(path.join(ROOT, 'dist', 'index.js'));
    if (typeof api.serve !== 'function') return 'dist/index.js does not export serve() yet';
  } catch (e) {
    return `dist/index.js does not load: ${e.message.split('\n')[0]}`;
  }
  return null;
}

function tsgiCli() {
  const bin = path.join(ROOT, 'bin', 'tsgi.js');
  if (!fs.existsSync(bin)) return 'bin/tsgi.js (the process manager CLI) is not there yet';
  return tsgiBuilt();
}

/**
 * id → { label, baseline?, multi?, unavailable(): reason|null, command({host, port, workers}) }.
 * `multi` peers run --workers processes and only take part when --workers > 1.
 * `optIn` peers (frameworks on tsgi) run only when named in --servers.
 */
const PEERS = {
  tsgi: {
    label: 'tsgi',
    unavailable: tsgiBuilt,
    command: ({ host, port }) => [server('tsgi'), '--host', host, '--port', String(port)],
  },
  'tsgi-workers': {
    label: 'tsgi workers',
    multi: true,
    unavailable: tsgiCli,
    command: ({ host, port, workers }) => [
      path.join(ROOT, 'bin', 'tsgi.js'),
      `${path.relative(ROOT, server('tsgi-app'))}:app`,
      '--workers',
      String(workers),
      '--bind',
      `${host}:${port}`,
    ],
  },
  node: {
    label: 'node:http',
    baseline: true,
    unavailable: () => null,
    command: ({ host, port }) => [server('node-http'), '--host', host, '--port', String(port)],
  },
  'node-cluster': {
    label: 'node:http cluster',
    multi: true,
    unavailable: () => null,
    command: ({ host, port, workers }) => [server('node-cluster'), '--host', host, '--port', String(port), '--workers', String(workers)],
  },
  uws: {
    label: 'uWebSockets.js',
    baseline: true,
    unavailable: uwsLoads,
    command: ({ host, port }) => [server('uws'), '--host', host, '--port', String(port)],
  },
  fastify: {
    label: 'fastify',
    unavailable: () => null,
    command: ({ host, port }) => [server('fastify'), '--host', host, '--port', String(port)],
  },
  express: {
    label: 'express',
    unavailable: () => null,
    command: ({ host, port }) => [server('express'), '--host', host, '--port', String(port)],
  },
  'express-tsgi': {
    label: 'express on tsgi',
    optIn: true,
    unavailable: tsgiBuilt,
    command: ({ host, port }) => [server('express-tsgi'), '--host', host, '--port', String(port)],
  },
  'fastify-tsgi': {
    label: 'fastify on tsgi',
    optIn: true,
    unavailable: tsgiBuilt,
    command: ({ host, port }) => [server('fastify-tsgi'), '--host', host, '--port', String(port)],
  },
  hono: {
    label: 'Hono (node-server)',
    unavailable: () => null,
    command: ({ host, port }) => [server('hono'), '--host', host, '--port', String(port)],
  },
  'hono-tsgi': {
    label: 'Hono (tsgi)',
    unavailable: tsgiBuilt,
    command: ({ host, port }) => [server('hono-tsgi'), '--host', host, '--port', String(port)],
  },
};

const IDS = Object.keys(PEERS);

/** Label shown in reports; multi-process peers carry their worker count. */
function labelOf(id, workers) {
  const p = PEERS[id];
  return p.multi ? `${p.label} ×${workers}` : p.label;
}

/** The default selection: every single-process peer, plus the multi ones when workers > 1. */
function defaultServers(workers) {
  return IDS.filter((id) => !PEERS[id].optIn && (!PEERS[id].multi || workers > 1));
}

module.exports = { PEERS, IDS, ROOT, labelOf, defaultServers };
