#!/usr/bin/env node
// Builds prebuilds/<platform>-<arch>/tsgi.napi.node with prebuildify (Node-API, stripped),
// so an installed package needs no compiler. Run by `npm pack` / `npm publish` (prepack).
// The node headers come from the running node's own include/node: nothing is downloaded.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
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

execFileSync(process.execPath, [prebuildify, '--napi', '--strip'], {
  cwd: root,
  // build output to stderr: `npm pack --json` keeps stdout for its JSON
  stdio: ['ignore', process.stderr, 'inherit'],
  env: {
    ...process.env,
    // node-gyp reads its options from npm_config_*: the local headers, two jobs at most.
    npm_config_nodedir: nodeDir(),
    npm_config_jobs: '2',
    PREBUILD_NODE_GYP: nodeGyp,
  },
});

// prebuildify moves the build out of build/Release: put a copy back so the source
// checkout keeps loading its own build.
const platformDir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
const built = fs.readdirSync(platformDir).find((f) => f.endsWith('.node'));
const release = path.join(root, 'build', 'Release');
if (built && fs.existsSync(release) && !fs.existsSync(path.join(release, 'tsgi.node'))) {
  fs.copyFileSync(path.join(platformDir, built), path.join(release, 'tsgi.node'));
}
