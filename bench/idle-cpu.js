'use strict';
// CPU used by an idle tsgi: the master and each worker, in ms of CPU per second of wall
// time, while no request arrives. Starts `node bin/tsgi.js bench/servers/tsgi-app.js:app`
// on a free loopback port, waits until it is ready and has settled, reads each process's
// run time (schedstat), utime + stime and wake-ups (voluntary context switches of all its
// threads) at the start and end of the window, then stops the server.
//   node bench/idle-cpu.js [--seconds 20] [--app SPEC] [-- extra tsgi arguments, e.g. --workers 2]
// (--app: another application, e.g. bench/apps/python/hello.py:application).
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { freePort, readStat, clockTicks, processTree } = require('./system');

const ROOT = path.join(__dirname, '..');
// Past start-up: the loading, and the garbage collections V8 makes in the first seconds.
const SETTLE_MS = 5000;

function parseArgs(argv) {
  const out = { seconds: 20, app: path.join(ROOT, 'bench', 'servers', 'tsgi-app.js') + ':app', extra: ['--workers', '1'] };
  const dash = argv.indexOf('--');
  const own = dash === -1 ? argv : argv.slice(0, dash);
  if (dash !== -1) out.extra = argv.slice(dash + 1);
  for (let i = 0; i < own.length; i++) {
    if (own[i] === '--seconds') out.seconds = Number(own[++i]);
    else if (own[i] === '--app') out.app = own[++i];
    else throw new Error(`unknown argument ${own[i]}: use --seconds N [--app SPEC] [-- tsgi arguments]`);
  }
  if (!(out.seconds > 0 && out.seconds <= 120)) throw new Error(`--seconds must be between 0 and 120, got ${out.seconds}`);
  return out;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * CPU seconds one process has run so far: the scheduler's run time of each of its threads
 * (/proc/PID/task/TID/schedstat, in ns), which counts short wake-ups that the 10 ms
 * utime/stime ticks mostly miss; null once it is gone.
 */
function cpuOf(pid) {
  try {
    let ns = 0;
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // the thread just ended
      }
    }
    return ns / 1e9;
  } catch {
    return null;
  }
}

/** Times a thread went to sleep and woke again so far (voluntary context switches); null once it is gone. */
function switchesOf(pid, tid) {
  try {
    return Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'))[1]);
  } catch {
    return null;
  }
}

/** Wake-ups so far: of the main thread (the event loop), and of all the threads together. */
function wakeupsOf(pid) {
  const main = switchesOf(pid, pid);
  if (main === null) return null;
  let all = 0;
  try {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) all += switchesOf(pid, tid) ?? 0;
  } catch {
    return null;
  }
  return { main, all };
}

/** utime + stime of one process in seconds (clock ticks); null once it is gone. */
function ticksOf(pid) {
  const st = readStat(pid);
  return st ? (st.utime + st.stime) / clockTicks() : null;
}

async function main() {
  const { seconds, app, extra } = parseArgs(process.argv.slice(2));
  const port = await freePort();
  const args = [path.join(ROOT, 'bin', 'tsgi.js'), app, '--bind', `127.0.0.1:${port}`, ...extra];
  const master = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  const stop = () => { try { master.kill('SIGKILL'); } catch {} };
  process.on('exit', stop);
  let log = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tsgi did not log "server ready" within 15 s:\n${log}`)), 15_000);
    master.stderr.setEncoding('utf8').on('data', (d) => {
      log += d;
      if (log.includes('msg="server ready"')) { clearTimeout(timer); resolve(); }
    });
    master.on('exit', (code, signal) => reject(new Error(`tsgi exited (${code ?? signal}) before it was ready:\n${log}`)));
  });
  await sleep(SETTLE_MS);
  const workers = processTree(master.pid).filter((p) => p !== master.pid);
  const pids = [master.pid, ...workers];
  const before = pids.map(cpuOf);
  const ticksBefore = pids.map(ticksOf);
  const wakeupsBefore = pids.map(wakeupsOf);
  const t0 = process.hrtime.bigint();
  await sleep(seconds * 1000);
  const after = pids.map(cpuOf);
  const ticksAfter = pids.map(ticksOf);
  const wakeupsAfter = pids.map(wakeupsOf);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  master.kill('SIGTERM');
  await new Promise((r) => { if (master.exitCode !== null || master.signalCode !== null) r(); else master.once('exit', r); });
  const perSecond = (a, b) => (a === null || b === null ? 'gone' : `${((b - a) * 1000 / wall).toFixed(2)} ms/s`);
  const rate = (a, b) => (a === null || b === null ? 'gone' : `${((b.main - a.main) / wall).toFixed(1)}/s, ${((b.all - a.all) / wall).toFixed(1)}/s`);
  process.stdout.write(`idle CPU over ${wall.toFixed(1)} s, tsgi ${path.relative(ROOT, app)} ${extra.join(' ')}\n`);
  process.stdout.write(`  ${'process'.padEnd(9)} ${'pid'.padEnd(8)} ${'run time (schedstat)'.padEnd(22)} ${`utime+stime (${1000 / clockTicks()} ms ticks)`.padEnd(28)} wake-ups (event loop, all threads)\n`);
  pids.forEach((pid, i) => {
    const name = i === 0 ? 'master' : `worker ${i}`;
    process.stdout.write(`  ${name.padEnd(9)} ${String(pid).padEnd(8)} ${perSecond(before[i], after[i]).padEnd(22)} ${perSecond(ticksBefore[i], ticksAfter[i]).padEnd(28)} ${rate(wakeupsBefore[i], wakeupsAfter[i])}\n`);
  });
}

main().catch((err) => {
  process.stderr.write(`idle-cpu: ${err.message}\n`);
  process.exit(1);
});
