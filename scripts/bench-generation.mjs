// npm run bench, the generation figures: the bundled task against the fake Azure OpenAI of the tests
// (out/tests: `npm run bench` builds them), behind the fake corporate proxy over HTTPS, streaming every
// reply at a fixed rate of chunks ("tokens", 4 characters each) per second, as a deployment generates at
// a steady speed per request (BENCH_TOKENS_PER_SECOND, default 1000).
// - Planned generation of a 20-file service (files of about BENCH_FILE_BYTES, default 4000) at
//   concurrency 8, against the single strategy on the same files: wall time of the whole task run, and
//   the ratio (target <= 0.3).
// - An unchanged rerun of the planned generation: the model calls it makes (target 0).
// On each Node the agent may pick (24, then 20), as bench.mjs does.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { ROOT, runTask } from './agent-env.cjs';
import { nodeBinary } from './node-runtime.mjs';

const require = createRequire(import.meta.url);
const RATE = Number(process.env.BENCH_TOKENS_PER_SECOND ?? 1000);
const FILE_BYTES = Number(process.env.BENCH_FILE_BYTES ?? 4000);
const FILES = 20;
const CONCURRENCY = 8;
const CONN = '0f5e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b';

/** The wall time of one task run (ms), failing loudly when the run does not succeed. */
async function timedRun(node, options) {
  const start = process.hrtime.bigint();
  const run = await runTask(options, { node });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (!/##vso\[task\.complete result=Succeeded;/.test(run.stdout))
    throw new Error(`the task did not succeed:\n${run.stdout}\n${run.stderr}`);
  return ms;
}

/** Print the two generation figures for each Node. */
export async function benchGeneration() {
  const out = (file) => path.join(ROOT, 'out', 'tests', 'support', file);
  if (!fs.existsSync(out('azure-world.js'))) throw new Error('out/tests is missing: run npm run build first');
  const world = require(out('azure-world.js'));
  const { serviceResponder, sizedService } = require(out('planned-service.js'));
  const service = sizedService(FILES, FILE_BYTES, 'svc');
  const azure = await world.startAzureWorld({
    vaults: { 'kv-ci': { secrets: { 'openai-api-key': world.API_KEY } } },
  });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-bench-generation-'));
  const options = (dir, strategy) => {
    const folders = { work: dir, out: path.join(dir, 's') };
    fs.mkdirSync(folders.out, { recursive: true });
    return {
      inputs: {
        provider: 'azureOpenAI',
        intent: 'service:\n  name: svc\n  language: python\n  framework: flask\n',
        outputDirectory: folders.out,
        azureSubscription: CONN,
        keyVaultName: 'kv-ci',
        endpoint: 'https://my-resource.openai.azure.com/',
        deployment: 'gpt-4o',
        generationStrategy: strategy,
        concurrency: String(CONCURRENCY),
      },
      endpoints: { [CONN]: world.spConnection(), SystemVssConnection: world.SYSTEM_VSS_CONNECTION },
      variables: azure.behindProxy(folders),
      secrets: azure.proxySecret,
    };
  };
  const serve = () => azure.replaceOpenAI({ respond: serviceResponder(service, { tokensPerSecond: RATE }) });

  console.log(
    `\ngeneration of a ${FILES}-file service (~${FILE_BYTES} bytes a file), the fake model streaming ${RATE} tokens/s per reply:`,
  );
  console.log(
    `| Node | single | planned, concurrency ${CONCURRENCY} | ratio (target <= 0.3) | most in flight | unchanged rerun: model calls (target 0) |`,
  );
  console.log('| --- | --- | --- | --- | --- | --- |');
  try {
    for (const major of [24, 20]) {
      const node = nodeBinary(major);
      const dir = (name) => path.join(work, `node${major}-${name}`);
      serve();
      const single = await timedRun(node, options(dir('single'), 'single'));
      const openai = serve();
      const planned = await timedRun(node, options(dir('planned'), 'planned'));
      const inFlight = openai.load.maxInFlight;
      const again = serve();
      await timedRun(node, options(dir('planned'), 'planned'));
      const ratio = planned / single;
      console.log(
        `| ${major} | ${(single / 1000).toFixed(2)} s | ${(planned / 1000).toFixed(2)} s | ${ratio.toFixed(2)}${ratio <= 0.3 ? '' : ' (over the target)'} | ${inFlight} | ${again.chats.length} |`,
      );
    }
  } finally {
    await azure.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
}
