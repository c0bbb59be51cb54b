'use strict';
// Load with autocannon, run as a child process (bench/generators/autocannon-child.js)
// so that it is pinned and measured like wrk.
const path = require('node:path');
const { runChild } = require('./common');

function available() {
  try {
    require.resolve('autocannon');
    return null;
  } catch {
    return 'autocannon is not installed (npm install)';
  }
}

function version() {
  try {
    return `autocannon ${require('autocannon/package.json').version}`;
  } catch {
    return 'autocannon';
  }
}

function parseOutput(stdout) {
  const line = stdout.trim().split('\n').filter(Boolean).pop();
  let r;
  try {
    r = JSON.parse(line);
  } catch {
    throw new Error(`autocannon printed no result: ${stdout.trim().slice(-300)}`);
  }
  const none = !r.requests;
  return { ...r, p50Ms: none ? null : r.p50Ms, p99Ms: none ? null : r.p99Ms, rps: r.seconds > 0 ? r.requests / r.seconds : 0 };
}

async function run({ url, scenario, duration, connections, cpus, timeoutS = 10 }) {
  const opts = {
    url: url + scenario.path,
    connections,
    duration,
    pipelining: scenario.pipeline,
    method: scenario.method,
    headers: Object.fromEntries(scenario.headers),
    body: scenario.body ? scenario.body.toString('base64') : null,
    timeout: timeoutS,
  };
  const res = await runChild(process.execPath, [path.join(__dirname, 'autocannon-child.js'), JSON.stringify(opts)], {
    cpus,
    limitMs: (duration + timeoutS + 15) * 1000,
  });
  if (res.code !== 0) throw new Error(`autocannon failed (${res.signal || `exit ${res.code}`}): ${res.stderr.trim().slice(-300)}`);
  return { ...parseOutput(res.stdout), generatorCpu: res.generatorCpu };
}

module.exports = { name: 'autocannon', available, version, parseOutput, run, cleanup() {} };
