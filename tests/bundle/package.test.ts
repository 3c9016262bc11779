/**
 * The Marketplace package: scripts/package.mjs turns the built task folder into a .vsix that holds the
 * task exactly as built (one bundle, task.json, icon) and nothing from node_modules; the bundle checks
 * in scripts/bundle.mjs catch the mistakes that would break a bundled task.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { agent, outcome } from '../support/agent-run';
import { REPO_ROOT } from '../support/repo';

interface Manifest {
  id: string;
  version: string;
  publisher: string;
  files: { path: string; packagePath?: string }[];
  icons: { default: string };
  content: { details: { path: string } };
  contributions: { id: string; type: string; targets: string[]; properties: { name: string } }[];
}

interface Metafile {
  inputs: Record<string, { imports: { path: string; kind: string; external?: boolean }[] }>;
  outputs: Record<string, { entryPoint?: string; inputs: Record<string, unknown> }>;
}

interface PackageScript {
  readZip(file: string): Map<string, Buffer>;
  checkVsix(entries: Map<string, Buffer>, manifest: Manifest): string[];
}

interface BundleScript {
  checkBundles(metafile: Metafile, read: (out: string) => string): string[];
  dynamicLoads(code: string): string[];
}

const ROOT = REPO_ROOT;
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'vss-extension.json'), 'utf8')) as Manifest;
const TASK_FOLDER = manifest.contributions[0]!.properties.name;
// tsc compiles this file to CommonJS and turns import() into require(), which cannot load an ES module
// on every Node this project supports; a Function body keeps a real import().
const importEsm = new Function('url', 'return import(url)') as (url: string) => Promise<unknown>;
const load = <T>(script: string): Promise<T> =>
  importEsm(pathToFileURL(path.join(ROOT, 'scripts', script)).href) as Promise<T>;
const node = (args: string[]) => spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });

describe('the extension manifest', () => {
  it('contributes one task, from the folder the bundle writes, under the same path in the package', () => {
    assert.equal(manifest.id, 'code-synthesis');
    const tasks = manifest.contributions.filter((c) => c.type === 'ms.vss-distributed-task.task');
    assert.equal(tasks.length, 1);
    assert.deepEqual(tasks[0]!.targets, ['ms.vss-distributed-task.tasks']);
    // tfx validates task.json at <root>/<properties.name> (targets must exist there) and the service
    // finds the task at that path inside the package: both must be the built folder.
    assert.equal(TASK_FOLDER, 'dist/tasks/CodeSynthesis');
    assert.deepEqual(manifest.files, [{ path: TASK_FOLDER }]);
    for (const file of [manifest.icons.default, manifest.content.details.path])
      assert.ok(fs.existsSync(path.join(ROOT, file)), `${file} is missing`);
  });

  it('has the version of package.json and of task.json', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const task = JSON.parse(
      fs.readFileSync(path.join(ROOT, 'tasks', 'CodeSynthesis', 'task.json'), 'utf8'),
    ) as { version: Record<string, number> };
    const { Major, Minor, Patch } = task.version;
    assert.equal(manifest.version, pkg.version);
    assert.equal(manifest.version, `${Major}.${Minor}.${Patch}`);
  });

  it('ships a 128x128 PNG icon, the same for the extension and the task', () => {
    const icon = fs.readFileSync(path.join(ROOT, manifest.icons.default));
    assert.equal(icon.subarray(0, 8).toString('hex'), '89504e470d0a1a0a', 'not a PNG');
    assert.equal(icon.toString('latin1', 12, 16), 'IHDR');
    assert.deepEqual([icon.readUInt32BE(16), icon.readUInt32BE(20)], [128, 128]);
    assert.ok(icon.equals(fs.readFileSync(path.join(ROOT, 'tasks', 'CodeSynthesis', 'icon.png'))));
  });
});

describe('scripts/package.mjs', function () {
  this.timeout(120_000);
  let out: string;
  let entries: Map<string, Buffer>;
  let vsix: string;
  let pkg: PackageScript;

  before(async () => {
    pkg = await load<PackageScript>('package.mjs');
    if (!fs.existsSync(path.join(ROOT, TASK_FOLDER, 'index.js'))) {
      const bundle = node(['scripts/bundle.mjs']);
      assert.equal(bundle.status, 0, `scripts/bundle.mjs failed:\n${bundle.stderr}${bundle.stdout}`);
    }
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'code-synthesis-vsix-'));
    const run = node(['scripts/package.mjs', '--publisher', 'test-publisher', '--output-path', out]);
    assert.equal(run.status, 0, `scripts/package.mjs failed:\n${run.stderr}${run.stdout}`);
    const made = fs.readdirSync(out).filter((f) => f.endsWith('.vsix'));
    assert.deepEqual(made, ['test-publisher.code-synthesis-1.0.0.vsix']);
    vsix = path.join(out, made[0]!);
    assert.match(run.stdout, /test-publisher\.code-synthesis-1\.0\.0\.vsix: \d+ KiB/);
    entries = pkg.readZip(vsix);
  });

  after(() => {
    if (out) fs.rmSync(out, { recursive: true, force: true });
  });

  it('writes a package with the extension manifest naming the publisher given', () => {
    const vsixManifest = entries.get('extension.vsixmanifest')?.toString('utf8') ?? '';
    assert.match(vsixManifest, /<Identity [^>]*Id="code-synthesis"/);
    assert.match(vsixManifest, /<Identity [^>]*Version="1\.0\.0"/);
    assert.match(vsixManifest, /<Identity [^>]*Publisher="test-publisher"/);
    assert.ok(entries.has('overview.md'));
    assert.ok(
      entries.get(manifest.icons.default)?.equals(fs.readFileSync(path.join(ROOT, manifest.icons.default))),
    );
  });

  it('holds the task folder as built: task.json as in the source, bundles, icon, a CommonJS package.json, nothing else', () => {
    const inTask = [...entries.keys()].filter((n) => n.startsWith(`${TASK_FOLDER}/`)).sort();
    assert.deepEqual(
      inTask,
      ['icon.png', 'index.js', 'package.json', 'remote.js', 'task.json'].map((f) => `${TASK_FOLDER}/${f}`),
    );
    assert.equal(JSON.parse(entries.get(`${TASK_FOLDER}/package.json`)!.toString('utf8')).type, 'commonjs');
    assert.ok(
      entries
        .get(`${TASK_FOLDER}/task.json`)!
        .equals(fs.readFileSync(path.join(ROOT, 'tasks', 'CodeSynthesis', 'task.json'))),
    );
    assert.ok(
      entries
        .get(`${TASK_FOLDER}/index.js`)!
        .equals(fs.readFileSync(path.join(ROOT, TASK_FOLDER, 'index.js'))),
    );
    assert.ok(
      entries
        .get(`${TASK_FOLDER}/icon.png`)!
        .equals(fs.readFileSync(path.join(ROOT, 'tasks', 'CodeSynthesis', 'icon.png'))),
    );
  });

  it('stays within the size budget of 700 KiB (issue 10): the task bundles ship minified', () => {
    const kib = fs.statSync(vsix).size / 1024;
    assert.ok(kib <= 700, `the .vsix is ${kib.toFixed(0)} KiB`);
  });

  it('runs from the task folder unpacked out of the .vsix, as the agent runs it (offline and remote paths), even under a "type": "module" package', async () => {
    const unpacked = fs.mkdtempSync(path.join(os.tmpdir(), 'code-synthesis-unpacked-'));
    try {
      // An agent installed inside a Node project: without its own package.json the task's CommonJS
      // index.js would be loaded as an ES module ("require is not defined in ES module scope").
      fs.writeFileSync(path.join(unpacked, 'package.json'), JSON.stringify({ type: 'module' }));
      const taskDir = path.join(unpacked, 'CodeSynthesis_86ee887c', '1.0.0');
      fs.mkdirSync(taskDir, { recursive: true });
      for (const [name, data] of entries)
        if (name.startsWith(`${TASK_FOLDER}/`))
          fs.writeFileSync(path.join(taskDir, name.slice(TASK_FOLDER.length + 1)), data);
      const sources = path.join(unpacked, 's');
      fs.mkdirSync(sources);
      const variables = { 'Agent.TempDirectory': unpacked, 'Build.SourcesDirectory': sources };
      const entry = path.join(taskDir, 'index.js');
      const intent = fs.readFileSync(path.join(ROOT, 'examples', 'weather.yaml'), 'utf8');

      const offline = outcome(
        await agent.runTask({ inputs: { provider: 'offline', intent }, variables }, { entry }),
      );
      assert.equal(offline.result, 'Succeeded', offline.message);
      assert.ok(fs.existsSync(path.join(sources, 'weather', 'app.py')));

      // The remote path loads remote.js beside index.js: an unreachable endpoint proves it loaded and ran.
      const remote = outcome(
        await agent.runTask(
          {
            inputs: {
              provider: 'openAICompatible',
              authMode: 'apiKey',
              apiKey: 'k-0123456789',
              endpoint: 'https://127.0.0.1:9/v1',
              deployment: 'm',
              intent,
              outputDirectory: path.join(unpacked, 'o'),
              timeoutSeconds: '5',
            },
            variables,
          },
          { entry },
        ),
      );
      assert.equal(remote.result, 'Failed');
      assert.match(remote.message ?? '', /127\.0\.0\.1/);
    } finally {
      fs.rmSync(unpacked, { recursive: true, force: true });
    }
  });

  it('contains no node_modules anywhere', () => {
    const modules = [...entries.keys()].filter((n) => n.split('/').includes('node_modules'));
    assert.deepEqual(modules, []);
  });

  it('registers the task contribution at the packaged folder', () => {
    const vso = JSON.parse(entries.get('extension.vsomanifest')!.toString('utf8')) as {
      contributions: Manifest['contributions'];
    };
    const task = vso.contributions.find((c) => c.type === 'ms.vss-distributed-task.task');
    assert.ok(task);
    assert.ok(
      entries.has(`${task.properties.name}/task.json`),
      `no task.json at ${task.properties.name} in the package`,
    );
  });

  it('rejects a package whose task folder has node_modules or lacks task.json or index.js', () => {
    const good = new Map(entries);
    assert.deepEqual(pkg.checkVsix(good, manifest), []);
    const withModules = new Map(good).set(`${TASK_FOLDER}/node_modules/q/q.js`, Buffer.from(''));
    assert.match(pkg.checkVsix(withModules, manifest).join('\n'), /contains node_modules/);
    for (const file of ['task.json', 'index.js', 'remote.js', 'package.json']) {
      const without = new Map(good);
      without.delete(`${TASK_FOLDER}/${file}`);
      assert.deepEqual(pkg.checkVsix(without, manifest), [`${TASK_FOLDER}/${file} is missing`]);
    }
    const esm = new Map(good).set(`${TASK_FOLDER}/package.json`, Buffer.from('{"type":"module"}'));
    assert.deepEqual(pkg.checkVsix(esm, manifest), [
      `${TASK_FOLDER}/package.json does not say "type": "commonjs"`,
    ]);
    const noManifest = new Map(good);
    noManifest.delete('extension.vsixmanifest');
    assert.deepEqual(pkg.checkVsix(noManifest, manifest), ['extension.vsixmanifest is missing']);
  });

  it('refuses a publisher that is not an ID', () => {
    const run = node(['scripts/package.mjs', '--publisher', 'not a publisher', '--output-path', out]);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /'not a publisher' is not a publisher ID/);
  });
});

describe('scripts/bundle.mjs checks', () => {
  let bundle: BundleScript;
  const TASK = 'tasks/CodeSynthesis/src/index.ts';
  const CLI = 'tasks/CodeSynthesis/src/cli.ts';
  const TASK_LIB = 'node_modules/azure-pipelines-task-lib/task.js';

  const REMOTE = 'tasks/CodeSynthesis/src/compose-remote.ts';
  const ACTION = 'tasks/CodeSynthesis/src/action.ts';
  /**
   * A metafile: edges 'a>b' (static) or 'a~>b' (dynamic import); outputs list their inputs. The remote.js
   * bundle (REMOTE) is added with an SDK unless the outputs name it.
   */
  function metafile(edges: string[], outputs: Record<string, string[]>): Metafile {
    outputs = { [REMOTE]: ['node_modules/openai/index.mjs'], ...outputs };
    const inputs: Metafile['inputs'] = {};
    for (const edge of edges) {
      const [from, to] = edge.split(/~?>/) as [string, string];
      (inputs[from] ??= { imports: [] }).imports.push({
        path: to,
        kind: edge.includes('~>') ? 'dynamic-import' : 'import-statement',
      });
      inputs[to] ??= { imports: [] };
    }
    const outs: Metafile['outputs'] = {};
    for (const [entry, files] of Object.entries(outputs)) {
      const out = {
        [TASK]: 'dist/tasks/CodeSynthesis/index.js',
        [REMOTE]: 'dist/tasks/CodeSynthesis/remote.js',
        [ACTION]: 'dist/action/index.js',
      }[entry];
      outs[out ?? 'dist/cli.js'] = {
        entryPoint: entry,
        inputs: Object.fromEntries([entry, ...files].map((f) => [f, {}])),
      };
    }
    return { inputs, outputs: outs };
  }
  const clean = () => 'require("fs"); Promise.resolve().then(() => require_openai());';

  before(async () => {
    bundle = await load<BundleScript>('bundle.mjs');
  });

  it('accepts one task-lib, SDKs behind await import(), and a CLI without task-lib', () => {
    const meta = metafile(
      [
        `${TASK}>src/host.ts`,
        `src/host.ts>${TASK_LIB}`,
        `${TASK}~>src/connect.ts`,
        'src/connect.ts>node_modules/openai/index.mjs',
      ],
      {
        [TASK]: ['src/host.ts', TASK_LIB, 'src/connect.ts', 'node_modules/openai/index.mjs'],
        [CLI]: ['src/connect.ts'],
      },
    );
    assert.deepEqual(bundle.checkBundles(meta, clean), []);
  });

  it('rejects an SDK that loads at start-up, naming the import chain', () => {
    const meta = metafile(
      [
        `${TASK}>${TASK_LIB}`,
        `${TASK}>src/compose.ts`,
        'src/compose.ts>node_modules/@azure/identity/index.js',
      ],
      {
        [TASK]: [TASK_LIB, 'src/compose.ts', 'node_modules/@azure/identity/index.js'],
      },
    );
    const problems = bundle.checkBundles(meta, clean);
    assert.equal(problems.length, 1);
    assert.match(
      problems[0]!,
      /@azure\/identity.*loads at start-up.*Chain: tasks\/CodeSynthesis\/src\/index\.ts -> src\/compose\.ts -> node_modules\/@azure\/identity/,
    );
  });

  it('rejects task-lib in remote.js, and a build without remote.js', () => {
    const withLib = metafile([`${TASK}>${TASK_LIB}`], { [TASK]: [TASK_LIB], [REMOTE]: [TASK_LIB] });
    assert.match(
      bundle.checkBundles(withLib, clean).join('\n'),
      /remote\.js includes azure-pipelines-task-lib/,
    );
    const meta = metafile([`${TASK}>${TASK_LIB}`], { [TASK]: [TASK_LIB] });
    delete meta.outputs['dist/tasks/CodeSynthesis/remote.js'];
    assert.match(bundle.checkBundles(meta, clean).join('\n'), /no remote\.js bundle/);
  });

  it('rejects two copies of task-lib, or none', () => {
    const nested = 'node_modules/some-lib/node_modules/azure-pipelines-task-lib/task.js';
    const two = metafile([`${TASK}>${TASK_LIB}`, `${TASK}>${nested}`], { [TASK]: [TASK_LIB, nested] });
    assert.match(bundle.checkBundles(two, clean).join('\n'), /holds 2 copies of azure-pipelines-task-lib/);
    const none = metafile([`${TASK}>src/a.ts`], { [TASK]: ['src/a.ts'] });
    assert.match(bundle.checkBundles(none, clean).join('\n'), /holds 0 copies/);
  });

  it('rejects task-lib in the CLI', () => {
    const meta = metafile([`${TASK}>${TASK_LIB}`, `${CLI}>${TASK_LIB}`], {
      [TASK]: [TASK_LIB],
      [CLI]: [TASK_LIB],
    });
    assert.match(
      bundle.checkBundles(meta, clean).join('\n'),
      /dist\/cli\.js includes azure-pipelines-task-lib/,
    );
  });

  it('accepts an action bundle without task-lib, with one undici and SDKs behind await import()', () => {
    const meta = metafile(
      [
        `${TASK}>${TASK_LIB}`,
        `${ACTION}>node_modules/@actions/core/lib/core.js`,
        'node_modules/@actions/core/lib/core.js>node_modules/undici/index.js',
        `${ACTION}~>src/connect.ts`,
        'src/connect.ts>node_modules/@azure/identity/index.js',
      ],
      {
        [TASK]: [TASK_LIB],
        [ACTION]: [
          'node_modules/@actions/core/lib/core.js',
          'node_modules/undici/index.js',
          'src/connect.ts',
          'node_modules/@azure/identity/index.js',
        ],
      },
    );
    assert.deepEqual(bundle.checkBundles(meta, clean), []);
  });

  it('rejects task-lib, a second undici, or an SDK loaded at start-up in the action bundle', () => {
    const nestedUndici = 'node_modules/@actions/http-client/node_modules/undici/index.js';
    const meta = metafile(
      [
        `${TASK}>${TASK_LIB}`,
        `${ACTION}>${TASK_LIB}`,
        `${ACTION}>src/compose.ts`,
        'src/compose.ts>node_modules/openai/index.mjs',
      ],
      {
        [TASK]: [TASK_LIB],
        [ACTION]: [
          TASK_LIB,
          'node_modules/undici/index.js',
          nestedUndici,
          'src/compose.ts',
          'node_modules/openai/index.mjs',
        ],
      },
    );
    const problems = bundle.checkBundles(meta, clean).join('\n');
    assert.match(problems, /dist\/action\/index\.js includes azure-pipelines-task-lib/);
    assert.match(problems, /dist\/action\/index\.js holds 2 copies of undici/);
    assert.match(
      problems,
      /openai\/index\.mjs loads at start-up of the action.*Chain: tasks\/CodeSynthesis\/src\/action\.ts -> src\/compose\.ts/,
    );
  });

  it("rejects yaml's CommonJS build in index.js (the task loads its ES module build)", () => {
    const cjs = 'node_modules/yaml/dist/index.js';
    const meta = metafile([`${TASK}>${TASK_LIB}`, `${TASK}>${cjs}`], { [TASK]: [TASK_LIB, cjs] });
    assert.match(bundle.checkBundles(meta, clean).join('\n'), /holds yaml's CommonJS build/);
    const esm = 'node_modules/yaml/browser/dist/index.js';
    const ok = metafile([`${TASK}>${TASK_LIB}`, `${TASK}>${esm}`], { [TASK]: [TASK_LIB, esm] });
    assert.deepEqual(bundle.checkBundles(ok, clean), []);
  });

  it('finds require and import calls whose argument is not a literal', () => {
    assert.deepEqual(
      bundle.dynamicLoads('require("a"); require(\'b\'); import("c"); x.require(y); my_require(z)'),
      [],
    );
    assert.deepEqual(bundle.dynamicLoads('var j = require(resourceFile); import(name); __require(mod)'), [
      'require(resourceFile',
      'import(name',
      '__require(mod',
    ]);
  });

  it('passes on the bundle the build wrote (dist/meta.json)', () => {
    const metaPath = path.join(ROOT, 'dist', 'meta.json');
    assert.ok(
      fs.existsSync(path.join(ROOT, TASK_FOLDER, 'index.js')) && fs.existsSync(metaPath),
      "no build in dist/: run 'npm run build'",
    );
    const meta = JSON.parse(fs.readFileSync(metaPath, 'utf8')) as Metafile;
    assert.deepEqual(
      bundle.checkBundles(meta, (o) => fs.readFileSync(path.join(ROOT, o), 'utf8')),
      [],
    );
    const code = fs.readFileSync(path.join(ROOT, TASK_FOLDER, 'index.js'), 'utf8');
    assert.ok(!code.includes('require(resourceFile)'), "task-lib's require(resourceFile) must be rewritten");
    assert.ok(
      !code.includes('sourceMappingURL'),
      'the shipped bundle must not point to a map it does not ship',
    );
  });

  it('the action folder holds the one file action.yml runs', () => {
    assert.deepEqual(fs.readdirSync(path.join(ROOT, 'dist', 'action')), ['index.js']);
    const code = fs.readFileSync(path.join(ROOT, 'dist', 'action', 'index.js'), 'utf8');
    assert.ok(!code.includes('sourceMappingURL'), 'no pointer to a map the folder does not hold');
  });
});
