#!/usr/bin/env node
// The tsgi command. Runs the compiled CLI in dist/.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const cli = path.join(__dirname, '..', 'dist', 'cli.js');
if (!fs.existsSync(cli)) {
  process.stderr.write(
    `tsgi: ${path.relative(process.cwd(), cli) || cli} is missing: the TypeScript sources have not been built.\n` +
      'In a source checkout run `npm run build:ts` (or `npm run build` for the native addon too).\n',
  );
  process.exit(1);
}
require(cli)
  .main(process.argv.slice(2))
  .then((code) => process.exit(code), (err) => {
    process.stderr.write(`tsgi: ${(err && err.stack) || err}\n`);
    process.exit(1);
  });
