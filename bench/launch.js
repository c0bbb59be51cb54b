'use strict';
// Starts a peer server as a child process (pinned, in its own process group), waits
// until it answers, and guarantees it is killed: on stop(), on error, on Ctrl-C, and
// when the harness exits for any reason.
const { spawn } = require('node:child_process');
const { PEERS, ROOT, labelOf } = require('./peers');
const { READY_PREFIX } = require('./servers/common');
const { freePort, pinned } = require('./system');
const { request } = require('./http-client');

const live = new Set();

function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal); // the whole group: cluster and CLI workers too
  } catch {
    try {
      child.kill(signal);
    } catch {}
  }
}

let hooked = false;
function hookExit() {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const c of live) killGroup(c, 'SIGKILL');
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      for (const c of live) killGroup(c, 'SIGKILL');
      process.stderr.write(`\nbench: interrupted (${sig}); servers stopped\n`);
      process.exit(130);
    });
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts `id`; resolves { id, label, pid, port, child, stderr(), stop() }.
 * Ready means: the server printed its ready line, or (for CLIs that print none)
 * GET /hello answered (with any status: the server is up).
 */
async function launch(id, { host = '127.0.0.1', workers = 1, threads = 1, app = null, cpus = null, timeoutMs = 20000 } = {}) {
  hookExit();
  const peer = PEERS[id];
  if (!peer) throw new Error(`unknown server '${id}'`);
  const port = await freePort(host);
  const exec = peer.exec ? peer.exec() : process.execPath;
  const [cmd, args] = pinned(cpus, exec, peer.command({ host, port, workers, threads, app }));
  const child = spawn(cmd, args, { cwd: peer.cwd || ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let out = '';
  let err = '';
  let exited = null;
  child.stdout.setEncoding('utf8').on('data', (d) => { out = (out + d).slice(-8192); });
  child.stderr.setEncoding('utf8').on('data', (d) => { err = (err + d).slice(-8192); });
  child.on('error', (e) => {
    exited = `could not run ${exec}: ${e.message}`;
    live.delete(child);
  });
  child.on('exit', (code, signal) => {
    exited = signal || `exit code ${code}`;
    live.delete(child);
  });
  const handle = {
    id,
    label: labelOf(id, workers, threads),
    pid: child.pid,
    port,
    host,
    child,
    stderr: () => err,
    exited: () => exited,
    async stop() {
      if (exited) return;
      killGroup(child, 'SIGTERM');
      for (let i = 0; i < 30 && !exited; i++) await sleep(50);
      if (!exited) killGroup(child, 'SIGKILL');
      for (let i = 0; i < 20 && !exited; i++) await sleep(50);
    },
  };
  const deadline = Date.now() + timeoutMs;
  let polls = 0;
  for (;;) {
    if (exited) {
      throw new Error(`${handle.label} exited during startup (${exited}): ${tail(err || out)}`);
    }
    if (out.includes(READY_PREFIX)) break;
    if (++polls % 5 === 0) {
      try {
        const r = await request({ host, port, request: { method: 'GET', path: '/hello' }, timeoutMs: 1000 });
        if (r) break;
      } catch {}
    }
    if (Date.now() > deadline) {
      await handle.stop();
      throw new Error(`${handle.label} did not become ready within ${timeoutMs} ms: ${tail(err || out)}`);
    }
    await sleep(50);
  }
  return handle;
}

/** The useful part of a failed server's output: its error line, else its last lines. */
function tail(s) {
  const lines = String(s).trim().split('\n').map((l) => l.trim()).filter(Boolean);
  const err = lines.find((l) => /^(\w*Error|Error)\b|error=|^tsgi:/.test(l));
  const t = err ? err.slice(0, 400) : lines.slice(-3).join(' | ');
  return t || '(no output)';
}

async function stopAll() {
  for (const c of [...live]) killGroup(c, 'SIGKILL');
}

module.exports = { launch, stopAll, killGroup };
