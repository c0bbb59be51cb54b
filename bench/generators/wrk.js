'use strict';
// Load with wrk (https://github.com/wg/wrk). Each scenario becomes a small Lua script:
// method, headers and body for the request, 16 requests per write for `pipelined`,
// and a `done` hook that prints the counts and latency percentiles as JSON.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { onPath } = require('../system');
const { runChild } = require('./common');

const MARK = '@@TSGI-BENCH ';

/** A Lua string literal for arbitrary bytes. */
function luaString(s) {
  const b = Buffer.isBuffer(s) ? s : Buffer.from(String(s), 'latin1');
  let out = '"';
  for (const c of b) {
    if (c === 0x22 || c === 0x5c) out += `\\${String.fromCharCode(c)}`;
    else if (c >= 0x20 && c < 0x7f) out += String.fromCharCode(c);
    else out += `\\${c}`;
  }
  return `${out}"`;
}

function luaScript(scenario) {
  const lines = [`wrk.method = ${luaString(scenario.method)}`];
  for (const [k, v] of scenario.headers) lines.push(`wrk.headers[${luaString(k)}] = ${luaString(v)}`);
  if (scenario.body) lines.push(`wrk.body = ${luaString(scenario.body)}`);
  if (scenario.pipeline > 1) {
    lines.push(
      'local pipelined',
      'init = function(args)',
      '  local r = {}',
      `  for i = 1, ${scenario.pipeline} do r[i] = wrk.format(nil, ${luaString(scenario.path)}) end`,
      '  pipelined = table.concat(r)',
      'end',
      'request = function() return pipelined end',
    );
  }
  lines.push(
    'done = function(summary, latency, requests)',
    '  local e = summary.errors',
    `  io.write(string.format('${MARK}{"requests":%.0f,"duration_us":%.0f,"bytes":%.0f,` +
      `"connect":%.0f,"read":%.0f,"write":%.0f,"status":%.0f,"timeout":%.0f,` +
      `"p50_us":%.0f,"p99_us":%.0f,"mean_us":%.1f,"max_us":%.0f}\\n',`,
    '    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,',
    '    latency:percentile(50), latency:percentile(99), latency.mean, latency.max))',
    'end',
  );
  return `${lines.join('\n')}\n`;
}

/** Parses wrk's stdout into a LoadResult (without generatorCpu). */
function parseOutput(stdout) {
  const line = stdout.split('\n').find((l) => l.startsWith(MARK));
  if (!line) throw new Error(`wrk printed no result: ${stdout.trim().split('\n').slice(-3).join(' | ')}`);
  const r = JSON.parse(line.slice(MARK.length));
  const seconds = r.duration_us / 1e6;
  return {
    requests: r.requests,
    seconds,
    rps: seconds > 0 ? r.requests / seconds : 0,
    p50Ms: r.requests ? r.p50_us / 1000 : null, // no responses: no latency to speak of
    p99Ms: r.requests ? r.p99_us / 1000 : null,
    errors: r.connect + r.read + r.write + r.timeout,
    non2xx: r.status,
  };
}

function available() {
  return onPath('wrk') ? null : 'wrk is not on PATH (apt-get install wrk)';
}

function version() {
  try {
    const out = execFileSync('wrk', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return out.split('\n')[0].replace(/\s*Copyright.*$/, '').trim();
  } catch (e) {
    // wrk --version exits 1 after printing the version.
    const out = String((e.stdout || '') + (e.stderr || ''));
    return out.split('\n')[0].replace(/\s*Copyright.*$/, '').trim() || 'wrk';
  }
}

let scriptDir;
/** Runs one measurement. */
async function run({ url, scenario, duration, connections, cpus, timeoutS = 10 }) {
  if (!scriptDir) scriptDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-bench-wrk-'));
  const script = path.join(scriptDir, `${scenario.name}.lua`);
  fs.writeFileSync(script, luaScript(scenario));
  const threads = Math.max(1, Math.min(connections, cpus ? cpus.length : os.cpus().length));
  const args = ['-t', String(threads), '-c', String(connections), '-d', `${duration}s`, '--timeout', `${timeoutS}s`, '-s', script, url + scenario.path];
  const res = await runChild('wrk', args, { cpus, limitMs: (duration + timeoutS + 10) * 1000 });
  if (res.code !== 0 && !res.stdout.includes(MARK)) {
    throw new Error(`wrk failed (${res.signal || `exit ${res.code}`}): ${(res.stderr || res.stdout).trim().slice(-300)}`);
  }
  return { ...parseOutput(res.stdout), generatorCpu: res.generatorCpu };
}

function cleanup() {
  if (scriptDir) fs.rmSync(scriptDir, { recursive: true, force: true });
  scriptDir = undefined;
}

module.exports = { name: 'wrk', luaString, luaScript, parseOutput, available, version, run, cleanup };
