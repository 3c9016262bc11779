/**
 * L0: the unbundled task entry under task-lib's MockTestRunner, with the agent's environment
 * conventions (INPUT_*, ENDPOINT_*, variables) and its logging commands.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { MockTestRunner } from 'azure-pipelines-task-lib/mock-test';
import { OUTPUTS } from '../../tasks/CodeSynthesis/src/core/contract';
import { REPO_ROOT } from '../support/repo';
import { tar } from '../support/archives';
import { snapshotTree } from '../support/tree-snapshot';
import { useWorkDir } from '../support/work-dir';
import type { L0Spec } from './mock-run';
import { runL0 } from './run-l0';

const WEATHER = fs.readFileSync(path.join(REPO_ROOT, 'examples', 'weather.yaml'), 'utf8');

/** The value set for an output variable, from its ##vso[task.setvariable] line. */
function output(runner: MockTestRunner, name: string): string | undefined {
  const re = new RegExp(`##vso\\[task\\.setvariable variable=${name};isOutput=true;[^\\]]*\\](.*)`);
  return re.exec(runner.stdout)?.[1];
}

describe('L0: CodeSynthesis task entry', function () {
  this.timeout(60000);
  const dir = useWorkDir('cs-l0', { 'keep.txt': 'existing' });
  const variables = () => ({ 'Agent.TempDirectory': dir.work, 'Build.SourcesDirectory': dir.out });

  it('writes the offline weather service and sets every output variable', async () => {
    const runner = await runL0({
      inputs: { provider: 'offline', intent: WEATHER, outputDirectory: dir.out },
      variables: variables(),
    });
    assert.ok(runner.succeeded, runner.stdout + runner.stderr);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir.out, '.synthesis', 'manifest.json'), 'utf8'));
    assert.equal(output(runner, OUTPUTS.filesWritten), String(manifest.files.length));
    assert.equal(output(runner, OUTPUTS.manifestPath), path.join(dir.out, '.synthesis', 'manifest.json'));
    assert.equal(output(runner, OUTPUTS.outputDirectory), dir.out);
    assert.equal(output(runner, OUTPUTS.serviceName), 'weather');
    assert.equal(output(runner, OUTPUTS.language), 'python');
    assert.equal(output(runner, OUTPUTS.promptTokens), '0');
    assert.equal(output(runner, OUTPUTS.completionTokens), '0');
    assert.ok(fs.existsSync(path.join(dir.out, 'weather')), 'service folder written');
    assert.equal(fs.readFileSync(path.join(dir.out, 'keep.txt'), 'utf8'), 'existing');
    const summary =
      /##vso\[task\.addattachment type=Distributedtask\.Core\.Summary;name=Code synthesis;\](.+)/.exec(
        runner.stdout,
      );
    assert.ok(summary, 'the summary is attached under its own title');
    assert.match(fs.readFileSync(summary[1]!, 'utf8'), /\| weather\/app\.py \| \d+ \| created \|/);
  });

  it('unpacks an archive with provider archive: no intent, no credentials, the manifest names it', async () => {
    const archive = path.join(dir.work, 'generated.tar.gz');
    fs.writeFileSync(
      archive,
      gzipSync(await tar([{ header: { name: 'svc/main.go' }, data: 'package main\n' }])),
    );
    const runner = await runL0({
      inputs: { provider: 'archive', archiveFile: archive, outputDirectory: dir.out },
      variables: variables(),
    });
    assert.ok(runner.succeeded, runner.stdout + runner.stderr);
    assert.equal(fs.readFileSync(path.join(dir.out, 'svc', 'main.go'), 'utf8'), 'package main\n');
    const manifest = JSON.parse(fs.readFileSync(path.join(dir.out, '.synthesis', 'manifest.json'), 'utf8'));
    assert.equal(manifest.model.provider, 'archive');
    assert.equal(manifest.model.archive.format, 'tar.gz');
    assert.equal(manifest.intent.source, 'archive');
    assert.equal(output(runner, OUTPUTS.filesWritten), '1');
  });

  const failures: Array<[string, () => L0Spec, RegExp]> = [
    [
      'the archive provider with an empty archiveFile (the agent passes the sources directory)',
      () => ({
        inputs: { provider: 'archive', archiveFile: dir.out, outputDirectory: dir.out },
        variables: variables(),
      }),
      /Input 'archiveFile': a value is required for provider 'archive'/,
    ],
    [
      'an undefined intent variable',
      () => ({
        inputs: { provider: 'offline', intent: '$(intent)', outputDirectory: dir.out },
        variables: variables(),
      }),
      /variable 'intent' is not defined/,
    ],
    [
      'free text with the offline provider',
      () => ({
        inputs: { provider: 'offline', intent: 'a weather service please', outputDirectory: dir.out },
        variables: variables(),
      }),
      /offline provider needs a YAML service card/i,
    ],
    [
      'a missing intent file',
      () => ({
        inputs: {
          provider: 'offline',
          intentFile: path.join(dir.work, 'nope.yaml'),
          outputDirectory: dir.out,
        },
        variables: variables(),
      }),
      /Input 'intentFile': cannot read/,
    ],
    [
      'a conflict under policy fail',
      () => {
        fs.mkdirSync(path.join(dir.out, 'weather'), { recursive: true });
        fs.writeFileSync(path.join(dir.out, 'weather', 'app.py'), 'mine');
        return {
          inputs: { provider: 'offline', intent: WEATHER, outputDirectory: dir.out },
          variables: variables(),
        };
      },
      /already exist[\s\S]*weather\/app\.py/,
    ],
    [
      'too many files',
      () => ({
        inputs: { provider: 'offline', intent: WEATHER, outputDirectory: dir.out, maxFiles: '2' },
        variables: variables(),
      }),
      /maxFiles/,
    ],
    [
      'a bad provider',
      () => ({
        inputs: { provider: 'gpt', intent: WEATHER, outputDirectory: dir.out },
        variables: variables(),
      }),
      /Input 'provider'/,
    ],
    [
      'keyVault without a service connection',
      () => ({
        inputs: {
          provider: 'azureOpenAI',
          intent: WEATHER,
          outputDirectory: dir.out,
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
      const before = snapshotTree(dir.out);
      const runner = await runL0(s);
      assert.equal(runner.succeeded, false, runner.stdout);
      assert.ok(
        runner.errorIssues.some((m) => message.test(m)),
        `no error matching ${message}: ${runner.errorIssues.join(' | ')}`,
      );
      assert.deepEqual(snapshotTree(dir.out), before);
    });
  }

  it('registers the JSON-escaped form of a key holding a quote or a backslash', async () => {
    const key = 'sk-l0-qu"ote\\back-0123456789';
    const runner = await runL0({
      inputs: {
        provider: 'openAICompatible',
        authMode: 'apiKey',
        apiKey: key,
        endpoint: 'https://127.0.0.1:9/v1',
        deployment: 'm',
        intent: WEATHER,
        outputDirectory: dir.out,
        timeoutSeconds: '5',
      },
      variables: variables(),
    });
    assert.equal(runner.succeeded, false);
    assert.ok(runner.stdout.includes(`##vso[task.setsecret]${key}\n`), 'the key');
    assert.ok(
      runner.stdout.includes(`##vso[task.setsecret]sk-l0-qu\\"ote\\\\back-0123456789\n`),
      'its JSON-escaped form',
    );
  });

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
        outputDirectory: dir.out,
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
