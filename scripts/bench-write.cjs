// Part of `npm run bench` (scripts/bench.mjs runs it once per Node version): 1,000 files, 20 MB in all,
// written into a fresh folder through the task's FsTreeStore commit (staging, journal, fsync, move; the
// tsc build in out/) and, interleaved in the same process, through a plain fs.writeFile loop (mkdir -p,
// then writeFile, one file after another). Prints one JSON line: {"store": [ms...], "plain": [ms...]}.
// Usage: node scripts/bench-write.cjs [runs]   (BENCH_DIR: where the folders go; default the OS temp folder)
'use strict';
const fs = require('node:fs');
const fsp = require('node:fs/promises');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const STORE = path.join(ROOT, 'out', 'tasks', 'CodeSynthesis', 'src', 'adapters', 'fs', 'tree-store.js');
const FILES = 1000;
const TOTAL_BYTES = 20 * 1024 * 1024;

/** 1,000 TypeScript-looking files of 20 KiB in 25 x 7 folders two levels deep (ASCII: bytes = characters). */
function benchFiles() {
  const size = TOTAL_BYTES / FILES;
  const files = [];
  for (let i = 0; i < FILES; i++) {
    const line = `export const value${i} = ${JSON.stringify('v'.repeat(48))};\n`;
    files.push({
      path: `src/module${i % 25}/part${i % 7}/file${i}.ts`,
      content: line.repeat(Math.ceil(size / line.length)).slice(0, size),
    });
  }
  return files;
}

async function plainLoop(root, files) {
  for (const file of files) {
    const abs = path.join(root, ...file.path.split('/'));
    await fsp.mkdir(path.dirname(abs), { recursive: true });
    await fsp.writeFile(abs, file.content);
  }
}

async function main() {
  if (!fs.existsSync(STORE)) throw new Error(`${STORE} is missing: run 'npx tsc -p .' (npm run build) first`);
  const { FsTreeStore } = require(STORE);
  const runs = Number(process.argv[2] ?? 5);
  const files = benchFiles();
  const base = fs.mkdtempSync(path.join(process.env.BENCH_DIR || os.tmpdir(), 'cs-bench-write-'));
  const times = { store: [], plain: [] };
  const ways = {
    store: (root) => new FsTreeStore(root).commit(files, new AbortController().signal),
    plain: (root) => plainLoop(root, files),
  };
  try {
    for (let i = 0; i < runs; i++) {
      // Alternate which goes first, so neither always inherits the other's dirty pages.
      for (const way of i % 2 ? ['plain', 'store'] : ['store', 'plain']) {
        const root = path.join(base, `${way}-${i}`);
        const start = process.hrtime.bigint();
        await ways[way](root);
        times[way].push(Number(process.hrtime.bigint() - start) / 1e6);
        fs.rmSync(root, { recursive: true, force: true });
      }
    }
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
  console.log(JSON.stringify(times));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exitCode = 1;
});
