'use strict';
// N node:http workers sharing one port through node:cluster (the multi-core baseline).
const cluster = require('node:cluster');
const http = require('node:http');
const { parseArgs, ready, onShutdown, fail } = require('./common');
const { handler } = require('./node-http');

function primary({ host, port, workers }) {
  if (port === 0) throw new Error('node-cluster needs an explicit --port (workers must share it)');
  let listening = 0;
  const kids = [];
  for (let i = 0; i < workers; i++) {
    const w = cluster.fork({ BENCH_HOST: host, BENCH_PORT: String(port) });
    kids.push(w);
    w.on('listening', () => {
      if (++listening === workers) ready(port);
    });
    w.on('exit', (code, signal) => {
      if (!shuttingDown) fail(new Error(`worker ${w.process.pid} exited (${signal || code})`));
    });
  }
  let shuttingDown = false;
  onShutdown(async () => {
    shuttingDown = true;
    for (const w of kids) w.process.kill('SIGTERM');
  });
}

function worker() {
  const server = http.createServer(handler);
  server.listen(Number(process.env.BENCH_PORT), process.env.BENCH_HOST);
  const stop = () => process.exit(0);
  process.on('SIGTERM', stop);
  process.on('SIGINT', () => {}); // the primary decides
}

try {
  if (cluster.isPrimary) primary(parseArgs());
  else worker();
} catch (e) {
  fail(e);
}
