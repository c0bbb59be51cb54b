'use strict';
// Command-line options of `npm run bench`, their defaults and their validation.
const path = require('node:path');
const { IDS, defaultServers } = require('./peers');
const { NAMES } = require('./scenarios');

const HELP = `Usage: npm run bench -- [options]

Measures tsgi against its peers on this machine, side by side in one run.

  --servers LIST        comma-separated: ${IDS.join(', ')}
                        (default: all but express-tsgi and fastify-tsgi; the ×N ones
                        only with --workers > 1)
  --scenarios LIST      comma-separated: ${NAMES.join(', ')} (default: all)
  --duration SECONDS    per measurement (default 10)
  --warmup SECONDS      warm-up run per server and scenario, first round only (default 2)
  --connections N       concurrent connections for throughput scenarios (default 100)
  --idle-connections N  connections held open by the idle scenario (default 10000)
  --rounds N            interleaved rounds; medians are reported (default 3)
  --generator NAME      auto (wrk if on PATH, else autocannon), wrk, autocannon (default auto)
  --workers N           worker processes for tsgi workers and the node:http cluster (default 1)
  --pin auto|none       pin servers and generator to separate CPUs with taskset (default auto)
  --out DIR             where results go (default bench/results)
  --update-docs         rewrite what is between the <!-- bench:start --> and
                        <!-- bench:end --> lines of docs/benchmarks.md and README.md
  -h, --help            this text
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
  pin: 'auto',
  out: path.join(__dirname, 'results'),
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
  '--pin': ['pin', 'string'],
  '--out': ['out', 'string'],
};

/** Parses argv into options; throws an Error with a readable message on bad input. */
function parse(argv) {
  const o = { ...DEFAULTS };
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
  if (o.servers === null) o.servers = defaultServers(o.workers);
  return check(o);
}

function check(o) {
  const bad = (m) => {
    throw new Error(m);
  };
  for (const s of o.servers) if (!IDS.includes(s)) bad(`unknown server '${s}' (known: ${IDS.join(', ')})`);
  for (const s of o.scenarios) if (!NAMES.includes(s)) bad(`unknown scenario '${s}' (known: ${NAMES.join(', ')})`);
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
  if (!['auto', 'wrk', 'autocannon'].includes(o.generator)) bad(`--generator must be auto, wrk or autocannon`);
  if (!['auto', 'none'].includes(o.pin)) bad('--pin must be auto or none');
  o.out = path.resolve(o.out);
  return o;
}

module.exports = { parse, HELP, DEFAULTS };
