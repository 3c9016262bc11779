// npm run demo: runs the bundled task as the agent would, on the offline provider and the seed's
// weather intent, into a fresh folder, and shows what it wrote.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, runTask, vsoCommands } from './agent-env.cjs';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'code-synthesis-demo-'));
const sources = path.join(work, 's');
const temp = path.join(work, '_temp');
fs.mkdirSync(sources, { recursive: true });
fs.mkdirSync(temp);

const result = await runTask({
  inputs: {
    provider: 'offline',
    intent: fs.readFileSync(path.join(ROOT, 'examples', 'weather.yaml'), 'utf8'),
    outputDirectory: sources,
    conflictPolicy: 'fail',
  },
  variables: { 'Agent.TempDirectory': temp, 'Build.SourcesDirectory': sources, 'System.Culture': 'en-US' },
});

console.log('--- task output (as the agent log shows it) ---');
for (const line of result.stdout.split('\n'))
  if (line && !line.startsWith('##vso[task.debug')) console.log(line);
if (result.stderr.trim()) console.log(result.stderr);

const commands = vsoCommands(result.stdout);
const complete = commands.find((c) => c.command === 'task.complete');
const summaryFile = commands.find(
  (c) => c.command === 'task.addattachment' && c.properties.type === 'Distributedtask.Core.Summary',
)?.message;
console.log('\n--- files written to ' + sources + ' ---');
const walk = (dir) =>
  fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
for (const f of walk(sources).sort())
  console.log(`  ${path.relative(sources, f)} (${fs.statSync(f).size} bytes)`);
if (summaryFile && fs.existsSync(summaryFile)) {
  console.log('\n--- summary (Extensions tab) ---');
  console.log(fs.readFileSync(summaryFile, 'utf8'));
}
console.log('--- output variables ---');
for (const c of commands.filter((c) => c.command === 'task.setvariable'))
  console.log(`  ${c.properties.variable} = ${c.message}`);
const ok = complete?.properties.result === 'Succeeded';
console.log(
  `\nResult: ${complete?.properties.result ?? 'none'}${ok ? '' : ' - ' + (complete?.message ?? '')}`,
);
process.exit(ok ? 0 : 1);
