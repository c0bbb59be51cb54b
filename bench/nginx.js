'use strict';
// Behind nginx: wrk drives one nginx (one worker, keep-alive to the clients) in front of
// tsgi over uwsgi_pass, tsgi over proxy_pass with keep-alive upstreams, and uWSGI serving
// the plain Python WSGI hello over uwsgi_pass, the reference. Every backend answers GET
// /hello with the same 11 bytes. Reports req/s, p50/p99, non-2xx and errors, and the CPU
// time per request of the backend's process tree and of nginx's, with ratios to uWSGI.
//
//   node bench/nginx.js [--duration S] [--connections N] [--rounds N]
//   npm run bench -- --nginx [the same options]
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { choose } = require('./generators');
const { SCENARIOS } = require('./scenarios');
const { request } = require('./http-client');
const { median, roundRatios } = require('./stats');
const f = require('./report/format');
const sys = require('./system');
const front = require('./nginx-front');

const HELP = `Usage: node bench/nginx.js [options]      (or: npm run bench -- --nginx [options])

wrk → nginx (one worker) → each backend in turn, GET /hello (the same 11 bytes from all):
  tsgi-uwsgi  tsgi CLI on a uwsgi:// bind, nginx uwsgi_pass
  tsgi-http   tsgi CLI on an HTTP bind, nginx proxy_pass with a keep-alive upstream
  uwsgi       uWSGI (--socket, the plain WSGI hello of bench/apps/python), uwsgi_pass: the reference
  tsgi-http-close (only when named) tsgi CLI on an HTTP bind, proxy_pass with a new connection
              per request, as uwsgi_pass opens them

  --backends LIST       comma-separated, from: ${Object.keys(front.BACKENDS).join(', ')}
                        (default: all but tsgi-http-close)
  --duration SECONDS    per measurement (default 5)
  --warmup SECONDS      warm-up per backend, first round only (default 1)
  --connections N       wrk's connections to nginx (default 100)
  --rounds N            interleaved rounds, medians reported (default 3)
  --workers N           processes of tsgi and of uWSGI (default 1)
  --generator NAME      auto, wrk, autocannon (default auto: wrk when on PATH)
  --pin auto|none       backends and nginx on one set of CPUs, the generator on another (default auto)
  --out DIR             where the JSON goes (default ${path.join(os.tmpdir(), 'tsgi-bench-nginx')})
  -h, --help            this text
`;

const FLAGS = {
  '--backends': 'backends', '--duration': 'duration', '--warmup': 'warmup', '--connections': 'connections',
  '--rounds': 'rounds', '--workers': 'workers', '--generator': 'generator', '--pin': 'pin', '--out': 'out',
};
const STRINGS = new Set(['backends', 'generator', 'pin', 'out']);

function parse(argv) {
  const o = { backends: Object.keys(front.BACKENDS).filter((id) => !front.BACKENDS[id].optIn), duration: 5, warmup: 1, connections: 100, rounds: 3, workers: 1, generator: 'auto', pin: 'auto', out: path.join(os.tmpdir(), 'tsgi-bench-nginx'), help: false };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let raw = null;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) [arg, raw] = [arg.slice(0, eq), arg.slice(eq + 1)];
    if (arg === '-h' || arg === '--help') {
      o.help = true;
      continue;
    }
    const key = FLAGS[arg];
    if (!key) throw new Error(`unknown option ${arg} (see --help)`);
    if (raw === null) raw = argv[++i];
    if (raw === undefined || raw === '') throw new Error(`${arg} needs a value`);
    if (STRINGS.has(key)) o[key] = raw;
    else {
      const n = Number(raw);
      if (!Number.isInteger(n)) throw new Error(`${arg} must be an integer, got '${raw}'`);
      o[key] = n;
    }
  }
  if (typeof o.backends === 'string') o.backends = [...new Set(o.backends.split(',').map((s) => s.trim()).filter(Boolean))];
  for (const b of o.backends) if (!front.BACKENDS[b]) throw new Error(`unknown backend '${b}' (known: ${Object.keys(front.BACKENDS).join(', ')})`);
  if (!o.backends.length) throw new Error('--backends is empty');
  const range = (k, lo, hi, what) => {
    if (!(o[k] >= lo && o[k] <= hi)) throw new Error(`--${k} must be between ${lo} and ${hi}${what}`);
  };
  range('duration', 1, 600, ' seconds');
  range('warmup', 0, 60, ' seconds');
  range('connections', 1, 4000, '');
  range('rounds', 1, 50, '');
  range('workers', 1, 64, '');
  if (!['auto', 'none'].includes(o.pin)) throw new Error('--pin must be auto or none');
  o.out = path.resolve(o.out);
  return o;
}

const HELLO = SCENARIOS.find((s) => s.name === 'hello');

/** GET /hello through nginx until it answers 200 with the hello bytes (a worker may still be starting). */
async function validate(port, label, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  for (;;) {
    try {
      const r = await request({ port, request: { method: 'GET', path: HELLO.path }, timeoutMs: 2000 });
      if (r.status === 200 && Buffer.compare(r.body, HELLO.expect.body) === 0) return;
      last = `status ${r.status}, body ${JSON.stringify(r.body.toString('latin1').slice(0, 80))}`;
    } catch (e) {
      last = e.message;
    }
    if (Date.now() > deadline) throw new Error(`${label} did not answer GET /hello through nginx within ${timeoutMs} ms (last: ${last})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Every pid in the trees of `procs`: the test checks they are all gone after the run. */
function collectPids(procs, into) {
  for (const p of procs) for (const pid of sys.processTree(p.pid)) into.add(pid);
}

async function measure({ generator, port, o, cpus, duration, backend, nginx }) {
  const b0 = sys.treeCpu(backend.pid);
  const n0 = sys.treeCpu(nginx.pid);
  const r = await generator.run({ url: `http://127.0.0.1:${port}`, scenario: HELLO, duration, connections: o.connections, cpus });
  const b1 = sys.treeCpu(backend.pid);
  const n1 = sys.treeCpu(nginx.pid);
  const backendCpu = sys.cpuBetween(b0, b1);
  const nginxCpu = sys.cpuBetween(n0, n1);
  // Where the CPU went: the group's leader (tsgi's or uWSGI's master, nginx's master) and each child.
  const split = (before, after, leader) => [...after].map(([pid, sec]) => ({ pid, role: pid === leader ? 'leader' : 'child', seconds: Math.max(0, sec - (before.get(pid) ?? 0)) }));
  return {
    ...r,
    backendCpuByProcess: split(b0, b1, backend.pid),
    nginxCpuByProcess: split(n0, n1, nginx.pid),
    backendCpuSeconds: backendCpu,
    nginxCpuSeconds: nginxCpu,
    backendCpuPerRequestUs: sys.cpuPerRequestUs(backendCpu, r.requests),
    nginxCpuPerRequestUs: sys.cpuPerRequestUs(nginxCpu, r.requests),
  };
}

/** Medians over rounds; ratios to the reference taken within each round, then their median. */
function summarize(measurements, ids) {
  const ratio = (id, key) => {
    if (!ids.includes(front.BASELINE)) return null;
    const rs = roundRatios(measurements, 'hello', id, front.BASELINE, key);
    return rs.length ? median(rs) : null;
  };
  return ids.map((id) => {
    const ms = measurements.filter((m) => m.server === id);
    const med = (k) => median(ms.map((m) => m[k]));
    return {
      id,
      label: front.BACKENDS[id].label,
      rounds: ms.length,
      rps: med('rps'),
      p50Ms: med('p50Ms'),
      p99Ms: med('p99Ms'),
      requests: ms.reduce((s, m) => s + m.requests, 0),
      non2xx: ms.reduce((s, m) => s + m.non2xx, 0),
      errors: ms.reduce((s, m) => s + m.errors, 0),
      generatorCpu: med('generatorCpu'),
      backendCpuPerRequestUs: med('backendCpuPerRequestUs'),
      nginxCpuPerRequestUs: med('nginxCpuPerRequestUs'),
      ratios: { rps: ratio(id, 'rps'), backendCpu: ratio(id, 'backendCpuPerRequestUs'), nginxCpu: ratio(id, 'nginxCpuPerRequestUs') },
    };
  });
}

function table(rows) {
  const cols = [
    ['backend', (r) => r.label],
    ['req/s', (r) => f.int(r.rps), 1],
    ['p50', (r) => f.ms(r.p50Ms), 1],
    ['p99', (r) => f.ms(r.p99Ms), 1],
    ['non-2xx', (r) => String(r.non2xx), 1],
    ['errors', (r) => String(r.errors), 1],
    ['backend CPU/req', (r) => f.us(r.backendCpuPerRequestUs), 1],
    ['nginx CPU/req', (r) => f.us(r.nginxCpuPerRequestUs), 1],
    ['req/s × uWSGI', (r) => f.ratio(r.ratios.rps), 1],
    ['backend CPU × uWSGI', (r) => f.ratio(r.ratios.backendCpu), 1],
    ['nginx CPU × uWSGI', (r) => f.ratio(r.ratios.nginxCpu), 1],
  ];
  const cells = rows.map((r) => cols.map(([, get]) => get(r)));
  const widths = cols.map(([h], i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c) => c.map((s, i) => (cols[i][2] ? s.padStart(widths[i]) : s.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(cols.map(([h]) => h)), widths.map((w) => '─'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

async function run(o, argv) {
  const { generator, note } = choose(o.generator);
  const plan = sys.cpuPlan({ pin: o.pin });
  const serverCpus = plan.pinned ? plan.server : null;
  const genCpus = plan.pinned ? plan.generator : null;
  const doc = {
    kind: 'nginx',
    date: new Date().toISOString(),
    command: `node bench/nginx.js ${argv.join(' ')}`.trim(),
    machine: sys.machine(),
    options: { ...o },
    generator: { name: generator.name, version: generator.version(), note },
    pinning: plan.why,
    versions: { nginx: front.versionOf(front.nginxPath(), ['-v']), uwsgi: front.versionOf('uwsgi') },
    unavailable: [],
    rows: [],
    measurements: [],
    pids: [],
  };
  const pids = new Set();
  const backends = new Map();
  let nginx = null;
  // The whole run is bounded: past this, everything is killed and the run fails.
  const budgetMs = (o.rounds * o.backends.length * (o.duration + 25) + o.backends.length * o.warmup + 120) * 1000;
  const watchdog = setTimeout(() => {
    front.killAll();
    process.stderr.write(`bench/nginx: did not finish within ${Math.round(budgetMs / 1000)} s; everything stopped\n`);
    process.exit(1);
  }, budgetMs);
  watchdog.unref();
  try {
    for (const id of o.backends) {
      const why = front.BACKENDS[id].unavailable();
      if (why) {
        doc.unavailable.push({ id, reason: why });
        continue;
      }
      try {
        backends.set(id, await front.startBackend(id, { port: await sys.freePort(), workers: o.workers, cpus: serverCpus }));
      } catch (e) {
        doc.unavailable.push({ id, reason: e.message });
      }
    }
    if (!backends.size) throw new Error('no backend could start');
    const fronts = [];
    for (const [id, b] of backends) fronts.push({ id, frontPort: await sys.freePort(), backendPort: b.port, pass: front.BACKENDS[id].pass });
    nginx = await front.startNginx(fronts, { cpus: serverCpus, connections: o.connections });
    doc.nginxPrefix = nginx.prefix;
    const portOf = new Map(fronts.map((x) => [x.id, x.frontPort]));
    for (const [id, b] of [...backends]) {
      try {
        await validate(portOf.get(id), b.label);
      } catch (e) {
        doc.unavailable.push({ id, reason: e.message });
        await b.stop();
        backends.delete(id);
      }
    }
    const ids = [...backends.keys()];
    collectPids([nginx, ...backends.values()], pids);
    for (let round = 1; round <= o.rounds; round++) {
      // The order rotates from round to round, so the machine's drift spreads over all rows.
      const order = ids.map((_, i) => ids[(i + round - 1) % ids.length]);
      for (const id of order) {
        const backend = backends.get(id);
        const port = portOf.get(id);
        process.stderr.write(`bench/nginx: round ${round}/${o.rounds}: ${backend.label}\n`);
        if (round === 1 && o.warmup > 0) await generator.run({ url: `http://127.0.0.1:${port}`, scenario: HELLO, duration: o.warmup, connections: o.connections, cpus: genCpus });
        const m = await measure({ generator, port, o, cpus: genCpus, duration: o.duration, backend, nginx });
        collectPids([nginx, backend], pids);
        doc.measurements.push({ round, scenario: 'hello', server: id, label: backend.label, ...m });
      }
    }
    doc.rows = summarize(doc.measurements, ids);
    doc.nginxErrors = nginx.errorLog().split('\n').filter((l) => / \[(error|crit|alert|emerg)\] /.test(l)).slice(-20);
  } finally {
    clearTimeout(watchdog);
    if (nginx) await nginx.stop();
    await Promise.all([...backends.values()].map((b) => b.stop()));
    if (generator.cleanup) generator.cleanup();
    doc.pids = [...pids];
  }
  return doc;
}

async function main(argv) {
  let o;
  try {
    o = parse(argv);
  } catch (e) {
    process.stderr.write(`bench/nginx: ${e.message}\n`);
    return 2;
  }
  if (o.help) {
    process.stdout.write(HELP);
    return 0;
  }
  let doc;
  try {
    doc = await run(o, argv);
  } catch (e) {
    process.stderr.write(`bench/nginx: ${e.message}\n`);
    return 1;
  }
  fs.mkdirSync(o.out, { recursive: true });
  const file = path.join(o.out, `nginx-${doc.date.replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
  const m = doc.machine;
  const out = [
    `Behind nginx (${doc.versions.nginx || 'nginx'}, one worker): GET /hello, ${o.connections} connections, ${o.duration} s × ${o.rounds} rounds, medians`,
    `Machine: ${m.cpuModel}, ${m.cpus} CPUs, Node ${m.node}; generator ${doc.generator.version}; ${doc.pinning}`,
    '',
    table(doc.rows),
    '',
    'CPU/req: user + system CPU time of the process tree per completed request; ratios within rounds (below 1: cheaper).',
  ];
  for (const u of doc.unavailable) out.push(`not measured: ${u.id}: ${u.reason}`);
  for (const l of doc.nginxErrors || []) out.push(`nginx: ${l}`);
  out.push(`results: ${file}`);
  process.stdout.write(`${out.join('\n')}\n`);
  return doc.unavailable.length ? 1 : 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`bench/nginx: ${e.stack || e}\n`);
      process.exit(1);
    },
  );
}

module.exports = { main, parse, summarize, table };
