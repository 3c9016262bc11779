/**
 * validateCommand and the repair loop in the built task, run as the agent runs it, against the fake
 * Azure OpenAI behind the corporate proxy: a first reply that fails the command, a second that passes;
 * a command that prints its environment and reads every /proc/<pid>/environ it can see finds no
 * secret; a command that still fails writes nothing and says why.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { completion } from '../fake-servers/azure-openai';
import { agent, outcome, visibleOutput, type TaskRunOptions } from '../support/agent-run';
import {
  API_KEY,
  APP,
  PROXY_USER,
  spConnection,
  startAzureWorld,
  SYSTEM_VSS_CONNECTION,
  type AzureWorld,
} from '../support/azure-world';
import { snapshotTree } from '../support/tree-snapshot';
import { useWorkDir } from '../support/work-dir';

const CONN = '0f5e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b';
const BROKEN = JSON.stringify({
  files: [
    { path: 'svc/app.js', content: 'function handler( {\n  return 1;\n}\n' },
    { path: 'svc/README.md', content: '# svc\n' },
  ],
  summary: 'first try',
});
const FIXED = JSON.stringify({
  files: [
    { path: 'svc/app.js', content: 'function handler() {\n  return 1;\n}\nmodule.exports = handler;\n' },
  ],
  summary: 'closed the parameter list',
});
const COMMAND = 'node --check svc/app.js';
const PIPELINE_SECRET = 'pipeline-secret-variable-4f1d2c9e';
const JOB_TOKEN = 'job-access-token-7c2b5a9d1e';

describe('bundle: validate and repair', function () {
  this.timeout(90_000);
  let world: AzureWorld;

  before(async function () {
    if (process.platform === 'win32') this.skip(); // the commands below are bash
    if (!fs.existsSync(agent.TASK_ENTRY))
      throw new Error(`${agent.TASK_ENTRY} is missing: run npm run build first`);
    world = await startAzureWorld({ vaults: { 'kv-ci': { secrets: { 'openai-api-key': API_KEY } } } });
  });
  after(() => world?.close());
  const dir = useWorkDir('cs-validate-bundle', { 'README.md': 'the repository\n' });

  const options = (inputs: Record<string, string>): TaskRunOptions => ({
    inputs: {
      provider: 'azureOpenAI',
      intent: 'service:\n  name: svc\n  language: javascript\n  framework: express\n',
      outputDirectory: dir.out,
      azureSubscription: CONN,
      keyVaultName: 'kv-ci',
      endpoint: 'https://my-resource.openai.azure.com/',
      deployment: 'gpt-4o',
      ...inputs,
    },
    endpoints: { [CONN]: spConnection(), SystemVssConnection: SYSTEM_VSS_CONNECTION },
    variables: { ...world.behindProxy(dir), 'System.AccessToken': JOB_TOKEN },
    secrets: { ...world.proxySecret, 'deploy.password': PIPELINE_SECRET },
  });

  it('a reply that fails validateCommand is repaired once: Succeeded, the output went to the model, both rounds in the manifest', async () => {
    const openai = world.replaceOpenAI();
    openai.enqueue(completion(BROKEN), completion(FIXED));
    const run = await agent.runTask(options({ validateCommand: COMMAND }));
    const o = outcome(run);
    assert.equal(o.result, 'Succeeded', `${o.message}\n${run.stdout}\n${run.stderr}`);
    assert.equal(openai.chats.length, 2);

    const messages = openai.chats[1]!.body['messages'] as { role: string; content: string }[];
    assert.deepEqual(
      messages.map((m) => m.role),
      ['system', 'user', 'assistant', 'user'],
    );
    assert.deepEqual(messages.slice(0, 2), openai.chats[0]!.body['messages']);
    assert.equal(messages[2]!.content, BROKEN);
    assert.ok(messages[3]!.content.includes(COMMAND), 'the repair request names the command');
    assert.match(messages[3]!.content, /failed with exit code 1/);
    assert.match(messages[3]!.content, /SyntaxError/, "the command's output went to the model");

    assert.equal(
      fs.readFileSync(path.join(dir.out, 'svc', 'app.js'), 'utf8'),
      'function handler() {\n  return 1;\n}\nmodule.exports = handler;\n',
    );
    assert.equal(fs.readFileSync(path.join(dir.out, 'svc', 'README.md'), 'utf8'), '# svc\n');
    const manifest = JSON.parse(fs.readFileSync(path.join(dir.out, '.synthesis', 'manifest.json'), 'utf8'));
    assert.deepEqual(
      manifest.validation.map(
        (r: { round: number; command: string; exitCode: number; changedFiles: string[] }) => [
          r.round,
          r.command,
          r.exitCode,
          r.changedFiles,
        ],
      ),
      [
        [1, COMMAND, 1, []],
        [2, COMMAND, 0, ['svc/app.js']],
      ],
    );
    assert.match(manifest.validation[0].outputTail, /SyntaxError/);
    assert.deepEqual(
      manifest.calls.map((c: { purpose: string }) => c.purpose),
      ['generate', 'repair'],
    );
    assert.match(run.stdout, /Validation round 1: failed with exit code 1/);
    assert.match(run.stdout, /Validation round 2: passed/);
  });

  it('the command finds no secret in its environment or in any /proc/<pid>/environ it can read', async () => {
    const report = path.join(dir.work, 'report');
    fs.mkdirSync(report);
    const command = [
      `env > ${report}/env.txt`,
      // Every process the command can see, the task's own included if it could see it.
      `for f in /proc/[0-9]*/environ; do tr '\\0' '\\n' < "$f" 2>/dev/null; echo; done > ${report}/proc.txt`,
      `ls -d /proc/[0-9]* | wc -l > ${report}/pids.txt`,
    ].join('\n');
    world.replaceOpenAI().enqueue(completion(FIXED));
    const run = await agent.runTask(options({ validateCommand: command }));
    const o = outcome(run);
    assert.equal(o.result, 'Succeeded', `${o.message}\n${run.stdout}\n${run.stderr}`);

    const env = fs.readFileSync(path.join(report, 'env.txt'), 'utf8');
    const proc = fs.readFileSync(path.join(report, 'proc.txt'), 'utf8');
    // The checks can fail: the command did see an environment, its own among the processes it read.
    assert.match(env, /^PATH=/m);
    assert.match(proc, /^PATH=/m);
    for (const [name, secret] of Object.entries({
      'the API key read from Key Vault': API_KEY,
      'a secret variable (SECRET_*)': PIPELINE_SECRET,
      "the connection's client secret (ENDPOINT_AUTH_*)": APP.secret,
      'the job token (SYSTEM_ACCESSTOKEN)': JOB_TOKEN,
      "the job token on SystemVssConnection's endpoint": SYSTEM_VSS_CONNECTION.auth!.AccessToken!,
      'the proxy password': PROXY_USER.password,
    })) {
      assert.ok(!env.includes(secret), `${name} is in the command's environment`);
      assert.ok(!proc.includes(secret), `${name} is readable in /proc/*/environ`);
    }
    for (const prefix of ['SECRET_', 'ENDPOINT_AUTH_', 'SYSTEM_ACCESSTOKEN=', 'INPUT_'])
      assert.ok(!new RegExp(`^${prefix}`, 'm').test(env + proc), `a ${prefix} variable reached the command`);
    // The command did not see the agent's processes: its PID namespace holds only itself.
    if (process.platform === 'linux')
      assert.ok(Number(fs.readFileSync(path.join(report, 'pids.txt'), 'utf8')) < 10, 'isolated /proc');
  });

  it('still failing after the repairs: Failed, nothing written, the message names the command, exit code and last lines', async () => {
    const openai = world.replaceOpenAI();
    openai.enqueue(completion(BROKEN), completion(BROKEN));
    const before = snapshotTree(dir.out);
    const run = await agent.runTask(options({ validateCommand: COMMAND, repairAttempts: '1' }));
    const o = outcome(run);
    assert.equal(o.result, 'Failed', run.stdout);
    assert.equal(openai.chats.length, 2);
    assert.deepEqual(snapshotTree(dir.out), before);
    assert.match(
      o.message ?? '',
      /validateCommand "node --check svc\/app\.js" failed with exit code 1 \(round 2\)/,
    );
    assert.match(o.message ?? '', /Last lines of its output:/);
    assert.match(o.message ?? '', /SyntaxError/);
    assert.match(o.message ?? '', /Nothing was written/);
    assert.ok(!visibleOutput(run).includes(API_KEY));
  });
});
