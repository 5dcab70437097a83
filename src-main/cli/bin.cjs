#!/usr/bin/env node
// The `cnlab` command: runs the CLI bundle that `npm run build` (electron-vite build) produces.
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const bundle = join(__dirname, '..', '..', 'out', 'main', 'cli.js');
if (!existsSync(bundle)) {
  process.stderr.write('cnlab: the CLI is not built yet: run `npm run build` in the cnlab folder first\n');
  process.exit(1);
}
require(bundle)
  .runCli(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
