'use strict';
// The idle scenario: open many keep-alive connections (each makes one request so the
// server holds a fully set-up connection), leave them idle, and measure how much the
// server's resident memory grew per connection.
const net = require('node:net');
const { treeRssBytes, openFilesLimit } = require('./system');
const { exchange, formatRequest } = require('./http-client');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** What each connection asks (the hello scenario's request). */
const REQUEST = { method: 'GET', path: '/hello' };
const RESERVE_FDS = 256; // for the harness itself: generator pipes, validation, stdio

/**
 * How many connections can be opened here: `wanted`, or fewer when the open-files
 * limit is too low (both the harness and the server hold one descriptor each).
 * Returns { count, note }.
 */
function plan(wanted, limit = openFilesLimit()) {
  if (limit == null || limit === Infinity || limit >= wanted + RESERVE_FDS) return { count: wanted, note: null };
  const count = Math.max(0, limit - RESERVE_FDS);
  return {
    count,
    note: `ulimit -n is ${limit}: idle measured with ${count} connections instead of ${wanted} (raise it with \`ulimit -n ${wanted + 1024}\`)`,
  };
}

function openOne(host, port, payload, timeoutMs) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    let got = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error('timeout'));
    }, timeoutMs);
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    const onData = (d) => {
      got += d.toString('latin1');
      const headEnd = got.indexOf('\r\n\r\n');
      const m = /content-length:\s*(\d+)/i.exec(got);
      if (headEnd >= 0 && m && got.length >= headEnd + 4 + Number(m[1])) {
        clearTimeout(timer);
        sock.off('data', onData);
        resolve(sock);
      }
    };
    sock.on('data', onData);
    sock.write(payload);
  });
}

/**
 * Warms the server up before the baseline: `requests` requests over a few keep-alive
 * connections, then those connections closed. What a server grows to in its first
 * thousands of requests (compiled code, a JavaScript heap sized for its allocation
 * rate) is then in the baseline, and what the measurement adds is what the idle
 * connections themselves hold.
 */
async function warm(host, port, payload, requests, connections = 16) {
  const per = Math.max(1, Math.ceil(requests / connections));
  const socks = await Promise.all(Array.from({ length: connections }, () => openOne(host, port, payload, 5000)));
  try {
    await Promise.all(socks.map(async (socket) => {
      for (let i = 1; i < per; i++) await exchange({ host, port, socket, requests: [REQUEST], timeoutMs: 5000 });
    }));
  } finally {
    for (const s of socks) s.destroy();
  }
}

/**
 * Measures `server` ({ pid, host, port }), which should be a fresh process: memory a
 * process has grown to is rarely returned, so a second measurement on the same process
 * would see the connections fit into space freed by the first. Resolves
 * { connections, closedEarly, failed, rssBeforeBytes, rssAfterBytes, bytesPerConnection, seconds }.
 * Bounded by `timeLimitMs`: whatever is open by then is measured.
 */
async function measureIdle(server, { count, batch = 256, timeLimitMs = 60000, settleMs = 300, onProgress } = {}) {
  const { pid, host, port } = server;
  const payload = formatRequest(REQUEST, `${host}:${port}`);
  const sockets = new Set();
  let closedEarly = 0;
  let failed = 0;
  let firstError = null;
  await warm(host, port, payload, count);
  await sleep(settleMs);
  const rssBeforeBytes = treeRssBytes(pid);
  const t0 = Date.now();
  try {
    // A sliding window of `batch` connections in flight: the open phase is as short as
    // the server allows, because servers close idle connections after a keep-alive
    // timeout (node:http: 5 s) and the measurement must come before that.
    let started = 0;
    let finished = 0;
    await new Promise((resolve) => {
      const next = () => {
        const stop = Date.now() - t0 >= timeLimitMs || failed > count / 10; // refused: stop early, report it
        if (finished === started && (started >= count || stop)) return resolve();
        while (!stop && started < count && started - finished < batch) {
          started++;
          openOne(host, port, payload, Math.max(1000, timeLimitMs - (Date.now() - t0))).then(
            (s) => {
              sockets.add(s);
              s.on('close', () => {
                if (sockets.delete(s)) closedEarly++;
              });
              s.on('error', () => {});
              done();
            },
            (e) => {
              failed++;
              firstError = firstError || e.message;
              done();
            },
          );
        }
      };
      const done = () => {
        finished++;
        if (onProgress && finished % 250 === 0) onProgress(sockets.size, count);
        next();
      };
      next();
    });
    await sleep(settleMs);
    const rssAfterBytes = treeRssBytes(pid);
    const connections = sockets.size;
    return {
      connections,
      wanted: count,
      closedEarly,
      failed,
      firstError,
      rssBeforeBytes,
      rssAfterBytes,
      bytesPerConnection: connections > 0 ? (rssAfterBytes - rssBeforeBytes) / connections : null,
      seconds: (Date.now() - t0) / 1000,
    };
  } finally {
    const all = [...sockets];
    sockets.clear();
    for (const s of all) s.destroy();
    await sleep(200);
  }
}

module.exports = { plan, measureIdle };
