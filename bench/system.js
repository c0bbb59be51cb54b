'use strict';
// What the harness needs from the operating system: free ports, CPU pinning with
// taskset, process trees, RSS and CPU time from /proc, the open-files limit.
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const { execFileSync } = require('node:child_process');

/** A port that was free a moment ago (bound to port 0, then released). */
function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function onPath(cmd) {
  for (const dir of (process.env.PATH || '').split(':')) {
    if (!dir) continue;
    try {
      fs.accessSync(`${dir}/${cmd}`, fs.constants.X_OK);
      return `${dir}/${cmd}`;
    } catch {}
  }
  return null;
}

/** CPUs this process may run on (respects an outer taskset / cgroup cpuset). */
function allowedCpus() {
  try {
    const m = /Cpus_allowed_list:\s*(\S+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) return expandCpuList(m[1]);
  } catch {}
  return os.cpus().map((_, i) => i);
}

function expandCpuList(list) {
  const out = [];
  for (const part of list.split(',')) {
    const [a, b] = part.split('-').map(Number);
    for (let i = a; i <= (Number.isNaN(b) || b === undefined ? a : b); i++) out.push(i);
  }
  return out;
}

/**
 * Splits the CPUs between the servers and the load generator so they do not compete:
 * the generator gets the last quarter (at least one CPU), the server the rest.
 * With one CPU, or pinning off, or no taskset, nothing is pinned.
 */
function cpuPlan({ pin = 'auto', cpus = allowedCpus(), hasTaskset = !!onPath('taskset') } = {}) {
  if (pin === 'none' || cpus.length < 2 || !hasTaskset) {
    const why = pin === 'none' ? 'pinning off (--pin none)' : cpus.length < 2 ? 'one CPU' : 'taskset not on PATH';
    return { pinned: false, why, server: cpus, generator: cpus };
  }
  const genCount = Math.max(1, Math.floor(cpus.length / 4));
  return {
    pinned: true,
    why: `server on CPU ${cpus.slice(0, cpus.length - genCount).join(',')}, generator on CPU ${cpus.slice(-genCount).join(',')}`,
    server: cpus.slice(0, cpus.length - genCount),
    generator: cpus.slice(-genCount),
  };
}

/** [cmd, args] prefixed with `taskset -c` when `cpus` is given. */
function pinned(cpus, cmd, args) {
  if (!cpus) return [cmd, args];
  return ['taskset', ['-c', cpus.join(','), cmd, ...args]];
}

let clkTck;
function clockTicks() {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/**
 * The fields of a /proc/PID/stat line the harness uses. The command name (field 2) is in
 * parentheses and may itself hold spaces and parentheses, so the fields after it are
 * counted from the last ')'. Returns null for a line that is not a stat line.
 */
function parseStat(text) {
  const close = text.lastIndexOf(')');
  const open = text.indexOf(' (');
  if (close < 0 || open < 0 || close < open) return null;
  const rest = text.slice(close + 2).split(' ');
  // rest[0] is field 3 (state): ppid is field 4, utime 14, stime 15 (in clock ticks).
  const out = {
    pid: Number(text.slice(0, open)),
    comm: text.slice(open + 2, close),
    state: rest[0],
    ppid: Number(rest[1]),
    utime: Number(rest[11]),
    stime: Number(rest[12]),
  };
  return [out.pid, out.ppid, out.utime, out.stime].every(Number.isInteger) ? out : null;
}

function readStat(pid) {
  try {
    return parseStat(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/** `pid` and all its descendants (cluster workers, CLI workers). */
function processTree(pid) {
  const children = new Map();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = readStat(name);
    if (!st) continue;
    if (!children.has(st.ppid)) children.set(st.ppid, []);
    children.get(st.ppid).push(Number(name));
  }
  const out = [];
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop();
    out.push(p);
    for (const c of children.get(p) || []) stack.push(c);
  }
  return out;
}

/** Resident set size of one process in bytes (0 when it is gone). */
function rssBytes(pid) {
  try {
    const m = /VmRSS:\s*(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

function treeRssBytes(pid) {
  return processTree(pid).reduce((sum, p) => sum + rssBytes(p), 0);
}

/** CPU seconds (user + system) used so far by the given processes. */
function cpuSeconds(pids) {
  let ticks = 0;
  for (const p of pids) {
    const st = readStat(p);
    if (st) ticks += st.utime + st.stime;
  }
  return ticks / clockTicks();
}

/**
 * CPU seconds (user + system, every thread) of each process in `pid`'s tree now:
 * a Map pid → seconds.
 */
function treeCpu(pid) {
  const out = new Map();
  for (const p of processTree(pid)) {
    const st = readStat(p);
    if (st) out.set(p, (st.utime + st.stime) / clockTicks());
  }
  return out;
}

/**
 * CPU seconds a process tree used between two treeCpu() snapshots. A process that
 * appeared in between (a respawned worker) counts whole; one that ended in between
 * is lost with what it used, which the kernel no longer reports per process.
 */
function cpuBetween(before, after) {
  let s = 0;
  for (const [p, sec] of after) s += Math.max(0, sec - (before.get(p) ?? 0));
  return s;
}

/** Microseconds of server CPU per completed request; null when nothing completed. */
function cpuPerRequestUs(cpuSecondsUsed, requests) {
  if (!(requests > 0) || !(cpuSecondsUsed >= 0)) return null;
  return (cpuSecondsUsed * 1e6) / requests;
}

/**
 * Samples CPU use of a set of processes while something runs. `pidsFn` is re-read at
 * each sample (a generator's pid appears after spawn). stop() returns the CPU use as
 * a percentage of one core over the sampled window (null when too short to tell).
 */
function cpuSampler(pidsFn, intervalMs = 200) {
  let first = null;
  let last = null;
  const sample = () => {
    const pids = pidsFn();
    if (!pids || !pids.length) return;
    const s = { t: process.hrtime.bigint(), cpu: cpuSeconds(pids) };
    if (!first) first = s;
    else last = s;
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    sample,
    stop() {
      clearInterval(timer);
      if (!first || !last) return null;
      const wall = Number(last.t - first.t) / 1e9;
      return wall > 0 ? (100 * (last.cpu - first.cpu)) / wall : null;
    },
  };
}

/** The soft limit on open files for this process (children inherit it). */
function openFilesLimit() {
  try {
    const m = /Max open files\s+(\d+|unlimited)/.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    if (m) return m[1] === 'unlimited' ? Infinity : Number(m[1]);
  } catch {}
  return null;
}

function machine() {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0] ? cpus[0].model.trim() : 'unknown',
    cpus: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
  };
}

module.exports = {
  freePort,
  onPath,
  allowedCpus,
  expandCpuList,
  cpuPlan,
  pinned,
  parseStat,
  readStat,
  clockTicks,
  processTree,
  rssBytes,
  treeRssBytes,
  cpuSeconds,
  treeCpu,
  cpuBetween,
  cpuPerRequestUs,
  cpuSampler,
  openFilesLimit,
  machine,
};
