#!/usr/bin/env node
'use strict';
// `npm run profile`: runs one server (tsgi by default) under a profiler while the load
// generator drives one scenario, then stops it so the profiler writes its report.
//
//   --mode flame     clinic flame (0x): an HTML flame graph of JavaScript and V8 frames
//   --mode cpu-prof  node --cpu-prof: a .cpuprofile for Chrome DevTools / speedscope;
//                    better for native-heavy scenarios (file, stream, pipelined), where
//                    most time is in the addon and a flame graph of JS says little
// For native frames themselves use perf (see docs/benchmarks.md).
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { PEERS, ROOT } = require('./peers');
const { getScenario, familyNames } = require('./scenarios');

const NAMES = familyNames('js');
const { ensureFile } = require('./payloads');
const { READY_PREFIX } = require('./servers/common');
const generators = require('./generators');
const system = require('./system');

const HELP = `Usage: npm run profile -- [options]

  --server ID         ${Object.keys(PEERS).filter((id) => !PEERS[id].multi && PEERS[id].family === 'js').join(', ')} (default tsgi)
  --scenario NAME     ${NAMES.filter((n) => n !== 'idle').join(', ')} (default hello)
  --mode MODE         flame (clinic flame) or cpu-prof (node --cpu-prof) (default flame)
  --duration SECONDS  load duration (default 10)
  --connections N     (default 100)
  --generator NAME    auto, wrk, autocannon (default auto)
  --out DIR           where profiles go (default bench/results/profile)
`;

function parse(argv) {
  const o = { server: 'tsgi', scenario: 'hello', mode: 'flame', duration: 10, connections: 100, generator: 'auto', out: path.join(__dirname, 'results', 'profile') };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s);
    if (flag === '-h' || flag === '--help') return { ...o, help: true };
    const key = { '--server': 'server', '--scenario': 'scenario', '--mode': 'mode', '--duration': 'duration', '--connections': 'connections', '--generator': 'generator', '--out': 'out' }[flag];
    if (!key) throw new Error(`unknown option ${flag} (see --help)`);
    const v = inline !== undefined ? inline : argv[++i];
    if (v === undefined) throw new Error(`${flag} needs a value`);
    o[key] = ['duration', 'connections'].includes(key) ? Number(v) : v;
  }
  if (!PEERS[o.server] || PEERS[o.server].multi || PEERS[o.server].family !== 'js') throw new Error(`--server must be one of the single-process JavaScript servers`);
  if (!NAMES.includes(o.scenario) || o.scenario === 'idle') throw new Error(`--scenario must be a throughput scenario`);
  if (!['flame', 'cpu-prof'].includes(o.mode)) throw new Error('--mode must be flame or cpu-prof');
  if (!(Number.isInteger(o.duration) && o.duration >= 1 && o.duration <= 600)) throw new Error('--duration must be 1..600');
  if (!(Number.isInteger(o.connections) && o.connections >= 1)) throw new Error('--connections must be a positive integer');
  o.out = path.resolve(o.out);
  return o;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitReady(child, getOut, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const m = new RegExp(`${READY_PREFIX}(\\{.*\\})`).exec(getOut());
    if (m) return JSON.parse(m[1]).port;
    if (child.exitCode !== null) throw new Error(`server exited during startup:\n${getOut().slice(-2000)}`);
    await sleep(100);
  }
  throw new Error(`server not ready within ${timeoutMs} ms:\n${getOut().slice(-2000)}`);
}

async function main(argv) {
  const o = parse(argv);
  if (o.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const why = PEERS[o.server].unavailable();
  if (why) throw new Error(`${o.server} is unavailable: ${why}`);
  const { generator } = generators.choose(o.generator);
  const plan = system.cpuPlan();
  ensureFile();
  fs.mkdirSync(o.out, { recursive: true });
  const port = await system.freePort();
  const serverArgs = PEERS[o.server].command({ host: '127.0.0.1', port });
  let cmd;
  if (o.mode === 'flame') {
    const clinic = require.resolve('clinic/bin.js', { paths: [ROOT] });
    cmd = [process.execPath, clinic, 'flame', '--open=false', '--dest', o.out, '--', process.execPath, ...serverArgs];
  } else {
    cmd = [process.execPath, '--cpu-prof', `--cpu-prof-dir=${o.out}`, ...serverArgs];
  }
  const [c, a] = system.pinned(plan.pinned ? plan.server : null, cmd[0], cmd.slice(1));
  process.stderr.write(`profile: ${o.mode} of ${o.server} / ${o.scenario}, ${o.duration} s with ${generator.name}\n`);
  // clinic flame keeps its V8 logs in the working directory: run it in the output directory.
  const child = spawn(c, a, {
    cwd: o.mode === 'flame' ? o.out : ROOT,
    env: { ...process.env, NO_INSIGHT: '1', NO_UPDATE_NOTIFIER: '1' }, // no prompts, no network
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const killAll = () => {
    try { process.kill(-child.pid, 'SIGKILL'); } catch {}
  };
  process.on('exit', killAll);
  process.on('SIGINT', () => process.exit(130));
  try {
    const readyPort = await waitReady(child, () => out, 60000);
    const r = await generator.run({
      url: `http://127.0.0.1:${readyPort}`,
      scenario: getScenario(o.scenario),
      duration: o.duration,
      connections: o.connections,
      cpus: plan.pinned ? plan.generator : null,
    });
    process.stderr.write(`profile: ${Math.round(r.rps).toLocaleString('en-US')} req/s under the profiler (not comparable to npm run bench)\n`);
    // SIGINT to the server, or to clinic, which stops the server and then builds the report.
    process.stderr.write(`profile: load done; ${o.mode === 'flame' ? 'clinic is building the flame graph (this takes a while)' : 'writing the profile'}\n`);
    process.kill(-child.pid, 'SIGINT'); // the whole group, as Ctrl-C in a terminal would
    const code = await new Promise((resolve) => {
      const t = setTimeout(() => { killAll(); resolve('timeout'); }, 300000);
      child.on('exit', (c2) => { clearTimeout(t); resolve(c2); });
    });
    if (code === 'timeout') throw new Error('the profiler did not finish within 5 minutes');
  } finally {
    process.off('exit', killAll);
    killAll();
  }
  const made = fs.readdirSync(o.out).map((f) => path.join(o.out, f)).sort((x, y) => fs.statSync(y).mtimeMs - fs.statSync(x).mtimeMs);
  const report = made.find((f) => (o.mode === 'flame' ? f.endsWith('.html') : f.endsWith('.cpuprofile')));
  if (!report) throw new Error(`no report was written to ${o.out}:\n${out.slice(-2000)}`);
  process.stdout.write(`${o.mode === 'flame' ? 'Flame graph' : 'CPU profile'}: ${path.relative(process.cwd(), report)}\n`);
  if (o.mode === 'cpu-prof') process.stdout.write('Open it in Chrome DevTools (Performance → Load profile) or https://www.speedscope.app\n');
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`profile: ${e.message}\n`);
      process.exit(1);
    },
  );
}
module.exports = { parse };
