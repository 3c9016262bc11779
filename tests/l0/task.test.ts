/**
 * L0: the unbundled task entry under task-lib's MockTestRunner, with the agent's environment
 * conventions (INPUT_*, ENDPOINT_*, variables) and its logging commands.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MockTestRunner } from 'azure-pipelines-task-lib/mock-test';
import { OUTPUTS } from '../../tasks/CodeSynthesis/src/core/contract';
import { REPO_ROOT } from '../support/repo';
import { snapshotTree } from '../support/tree-snapshot';
import type { L0Spec } from './mock-run';

const ROOT = REPO_ROOT;
const TASK_JSON = path.join(ROOT, 'tasks', 'CodeSynthesis', 'task.json');
const WEATHER = fs.readFileSync(path.join(ROOT, 'examples', 'weather.yaml'), 'utf8');

async function runL0(spec: L0Spec): Promise<MockTestRunner> {
  process.env.L0_SPEC = JSON.stringify(spec);
  try {
    const runner = new MockTestRunner(path.join(__dirname, 'mock-run.js'), TASK_JSON);
    await runner.runAsync();
    return runner;
  } finally {
    delete process.env.L0_SPEC;
  }
}

/** The value set for an output variable, from its ##vso[task.setvariable] line. */
function output(runner: MockTestRunner, name: string): string | undefined {
  const re = new RegExp(`##vso\\[task\\.setvariable variable=${name};isOutput=true;[^\\]]*\\](.*)`);
  return re.exec(runner.stdout)?.[1];
}

describe('L0: CodeSynthesis task entry', function () {
  this.timeout(60000);
  let work: string;
  let out: string;
  beforeEach(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-l0-'));
    out = path.join(work, 's');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'keep.txt'), 'existing');
  });
  afterEach(() => fs.rmSync(work, { recursive: true, force: true }));
  const variables = () => ({ 'Agent.TempDirectory': work, 'Build.SourcesDirectory': out });

  it('writes the offline weather service and sets every output variable', async () => {
    const runner = await runL0({
      inputs: { provider: 'offline', intent: WEATHER, outputDirectory: out },
      variables: variables(),
    });
    assert.ok(runner.succeeded, runner.stdout + runner.stderr);
    const manifest = JSON.parse(fs.readFileSync(path.join(out, '.synthesis', 'manifest.json'), 'utf8'));
    assert.equal(output(runner, OUTPUTS.filesWritten), String(manifest.files.length));
    assert.equal(output(runner, OUTPUTS.manifestPath), path.join(out, '.synthesis', 'manifest.json'));
    assert.equal(output(runner, OUTPUTS.outputDirectory), out);
    assert.equal(output(runner, OUTPUTS.serviceName), 'weather');
    assert.equal(output(runner, OUTPUTS.language), 'python');
    assert.equal(output(runner, OUTPUTS.promptTokens), '0');
    assert.equal(output(runner, OUTPUTS.completionTokens), '0');
    assert.ok(fs.existsSync(path.join(out, 'weather')), 'service folder written');
    assert.equal(fs.readFileSync(path.join(out, 'keep.txt'), 'utf8'), 'existing');
    const summary =
      /##vso\[task\.addattachment type=Distributedtask\.Core\.Summary;name=Code synthesis;\](.+)/.exec(
        runner.stdout,
      );
    assert.ok(summary, 'the summary is attached under its own title');
    assert.match(fs.readFileSync(summary[1]!, 'utf8'), /\| weather\/app\.py \| \d+ \| created \|/);
  });

  const failures: Array<[string, () => L0Spec, RegExp]> = [
    [
      'an undefined intent variable',
      () => ({
        inputs: { provider: 'offline', intent: '$(intent)', outputDirectory: out },
        variables: variables(),
      }),
      /variable 'intent' is not defined/,
    ],
    [
      'free text with the offline provider',
      () => ({
        inputs: { provider: 'offline', intent: 'a weather service please', outputDirectory: out },
        variables: variables(),
      }),
      /offline provider needs a YAML service card/i,
    ],
    [
      'a missing intent file',
      () => ({
        inputs: { provider: 'offline', intentFile: path.join(work, 'nope.yaml'), outputDirectory: out },
        variables: variables(),
      }),
      /Input 'intentFile': cannot read/,
    ],
    [
      'a conflict under policy fail',
      () => {
        fs.mkdirSync(path.join(out, 'weather'), { recursive: true });
        fs.writeFileSync(path.join(out, 'weather', 'app.py'), 'mine');
        return {
          inputs: { provider: 'offline', intent: WEATHER, outputDirectory: out },
          variables: variables(),
        };
      },
      /already exist[\s\S]*weather\/app\.py/,
    ],
    [
      'too many files',
      () => ({
        inputs: { provider: 'offline', intent: WEATHER, outputDirectory: out, maxFiles: '2' },
        variables: variables(),
      }),
      /maxFiles/,
    ],
    [
      'a bad provider',
      () => ({ inputs: { provider: 'gpt', intent: WEATHER, outputDirectory: out }, variables: variables() }),
      /Input 'provider'/,
    ],
    [
      'keyVault without a service connection',
      () => ({
        inputs: {
          provider: 'azureOpenAI',
          intent: WEATHER,
          outputDirectory: out,
          endpoint: 'https://r.openai.azure.com',
          deployment: 'gpt',
          keyVaultName: 'kv-one',
        },
        variables: variables(),
      }),
      /Input 'azureSubscription'/,
    ],
  ];
  for (const [name, spec, message] of failures) {
    it(`fails clearly on ${name} and leaves the output directory unchanged`, async () => {
      const s = spec();
      const before = snapshotTree(out);
      const runner = await runL0(s);
      assert.equal(runner.succeeded, false, runner.stdout);
      assert.ok(
        runner.errorIssues.some((m) => message.test(m)),
        `no error matching ${message}: ${runner.errorIssues.join(' | ')}`,
      );
      assert.deepEqual(snapshotTree(out), before);
    });
  }

  it('masks the API key and never prints it', async () => {
    const key = 'sk-l0-secret-0123456789abcdef';
    const runner = await runL0({
      inputs: {
        provider: 'openAICompatible',
        authMode: 'apiKey',
        apiKey: key,
        endpoint: 'https://127.0.0.1:9/v1',
        deployment: 'm',
        intent: WEATHER,
        outputDirectory: out,
        timeoutSeconds: '5',
      },
      variables: { ...variables(), 'System.Debug': 'true' },
    });
    assert.equal(runner.succeeded, false);
    const printed = (runner.stdout + runner.stderr)
      .split('\n')
      .filter((l) => !l.startsWith('##vso[task.setsecret]'));
    assert.ok(runner.stdout.includes(`##vso[task.setsecret]${key}`), 'the key is registered as a secret');
    assert.ok(!printed.some((l) => l.includes(key)), 'the key appears in the output');
    assert.ok(
      runner.errorIssues.some((m) => m.includes('127.0.0.1')),
      runner.errorIssues.join(' | '),
    );
  });
});
