/**
 * The scan through the built bundle, run as the agent runs it against the fake Azure OpenAI: with
 * failOnFindings true the step fails and the tree is unchanged; with false it succeeds with issues and
 * the files are written; each finding is a task issue at its file and line; secrets never reach the
 * log, the issues or the summary; the SARIF log is uploaded to CodeAnalysisLogs and schema-valid; the
 * offline templates of every stack scan clean.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { OUTPUTS } from '../../tasks/CodeSynthesis/src/core/contract';
import { SUPPORTED_TEMPLATES } from '../../tasks/CodeSynthesis/src/core/templates';
import { completion } from '../fake-servers/azure-openai';
import { agent, outcome, type TaskRun } from '../support/agent-run';
import { API_KEY, startAzureWorld, type AzureWorld } from '../support/azure-world';
import { fakeSecrets } from '../support/fake-secrets';
import { sarifErrors } from '../support/sarif-schema';
import { SEED_FLASK_APP } from '../support/scan';
import { snapshotTree } from '../support/tree-snapshot';
import { useWorkDir } from '../support/work-dir';

const S = fakeSecrets(5);
const EXAMPLES = path.join(agent.ROOT, 'examples');

/** The seed's sample, a file with real-looking secrets and one with TLS verification off. */
const REPLY = JSON.stringify({
  files: [
    { path: 'weather/app.py', content: SEED_FLASK_APP },
    {
      path: 'weather/settings.py',
      content: `import os\nGITHUB_TOKEN = "${S.githubToken}"\nSTORAGE = "DefaultEndpointsProtocol=https;AccountName=acct1;AccountKey=${S.storageLegacyKey};EndpointSuffix=core.windows.net"\n`,
    },
    { path: 'weather/client.py', content: 'import requests\n\nrequests.get(URL, verify=False)\n' },
  ],
  summary: 'A weather service.',
});
const SECRETS = [S.githubToken, S.storageLegacyKey];

interface Issue {
  type: string;
  sourcepath?: string;
  linenumber?: string;
  message: string;
}

function issues(run: TaskRun): Issue[] {
  return agent
    .vsoCommands(run.stdout)
    .filter((c) => c.command === 'task.logissue' && c.properties.sourcepath)
    .map((c) => ({
      type: c.properties.type!,
      sourcepath: c.properties.sourcepath,
      linenumber: c.properties.linenumber,
      message: c.message,
    }));
}

/** The SARIF file uploaded to the root of CodeAnalysisLogs, parsed. */
function uploadedSarif(run: TaskRun): { file: string; log: { runs: { results: { ruleId: string }[] }[] } } {
  const uploads = agent.vsoCommands(run.stdout).filter((c) => c.command === 'artifact.upload');
  assert.equal(uploads.length, 1, run.stdout);
  const upload = uploads[0]!;
  assert.deepEqual(upload.properties, {
    containerfolder: 'CodeAnalysisLogs',
    artifactname: 'CodeAnalysisLogs',
  });
  assert.match(upload.message, /\.sarif$/);
  return { file: upload.message, log: JSON.parse(fs.readFileSync(upload.message, 'utf8')) };
}

function summaryText(run: TaskRun): string {
  const attach = agent
    .vsoCommands(run.stdout)
    .find((c) => c.command === 'task.addattachment' && c.properties.type === 'Distributedtask.Core.Summary');
  assert.ok(attach, 'a summary is attached');
  return fs.readFileSync(attach.message, 'utf8');
}

describe('bundle: the scan as the agent runs it', function () {
  this.timeout(60000);
  let world: AzureWorld;
  before(async function () {
    if (!fs.existsSync(agent.TASK_ENTRY))
      throw new Error(`${agent.TASK_ENTRY} is missing: run npm run build first`);
    world = await startAzureWorld({ vaults: {}, openaiHost: /^127\.0\.0\.1$/ });
  });
  after(() => world?.close());
  const dir = useWorkDir('cs-scan', { 'README.md': 'the repository\n' });

  const remote = (extra: Record<string, string> = {}) => ({
    inputs: {
      provider: 'azureOpenAI',
      intent: 'service:\n  name: weather\n  language: python\n  framework: flask\n',
      outputDirectory: dir.out,
      endpoint: world.server.url,
      deployment: 'gpt-4o',
      authMode: 'apiKey',
      apiKey: API_KEY,
      instructionsFile: path.join(EXAMPLES, 'instructions-entra-id.md'),
      policyFile: path.join(EXAMPLES, 'policy.yaml'),
      ...extra,
    },
    variables: { 'Agent.TempDirectory': dir.work, 'Agent.CAInfo': world.caFile, 'Build.BuildId': '4242' },
  });

  it('failOnFindings true: fails, writes nothing, reports each finding at its line, uploads the SARIF log', async () => {
    world.openai.enqueue(completion(REPLY));
    const before = snapshotTree(dir.out);
    const run = await agent.runTask(remote());
    const o = outcome(run);
    assert.equal(o.result, 'Failed', run.stdout);
    assert.deepEqual(snapshotTree(dir.out), before, 'the output directory is byte-for-byte unchanged');
    assert.match(o.message ?? '', /nothing was written/);
    for (const place of [
      '"weather/app.py":6 no-api-keys',
      '"weather/app.py":6 placeholder/credential',
      '"weather/settings.py":2 secretlint/github',
      '"weather/settings.py":3 azure/storage-account-key',
    ])
      assert.ok(o.message?.includes(place), `${place} in ${o.message}`);
    assert.deepEqual(
      issues(run).map((i) => [i.type, i.sourcepath, i.linenumber, i.message.split(':')[0]]),
      [
        ['error', 'weather/app.py', '6', 'no-api-keys'],
        ['error', 'weather/app.py', '6', 'placeholder/credential'],
        ['warning', 'weather/client.py', '3', 'policy/tls-verification-off'],
        ['error', 'weather/settings.py', '2', 'secretlint/github'],
        ['error', 'weather/settings.py', '3', 'azure/storage-account-key'],
      ],
    );
    const { file, log } = uploadedSarif(run);
    assert.equal(sarifErrors(log), '');
    assert.equal(log.runs[0]!.results.length, 5);
    assert.equal(o.outputs[OUTPUTS.sarifPath], file);
    assert.match(summaryText(run), /Nothing was written/);
    // The instructions reached the model.
    const system = (world.openai.chats.at(-1)!.body.messages as { content: string }[])[0]!.content;
    assert.match(system, /Microsoft Entra ID \(OAuth 2\.0\)/);
    const printed = run.stdout + run.stderr + summaryText(run) + fs.readFileSync(file, 'utf8');
    for (const secret of SECRETS)
      assert.ok(!printed.includes(secret.slice(4)), `a secret was printed: ${secret}`);
  });

  it('failOnFindings false: writes the files, every finding a warning, SucceededWithIssues', async () => {
    world.openai.enqueue(completion(REPLY));
    // A registered secret in the prompt (here the API key, pasted into the intent) is masked in the prompt store.
    const intent = `service:\n  name: weather\n  language: python\n  framework: flask\n# ${API_KEY}\n`;
    const run = await agent.runTask(remote({ failOnFindings: 'false', intent }));
    const o = outcome(run);
    assert.equal(o.result, 'SucceededWithIssues', run.stdout);
    assert.equal(fs.readFileSync(path.join(dir.out, 'weather', 'app.py'), 'utf8'), SEED_FLASK_APP);
    assert.equal(o.outputs[OUTPUTS.filesWritten], '3');
    const found = issues(run);
    assert.equal(found.length, 5);
    assert.ok(found.every((i) => i.type === 'warning'));
    const { file, log } = uploadedSarif(run);
    assert.equal(sarifErrors(log), '');
    assert.ok(!file.startsWith(dir.out), 'the SARIF log is not written into the output directory');
    const summary = summaryText(run);
    assert.match(summary, /\| weather\/settings\.py \| 2 \| secretlint\/github \| error \|/);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir.out, '.synthesis', 'manifest.json'), 'utf8'));
    assert.deepEqual(manifest.findings.error, 4);
    assert.equal(manifest.build.buildId, '4242');
    const promptFile = path.join(dir.out, manifest.calls[0].promptFile);
    const record = fs.readFileSync(promptFile, 'utf8');
    assert.match(record, /"role": "system"/);
    assert.match(record, /# \*\*\*/);
    assert.ok(!record.includes(API_KEY));
    const printed =
      run.stdout + run.stderr + summary + fs.readFileSync(file, 'utf8') + JSON.stringify(manifest);
    for (const secret of SECRETS)
      assert.ok(!printed.includes(secret.slice(4)), `a secret was printed: ${secret}`);
  });

  it("publishes the model's summary with the secrets found in it cut out and registered secrets masked", async () => {
    world.openai.enqueue(
      completion(
        JSON.stringify({
          files: [{ path: 'weather/ok.py', content: 'print(1)\n' }],
          summary: `Done. I used the key ${API_KEY} and the client secret ${S.entraSecret}.`,
        }),
      ),
    );
    const run = await agent.runTask(remote({ failOnFindings: 'false' }));
    const o = outcome(run);
    assert.equal(o.result, 'SucceededWithIssues', run.stdout);
    const summary = summaryText(run);
    assert.match(
      summary,
      /Done\. I used the key \*\*\* and the client secret \[redacted: azure\/entra-client-secret\]\./,
    );
    const printed = run.stdout + run.stderr + summary;
    for (const secret of [API_KEY, S.entraSecret])
      assert.ok(
        !printed.split('\n').some((l) => !l.startsWith('##vso[task.setsecret]') && l.includes(secret)),
        secret,
      );
    assert.ok(
      agent
        .vsoCommands(run.stdout)
        .some(
          (c) =>
            c.command === 'task.logissue' &&
            /^In the model's summary, line 1: azure\/entra-client-secret/.test(c.message),
        ),
      run.stdout,
    );
  });

  it('in a release (no build artifacts): writes the SARIF log and sets sarifPath, uploads nothing', async () => {
    const run = await agent.runTask({
      inputs: {
        provider: 'offline',
        intent: fs.readFileSync(path.join(EXAMPLES, 'weather.yaml'), 'utf8'),
        outputDirectory: dir.out,
      },
      variables: { 'Agent.TempDirectory': dir.work, 'System.HostType': 'release' },
    });
    const o = outcome(run);
    assert.equal(o.result, 'Succeeded', run.stdout);
    assert.deepEqual(
      agent.vsoCommands(run.stdout).filter((c) => c.command === 'artifact.upload'),
      [],
    );
    assert.equal(sarifErrors(JSON.parse(fs.readFileSync(o.outputs[OUTPUTS.sarifPath]!, 'utf8'))), '');
  });

  it('an organisation rule that backtracks for ever fails the step at its budget, naming the rule, its line and the file', async () => {
    const policy = path.join(dir.work, 'slow-policy.yaml');
    fs.writeFileSync(
      policy,
      "rules:\n  - id: slow-rule\n    message: m\n    pattern: '(\\s*\\w+\\s*)+!'\n    files: ['app.py']\n",
    );
    const before = snapshotTree(dir.out);
    const started = Date.now();
    const run = await agent.runTask({
      inputs: {
        provider: 'offline',
        intent: fs.readFileSync(path.join(EXAMPLES, 'weather.yaml'), 'utf8'),
        outputDirectory: dir.out,
        policyFile: policy,
      },
      variables: { 'Agent.TempDirectory': dir.work },
    });
    const o = outcome(run);
    assert.equal(o.result, 'Failed', run.stdout);
    assert.match(
      o.message ?? '',
      /line 2: rule 'slow-rule' took longer than 2 s on "weather\/app\.py", so the scan stopped it/,
    );
    assert.ok(Date.now() - started < 20_000, `the step took ${Date.now() - started} ms`);
    assert.deepEqual(snapshotTree(dir.out), before, 'nothing was written');
  });

  for (const { language, framework } of SUPPORTED_TEMPLATES) {
    it(`offline ${language}/${framework}: zero findings, Succeeded, an empty SARIF log uploaded`, async () => {
      const intent = `service:\n  name: orders\n  language: ${language}\n  framework: ${framework}\n  endpoint: POST /orders\n  env:\n    - { name: API_KEY, secret: true }\n    - { name: LOG_LEVEL, default: info }\n`;
      const run = await agent.runTask({
        inputs: { provider: 'offline', intent, outputDirectory: dir.out, provenanceHeaders: 'true' },
        variables: { 'Agent.TempDirectory': dir.work },
      });
      const o = outcome(run);
      assert.equal(o.result, 'Succeeded', run.stdout);
      assert.deepEqual(issues(run), []);
      const { log } = uploadedSarif(run);
      assert.equal(sarifErrors(log), '');
      assert.deepEqual(log.runs[0]!.results, []);
    });
  }
});
