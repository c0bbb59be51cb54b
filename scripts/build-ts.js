#!/usr/bin/env node
// Compiles src/ to dist/ (CommonJS + declarations) and writes the ESM entry points that
// re-export the CommonJS build, so `import` and `require` see one module instance.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const dist = path.join(root, 'dist');
let tsc;
try {
  tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
} catch {
  // An installed package ships dist/ already; only a source checkout compiles.
  if (fs.existsSync(path.join(dist, 'index.js'))) process.exit(0);
  console.error('tsgi: typescript is not installed and dist/ is missing: run `npm install` in the source checkout');
  process.exit(1);
}
execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.json')], { stdio: 'inherit' });

const api = require(path.join(dist, 'index.js'));
const names = Object.keys(api).filter((n) => n !== 'default' && n !== '__esModule');
fs.writeFileSync(
  path.join(dist, 'index.mjs'),
  `import cjs from './index.js';\nexport const { ${names.join(', ')} } = cjs;\nexport default cjs;\n`,
);
fs.writeFileSync(path.join(dist, 'index.d.mts'), `export * from './index.js';\n`);
