'use strict';
// Shared plumbing for the peer servers: command-line flags, the ready line the harness
// waits for, and a clean exit on SIGINT/SIGTERM (so --cpu-prof profiles get written).
const payloads = require('../payloads');

function parseArgs(argv = process.argv.slice(2)) {
  const out = { host: '127.0.0.1', port: 0, workers: 1 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--port') out.port = Number(next());
    else if (a === '--host') out.host = next();
    else if (a === '--workers') out.workers = Number(next());
    else throw new Error(`unknown flag ${a}`);
  }
  if (!Number.isInteger(out.port) || out.port < 0 || out.port > 65535) throw new Error('--port must be 0..65535');
  if (!Number.isInteger(out.workers) || out.workers < 1) throw new Error('--workers must be a positive integer');
  return out;
}

const READY_PREFIX = 'tsgi-bench ready ';

/** Tells the harness the server listens; the harness parses this line. */
function ready(port) {
  process.stdout.write(`${READY_PREFIX}${JSON.stringify({ port, pid: process.pid })}\n`);
}

/** Runs `close` (may be async) on SIGINT/SIGTERM, then exits 0. */
function onShutdown(close) {
  let closing = false;
  const stop = () => {
    if (closing) return;
    closing = true;
    setTimeout(() => process.exit(0), 1000).unref();
    Promise.resolve()
      .then(close)
      .catch(() => {})
      .finally(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

function fail(err) {
  process.stderr.write(`${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
}

module.exports = { parseArgs, ready, onShutdown, fail, READY_PREFIX, payloads };
