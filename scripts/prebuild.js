#!/usr/bin/env node
// Builds prebuilds/<platform>-<arch>/tsgi.node with prebuildify (Node-API, stripped), so an
// installed package needs no compiler. Run by `npm pack` / `npm publish` (prepack).
// The node headers come from the running node's own include/node: nothing is downloaded.
// The build runs in a scratch copy of the native sources, so the checkout's build/ (which
// running tests may be loading) is never touched.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..');

function nodeDir() {
  for (const dir of [process.env.npm_config_nodedir, path.resolve(path.dirname(process.execPath), '..')]) {
    if (dir && fs.existsSync(path.join(dir, 'include', 'node', 'node_api.h'))) return dir;
  }
  throw new Error('tsgi: node headers not found next to the node binary (include/node/node_api.h)');
}

let prebuildify;
try {
  prebuildify = require.resolve('prebuildify/bin.js', { paths: [root] });
} catch {
  console.error('tsgi: prebuildify is not installed (a devDependency): run `npm install` in the source checkout');
  process.exit(1);
}
const nodeGyp = require.resolve('node-gyp/bin/node-gyp.js', { paths: [root] });

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-prebuild-'));
try {
  fs.cpSync(path.join(root, 'native'), path.join(scratch, 'native'), { recursive: true });
  fs.copyFileSync(path.join(root, 'binding.gyp'), path.join(scratch, 'binding.gyp'));
  fs.mkdirSync(path.join(scratch, 'scripts'));
  fs.copyFileSync(path.join(root, 'scripts', 'python-config.js'), path.join(scratch, 'scripts', 'python-config.js'));
  fs.copyFileSync(path.join(root, 'package.json'), path.join(scratch, 'package.json'));
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(scratch, 'node_modules'), 'dir');
  execFileSync(process.execPath, [prebuildify, '--napi', '--strip', '--out', root], {
    cwd: scratch,
    // build output to stderr: `npm pack --json` keeps stdout for its JSON
    stdio: ['ignore', process.stderr, 'inherit'],
    env: {
      ...process.env,
      // node-gyp reads its options from npm_config_*: the local headers, two jobs at most.
      npm_config_nodedir: nodeDir(),
      npm_config_jobs: '2',
      PREBUILD_NODE_GYP: nodeGyp,
      // The Python addon links the build machine's libpython: it is built where it is
      // installed (TSGI_BUILD_FROM_SOURCE=1), never prebuilt.
      TSGI_NO_PYTHON: '1',
    },
  });
} finally {
  fs.rmSync(scratch, { recursive: true, force: true });
}
