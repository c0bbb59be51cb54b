#!/usr/bin/env node
// Builds the native addon at install time unless a prebuild for this platform loads.
// Nothing is downloaded: node-gyp gets --nodedir pointing at the headers that come with
// the running node (process.execPath /usr/bin/node → /usr, headers in /usr/include/node).
//   node scripts/install-native.js           prebuild if it loads, else build
//   node scripts/install-native.js --force   always build from source
//   node scripts/install-native.js --cmake [--sanitize]
//                                            build with cmake-js into build-cmake/ (the same
//                                            sources; --sanitize adds ASan + UBSan)
// The optional Python addon (tsgi_python.node) is built alongside when
// scripts/python-config.js finds Python's development files; else one line says why not.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
// --force, or TSGI_BUILD_FROM_SOURCE=1 (e.g. `TSGI_BUILD_FROM_SOURCE=1 npm rebuild tsgi` for the
// Python addon, which prebuilds never carry): compile even when a prebuild loads.
const force = process.argv.includes('--force') || process.env.TSGI_BUILD_FROM_SOURCE === '1';

/** The directory whose include/node holds node_api.h and uv.h for this node. */
function nodeDir() {
  const candidates = [];
  if (process.env.npm_config_nodedir) candidates.push(process.env.npm_config_nodedir);
  candidates.push(path.resolve(path.dirname(process.execPath), '..'));
  for (const dir of candidates) {
    if (fs.existsSync(path.join(dir, 'include', 'node', 'node_api.h'))) return dir;
  }
  return null;
}

/** node-gyp's entry script: npm's bundled one when run by npm, else the devDependency. */
function nodeGyp() {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && fs.existsSync(fromNpm)) return fromNpm;
  try {
    return require.resolve('node-gyp/bin/node-gyp.js', { paths: [root] });
  } catch {}
  const bundled = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm',
    'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (fs.existsSync(bundled)) return bundled;
  return null;
}

/** A prebuild for this platform (prebuildify layout) that loads in this node. */
function prebuildLoads() {
  const dir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  let files;
  try {
    files = fs.readdirSync(dir).filter((f) => f.endsWith('.node'));
  } catch {
    return false;
  }
  for (const f of files) {
    try {
      require(path.join(dir, f));
      return true;
    } catch {}
  }
  return false;
}

function build() {
  const dir = nodeDir();
  const gyp = nodeGyp();
  if (!gyp) {
    console.error('tsgi: node-gyp not found (neither npm\'s bundled copy nor the devDependency)');
    process.exit(1);
  }
  const args = [gyp, 'rebuild', '--jobs=2'];
  if (dir) args.push(`--nodedir=${dir}`);
  else console.warn('tsgi: node headers not found next to the node binary; node-gyp may download them');
  execFileSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
}

function buildCmake() {
  let cmakeJs;
  try {
    cmakeJs = require.resolve('cmake-js/bin/cmake-js', { paths: [root] });
  } catch {
    console.error('tsgi: cmake-js is not installed (a devDependency)');
    process.exit(1);
  }
  const sanitize = process.argv.includes('--sanitize');
  const out = sanitize ? 'build-asan' : 'build-cmake';
  const args = [cmakeJs, 'build', '-d', root, '-O', path.join(root, out), '-p', '2'];
  args.push(`--CDTSGI_SANITIZE=${sanitize ? 'ON' : 'OFF'}`);
  const dir = nodeDir();
  const env = { ...process.env };
  if (dir) env.npm_config_nodedir = dir;
  execFileSync(process.execPath, args, { cwd: root, stdio: 'inherit', env });
}

/** One line when the optional Python addon (native/python/) is not built, saying why. */
function reportPython() {
  let reason = '';
  try {
    reason = execFileSync(process.execPath, [path.join(__dirname, 'python-config.js'), 'reason'],
      { encoding: 'utf8' }).trim();
  } catch (e) {
    reason = `the probe failed (${e.message.split('\n')[0]})`;
  }
  if (reason) console.warn(`tsgi: Python support skipped: ${reason}`);
}

if (process.argv.includes('--cmake')) {
  buildCmake();
  reportPython();
} else if (force || !prebuildLoads()) {
  build();
  reportPython();
} else {
  console.warn('tsgi: using the prebuilt addon, which has no Python support; to serve Python applications, ' +
    'build from source: TSGI_BUILD_FROM_SOURCE=1 npm rebuild tsgi');
}
