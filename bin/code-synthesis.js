#!/usr/bin/env node
'use strict';
// The local CLI over the same core as the task. Built by `npm run build` into dist/cli.js.
const path = require('node:path');
const fs = require('node:fs');
const cli = path.join(__dirname, '..', 'dist', 'cli.js');
if (!fs.existsSync(cli)) {
  process.stderr.write('code-synthesis: dist/cli.js is missing; run `npm run build` first.\n');
  process.exit(2);
}
require(cli)
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
