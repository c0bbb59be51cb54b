'use strict';
// The processes of the behind-nginx benchmark (bench/nginx.js): nginx with its own prefix
// and config in a temporary directory, and the backends behind it. Each runs in its own
// process group, is checked ready, and is always stopped: by stop(), on error, on Ctrl-C
// and when the harness exits for any reason.
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const { pinned, onPath } = require('./system');
const { ROOT, PY_APPS } = require('./peers');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** nginx: $TSGI_BENCH_NGINX, else on PATH, else Debian's /usr/sbin/nginx. */
function nginxPath() {
  return process.env.TSGI_BENCH_NGINX || onPath('nginx') || '/usr/sbin/nginx';
}

/** The uwsgi variables nginx sends, as its stock uwsgi_params file declares them. */
const UWSGI_PARAMS = [
  ['QUERY_STRING', '$query_string'],
  ['REQUEST_METHOD', '$request_method'],
  ['CONTENT_TYPE', '$content_type'],
  ['CONTENT_LENGTH', '$content_length'],
  ['REQUEST_URI', '$request_uri'],
  ['PATH_INFO', '$document_uri'],
  ['DOCUMENT_ROOT', '$document_root'],
  ['SERVER_PROTOCOL', '$server_protocol'],
  ['REQUEST_SCHEME', '$scheme'],
  ['HTTPS', '$https if_not_empty'],
  ['REMOTE_ADDR', '$remote_addr'],
  ['REMOTE_PORT', '$remote_port'],
  ['SERVER_PORT', '$server_port'],
  ['SERVER_NAME', '$server_name'],
].map(([k, v]) => `uwsgi_param ${k} ${v};`).join(' ');

// ---- process groups ----------------------------------------------------------------

const { killGroup } = require('./launch');

const live = new Set();
const prefixes = new Set(); // nginx's temporary prefixes, removed at exit whatever happens


let hooked = false;
function hookExit() {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const c of live) killGroup(c, 'SIGKILL');
    for (const d of prefixes) fs.rmSync(d, { recursive: true, force: true });
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      for (const c of live) killGroup(c, 'SIGKILL');
      process.stderr.write(`\nbench/nginx: interrupted (${sig}); nginx and the backends stopped\n`);
      process.exit(130);
    });
  }
}

/** Kills every process group still running (the harness's last resort). */
function killAll() {
  for (const c of live) killGroup(c, 'SIGKILL');
}

/**
 * Spawns `cmd args` (pinned to `cpus`) as the leader of a new process group. Returns
 * { pid, child, output(), exited(), stop(signal) }; stop() sends `signal` to the group,
 * then SIGKILL after `graceMs`, and resolves once the leader has exited.
 */
function group(name, cmd, args, { cpus = null, cwd = ROOT, graceMs = 5000 } = {}) {
  hookExit();
  const [c, a] = pinned(cpus, cmd, args);
  const child = spawn(c, a, { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let out = '';
  let exited = null;
  const keep = (d) => { out = (out + d).slice(-8192); };
  child.stdout.setEncoding('utf8').on('data', keep);
  child.stderr.setEncoding('utf8').on('data', keep);
  const done = new Promise((resolve) => {
    child.on('error', (e) => { exited = `could not run ${cmd}: ${e.message}`; live.delete(child); resolve(); });
    child.on('exit', (code, signal) => { exited = signal || `exit code ${code}`; live.delete(child); resolve(); });
  });
  return {
    name,
    pid: child.pid,
    child,
    output: () => out,
    exited: () => exited,
    async stop(signal = 'SIGTERM') {
      if (!exited) {
        killGroup(child, signal);
        const t = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
        await done;
        clearTimeout(t);
      }
      // Whatever the leader left behind in its group (workers) goes too.
      killGroup(child, 'SIGKILL');
    },
  };
}

function accepts(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/** Resolves once `port` accepts a connection; throws when `proc` exits or after `timeoutMs`. */
async function waitListening(proc, port, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!(await accepts(port))) {
    if (proc.exited()) throw new Error(`${proc.name} exited during startup (${proc.exited()}): ${lastLines(proc.output())}`);
    if (Date.now() > deadline) throw new Error(`${proc.name} did not listen on 127.0.0.1:${port} within ${timeoutMs} ms: ${lastLines(proc.output())}`);
    await sleep(50);
  }
}

function lastLines(s) {
  return String(s).trim().split('\n').slice(-3).join(' | ') || '(no output)';
}

// ---- the backends ------------------------------------------------------------------

/** The listen backlog for uWSGI (100 by default): at most net.core.somaxconn. */
function backlog() {
  let max = 4096;
  try {
    max = Number(fs.readFileSync('/proc/sys/net/core/somaxconn', 'utf8')) || max;
  } catch {}
  return String(Math.min(1024, max));
}

const TSGI = ['bin/tsgi.js', 'bench/servers/tsgi-app.js:app'];

/**
 * id → { label, pass ('uwsgi' | 'http' | 'http-close'), optIn?, unavailable(): reason|null,
 *        command({port, workers}) → [cmd, args, cwd] }. optIn backends run only when named.
 * The row whose id is BASELINE is the reference of the ratios.
 */
const BACKENDS = {
  'tsgi-uwsgi': {
    label: 'tsgi, uwsgi_pass',
    pass: 'uwsgi',
    unavailable: tsgiMissing,
    command: ({ port, workers }) => [process.execPath, [...TSGI, '--bind', `uwsgi://127.0.0.1:${port}`, '--workers', String(workers)], ROOT],
  },
  'tsgi-http': {
    label: 'tsgi, proxy_pass keep-alive',
    pass: 'http',
    unavailable: tsgiMissing,
    command: ({ port, workers }) => [process.execPath, [...TSGI, '--bind', `127.0.0.1:${port}`, '--workers', String(workers)], ROOT],
  },
  // Opt-in (--backends): HTTP with a connection per request, as uwsgi_pass has it, to tell
  // the cost of the protocol from the cost of the connection.
  'tsgi-http-close': {
    label: 'tsgi, proxy_pass per request',
    pass: 'http-close',
    optIn: true,
    unavailable: tsgiMissing,
    command: ({ port, workers }) => [process.execPath, [...TSGI, '--bind', `127.0.0.1:${port}`, '--workers', String(workers)], ROOT],
  },
  uwsgi: {
    label: 'uWSGI (Python), uwsgi_pass',
    pass: 'uwsgi',
    unavailable: () => (onPath('uwsgi') ? uwsgiPluginMissing() : 'uwsgi is not on PATH (Debian: apt-get install uwsgi uwsgi-plugin-python3)'),
    command: ({ port, workers }) => [
      'uwsgi',
      ['--plugin', 'python3', '--socket', `127.0.0.1:${port}`, '--wsgi-file', 'hello.py', '--master', '--processes', String(workers),
        '--listen', backlog(), '--die-on-term', '--need-app', '--disable-logging'],
      PY_APPS,
    ],
  },
};
const BASELINE = 'uwsgi';

function tsgiMissing() {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'cli.js'))) return 'dist/cli.js is missing: run `npm run build`';
  try {
    require('node-gyp-build').resolve(ROOT);
  } catch {
    return 'the native addon is not built: run `npm run build:native`';
  }
  try {
    const caps = require(path.join(ROOT, 'dist', 'native.js')).binding().capabilities || {};
    if (!caps.uwsgi) return 'the native core has no uwsgi protocol (binding().capabilities.uwsgi)';
  } catch (e) {
    return `the native addon does not load: ${e.message.split('\n')[0]}`;
  }
  return null;
}

let pluginWhy;
function uwsgiPluginMissing() {
  if (pluginWhy === undefined) {
    const r = spawnSync('uwsgi', ['--plugin', 'python3', '--version'], { encoding: 'utf8', timeout: 10000 });
    pluginWhy = r.status === 0 ? null : `uwsgi --plugin python3 does not load (Debian: apt-get install uwsgi-plugin-python3): ${lastLines(`${r.stdout}${r.stderr}`)}`;
  }
  return pluginWhy;
}

/** Starts backend `id` on a free port; resolves its process handle with `port`. */
async function startBackend(id, { port, workers = 1, cpus = null, timeoutMs = 20000 }) {
  const b = BACKENDS[id];
  const [cmd, args, cwd] = b.command({ port, workers });
  const proc = group(b.label, cmd, args, { cpus, cwd });
  proc.label = b.label;
  proc.port = port;
  proc.command = [cmd, ...args].join(' ');
  try {
    await waitListening(proc, port, timeoutMs);
  } catch (e) {
    await proc.stop('SIGKILL');
    throw e;
  }
  return proc;
}

// ---- nginx -------------------------------------------------------------------------

/**
 * nginx.conf: one worker; per backend a server on its own loopback port with keep-alive to
 * the clients; uwsgi_pass (a connection per request, as the uwsgi protocol has it) or
 * proxy_pass over HTTP/1.1 with an upstream keep-alive pool.
 */
function nginxConfig(prefix, fronts, connections) {
  const p = (name) => path.join(prefix, name);
  const servers = [];
  const upstreams = [];
  for (const f of fronts) {
    let location;
    if (f.pass === 'uwsgi') {
      location = `${UWSGI_PARAMS} uwsgi_pass 127.0.0.1:${f.backendPort};`;
    } else if (f.pass === 'http-close') {
      // No upstream pool: HTTP/1.0 and Connection: close, a new connection for every request.
      location = `proxy_pass http://127.0.0.1:${f.backendPort}; proxy_set_header Host $host;`;
    } else {
      upstreams.push(`  upstream up_${f.frontPort} { server 127.0.0.1:${f.backendPort}; keepalive 64; keepalive_requests 1000000; }`);
      location = `proxy_pass http://up_${f.frontPort}; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $host;`;
    }
    servers.push(`  server { listen 127.0.0.1:${f.frontPort} backlog=1024; location / { ${location} } }`);
  }
  return [
    process.getuid && process.getuid() === 0 ? 'user root root;' : '',
    'worker_processes 1;',
    `worker_rlimit_nofile ${Math.max(4096, connections * 4 + 256)};`,
    `pid ${p('nginx.pid')};`,
    `error_log ${p('error.log')} warn;`,
    `events { worker_connections ${Math.max(1024, connections * 3 + 128)}; }`,
    'http {',
    '  access_log off;',
    '  keepalive_timeout 75s;',
    '  keepalive_requests 1000000;',
    ...['client_body', 'proxy', 'uwsgi', 'fastcgi', 'scgi'].map((t) => `  ${t}_temp_path ${p(t)};`),
    ...upstreams,
    ...servers,
    '}',
    '',
  ].join('\n');
}

/**
 * Starts nginx in front of `fronts` ([{ frontPort, backendPort, pass }]): its config is
 * checked with `nginx -t` first, so a bad one fails with nginx's own message.
 */
async function startNginx(fronts, { cpus = null, connections = 100, timeoutMs = 15000 } = {}) {
  const bin = nginxPath();
  if (!fs.existsSync(bin)) throw new Error(`${bin} is not installed (Debian: apt-get install nginx; or set TSGI_BENCH_NGINX)`);
  hookExit();
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-bench-nginx-'));
  prefixes.add(prefix);
  const conf = path.join(prefix, 'nginx.conf');
  const errorLog = path.join(prefix, 'error.log');
  fs.writeFileSync(conf, nginxConfig(prefix, fronts, connections));
  const base = ['-p', `${prefix}/`, '-e', errorLog, '-c', conf];
  const t = spawnSync(bin, [...base, '-t', '-q'], { encoding: 'utf8', timeout: 10000 });
  if (t.status !== 0) {
    fs.rmSync(prefix, { recursive: true, force: true });
    throw new Error(`nginx -t refused the configuration: ${lastLines(`${t.stdout}${t.stderr}`)}`);
  }
  const proc = group('nginx', bin, [...base, '-g', 'daemon off;'], { cpus });
  const stop = proc.stop;
  proc.prefix = prefix;
  proc.errorLog = () => {
    try {
      return fs.readFileSync(errorLog, 'utf8');
    } catch {
      return '';
    }
  };
  // SIGQUIT: nginx's graceful shutdown (its workers finish and exit first).
  proc.stop = async () => {
    await stop('SIGQUIT');
    fs.rmSync(prefix, { recursive: true, force: true });
  };
  try {
    for (const f of fronts) await waitListening(proc, f.frontPort, timeoutMs);
  } catch (e) {
    const log = proc.errorLog();
    await proc.stop();
    throw new Error(`${e.message}${log ? `\n${log}` : ''}`);
  }
  return proc;
}

/** `cmd --version`'s first line, or null. */
function versionOf(cmd, args = ['--version']) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10000 });
  if (r.error) return null;
  return `${r.stdout}${r.stderr}`.trim().split('\n')[0] || null;
}

module.exports = { BACKENDS, BASELINE, nginxPath, nginxConfig, startNginx, startBackend, killAll, versionOf };
