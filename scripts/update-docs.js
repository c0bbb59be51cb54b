#!/usr/bin/env node
// Regenerates the docs that come from the settings registry: docs/settings.md and the
// `tsgi --help` block of docs/cli.md. Run `npm run build:ts` first (it reads dist/).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const dist = path.join(root, 'dist');
if (!fs.existsSync(path.join(dist, 'cli', 'help-doc.js'))) {
  console.error('update-docs: dist/ is missing or stale: run `npm run build:ts` first');
  process.exit(1);
}
const { settingsReference } = require(path.join(dist, 'settings', 'reference.js'));
const { withHelpBlock } = require(path.join(dist, 'cli', 'help-doc.js'));

const settings = path.join(root, 'docs', 'settings.md');
fs.writeFileSync(settings, settingsReference() + '\n');
const cli = path.join(root, 'docs', 'cli.md');
fs.writeFileSync(cli, withHelpBlock(fs.readFileSync(cli, 'utf8')));
console.log('Updated docs/settings.md and docs/cli.md');
