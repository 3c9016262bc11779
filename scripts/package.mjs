#!/usr/bin/env node
// Packages the Marketplace extension (.vsix) from vss-extension.json and the built task folder, then
// opens the .vsix and checks the task inside it.
// Usage: node scripts/package.mjs [--publisher NAME] [--output-path DIR]
//   The publisher may also come from CODE_SYNTHESIS_PUBLISHER; the default output path is dist/.
//   Run `npm run build` first (`npm run package` does both).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MANIFEST = path.join(ROOT, 'vss-extension.json');
const PLACEHOLDER_PUBLISHER = 'your-publisher';

/**
 * Reads a zip archive (a .vsix) into a map of entry name -> content. Handles stored and deflated
 * entries, which is all tfx writes; no zip64.
 */
export function readZip(file) {
  const zip = fs.readFileSync(file);
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error(`${file} is not a zip archive (no end of central directory)`);
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const entries = new Map();
  for (let n = 0; n < count; n++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`${file}: bad central directory entry ${n}`);
    const method = zip.readUInt16LE(at + 10);
    const compressedSize = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    const dataStart = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(dataStart, dataStart + compressedSize);
    if (!name.endsWith('/')) {
      if (method === 0) entries.set(name, Buffer.from(data));
      else if (method === 8) entries.set(name, zlib.inflateRawSync(data));
      else throw new Error(`${file}: entry ${name} uses compression method ${method}`);
    }
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** The task folders the manifest contributes, as paths inside the package. */
export function taskFolders(manifest) {
  return manifest.contributions
    .filter((c) => c.type === 'ms.vss-distributed-task.task')
    .map((c) => c.properties.name);
}

/** Problems with the packaged task folders; empty when the package is good. */
export function checkVsix(entries, manifest) {
  const problems = [];
  const names = [...entries.keys()];
  if (!entries.has('extension.vsixmanifest')) problems.push('extension.vsixmanifest is missing');
  for (const folder of taskFolders(manifest)) {
    const inside = names.filter((n) => n.startsWith(`${folder}/`));
    for (const file of ['task.json', 'index.js', 'remote.js', 'package.json']) {
      if (!entries.has(`${folder}/${file}`)) problems.push(`${folder}/${file} is missing`);
    }
    const pkg = entries.get(`${folder}/package.json`);
    if (pkg && JSON.parse(pkg.toString('utf8')).type !== 'commonjs')
      problems.push(`${folder}/package.json does not say "type": "commonjs"`);
    const modules = inside.filter((n) => n.split('/').includes('node_modules'));
    if (modules.length > 0)
      problems.push(
        `${folder} contains node_modules (${modules.length} files, e.g. ${modules[0]}): the task must ship as bundles`,
      );
    const maps = inside.filter((n) => n.endsWith('.map'));
    if (maps.length > 0) problems.push(`${folder} contains source maps: ${maps.join(', ')}`);
  }
  return problems;
}

function parseArgs(argv) {
  const options = {
    publisher: process.env.CODE_SYNTHESIS_PUBLISHER || undefined,
    outputPath: path.join(ROOT, 'dist'),
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (!v || v.startsWith('--')) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--publisher') options.publisher = value();
    else if (arg === '--output-path') options.outputPath = path.resolve(value());
    else throw new Error(`unknown argument '${arg}' (accepted: --publisher NAME, --output-path DIR)`);
  }
  if (options.publisher !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(options.publisher)) {
    throw new Error(`'${options.publisher}' is not a publisher ID (letters, digits, '-' and '_')`);
  }
  return options;
}

function main() {
  const options = parseArgs(process.argv.slice(2));
  const manifest = JSON.parse(fs.readFileSync(MANIFEST, 'utf8'));
  for (const folder of taskFolders(manifest)) {
    const built = path.join(ROOT, folder);
    if (!fs.existsSync(path.join(built, 'index.js')))
      throw new Error(`${folder}/index.js does not exist: run 'npm run build' first`);
    const source = path.join(ROOT, 'tasks', path.basename(folder), 'task.json');
    if (
      fs.existsSync(source) &&
      !fs.readFileSync(source).equals(fs.readFileSync(path.join(built, 'task.json')))
    ) {
      throw new Error(
        `${folder}/task.json differs from ${path.relative(ROOT, source)}: the build is stale; run 'npm run build'`,
      );
    }
  }
  const publisher = options.publisher ?? manifest.publisher;
  if (publisher === PLACEHOLDER_PUBLISHER) {
    console.warn(
      `note: publisher is the placeholder '${PLACEHOLDER_PUBLISHER}'; pass --publisher NAME or set CODE_SYNTHESIS_PUBLISHER to publish`,
    );
  }

  fs.mkdirSync(options.outputPath, { recursive: true });
  const tfxPackage = createRequire(import.meta.url).resolve('tfx-cli/package.json');
  const tfx = path.join(path.dirname(tfxPackage), JSON.parse(fs.readFileSync(tfxPackage, 'utf8')).bin.tfx);
  const args = [
    tfx,
    'extension',
    'create',
    '--root',
    ROOT,
    '--manifest-globs',
    'vss-extension.json',
    '--output-path',
    options.outputPath,
    '--no-prompt',
    '--no-color',
    '--json',
  ];
  if (options.publisher) args.push('--publisher', options.publisher);
  const result = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(
      `tfx extension create failed (exit ${result.status}):\n${result.stderr || result.stdout}`,
    );
  }
  if (result.stderr.trim()) console.warn(result.stderr.trim());
  // tfx --json prints its warnings, then { path, extensionId, version, publisher } from a line '{'.
  // Its task.json validation only warns ("in the future, this warning will be treated as an error"):
  // treat every warning as an error now.
  const start = result.stdout.search(/^\{/m);
  const warnings = result.stdout.slice(0, Math.max(start, 0)).trim();
  if (start < 0 || warnings)
    throw new Error(
      `tfx extension create ${start < 0 ? 'printed no result' : 'warned'}:\n${warnings || result.stdout}`,
    );
  const vsix = JSON.parse(result.stdout.slice(start)).path;

  const problems = checkVsix(readZip(vsix), manifest);
  if (problems.length > 0) throw new Error(`${vsix} is not a valid package:\n  - ${problems.join('\n  - ')}`);
  const kib = (fs.statSync(vsix).size / 1024).toFixed(0);
  const shown = path.relative(process.cwd(), vsix);
  console.log(`${shown.startsWith('..') ? vsix : shown}: ${kib} KiB`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  }
}
