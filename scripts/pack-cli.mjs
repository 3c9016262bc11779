#!/usr/bin/env node
// Makes the CLI a publishable npm package with no dependencies (everything is bundled into cli.js):
//   dist/npm/package.json            name and version from the root package.json; bin, files, engines, licence
//   dist/npm/cli.js                  dist/cli.js without its source-map comment (the map is not shipped)
//   dist/npm/README.md               the README's "Command line (npm)" section
//   dist/npm/LICENSE                 the project's licence
//   dist/npm/THIRD-PARTY-NOTICES.txt the licence of every package bundled into cli.js, from esbuild's metafile
// Usage: node scripts/pack-cli.mjs [--out DIR] [--repository URL] [--pack]
//   --pack also runs `npm pack` into dist/ and prints the tarball's name, size and files.
//   The repository may also come from package.json's "repository" or CODE_SYNTHESIS_REPOSITORY.
//   Run `npm run build` first (`npm run pack:cli` does both, with --pack).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = path.join(ROOT, 'dist');
const CLI_BUNDLE = 'dist/cli.js';
const README_SECTION = 'Command line (npm)';

/** Every file the package holds; npm adds package.json, README and LICENSE whatever `files` says. */
export const PACKAGE_FILES = ['LICENSE', 'README.md', 'THIRD-PARTY-NOTICES.txt', 'cli.js', 'package.json'];

/** The package.json of the CLI package: no dependencies and no scripts, so it installs offline. */
export function cliPackageJson(root, { repository } = {}) {
  const repo = repository ?? root.repository;
  return {
    name: root.name,
    version: root.version,
    description:
      'Turn an intent (a YAML service card or free text) into checked source files, with Azure OpenAI, ' +
      'an OpenAI-compatible endpoint or offline templates: the CodeSynthesis@1 Azure Pipelines task as a CLI ' +
      'for any CI system.',
    keywords: ['code-generation', 'scaffolding', 'azure-openai', 'openai', 'cli', 'ci', 'azure-pipelines'],
    license: root.license,
    ...(repo ? { repository: typeof repo === 'string' ? { type: 'git', url: repo } : repo } : {}),
    ...(root.homepage ? { homepage: root.homepage } : {}),
    ...(root.bugs ? { bugs: root.bugs } : {}),
    ...(root.author ? { author: root.author } : {}),
    // cli.js is a CommonJS bundle: say so, whatever the "type" of a project it is installed into.
    type: 'commonjs',
    bin: { [root.name]: 'cli.js' },
    files: ['cli.js', 'THIRD-PARTY-NOTICES.txt'],
    engines: root.engines,
  };
}

/** The bundle's text for the package: the same code, without the comment naming the unshipped map. */
export function stripSourceMapComment(code) {
  return code.replace(/\n\/\/# sourceMappingURL=[^\n]*\n?$/, '\n');
}

/** The text of the README section headed `## <heading>`, up to the next `## ` heading, without the heading. */
export function readmeSection(readme, heading) {
  const lines = readme.split('\n');
  const start = lines.findIndex((l) => l.trim() === `## ${heading}`);
  if (start < 0) throw new Error(`README.md has no '## ${heading}' section`);
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((l) => /^## /.test(l));
  return rest
    .slice(0, end < 0 ? rest.length : end)
    .join('\n')
    .trim();
}

/**
 * The packages that put code into `output`, from esbuild's metafile: the folder of each (the innermost
 * node_modules/<name> or node_modules/@scope/<name>) with the bundled files' paths inside it.
 */
export function bundledPackages(metafile, output) {
  const bundle = metafile.outputs[output];
  if (!bundle) throw new Error(`${output} is not in the metafile: run 'npm run build'`);
  const packages = new Map();
  for (const [input, { bytesInOutput }] of Object.entries(bundle.inputs)) {
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\/(.+)$/.exec(input);
    if (!m || bytesInOutput === 0) continue;
    const files = packages.get(m[1]) ?? [];
    files.push(m[2]);
    packages.set(m[1], files);
  }
  return [...packages].map(([dir, files]) => ({ dir, files })).sort((a, b) => a.dir.localeCompare(b.dir));
}

const LICENCE_FILE = /^(licen[cs]e|copying|notice)(\.[a-z]+)?$/i;

function licenceFiles(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => LICENCE_FILE.test(f) && fs.statSync(path.join(dir, f)).isFile())
    .sort()
    .map((f) => path.join(dir, f));
}

/**
 * THIRD-PARTY-NOTICES.txt for the bundled packages (folders relative to `root`): each package's name,
 * version, declared licence and the text of its licence and notice files. Code a package vendors under a
 * licence of its own keeps that licence file in the folder of its TypeScript source (openai's
 * src/internal/qs), so folders between a bundled file and the package, and their src/ twins, count too.
 */
export function thirdPartyNotices(packages, root) {
  const sections = packages.map(({ dir, files }) => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, dir, 'package.json'), 'utf8'));
    const found = new Set(licenceFiles(path.join(root, dir)));
    for (const file of files) {
      for (let sub = path.posix.dirname(file); sub !== '.'; sub = path.posix.dirname(sub)) {
        for (const f of [
          ...licenceFiles(path.join(root, dir, sub)),
          ...licenceFiles(path.join(root, dir, 'src', sub)),
        ])
          found.add(f);
      }
    }
    const licence = typeof pkg.license === 'string' ? pkg.license : (pkg.license?.type ?? 'UNKNOWN');
    const texts = [...found].map((f) => {
      const rel = path.relative(path.join(root, dir), f).split(path.sep).join('/');
      return `--- ${rel} ---\n${fs.readFileSync(f, 'utf8').trim()}`;
    });
    if (texts.length === 0)
      texts.push(`(The package ships no licence file; its package.json declares ${licence}.)`);
    return [`${pkg.name} ${pkg.version} (${licence})`, ...texts].join('\n\n');
  });
  return (
    `cli.js bundles the following ${packages.length} packages. Their licences and notices follow.\n\n` +
    sections.join(`\n\n${'='.repeat(78)}\n\n`) +
    '\n'
  );
}

const README_INTRO = (pkg) => `# ${pkg.name}

Turns an intent, a YAML service card or free text, into source code with Azure OpenAI, an
OpenAI-compatible endpoint or offline templates: checks every path the model proposes, writes the files
all-or-nothing and records where each came from in a manifest.
`;

/** Write the package folder `out` from the built bundle. Returns its package.json. */
export function writeCliPackage({ out = path.join(DIST, 'npm'), repository } = {}) {
  const bundle = path.join(ROOT, CLI_BUNDLE);
  if (!fs.existsSync(bundle)) throw new Error(`${CLI_BUNDLE} does not exist: run 'npm run build' first`);
  const root = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const metafile = JSON.parse(fs.readFileSync(path.join(DIST, 'meta.json'), 'utf8'));
  const pkg = cliPackageJson(root, { repository });

  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
  fs.writeFileSync(path.join(out, 'cli.js'), stripSourceMapComment(fs.readFileSync(bundle, 'utf8')), {
    mode: 0o755,
  });
  const readme = readmeSection(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'), README_SECTION);
  fs.writeFileSync(path.join(out, 'README.md'), `${README_INTRO(pkg)}\n${readme}\n`);
  fs.copyFileSync(path.join(ROOT, 'LICENSE'), path.join(out, 'LICENSE'));
  fs.writeFileSync(
    path.join(out, 'THIRD-PARTY-NOTICES.txt'),
    thirdPartyNotices(bundledPackages(metafile, CLI_BUNDLE), ROOT),
  );
  return pkg;
}

/**
 * `npm pack` of the package folder into `destination` (or, with dryRun, only the listing).
 * Returns npm's report: { filename, size, unpackedSize, files: [{ path, size, mode }], ... }.
 */
export function npmPack(folder, { destination, dryRun = false, env = process.env } = {}) {
  const args = ['pack', folder, '--json', ...(dryRun ? ['--dry-run'] : ['--pack-destination', destination])];
  const r = spawnSync('npm', args, {
    encoding: 'utf8',
    env,
    shell: process.platform === 'win32',
  });
  if (r.status !== 0) throw new Error(`npm ${args.join(' ')} failed (exit ${r.status}):\n${r.stderr}`);
  const [report] = JSON.parse(r.stdout);
  return report;
}

function parseArgs(argv) {
  const options = {
    out: path.join(DIST, 'npm'),
    repository: process.env.CODE_SYNTHESIS_REPOSITORY || undefined,
    pack: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (!v || v.startsWith('--')) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--out') options.out = path.resolve(value());
    else if (arg === '--repository') options.repository = value();
    else if (arg === '--pack') options.pack = true;
    else throw new Error(`unknown argument '${arg}' (accepted: --out DIR, --repository URL, --pack)`);
  }
  return options;
}

function main() {
  const options = parseArgs(process.argv.slice(2));
  const pkg = writeCliPackage(options);
  if (!pkg.repository) {
    console.warn(
      'note: no repository: add "repository" to package.json, pass --repository URL or set CODE_SYNTHESIS_REPOSITORY before publishing',
    );
  }
  const shown = (p) => {
    const rel = path.relative(process.cwd(), p);
    return rel.startsWith('..') ? p : rel;
  };
  console.log(`${shown(options.out)}: ${pkg.name}@${pkg.version}`);
  if (!options.pack) return;
  const report = npmPack(options.out, { destination: DIST });
  const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
  console.log(
    `${shown(path.join(DIST, report.filename))}: ${kib(report.size)} (${kib(report.unpackedSize)} unpacked), ` +
      `${report.files.length} files: ${report.files.map((f) => f.path).join(', ')}`,
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  }
}
