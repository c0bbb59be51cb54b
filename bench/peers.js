'use strict';
// The servers the harness can compare, how to start each, and whether it can run here.
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = path.join(__dirname, '..');
const server = (name) => path.join(__dirname, 'servers', `${name}.js`);
const PY_APPS = path.join(__dirname, 'apps', 'python');
const PY_APP = 'bench_app:application';

function uwsLoads() {
  try {
    require('@trufflesuite/uws-js-unofficial');
    return null;
  } catch (e) {
    return `@trufflesuite/uws-js-unofficial does not load on Node ${process.version}: ${e.message.split('\n')[0]}`;
  }
}

function tsgiBuilt() {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'index.js'))) return 'dist/index.js is missing: run `npm run build`';
  try {
    require('node-gyp-build').resolve(ROOT);
  } catch {
    return 'the native addon is not built: run `npm run build:native`';
  }
  try {
    const api = require(path.join(ROOT, 'dist', 'index.js'));
    if (typeof api.serve !== 'function') return 'dist/index.js does not export serve() yet';
  } catch (e) {
    return `dist/index.js does not load: ${e.message.split('\n')[0]}`;
  }
  return null;
}

function tsgiCli() {
  const bin = path.join(ROOT, 'bin', 'tsgi.js');
  if (!fs.existsSync(bin)) return 'bin/tsgi.js (the process manager CLI) is not there yet';
  return tsgiBuilt();
}

/**
 * The Python the Python peers run under: $TSGI_BENCH_PYTHON, else the system's
 * /usr/bin/python3 (where Debian's gunicorn, flask, django, waitress and cheroot are;
 * a pyenv python3 first on PATH would not have them), else python3 on PATH.
 */
function python() {
  if (process.env.TSGI_BENCH_PYTHON) return process.env.TSGI_BENCH_PYTHON;
  return fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

const memo = new Map();
function once(key, fn) {
  if (!memo.has(key)) memo.set(key, fn());
  return memo.get(key);
}

/** null when `python()` imports every module named, else why not. */
function pythonHas(...modules) {
  const mods = ['flask', 'django', ...modules];
  return once(`py:${mods.join(',')}`, () => {
    const r = spawnSync(python(), ['-c', `import ${mods.join(', ')}`], { encoding: 'utf8', timeout: 20000 });
    if (r.error) return `${python()} does not run: ${r.error.message}`;
    if (r.status !== 0) {
      const last = (r.stderr || '').trim().split('\n').pop();
      return `${python()} cannot import ${mods.join(', ')}: ${last} (Debian: apt-get install python3-flask python3-django${modules.map((m) => ` python3-${m}`).join('')})`;
    }
    return null;
  });
}

function onPath(cmd) {
  return (process.env.PATH || '').split(':').some((d) => d && fs.existsSync(path.join(d, cmd)));
}

/**
 * The listen backlog for peers whose default is small (uWSGI 100, Cheroot 5): with 100
 * connections opened at once, a short backlog drops SYNs and the retries (1 s, 3 s)
 * would be measured instead of the server. At most net.core.somaxconn (uWSGI refuses more).
 */
function backlog() {
  let max = 4096;
  try {
    max = Number(fs.readFileSync('/proc/sys/net/core/somaxconn', 'utf8')) || max;
  } catch {}
  return String(Math.min(1024, max));
}

function singleProcess(label, workers) {
  return workers > 1 ? `${label} runs one process; --workers ${workers} does not apply to it` : null;
}

/** null when `node bin/tsgi.js` serves Python applications (`--python`), else why not. */
function tsgiPython() {
  return once('tsgi-python', () => {
    const why = tsgiCli();
    if (why) return why;
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'tsgi.js'), '--help'], { cwd: ROOT, encoding: 'utf8', timeout: 20000 });
    if (!/--python\b/.test(`${r.stdout}`)) return 'this tsgi has no --python option (node bin/tsgi.js --help does not list it)';
    return null;
  });
}

/**
 * id → { label, family, baseline?, multi?, optIn?, unavailable({workers}): reason|null,
 *        command({host, port, workers, threads, app}), exec?, cwd? }.
 * `family` says which scenarios the peer runs (js, python, or app for `--app`).
 * `multi` peers run --workers processes and only take part when --workers > 1.
 * `optIn` peers (frameworks on tsgi) run only when named in --servers.
 * `exec` is the program (default: this node), `cwd` its directory (default: the root).
 */
const PEERS = {
  tsgi: {
    label: 'tsgi',
    unavailable: tsgiBuilt,
    command: ({ host, port }) => [server('tsgi'), '--host', host, '--port', String(port)],
  },
  'tsgi-workers': {
    label: 'tsgi workers',
    multi: true,
    unavailable: tsgiCli,
    command: ({ host, port, workers }) => [
      path.join(ROOT, 'bin', 'tsgi.js'),
      `${path.relative(ROOT, server('tsgi-app'))}:app`,
      '--workers',
      String(workers),
      '--bind',
      `${host}:${port}`,
    ],
  },
  node: {
    label: 'node:http',
    baseline: true,
    unavailable: () => null,
    command: ({ host, port }) => [server('node-http'), '--host', host, '--port', String(port)],
  },
  'node-cluster': {
    label: 'node:http cluster',
    multi: true,
    unavailable: () => null,
    command: ({ host, port, workers }) => [server('node-cluster'), '--host', host, '--port', String(port), '--workers', String(workers)],
  },
  uws: {
    label: 'uWebSockets.js',
    baseline: true,
    unavailable: uwsLoads,
    command: ({ host, port }) => [server('uws'), '--host', host, '--port', String(port)],
  },
  fastify: {
    label: 'fastify',
    unavailable: () => null,
    command: ({ host, port }) => [server('fastify'), '--host', host, '--port', String(port)],
  },
  express: {
    label: 'express',
    unavailable: () => null,
    command: ({ host, port }) => [server('express'), '--host', host, '--port', String(port)],
  },
  'express-tsgi': {
    label: 'express on tsgi',
    optIn: true,
    unavailable: tsgiBuilt,
    command: ({ host, port }) => [server('express-tsgi'), '--host', host, '--port', String(port)],
  },
  'fastify-tsgi': {
    label: 'fastify on tsgi',
    optIn: true,
    unavailable: tsgiBuilt,
    command: ({ host, port }) => [server('fastify-tsgi'), '--host', host, '--port', String(port)],
  },
  hono: {
    label: 'Hono (node-server)',
    unavailable: () => null,
    command: ({ host, port }) => [server('hono'), '--host', host, '--port', String(port)],
  },
  'hono-tsgi': {
    label: 'Hono (tsgi)',
    unavailable: tsgiBuilt,
    command: ({ host, port }) => [server('hono-tsgi'), '--host', host, '--port', String(port)],
  },
  // Python WSGI servers, each serving bench/apps/python/bench_app.py with --workers
  // processes (1 by default) and, where the server has threads, --threads threads.
  'tsgi-python': {
    label: 'tsgi (Python)',
    family: 'python',
    threaded: true,
    unavailable: tsgiPython,
    command: ({ host, port, workers, threads }) => [
      path.join(ROOT, 'bin', 'tsgi.js'),
      '--python',
      PY_APP,
      '--chdir',
      path.relative(ROOT, PY_APPS),
      '--bind',
      `${host}:${port}`,
      '--workers',
      String(workers),
      ...(threads > 1 ? ['--threads', String(threads)] : []),
    ],
  },
  uwsgi: {
    label: 'uWSGI',
    family: 'python',
    baseline: true,
    threaded: true,
    unavailable: () => (onPath('uwsgi') ? pythonHas() : 'uwsgi is not on PATH (Debian: apt-get install uwsgi uwsgi-plugin-python3)'),
    exec: () => 'uwsgi',
    cwd: PY_APPS,
    command: ({ host, port, workers, threads }) => [
      '--plugin', 'python3',
      '--http11-socket', `${host}:${port}`,
      '--module', PY_APP,
      '--master',
      '--processes', String(workers),
      ...(threads > 1 ? ['--threads', String(threads)] : []),
      '--listen', backlog(),
      '--die-on-term',
      '--need-app',
      '--disable-logging',
    ],
  },
  'gunicorn-sync': {
    label: 'Gunicorn sync',
    family: 'python',
    unavailable: () => pythonHas('gunicorn'),
    exec: python,
    cwd: PY_APPS,
    command: ({ host, port, workers }) => [
      '-m', 'gunicorn',
      '--bind', `${host}:${port}`,
      '--workers', String(workers),
      '--worker-class', 'sync',
      '--graceful-timeout', '1',
      '--log-level', 'warning',
      PY_APP,
    ],
  },
  'gunicorn-gthread': {
    label: 'Gunicorn gthread',
    family: 'python',
    threaded: true,
    unavailable: () => pythonHas('gunicorn'),
    exec: python,
    cwd: PY_APPS,
    command: ({ host, port, workers, threads }) => [
      '-m', 'gunicorn',
      '--bind', `${host}:${port}`,
      '--workers', String(workers),
      '--worker-class', 'gthread',
      '--threads', String(threads),
      '--graceful-timeout', '1',
      '--log-level', 'warning',
      PY_APP,
    ],
  },
  waitress: {
    label: 'Waitress',
    family: 'python',
    threaded: true,
    unavailable: ({ workers = 1 } = {}) => singleProcess('Waitress', workers) || pythonHas('waitress'),
    exec: python,
    cwd: PY_APPS,
    command: ({ host, port, threads }) => ['-m', 'waitress', `--listen=${host}:${port}`, `--threads=${threads}`, PY_APP],
  },
  cheroot: {
    label: 'Cheroot',
    family: 'python',
    threaded: true,
    unavailable: ({ workers = 1 } = {}) => singleProcess('Cheroot', workers) || pythonHas('cheroot'),
    exec: python,
    cwd: PY_APPS,
    command: ({ host, port, threads }) => [
      '-m', 'cheroot',
      '--bind', `${host}:${port}`,
      '--threads', String(threads),
      '--max-threads', String(threads),
      '--request-queue-size', backlog(),
      PY_APP,
    ],
  },
  // `--app SPEC`: the user's own application, loaded the way the tsgi CLI loads it.
  'app-tsgi': {
    label: 'tsgi',
    family: 'app',
    optIn: true,
    unavailable: tsgiBuilt,
    command: ({ host, port, app }) => [server('user-app'), '--server', 'tsgi', '--app', app.spec, '--cwd', app.cwd, '--interface', app.interface, '--host', host, '--port', String(port)],
  },
  'app-node': {
    label: 'node:http',
    family: 'app',
    baseline: true,
    optIn: true,
    unavailable: tsgiBuilt,
    command: ({ host, port, app }) => [server('user-app'), '--server', 'node', '--app', app.spec, '--cwd', app.cwd, '--interface', app.interface, '--host', host, '--port', String(port)],
  },
};

for (const p of Object.values(PEERS)) if (!p.family) p.family = 'js';

const IDS = Object.keys(PEERS);

/**
 * Label shown in reports; multi-process peers carry their worker count, Python peers
 * theirs when above 1 and their thread count when above 1.
 */
function labelOf(id, workers, threads = 1) {
  const p = PEERS[id];
  if (p.multi) return `${p.label} ×${workers}`;
  if (p.family !== 'python') return p.label;
  return `${p.label}${workers > 1 ? ` ×${workers}` : ''}${p.threaded && threads > 1 ? ` (${threads} threads)` : ''}`;
}

/** The default selection: every single-process peer, plus the multi ones when workers > 1. */
function defaultServers(workers) {
  return IDS.filter((id) => !PEERS[id].optIn && (!PEERS[id].multi || workers > 1));
}

/** The ratios' baselines: node:http and uWebSockets.js for JavaScript, uWSGI for Python. */
const BASELINES = ['node', 'uws', 'uwsgi'];

module.exports = { PEERS, IDS, ROOT, PY_APPS, BASELINES, labelOf, defaultServers, python };
