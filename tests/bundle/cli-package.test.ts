/**
 * The CLI as an npm package: scripts/pack-cli.mjs writes the package folder, `npm pack` makes the tarball,
 * and the tarball installs into an empty project with no registry and no cache (it has no dependencies),
 * then runs offline from node_modules/.bin and through npx. Runs on the Node running the tests (CI: 20 and 24).
 */
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../support/repo';

interface PackReport {
  name: string;
  version: string;
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string; size: number; mode: number }[];
}

interface PackCliScript {
  PACKAGE_FILES: string[];
  writeCliPackage(options: { out: string }): Record<string, unknown>;
  npmPack(
    folder: string,
    options: { destination?: string; dryRun?: boolean; env?: NodeJS.ProcessEnv },
  ): PackReport;
  bundledPackages(metafile: unknown, output: string): { dir: string; files: string[] }[];
  readmeSection(readme: string, heading: string): string;
}

interface CliReport {
  result: string;
  exitCode: number;
  message: string;
  outputs: Record<string, string>;
}

// tsc turns import() into require(), which cannot load an ES module on every Node we support.
const importEsm = new Function('url', 'return import(url)') as (url: string) => Promise<unknown>;
const rootPackage = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  license: string;
  engines: { node: string };
};

describe('the CLI npm package', function () {
  this.timeout(120000);
  let script: PackCliScript;
  let work: string;
  let pkgDir: string;
  let tarball: string;
  let project: string;
  let npmEnv: NodeJS.ProcessEnv;
  let install: ReturnType<typeof spawnSync>;

  /** npm and npx with nothing from the outer npm run, no user config, an empty cache and no registry. */
  const npm = (command: 'npm' | 'npx', args: string[], options: SpawnSyncOptions = {}) =>
    spawnSync(command, args, {
      encoding: 'utf8',
      env: npmEnv,
      shell: process.platform === 'win32',
      ...options,
    });
  /** The installed bin, run by the Node running the tests. */
  const bin = (args: string[]) => {
    const r = spawnSync(
      process.execPath,
      [path.join(project, 'node_modules', '.bin', 'code-synthesis'), ...args],
      {
        cwd: project,
        encoding: 'utf8',
        env: npmEnv,
      },
    );
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  before(async () => {
    script = (await importEsm(
      pathToFileURL(path.join(REPO_ROOT, 'scripts', 'pack-cli.mjs')).href,
    )) as PackCliScript;
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-cli-package-'));
    const userconfig = path.join(work, 'npmrc');
    fs.writeFileSync(userconfig, '');
    npmEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
    Object.assign(npmEnv, {
      // npm's `#!/usr/bin/env node` and the bin's shebang pick the Node running the tests.
      PATH: [path.dirname(process.execPath), process.env.PATH].join(path.delimiter),
      npm_config_userconfig: userconfig,
      npm_config_cache: path.join(work, 'empty-cache'),
      npm_config_registry: 'http://127.0.0.1:9/', // nothing listens: any registry request fails
      npm_config_offline: 'true',
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_update_notifier: 'false',
    });

    pkgDir = path.join(work, 'package');
    script.writeCliPackage({ out: pkgDir });
    const packed = script.npmPack(pkgDir, { destination: work, env: npmEnv });
    tarball = path.join(work, packed.filename);

    // An empty project, of "type": "module" to show that cli.js stays CommonJS wherever it lands.
    project = path.join(work, 'project');
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'package.json'), '{ "private": true, "type": "module" }\n');
    fs.copyFileSync(path.join(REPO_ROOT, 'examples', 'weather.yaml'), path.join(project, 'intent.yaml'));
    install = npm('npm', ['install', '--no-audit', '--no-fund', '--offline', tarball], { cwd: project });
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it('has publishable metadata: bin, files, engines, licence; no dependencies and no scripts', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    assert.equal(pkg.name, rootPackage.name);
    assert.equal(pkg.version, rootPackage.version);
    assert.deepEqual(pkg.bin, { 'code-synthesis': 'cli.js' });
    assert.deepEqual(pkg.engines, { node: '>=20.18' });
    assert.deepEqual(pkg.engines, rootPackage.engines);
    assert.equal(pkg.license, 'MIT');
    assert.equal(pkg.type, 'commonjs');
    assert.ok(typeof pkg.description === 'string' && pkg.description.length > 20);
    for (const field of [
      'dependencies',
      'optionalDependencies',
      'peerDependencies',
      'devDependencies',
      'scripts',
    ])
      assert.equal(
        pkg[field],
        undefined,
        `${field} must be absent: the tarball must install offline, running nothing`,
      );
  });

  it('npm pack --dry-run lists only the expected files: no source map, no sources', () => {
    const report = script.npmPack(pkgDir, { dryRun: true, env: npmEnv });
    const files = report.files.map((f) => f.path).sort();
    assert.deepEqual(files, [...script.PACKAGE_FILES].sort());
    assert.deepEqual(script.PACKAGE_FILES.slice().sort(), [
      'LICENSE',
      'README.md',
      'THIRD-PARTY-NOTICES.txt',
      'cli.js',
      'package.json',
    ]);
    const cli = fs.readFileSync(path.join(pkgDir, 'cli.js'), 'utf8');
    assert.ok(cli.startsWith('#!/usr/bin/env node\n'), 'cli.js starts with a shebang');
    assert.doesNotMatch(cli, /sourceMappingURL=/, 'cli.js names no source map the package does not ship');
    assert.equal(report.name, rootPackage.name);
    assert.equal(report.version, rootPackage.version);
    const mib = (n: number) => (n / 1024 / 1024).toFixed(2);
    console.log(
      `      ${report.filename}: ${mib(report.size)} MiB packed, ${mib(report.unpackedSize)} MiB unpacked, ${files.length} files`,
    );
    // A bound that catches a source map or node_modules slipping in (the bundle alone is ~3.6 MiB).
    assert.ok(report.unpackedSize < 6 * 1024 * 1024, `unpacked size ${report.unpackedSize}`);
  });

  it('carries the README section, the licence and the notices of every bundled package', () => {
    const readme = fs.readFileSync(path.join(pkgDir, 'README.md'), 'utf8');
    const section = script.readmeSection(
      fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8'),
      'Command line (npm)',
    );
    assert.ok(readme.includes(section), 'README.md holds the "Command line (npm)" section');
    assert.match(readme, /CODE_SYNTHESIS_API_KEY/);
    // Every exit code the CLI uses has a row in the section's table.
    for (const code of [0, 1, 2, 3]) assert.match(section, new RegExp(`^\\| ${code} \\| \\S`, 'm'));
    assert.ok(
      fs.readFileSync(path.join(pkgDir, 'LICENSE')).equals(fs.readFileSync(path.join(REPO_ROOT, 'LICENSE'))),
    );

    const notices = fs.readFileSync(path.join(pkgDir, 'THIRD-PARTY-NOTICES.txt'), 'utf8');
    const metafile = JSON.parse(
      fs.readFileSync(path.join(REPO_ROOT, 'dist', 'meta.json'), 'utf8'),
    ) as unknown;
    const bundled = script.bundledPackages(metafile, 'dist/cli.js');
    // The remote SDKs are bundled into cli.js (reached by await import()), so their licences must be there.
    for (const name of ['openai', '@azure/identity', 'yaml', 'undici']) {
      assert.ok(
        bundled.some((p) => p.dir.endsWith(`node_modules/${name}`)),
        `${name} is bundled`,
      );
    }
    for (const { dir } of bundled) {
      const { name, version } = JSON.parse(
        fs.readFileSync(path.join(REPO_ROOT, dir, 'package.json'), 'utf8'),
      ) as {
        name: string;
        version: string;
      };
      assert.ok(
        notices.includes(`\n${name} ${version} (`),
        `THIRD-PARTY-NOTICES.txt lacks ${name} ${version}`,
      );
    }
    assert.match(notices, /Apache License/); // openai's licence text, not only its name
  });

  it('installs from the tarball into an empty project with no registry and an empty cache', () => {
    assert.equal(
      install.status,
      0,
      `npm install failed:\n${String(install.stdout)}\n${String(install.stderr)}`,
    );
    const installed = path.join(project, 'node_modules', 'code-synthesis');
    assert.deepEqual(fs.readdirSync(installed).sort(), [...script.PACKAGE_FILES].sort());
    // Nothing else was installed: the package has no dependencies.
    assert.deepEqual(
      fs.readdirSync(path.join(project, 'node_modules')).filter((n) => !n.startsWith('.')),
      ['code-synthesis'],
    );
    assert.ok(fs.existsSync(path.join(project, 'node_modules', '.bin', 'code-synthesis')));
  });

  it('runs offline from node_modules/.bin: writes the service and the manifest, exit code 0', () => {
    const r = bin(['--intent', 'intent.yaml', '--out', 'generated']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    for (const file of ['weather/app.py', 'weather/requirements.txt', '.synthesis/manifest.json'])
      assert.ok(fs.existsSync(path.join(project, 'generated', file)), `${file} was not written`);
    assert.match(r.stdout, /Wrote \d+ file\(s\) to /);
  });

  it('--json prints one JSON object on stdout that parses, with the outputs', () => {
    const out = path.join(project, 'generated-json');
    const r = bin(['--intent', 'intent.yaml', '--out', out, '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout) as CliReport;
    assert.equal(report.result, 'Succeeded');
    assert.equal(report.exitCode, 0);
    assert.equal(report.outputs.serviceName, 'weather');
    assert.equal(report.outputs.outputDirectory, out);
    assert.ok(fs.existsSync(report.outputs.manifestPath!));
    assert.ok(Number(report.outputs.filesWritten) > 0);
    assert.match(r.stderr, /created: weather\/app\.py/);
    // The README's example has the same shape.
    const readme = fs.readFileSync(path.join(project, 'node_modules', 'code-synthesis', 'README.md'), 'utf8');
    const example = JSON.parse(/```json\n(.*)\n```/.exec(readme)?.[1] ?? 'null') as CliReport;
    assert.deepEqual(Object.keys(example), Object.keys(report));
    assert.deepEqual(Object.keys(example.outputs), Object.keys(report.outputs));
  });

  it('exits 2 on a usage error', () => {
    const r = bin(['--intent', 'intent.yaml']);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /--out DIR is required/);
    assert.equal(bin(['--intent', 'intent.yaml', '--out', 'x', '--no-such-flag']).code, 2);
  });

  it('exits 1 on a failed run (a conflict), leaving the output directory as it was', () => {
    const mine = path.join(project, 'conflict', 'weather', 'app.py');
    fs.mkdirSync(path.dirname(mine), { recursive: true });
    fs.writeFileSync(mine, 'mine\n');
    const r = bin(['--intent', 'intent.yaml', '--out', 'conflict', '--json']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal((JSON.parse(r.stdout) as CliReport).result, 'Failed');
    assert.equal(fs.readFileSync(mine, 'utf8'), 'mine\n');
    assert.deepEqual(fs.readdirSync(path.join(project, 'conflict'), { recursive: true }).sort(), [
      'weather',
      path.join('weather', 'app.py'),
    ]);
  });

  it('npx --no-install finds the installed bin; --version prints the package version', () => {
    const r = npm('npx', ['--no-install', 'code-synthesis', '--version'], { cwd: project });
    assert.equal(r.status, 0, `${String(r.stdout)}\n${String(r.stderr)}`);
    assert.equal(String(r.stdout).trim(), rootPackage.version);
    const help = npm('npx', ['--no-install', 'code-synthesis', '--help'], { cwd: project });
    assert.match(String(help.stdout), /^Exit codes:\n {2}0 .*\n {2}1 .*\n {2}2 .*\n {2}3 /m);
  });
});
