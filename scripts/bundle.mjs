#!/usr/bin/env node
// Bundles the task and the CLI with esbuild, one file each, and checks the bundles' invariants:
//   dist/tasks/CodeSynthesis/{index.js, remote.js, task.json, icon.png, package.json}   the task folder the extension ships
//   dist/cli.js (+ .map)                                       the local CLI
//   dist/action/index.js                                       the GitHub Action (action.yml runs it), one file
//   dist/sourcemaps/action/index.js.map
//   dist/sourcemaps/tasks/CodeSynthesis/index.js.map           kept out of the shipped task folder
//   dist/meta.json                                             esbuild metafile, for analysis
// The task's bundles are minified (white space and syntax; names are kept, so stack traces stay readable
// and errors report their class); --readable leaves them as esbuild writes them. The maps in
// dist/sourcemaps turn a stack's line and column back into source.
// Usage: node scripts/bundle.mjs [--readable]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TASK_SRC = path.join(ROOT, 'tasks', 'CodeSynthesis');
const DIST = path.join(ROOT, 'dist');
const TASK_OUT = path.join(DIST, 'tasks', 'CodeSynthesis');

/** Packages the offline path must not load: reached only through `await import()`. */
const LAZY_ONLY = [
  /(^|\/)node_modules\/openai\//,
  /(^|\/)node_modules\/@azure\//,
  /(^|\/)node_modules\/azure-devops-node-api\//,
  // The archive provider's readers: in index.js, evaluated only when provider is 'archive'.
  /(^|\/)node_modules\/(yauzl|tar-stream)\//,
];
const TASK_LIB = /(^|\/)node_modules\/(.*\/node_modules\/)?azure-pipelines-task-lib\/task\.js$/;
const UNDICI = /(^|\/)node_modules\/(.*\/node_modules\/)?undici\/index\.js$/;
const ACTION_OUT = path.join(DIST, 'action');
/** yaml's CommonJS build, which index.js must not hold (see yamlEsm). */
const YAML_CJS = /(^|\/)node_modules\/yaml\/dist\//;

// task-lib's setResourcePath loads task.json with `require(resourceFile)`, a require of a runtime path
// that a bundle cannot resolve statically. Read the file instead (Node's JSON loader strips a BOM too).
// https://github.com/microsoft/azure-pipelines-task-lib/blob/master/node/internal.ts (_loadLocStrings)
const taskLibResourceRequire = {
  name: 'task-lib-resource-require',
  setup(build) {
    build.onLoad({ filter: /[\\/]azure-pipelines-task-lib[\\/]internal\.js$/ }, async (args) => {
      const source = await fs.promises.readFile(args.path, 'utf8');
      const call = 'require(resourceFile)';
      const count = source.split(call).length - 1;
      if (count !== 1) {
        throw new Error(
          `expected one '${call}' in ${args.path}, found ${count}: task-lib changed; update scripts/bundle.mjs`,
        );
      }
      const replacement =
        "JSON.parse(require('fs').readFileSync(resourceFile, 'utf8').replace(/^\\uFEFF/, ''))";
      return { contents: source.replace(call, replacement), loader: 'js' };
    });
  },
};

// task-lib's task.js loads its ToolRunner (and with it the q promise library) and child_process when it is
// imported, for tl.tool() and tl.execSync(), which this task never calls: about 3 ms of every start on
// Node 24. Both become loaded on first use instead; task-lib's import-time work (the vault, the loc
// strings, the proxy and certificate settings) is unchanged.
// https://github.com/microsoft/azure-pipelines-task-lib/blob/master/node/task.ts (imports, ToolRunner export)
const TASK_LIB_LAZY = [
  [
    'var childProcess = require("child_process");',
    'var childProcess = { get execFileSync() { return require("child_process").execFileSync; } };',
  ],
  [
    'var trm = require("./toolrunner");',
    'var trm = { get ToolRunner() { return require("./toolrunner").ToolRunner; } };',
  ],
  [
    'exports.ToolRunner = trm.ToolRunner;',
    'Object.defineProperty(exports, "ToolRunner", { enumerable: true, get: function () { return trm.ToolRunner; } });',
  ],
];
const taskLibLazyParts = {
  name: 'task-lib-lazy-parts',
  setup(build) {
    build.onLoad({ filter: /[\\/]azure-pipelines-task-lib[\\/]task\.js$/ }, async (args) => {
      let source = await fs.promises.readFile(args.path, 'utf8');
      for (const [from, to] of TASK_LIB_LAZY) {
        const count = source.split(from).length - 1;
        if (count !== 1)
          throw new Error(
            `expected one '${from}' in ${args.path}, found ${count}: task-lib changed; update scripts/bundle.mjs`,
          );
        source = source.replace(from, to);
      }
      // What else task.js takes from them must be what the getters give.
      const uses = [...new Set(source.match(/\b(childProcess|trm)\.\w+/g))].sort();
      if (uses.join() !== 'childProcess.execFileSync,trm.ToolRunner')
        throw new Error(
          `task-lib's task.js now uses ${uses.join(', ')}: update TASK_LIB_LAZY in scripts/bundle.mjs`,
        );
      return { contents: source, loader: 'js' };
    });
  },
};

// yaml's CommonJS build (its package.json "node" export) cannot be tree-shaken and runs every module's
// set-up at start; its ES module build (the same code, published as "browser") is smaller once bundled,
// and loads ~3 ms faster on Node 24. The two differ only in how they warn (a map key that is itself a
// collection, in toJSON(); intent.ts reads env entries so): the CommonJS build through
// process.emitWarning, the other through console.warn, both to stderr.
const yamlEsm = {
  name: 'yaml-esm',
  setup(build) {
    build.onResolve({ filter: /^yaml$/ }, () => ({
      path: path.join(ROOT, 'node_modules', 'yaml', 'browser', 'dist', 'index.js'),
    }));
  },
};

// @azure/identity opens a browser for InteractiveBrowserCredential with the ESM-only `open` package,
// whose top level reads import.meta.url (empty in a CommonJS bundle). Nothing here signs in
// interactively, so `open` becomes a stub that says so instead of a module that cannot load.
const noBrowser = {
  name: 'no-interactive-browser',
  setup(build) {
    build.onResolve({ filter: /^open$/ }, () => ({ path: 'open', namespace: 'no-browser' }));
    build.onLoad({ filter: /.*/, namespace: 'no-browser' }, () => ({
      contents:
        "export default async function open() { throw new Error('Interactive browser sign-in is not supported by code-synthesis; use a service connection or an API key.'); }",
      loader: 'js',
    }));
  },
};

// Two of @secretlint/core's dependencies become silent stubs in index.js, which holds the scan:
// - `debug` writes to stderr whenever the DEBUG environment variable matches (a pipeline variable named
//   DEBUG becomes one) and would print secretlint's options into the task log; the task logs through the
//   agent only. (The proxy agents that also use debug are in remote.js, which keeps it.)
// - `@secretlint/profiler` puts a performance mark per rule and file into Node's global timeline, with an
//   observer that measures each pair: profiling the task never reads, costing CPU and memory per file.
// Saves ~25 KB of bundle too.
const SILENT = {
  debug:
    'module.exports = function createDebug() { const log = () => {}; log.enabled = false; log.extend = () => log; return log; };',
  '@secretlint/profiler': 'export const secretLintProfiler = { mark() {} };',
};
const silentScanInternals = {
  name: 'silent-scan-internals',
  setup(build) {
    build.onResolve({ filter: /^(debug|@secretlint\/profiler)$/ }, (args) => ({
      path: args.path,
      namespace: 'silent-scan-internals',
    }));
    build.onLoad({ filter: /.*/, namespace: 'silent-scan-internals' }, (args) => ({
      contents: SILENT[args.path],
      loader: 'js',
    }));
  },
};

// The remote providers (Key Vault, Entra ID, Azure OpenAI, Azure DevOps and their SDKs: ~85% of the code)
// ship as a second file, remote.js, beside index.js. compose.ts reaches their composition only through
// `await import('./compose-remote')`, which in the task bundle becomes a literal require of ./remote.js:
// the offline path neither loads nor compiles them (compiling 4 MB of JS costs ~50 ms).
const REMOTE_ENTRY = path.join(TASK_SRC, 'src', 'compose-remote.ts');
const remoteSplit = {
  name: 'remote-split',
  setup(build) {
    build.onResolve({ filter: /^\.\/compose-remote$/ }, (args) =>
      args.kind === 'dynamic-import' ? { path: './remote.js', external: true } : undefined,
    );
  },
};

// @actions/http-client (under @actions/core) depends on undici 6 for a ProxyAgent that only its
// getAgentDispatcher uses, which the action never calls. Bundled as is, the action would carry a second
// undici (~900 KB) beside ours: resolve its `undici` to the project's own (7.x, same ProxyAgent API).
const oneUndici = {
  name: 'one-undici',
  setup(build) {
    build.onResolve({ filter: /^undici$/ }, async (args) => {
      if (!/[\\/]@actions[\\/]http-client[\\/]/.test(args.importer)) return undefined;
      const own = await build.resolve('undici', { kind: args.kind, resolveDir: ROOT });
      return own.errors.length ? undefined : { path: own.path };
    });
  },
};

// undici's index.js loads all of undici: its mock agents, WebSocket, EventSource, cache stores and
// interceptors, none of which the task uses (~250 KB of remote.js). network.ts takes four things from it
// (Agent, ProxyAgent, Dispatcher, fetch); its `undici` becomes a module that loads those four from their
// own files. Dispatcher.prototype gets undici's api methods as index.js gives them (ProxyAgent tunnels
// with Client#connect). index.js's fetch only adds the caller's frames to an error's stack when the stack
// does not mention undici's file, which in a bundle it always does (both are remote.js).
const UNDICI_USED = ['Agent', 'Dispatcher', 'ProxyAgent', 'fetch'];
const slimUndici = {
  name: 'slim-undici',
  setup(build) {
    build.onResolve({ filter: /^undici$/ }, (args) =>
      /[\\/]adapters[\\/]net[\\/]network\.(ts|js)$/.test(args.importer)
        ? { path: 'undici', namespace: 'slim-undici' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'slim-undici' }, async (args) => {
      // network.ts must take nothing else from undici.
      const source = await fs.promises.readFile(
        path.join(TASK_SRC, 'src', 'adapters', 'net', 'network.ts'),
        'utf8',
      );
      const imported = source.match(/import \{([^}]*)\} from 'undici';/);
      const names = imported?.[1]
        .split(',')
        .map((n) => n.trim().split(/\s+as\s+/)[0])
        .sort();
      if (names?.join() !== UNDICI_USED.join())
        throw new Error(
          `network.ts imports ${names?.join(', ') ?? 'something else'} from undici: update slimUndici in scripts/bundle.mjs`,
        );
      return {
        contents: [
          "const Dispatcher = require('undici/lib/dispatcher/dispatcher');",
          "Object.assign(Dispatcher.prototype, require('undici/lib/api'));",
          'module.exports = {',
          '  Dispatcher,',
          "  Agent: require('undici/lib/dispatcher/agent'),",
          "  ProxyAgent: require('undici/lib/dispatcher/proxy-agent'),",
          "  fetch: require('undici/lib/web/fetch').fetch,",
          '};',
        ].join('\n'),
        resolveDir: ROOT,
        loader: 'js',
      };
    });
  },
};

// undici's HTTP/1 parser, llhttp, ships as WebAssembly twice (~72 KB of base64 each): built with SIMD and
// without. client-h1.js tries the SIMD one and falls back to the other when it cannot be compiled (old
// ppc64 Node, UNDICI_NO_WASM_SIMD=1). remote.js keeps the one that runs everywhere: its `require` of the
// SIMD build gives nothing, which WebAssembly.Module rejects, so client-h1 takes the fallback. The same
// parser, a little slower on large bodies; the task's requests are a few small JSON calls.
const noSimdLlhttp = {
  name: 'no-simd-llhttp',
  setup(build) {
    build.onResolve({ filter: /[\\/]llhttp_simd-wasm\.js$/ }, (args) =>
      /[\\/]undici[\\/]lib[\\/]dispatcher[\\/]client-h1\.js$/.test(args.importer)
        ? { path: 'llhttp_simd-wasm.js', namespace: 'no-simd-llhttp' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'no-simd-llhttp' }, () => ({
      contents: 'module.exports = undefined;',
      loader: 'js',
    }));
  },
};

function parseArgs(argv) {
  const options = { minify: true };
  for (const arg of argv) {
    if (arg === '--readable') options.minify = false;
    else throw new Error(`unknown argument '${arg}' (accepted: --readable)`);
  }
  return options;
}

/** Inputs reachable from the entry without crossing a dynamic import (what loads at start-up), each with its import chain. */
export function staticallyReachable(metafile, entry) {
  const seen = new Map([[entry, [entry]]]);
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.shift();
    for (const imp of metafile.inputs[file]?.imports ?? []) {
      if (imp.external || imp.kind === 'dynamic-import' || seen.has(imp.path)) continue;
      seen.set(imp.path, [...seen.get(file), imp.path]);
      queue.push(imp.path);
    }
  }
  return seen;
}

/** `require(x)` / `import(x)` whose argument is not a string literal: code a bundle cannot resolve. */
export function dynamicLoads(code) {
  const found = [];
  const pattern = /(?<![\w$.])(__require|require|import)\(\s*(?!["'`)])([^)]{0,60})/g;
  for (const m of code.matchAll(pattern)) {
    found.push(`${m[1]}(${m[2]}`);
  }
  return found;
}

/**
 * The bundles' invariants. `metafile` is esbuild's (paths relative to the repo root); `read` returns an
 * output file's text. Returns the problems found, empty when all hold.
 */
export function checkBundles(metafile, read) {
  const problems = [];
  const entry = (name) =>
    Object.entries(metafile.outputs).find(([, o]) => o.entryPoint?.endsWith(name)) ?? [];

  const [taskOut, task] = entry('src/index.ts');
  if (!task) return ['no bundle for tasks/CodeSynthesis/src/index.ts in the metafile'];
  const [remoteOut, remote] = entry('src/compose-remote.ts');
  if (!remote)
    problems.push('no remote.js bundle for tasks/CodeSynthesis/src/compose-remote.ts in the metafile');
  else if (Object.keys(remote.inputs).some((p) => TASK_LIB.test(p)))
    problems.push(
      `${remoteOut} includes azure-pipelines-task-lib: the task must hold exactly one copy, in index.js`,
    );
  const taskLibCopies = Object.keys(task.inputs).filter((p) => TASK_LIB.test(p));
  if (taskLibCopies.length !== 1) {
    problems.push(
      `${taskOut} holds ${taskLibCopies.length} copies of azure-pipelines-task-lib (want exactly 1): ${taskLibCopies.join(', ') || 'none'}`,
    );
  }
  const yamlCjs = Object.keys(task.inputs).find((p) => YAML_CJS.test(p));
  if (yamlCjs)
    problems.push(
      `${taskOut} holds yaml's CommonJS build (${yamlCjs}): resolve 'yaml' to its ES module build (yamlEsm in scripts/bundle.mjs)`,
    );
  for (const [file, chain] of staticallyReachable(metafile, task.entryPoint)) {
    if (LAZY_ONLY.some((re) => re.test(file))) {
      problems.push(
        `${file} loads at start-up, so the offline path would load it; reach it only through await import(). Chain: ${chain.join(' -> ')}`,
      );
      break;
    }
  }

  const [cliOut, cli] = entry('src/cli.ts');
  if (cli && Object.keys(cli.inputs).some((p) => TASK_LIB.test(p))) {
    problems.push(
      `${cliOut} includes azure-pipelines-task-lib: importing it clears INPUT_* variables and installs process handlers; the CLI must not`,
    );
  }

  const [actionOut, action] = entry('src/action.ts');
  if (action) {
    if (Object.keys(action.inputs).some((p) => TASK_LIB.test(p)))
      problems.push(
        `${actionOut} includes azure-pipelines-task-lib: importing it clears INPUT_* variables, which the action reads`,
      );
    const undicis = Object.keys(action.inputs).filter((p) => UNDICI.test(p));
    if (undicis.length > 1)
      problems.push(`${actionOut} holds ${undicis.length} copies of undici (want 1): ${undicis.join(', ')}`);
    for (const [file, chain] of staticallyReachable(metafile, action.entryPoint)) {
      if (LAZY_ONLY.some((re) => re.test(file))) {
        problems.push(
          `${file} loads at start-up of the action, so the offline path would load it; reach it only through await import(). Chain: ${chain.join(' -> ')}`,
        );
        break;
      }
    }
  }

  for (const out of [taskOut, remoteOut, cliOut, actionOut].filter(Boolean)) {
    const code = read(out);
    const loads = dynamicLoads(code);
    if (loads.length > 0)
      problems.push(`${out} has dynamic loads a bundle cannot resolve: ${loads.join('; ')}`);
    if (/\bimport_meta\d* = \{\}/.test(code))
      problems.push(`${out} uses import.meta, which is empty in a CommonJS bundle`);
  }
  return problems;
}

async function main() {
  const { minify } = parseArgs(process.argv.slice(2));
  fs.rmSync(path.join(DIST, 'tasks'), { recursive: true, force: true });
  fs.rmSync(path.join(DIST, 'sourcemaps'), { recursive: true, force: true });
  fs.rmSync(ACTION_OUT, { recursive: true, force: true });

  const common = {
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    metafile: true,
    logLevel: 'warning',
    // A module reading import.meta gets an empty object in a CommonJS bundle: fail the build (checkBundles
    // looks for it in the text too).
    logOverride: { 'empty-import-meta': 'error' },
    plugins: [taskLibResourceRequire, noBrowser],
  };
  // What ships in the .vsix: 35% smaller (a .vsix of ~670 KiB instead of ~830). Names are not mangled:
  // mangling would save ~45 KiB more but rename error classes (SynthesisError takes new.target.name) and
  // every function in a stack trace, and esbuild's keepNames, which puts the names back, costs ~5 ms of
  // every start on Node 24.
  const shipped = { minifyWhitespace: minify, minifySyntax: minify, sourcemap: 'external' };
  const builds = [
    esbuild.build({
      ...common,
      ...shipped,
      plugins: [...common.plugins, yamlEsm, taskLibLazyParts, remoteSplit, silentScanInternals],
      entryPoints: [path.join(TASK_SRC, 'src', 'index.ts')],
      outfile: path.join(TASK_OUT, 'index.js'),
    }),
    esbuild.build({
      ...common,
      ...shipped,
      plugins: [...common.plugins, slimUndici, noSimdLlhttp],
      entryPoints: [REMOTE_ENTRY],
      outfile: path.join(TASK_OUT, 'remote.js'),
    }),
    esbuild.build({
      ...common,
      entryPoints: [path.join(TASK_SRC, 'src', 'cli.ts')],
      outfile: path.join(DIST, 'cli.js'),
      sourcemap: 'linked',
      banner: { js: '#!/usr/bin/env node' },
    }),
    esbuild.build({
      ...common,
      plugins: [...common.plugins, oneUndici],
      entryPoints: [path.join(TASK_SRC, 'src', 'action.ts')],
      outfile: path.join(ACTION_OUT, 'index.js'),
      sourcemap: 'external',
    }),
  ];
  const results = await Promise.all(builds);
  const metafile = { inputs: {}, outputs: {} };
  for (const r of results) {
    Object.assign(metafile.inputs, r.metafile.inputs);
    Object.assign(metafile.outputs, r.metafile.outputs);
  }
  fs.writeFileSync(path.join(DIST, 'meta.json'), JSON.stringify(metafile));

  // The task folder ships as is: the map goes elsewhere, task.json and the icon go beside index.js.
  const mapDir = path.join(DIST, 'sourcemaps', 'tasks', 'CodeSynthesis');
  fs.mkdirSync(mapDir, { recursive: true });
  for (const map of ['index.js.map', 'remote.js.map'])
    fs.renameSync(path.join(TASK_OUT, map), path.join(mapDir, map));
  for (const file of ['task.json', 'icon.png'])
    fs.copyFileSync(path.join(TASK_SRC, file), path.join(TASK_OUT, file));
  // The task folder says it is CommonJS itself: Node reads the nearest package.json above a .js file,
  // and an agent unpacked inside a project whose package.json says "type": "module" would otherwise
  // load index.js as an ES module and fail. (Microsoft's task folders carry a package.json too.)
  fs.writeFileSync(
    path.join(TASK_OUT, 'package.json'),
    JSON.stringify({ name: 'code-synthesis-task', private: true, type: 'commonjs' }, null, 2) + '\n',
  );
  fs.chmodSync(path.join(DIST, 'cli.js'), 0o755);
  // The action folder holds index.js alone (action.yml's runs.main); the repository's package.json,
  // which has no "type", makes it CommonJS wherever the runner checks the action out.
  fs.mkdirSync(path.join(DIST, 'sourcemaps', 'action'), { recursive: true });
  fs.renameSync(
    path.join(ACTION_OUT, 'index.js.map'),
    path.join(DIST, 'sourcemaps', 'action', 'index.js.map'),
  );

  const problems = checkBundles(metafile, (out) => fs.readFileSync(path.join(ROOT, out), 'utf8'));
  if (problems.length > 0) {
    console.error(`bundle check failed:\n  - ${problems.join('\n  - ')}`);
    // Leave nothing that could be packaged; dist/meta.json stays for analysis.
    fs.rmSync(path.join(DIST, 'tasks'), { recursive: true, force: true });
    fs.rmSync(ACTION_OUT, { recursive: true, force: true });
    process.exitCode = 1;
    return;
  }

  for (const out of Object.keys(metafile.outputs).filter((o) => o.endsWith('.js'))) {
    const kib = (fs.statSync(path.join(ROOT, out)).size / 1024).toFixed(0);
    const minified = minify && out.startsWith('dist/tasks/');
    console.log(`${out}: ${kib} KiB${minified ? ' (minified)' : ''}`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
