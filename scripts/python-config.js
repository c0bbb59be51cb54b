#!/usr/bin/env node
// Finds the system's Python development files for the optional Python addon
// (native/python/), for binding.gyp, CMakeLists.txt and install-native.js.
//   node scripts/python-config.js available   1 when the addon can be built, else 0
//   node scripts/python-config.js reason      why it cannot (empty when it can)
//   node scripts/python-config.js cflags      -I flags
//   node scripts/python-config.js includes    include directories, space separated
//   node scripts/python-config.js ldflags     the --ldflags --embed flags (libpython)
//   node scripts/python-config.js exe         the interpreter the embedded one stands for
// The python3-config used is TSGI_PYTHON_CONFIG, else /usr/bin/python3-config, else
// /usr/local/bin/python3-config: never the first one on PATH (a pyenv or conda shim there
// may describe a Python without a shared libpython). TSGI_NO_PYTHON=1 skips the addon.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

function run(config, args) {
  return execFileSync(config, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
}

function probe() {
  if (process.env.TSGI_NO_PYTHON === '1') return { reason: 'TSGI_NO_PYTHON=1 is set' };
  const candidates = process.env.TSGI_PYTHON_CONFIG
    ? [process.env.TSGI_PYTHON_CONFIG]
    : ['/usr/bin/python3-config', '/usr/local/bin/python3-config'];
  const config = candidates.find((c) => fs.existsSync(c));
  if (!config) {
    return { reason: `${candidates.join(' or ')} not found (install python3-dev, e.g. apt-get install python3-dev)` };
  }
  let includes;
  let ldflags;
  let prefix;
  try {
    includes = run(config, ['--includes']);
    ldflags = run(config, ['--ldflags', '--embed']);
    prefix = run(config, ['--prefix']);
  } catch (e) {
    return { reason: `${config} failed: ${e.message.split('\n')[0]}` };
  }
  const dirs = [...new Set(includes.split(/\s+/).filter((f) => f.startsWith('-I')).map((f) => f.slice(2)))];
  if (!dirs.some((d) => fs.existsSync(path.join(d, 'Python.h')))) {
    return { reason: `Python.h not found in ${dirs.join(' ') || '(no include directory)'} (install python3-dev)` };
  }
  const lib = ldflags.split(/\s+/).find((f) => /^-lpython3\.\d+/.test(f));
  if (!lib) return { reason: `${config} --ldflags --embed names no libpython3.x` };
  const version = lib.slice('-lpython'.length).replace(/[^0-9.]+$/, '');
  return { config, dirs, ldflags, exe: path.join(prefix, 'bin', `python${version}`), reason: '' };
}

const what = process.argv[2] || 'available';
const p = probe();
switch (what) {
  case 'available': process.stdout.write(p.reason ? '0' : '1'); break;
  case 'reason': process.stdout.write(p.reason); break;
  case 'cflags': process.stdout.write(p.reason ? '' : p.dirs.map((d) => `-I${d}`).join(' ')); break;
  case 'includes': process.stdout.write(p.reason ? '' : p.dirs.join(' ')); break;
  case 'ldflags': process.stdout.write(p.reason ? '' : p.ldflags); break;
  case 'exe': process.stdout.write(p.reason ? '' : p.exe); break;
  default:
    console.error(`python-config.js: unknown query ${what}`);
    process.exit(2);
}
