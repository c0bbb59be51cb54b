#!/usr/bin/env node
'use strict';
// Slot-exhaustion attack: a normal client's requests per second against one tsgi server
// (the embedding API, one process, default limits), first alone, then while attackers
// hold 10,000 connections that send nothing and 10,000 slow POSTs that send one body byte
// every 20 s, reconnecting whatever the server closes. Prints both figures and their
// ratio to the mean of a quiet run before and one after the attack (target: at least
// 0.5). Bounded: each phase lasts --duration seconds. The attackers run at nice 19, as a
// stand-in for attackers on other machines: on a shared box their own CPU use would
// otherwise be charged to the server. CPU shares of each process are printed.
//
//   node bench/attack.js [--duration 5] [--silent 10000] [--slow 10000] [--connections 10] [--reconnect 1] [--nice 1]
//
// Each process raises its own open-files limit (bash `ulimit -n`, up to the hard limit);
// the attackers spread over 127.0.0.2–127.0.0.254 so that ephemeral ports do not run out.
const { spawn } = require('node:child_process');
const net = require('node:net');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function args(argv) {
  const o = { duration: 5, silent: 10000, slow: 10000, connections: 10, reconnect: 1, nice: 1, role: 'main', port: 0 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i].replace(/^--/, '');
    if (!(k in o)) throw new Error(`unknown option --${k}; options: --duration, --silent, --slow, --connections, --reconnect, --nice`);
    o[k] = k === 'role' ? argv[++i] : Number(argv[++i]);
  }
  return o;
}

/** Runs this script in `role` in a child whose open-files limit is raised first. */
function child(role, extra, nice = false) {
  const node = `${nice ? 'nice -n 19 ' : ''}"${process.execPath}"`;
  const cmd = `ulimit -n $(ulimit -Hn) 2>/dev/null; exec ${node} "${__filename}" --role ${role} ${extra}`;
  return spawn('bash', ['-c', cmd], { stdio: ['pipe', 'pipe', 'inherit'], cwd: ROOT });
}

function lines(proc, onLine) {
  let buf = '';
  proc.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) { onLine(buf.slice(0, i)); buf = buf.slice(i + 1); }
  });
}

// ---- roles ----------------------------------------------------------------------------

async function server() {
  const { serve } = require(path.join(ROOT, 'dist', 'index.js'));
  const s = await serve((env, sr) => {
    sr('200 OK', [['Content-Type', 'text/plain']]);
    return [Buffer.from('hello\n')];
  }, { host: '127.0.0.1', port: 0 });
  process.stdout.write(`port ${s.address().port}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
}

/** Keeps `count` attacker connections open: silent ones, or slow POSTs. */
async function attacker(kind, count, port, reconnect) {
  const head = 'POST /upload HTTP/1.1\r\nHost: victim\r\nContent-Length: 1000000\r\n\r\n';
  const socks = new Set();
  let opened = 0;
  let closedByServer = 0;
  let pending = 0;
  let next = 0;
  const open = () => {
    pending++;
    const sock = net.connect({ host: '127.0.0.1', port, localAddress: `127.0.0.${2 + (next++ % 253)}` });
    sock.on('connect', () => {
      pending--;
      opened++;
      socks.add(sock);
      if (kind === 'slow') sock.write(head + 'x');
    });
    sock.on('data', () => {});
    sock.on('error', () => {});
    sock.on('close', () => {
      if (socks.delete(sock)) closedByServer++;
      else pending--;
      if (!stopping && reconnect) setImmediate(open);  // a persistent attacker comes back at once
    });
  };
  let stopping = false;
  process.stdin.resume();
  process.stdin.on('end', () => { stopping = true; process.exit(0); });
  setInterval(() => process.stdout.write(`${kind} open ${socks.size} opened ${opened} closed ${closedByServer}\n`), 500);
  // ramp up with a bounded number of connects in flight
  for (let i = 0; i < count; i++) {
    while (pending >= 256) await sleep(1);
    open();
  }
  // slow POSTs: one more body byte every 20 s per connection (1/20 of them each second)
  let slice = 0;
  if (kind === 'slow') {
    setInterval(() => {
      let i = 0;
      for (const s of socks) if (i++ % 20 === slice) s.write('x');
      slice = (slice + 1) % 20;
    }, 1000);
  }
}

// ---- the run --------------------------------------------------------------------------

/** CPU time (user + system, ms) of a process, from /proc (Linux); null elsewhere. */
function cpuMs(pid) {
  try {
    const f = require('node:fs').readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return null;
  }
}

/** Runs fn and reports the CPU share each process took meanwhile. */
async function withCpu(procs, fn) {
  if (!WRK) procs = [['client', { pid: process.pid }], ...procs];
  const before = procs.map(([, p]) => cpuMs(p.pid));
  const t0 = Date.now();
  const result = await fn();
  const wall = Date.now() - t0;
  const shares = procs.map(([name, p], i) => {
    const after = cpuMs(p.pid);
    return after == null || before[i] == null ? `${name} ?` : `${name} ${Math.round((100 * (after - before[i])) / wall)}%`;
  });
  return { result, cpu: shares.join(', ') };
}

/** wrk on PATH (less CPU per request than autocannon), else null. */
const WRK = (() => {
  try {
    return require('node:child_process').execFileSync('which', ['wrk'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
})();

function measure(port, seconds, connections) {
  if (WRK) return measureWrk(port, seconds, connections);
  const autocannon = require('autocannon');
  return new Promise((resolve, reject) => {
    autocannon({ url: `http://127.0.0.1:${port}/`, connections, duration: seconds, timeout: 5 }, (err, r) => {
      if (err) reject(err);
      else resolve({ rps: r.requests.average, non2xx: r.non2xx, errors: r.errors, timeouts: r.timeouts, total: r.requests.total });
    });
  });
}

function measureWrk(port, seconds, connections) {
  return new Promise((resolve, reject) => {
    const p = spawn(WRK, ['-t', '1', '-c', String(connections), '-d', `${seconds}s`, '--timeout', '5s', `http://127.0.0.1:${port}/`]);
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.on('error', reject);
    p.on('exit', () => {
      const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
      if (Number.isNaN(rps)) return reject(new Error(`wrk printed no result:\n${out}`));
      const total = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
      const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
      const e = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
      resolve({ rps, total, non2xx, errors: e ? Number(e[1]) + Number(e[2]) + Number(e[3]) : 0, timeouts: e ? Number(e[4]) : 0, pid: p.pid });
    });
    measureWrk.last = p;
  });
}

/** Requests per second answered with 2xx: a 503 is not service. */
const good = (r) => (r.total > 0 ? (r.rps * (r.total - r.non2xx)) / r.total : 0);

async function main(o) {
  console.log(`load: ${WRK ? 'wrk' : 'autocannon'}, ${o.connections} keep-alive connections, ${o.duration} s per run; attack: ${o.silent} silent + ${o.slow} slow-POST connections${o.reconnect ? ', reconnecting' : ''}`);
  const srv = child('server', '');
  const port = await new Promise((resolve, reject) => {
    lines(srv, (l) => { if (l.startsWith('port ')) resolve(Number(l.slice(5))); });
    srv.on('exit', (c) => reject(new Error(`the server exited (${c}); run npm run build first`)));
  });
  const kids = [srv];
  try {
    await measure(port, 1, o.connections);  // warm-up
    const { result: quiet, cpu: quietCpu } = await withCpu([['server', srv]], () => measure(port, o.duration, o.connections));
    console.log(`no attack:    ${good(quiet).toFixed(0)} req/s answered 200 (${quiet.total} requests, ${quiet.non2xx} non-2xx, ${quiet.errors} errors; CPU: ${quietCpu})`);

    const status = {};
    const attackers = [];
    for (const [kind, count] of [['silent', o.silent], ['slow', o.slow]]) {
      if (count <= 0) continue;
      const a = child('attacker', `--silent ${kind === 'silent' ? count : 0} --slow ${kind === 'slow' ? count : 0} --port ${port} --reconnect ${o.reconnect}`, o.nice > 0);
      lines(a, (l) => { status[kind] = l; });
      kids.push(a);
      attackers.push([kind, a]);
    }
    // let the attack build up (bounded)
    const t0 = Date.now();
    const open = (k) => Number(/open (\d+)/.exec(status[k] || '')?.[1] ?? 0);
    while (Date.now() - t0 < 15000 && open('silent') + open('slow') < 0.9 * (o.silent + o.slow)) await sleep(250);
    console.log(`attack:       ${status.silent || ''} | ${status.slow || ''}`);
    const { result: attacked, cpu } = await withCpu([['server', srv], ...attackers], () => measure(port, o.duration, o.connections));
    console.log(`under attack: ${good(attacked).toFixed(0)} req/s answered 200 (${attacked.total} requests, ${attacked.non2xx} non-2xx, ${attacked.errors} errors, ${attacked.timeouts} timeouts; CPU: ${cpu})`);
    console.log(`attack after: ${status.silent || ''} | ${status.slow || ''}`);
    // the attack stops; a second quiet figure shows how much the machine itself drifted
    for (const [, a] of attackers) a.stdin.end();
    await sleep(1500);
    const { result: after, cpu: afterCpu } = await withCpu([['server', srv]], () => measure(port, o.duration, o.connections));
    console.log(`no attack:    ${good(after).toFixed(0)} req/s answered 200 (${after.total} requests, ${after.non2xx} non-2xx, ${after.errors} errors; CPU: ${afterCpu}) (after)`);
    const base = (good(quiet) + good(after)) / 2;
    const ratio = base > 0 ? good(attacked) / base : 0;
    console.log(`ratio:        ${ratio.toFixed(2)} (under attack / mean of the two quiet runs; target >= 0.5) ${ratio >= 0.5 ? 'OK' : 'BELOW TARGET'}`);
  } finally {
    for (const k of kids) { k.stdin.end(); setTimeout(() => k.kill('SIGKILL'), 2000).unref(); }
  }
}

const o = args(process.argv.slice(2));
if (o.role === 'server') server();
else if (o.role === 'attacker') attacker(o.silent > 0 ? 'silent' : 'slow', o.silent > 0 ? o.silent : o.slow, o.port, o.reconnect);
else main(o).catch((e) => { console.error(e.message); process.exit(1); });
