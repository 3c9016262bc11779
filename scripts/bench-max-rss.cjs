// Preloaded into the task by `npm run bench` (node --require): reports the process's peak resident set
// size on stderr as it exits, in KiB (process.resourceUsage().maxRSS, getrusage's ru_maxrss).
'use strict';
const fs = require('node:fs');

process.on('exit', () => {
  fs.writeSync(2, `bench-max-rss-kib=${process.resourceUsage().maxRSS}\n`);
});
