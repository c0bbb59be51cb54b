'use strict';
// Command-line options of `npm run bench`, their defaults and their validation.
const os = require('node:os');
const path = require('node:path');
const { IDS, PEERS, defaultServers } = require('./peers');
const { NAMES, familyNames } = require('./scenarios');

const SELECTABLE = IDS.filter((id) => PEERS[id].family !== 'app');
const FIXED_SCENARIOS = NAMES.filter((n) => !familyNames('app').includes(n));

const HELP = `Usage: npm run bench -- [options]
       npm run bench -- --app MODULE[:EXPORT] [options]     (or: npx tsgi bench MODULE[:EXPORT])

Measures tsgi against its peers on this machine, side by side in one run. Every
server's CPU time per request (user + system over its process tree) is reported
beside its requests per second. JavaScript scenarios run on the JavaScript peers,
Python scenarios (py-hello, flask-json, flask-echo, django) on the Python WSGI peers.

  --servers LIST        comma-separated: ${SELECTABLE.join(', ')}
                        (default: all but express-tsgi and fastify-tsgi; the ×N ones
                        only with --workers > 1)
  --scenarios LIST      comma-separated: ${FIXED_SCENARIOS.join(', ')} (default: all)
  --duration SECONDS    per measurement (default 10)
  --warmup SECONDS      warm-up run per server and scenario, first round only (default 2)
  --connections N       concurrent connections for throughput scenarios (default 100)
  --idle-connections N  connections held open by the idle scenario (default 10000)
  --rounds N            interleaved rounds; medians are reported (default 3)
  --generator NAME      auto (wrk if on PATH, else autocannon), wrk, autocannon (default auto)
  --workers N           worker processes for tsgi workers, the node:http cluster and the
                        Python servers (default 1)
  --threads N           threads per process for the Python servers that have them
                        (gunicorn gthread, uWSGI, Waitress, Cheroot, tsgi) (default 1)
  --pin auto|none       pin servers and generator to separate CPUs with taskset (default auto)
  --out DIR             where results go (default bench/results)
  --update-docs         rewrite what is between the <!-- bench:start --> and
                        <!-- bench:end --> lines of docs/benchmarks.md and README.md
  --compare FILE        after the run, print each server and scenario's change against
                        an earlier results file (a .json from --out); changes worse than
                        --threshold are marked as regressions (red on a colour terminal)
  --threshold PERCENT   what counts as a regression for --compare (default 5)
  -h, --help            this text

Your own application (--app): runs MODULE[:EXPORT] on tsgi and on node:http, loaded as
the tsgi CLI loads it (a tsgi app, a node:http handler such as Express, Koa or Fastify,
or a fetch handler such as Hono), and prints the ratio. On node:http, node handlers run
as they are; tsgi applications and fetch handlers run through toNodeHandler().
  --app MODULE[:EXPORT] the application, as tsgi takes it
  --path PATH           the path requested (default /)
  --interface NAME      auto, tsgi, node or fetch, as tsgi --interface (default auto)
  --scenarios LIST      ${familyNames('app').join(', ')} (default: app-get, app-close)
  Results go to ${path.join(os.tmpdir(), 'tsgi-bench-app')} unless --out says otherwise.
`;

const DEFAULTS = {
  servers: null,
  scenarios: NAMES.slice(),
  duration: 10,
  warmup: 2,
  connections: 100,
  idleConnections: 10000,
  rounds: 3,
  generator: 'auto',
  workers: 1,
  threads: 1,
  app: null,
  path: '/',
  interface: 'auto',
  compare: null,
  threshold: 5,
  pin: 'auto',
  out: null,
  updateDocs: false,
  help: false,
};

const FLAGS = {
  '--servers': ['servers', 'list'],
  '--scenarios': ['scenarios', 'list'],
  '--duration': ['duration', 'int'],
  '--warmup': ['warmup', 'int'],
  '--connections': ['connections', 'int'],
  '--idle-connections': ['idleConnections', 'int'],
  '--rounds': ['rounds', 'int'],
  '--generator': ['generator', 'string'],
  '--workers': ['workers', 'int'],
  '--threads': ['threads', 'int'],
  '--app': ['app', 'string'],
  '--path': ['path', 'string'],
  '--interface': ['interface', 'string'],
  '--compare': ['compare', 'string'],
  '--threshold': ['threshold', 'number'],
  '--pin': ['pin', 'string'],
  '--out': ['out', 'string'],
};

/** Parses argv into options; throws an Error with a readable message on bad input. */
function parse(argv) {
  const o = { ...DEFAULTS, scenarios: null };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let inline = null;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      inline = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    if (arg === '-h' || arg === '--help') {
      o.help = true;
      continue;
    }
    if (arg === '--update-docs') {
      o.updateDocs = true;
      continue;
    }
    const spec = FLAGS[arg];
    if (!spec) throw new Error(`unknown option ${arg} (see --help)`);
    const raw = inline !== null ? inline : argv[++i];
    if (raw === undefined || raw === '') throw new Error(`${arg} needs a value`);
    const [key, type] = spec;
    if (type === 'list') o[key] = raw.split(',').map((s) => s.trim()).filter(Boolean);
    else if (type === 'string') o[key] = raw;
    else {
      const n = Number(raw);
      if (!Number.isFinite(n) || (type === 'int' && !Number.isInteger(n))) throw new Error(`${arg} must be a${type === 'int' ? 'n integer' : ' number'}, got '${raw}'`);
      o[key] = n;
    }
  }
  if (o.app !== null) return checkApp(o);
  if (o.servers === null) o.servers = defaultServers(o.workers);
  if (o.scenarios === null) o.scenarios = FIXED_SCENARIOS.slice();
  return check(o);
}

/** `--app`: the user's application on tsgi and node:http, the app-* scenarios. */
function checkApp(o) {
  const bad = (m) => {
    throw new Error(m);
  };
  if (o.servers !== null) bad('--servers does not apply with --app: the application runs on tsgi and on node:http');
  if (o.updateDocs) bad('--update-docs does not apply with --app: the documents show the peers, not your application');
  o.servers = ['app-tsgi', 'app-node'];
  const appScenarios = familyNames('app');
  if (o.scenarios === null) o.scenarios = ['app-get', 'app-close'];
  for (const s of o.scenarios) if (!appScenarios.includes(s)) bad(`scenario '${s}' does not apply with --app (use: ${appScenarios.join(', ')})`);
  if (!o.path.startsWith('/')) bad(`--path must start with /, got '${o.path}'`);
  if (!['auto', 'tsgi', 'node', 'fetch'].includes(o.interface)) bad('--interface must be auto, tsgi, node or fetch');
  if (o.workers !== 1) bad('--workers does not apply with --app: both servers run one process');
  if (o.out === null) o.out = path.join(os.tmpdir(), 'tsgi-bench-app');
  o.app = { spec: o.app, cwd: process.cwd(), interface: o.interface };
  return check(o, appScenarios);
}

function check(o, known = FIXED_SCENARIOS) {
  const bad = (m) => {
    throw new Error(m);
  };
  const servers = o.app ? IDS : SELECTABLE;
  for (const s of o.servers) if (!servers.includes(s)) bad(`unknown server '${s}' (known: ${SELECTABLE.join(', ')})`);
  for (const s of o.scenarios) if (!known.includes(s)) bad(`unknown scenario '${s}' (known: ${known.join(', ')})`);
  if (!o.servers.length) bad('--servers is empty');
  if (!o.scenarios.length) bad('--scenarios is empty');
  o.servers = [...new Set(o.servers)];
  o.scenarios = NAMES.filter((n) => o.scenarios.includes(n)); // canonical order
  if (!(o.duration >= 1 && o.duration <= 600)) bad('--duration must be between 1 and 600 seconds');
  if (!(o.warmup >= 0 && o.warmup <= 60)) bad('--warmup must be between 0 and 60 seconds');
  if (!(o.connections >= 1 && o.connections <= 10000)) bad('--connections must be between 1 and 10000');
  if (!(o.idleConnections >= 1 && o.idleConnections <= 100000)) bad('--idle-connections must be between 1 and 100000');
  if (!(o.rounds >= 1 && o.rounds <= 50)) bad('--rounds must be between 1 and 50');
  if (!(o.workers >= 1 && o.workers <= 256)) bad('--workers must be between 1 and 256');
  if (!(o.threads >= 1 && o.threads <= 256)) bad('--threads must be between 1 and 256');
  if (!(o.threshold > 0 && o.threshold < 100)) bad('--threshold must be a percentage between 0 and 100');
  if (o.compare !== null) o.compare = path.resolve(o.compare);
  if (o.out === null) o.out = path.join(__dirname, 'results');
  if (!['auto', 'wrk', 'autocannon'].includes(o.generator)) bad(`--generator must be auto, wrk or autocannon`);
  if (!['auto', 'none'].includes(o.pin)) bad('--pin must be auto or none');
  o.out = path.resolve(o.out);
  return o;
}

module.exports = { parse, HELP, DEFAULTS };
