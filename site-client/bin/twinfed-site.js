#!/usr/bin/env node
// The `twinfed-site` command. Committed (not generated) so that `npm ci` links it into node_modules/.bin even
// before the TypeScript is compiled; it loads the compiled CLI, which the root `prepare` script builds during `npm ci`.
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const entry = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
if (!fs.existsSync(entry)) {
  process.stderr.write(
    `twinfed-site: the CLI is not built (${entry} is missing). Run \`npm run build\` in the repository root.\n`,
  );
  process.exit(1);
}
require(entry);
