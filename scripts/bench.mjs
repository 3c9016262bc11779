// npm run bench: figures as ratios taken in one run (the machines are noisy).
// Cold start: the bundled task on the demo (offline weather service, written to a fresh folder)
// against `node -e ''`, interleaved, median of N runs each (BENCH_RUNS, default 15); and the sizes of
// the two task bundles (index.js loads at start; remote.js only for remote providers).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, TASK_ENTRY, agentEnv } from './agent-env.cjs';

const N = Number(process.env.BENCH_RUNS ?? 15);
const intent = fs.readFileSync(path.join(ROOT, 'examples', 'weather.yaml'), 'utf8');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-bench-'));

function time(args, env) {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stdout}${r.stderr}`);
  return ms;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const bare = [];
const task = [];
for (let i = 0; i < N; i++) {
  const out = path.join(work, `run-${i}`);
  fs.mkdirSync(out);
  const env = agentEnv({
    inputs: { provider: 'offline', intent, outputDirectory: out },
    variables: { 'Agent.TempDirectory': work },
  });
  bare.push(time(['-e', ''], env));
  task.push(time([TASK_ENTRY], env));
}
const kib = (file) => (fs.statSync(file).size / 1024).toFixed(0);
console.log(`node ${process.version}, ${N} interleaved runs each`);
console.log(
  `bundles: index.js ${kib(TASK_ENTRY)} KiB, remote.js ${kib(path.join(path.dirname(TASK_ENTRY), 'remote.js'))} KiB`,
);
console.log(`cold start, node -e '':            median ${median(bare).toFixed(1)} ms`);
console.log(`cold start, task on the demo:      median ${median(task).toFixed(1)} ms`);
console.log(`ratio task / bare node:            ${(median(task) / median(bare)).toFixed(2)}x`);
fs.rmSync(work, { recursive: true, force: true });
