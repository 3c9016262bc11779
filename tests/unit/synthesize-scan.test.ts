/**
 * The scan stage in the use case and the task result: findings stop the write (failOnFindings true) or
 * become warnings on a SucceededWithIssues run (false); every finding is an issue at its file and line;
 * the SARIF log is published either way; the prompt store, the manifest and the summary carry the
 * provenance; no secret reaches any of them.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createSecretlintScanner } from '../../tasks/CodeSynthesis/src/adapters/scan/secretlint-scanner';
import { MANIFEST_PATH, OUTPUTS } from '../../tasks/CodeSynthesis/src/core/contract';
import { FindingsError, PolicyFileError } from '../../tasks/CodeSynthesis/src/core/errors';
import { sha256 } from '../../tasks/CodeSynthesis/src/core/manifest';
import type { ModelClient } from '../../tasks/CodeSynthesis/src/core/ports';
import { parseSettings, type RawInputs } from '../../tasks/CodeSynthesis/src/core/settings';
import { synthesize, type SynthesisPorts } from '../../tasks/CodeSynthesis/src/core/synthesize';
import { run } from '../../tasks/CodeSynthesis/src/run';
import { FakeHost, FakeModel, filesReply, MemoryFiles, MemoryTree, WEATHER_CARD } from '../fakes/ports';
import { fakeSecrets } from '../support/fake-secrets';
import { REPO_ROOT } from '../support/repo';
import { sarifErrors } from '../support/sarif-schema';
import { SEED_FLASK_APP } from '../support/scan';

const INPUTS: RawInputs = { provider: 'offline', intent: WEATHER_CARD, outputDirectory: '/work/out' };
const POLICY = fs.readFileSync(path.join(REPO_ROOT, 'examples', 'policy.yaml'), 'utf8');
const SEED_REPLY = filesReply({
  'weather/app.py': SEED_FLASK_APP,
  'weather/requirements.txt': 'flask==3.0.3\nrequests==2.32.3\n',
});

function ports(
  model: ModelClient,
  tree = new MemoryTree(),
  host = new FakeHost(),
  build: SynthesisPorts['build'] = undefined,
): SynthesisPorts & { connects: number } {
  let tick = 0;
  const p = {
    log: host,
    reader: new MemoryFiles({
      'policy.yaml': POLICY,
      'broken.yaml': 'rules: []\n',
      'conventions.md': 'Use Entra ID.',
    }),
    tree,
    // Each reading is one second later: the model call takes 1 s.
    clock: { now: () => new Date(Date.UTC(2026, 0, 2, 3, 4, tick++)) },
    signal: host.signal,
    version: '1.0.0',
    connects: 0,
    connectModel: async () => {
      p.connects++;
      return model;
    },
    secretScanner: async () => createSecretlintScanner(),
    report: host,
    ...(build ? { build } : {}),
  };
  return p;
}

describe('scan stage: failOnFindings true (default)', () => {
  it("stops the seed's sample before anything is written, with an issue at app.py line 6 and a SARIF log", async () => {
    const host = new FakeHost();
    const tree = new MemoryTree();
    const err = await synthesize(parseSettings(INPUTS), ports(new FakeModel(SEED_REPLY), tree, host)).then(
      () => assert.fail('no error'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof FindingsError, String(err));
    assert.equal(tree.commits, 0);
    assert.equal(tree.files.size, 0);
    assert.match(
      err.message,
      /1 finding\(s\) of severity error, so nothing was written:\n {2}- "weather\/app\.py":6 placeholder\/credential\.$/,
    );
    assert.match(err.hint, /failOnFindings to false/);
    assert.deepEqual(
      host.issues.map((i) => [i.level, i.at]),
      [['error', { path: 'weather/app.py', line: 6 }]],
    );
    assert.match(
      host.issues[0]!.message,
      /^placeholder\/credential: a placeholder credential assigned in code: "YO"… \(12 characters\)\. Read/,
    );
    assert.equal(host.sarif.length, 1);
    assert.equal(sarifErrors(JSON.parse(host.sarif[0]!)), '');
    assert.equal(err.sarifPath, '/agent/_temp/CodeSynthesis-1.sarif');
  });

  it('fails the task, sets sarifPath and shows the findings on the summary page', async () => {
    const host = new FakeHost(INPUTS);
    const tree = new MemoryTree();
    await run(host, async (_s, h) => ports(new FakeModel(SEED_REPLY), tree, h as FakeHost));
    assert.equal(host.result?.outcome, 'Failed');
    assert.match(host.result?.message ?? '', /"weather\/app\.py":6 placeholder\/credential/);
    assert.equal(host.outputs[OUTPUTS.sarifPath], '/agent/_temp/CodeSynthesis-1.sarif');
    assert.equal(host.outputs[OUTPUTS.filesWritten], undefined);
    assert.match(host.summary ?? '', /Nothing was written/);
    assert.match(
      host.summary ?? '',
      /\| weather\/app\.py \| 6 \| placeholder\/credential \| error \| a placeholder credential/,
    );
    assert.equal(tree.files.size, 0);
  });

  it('writes and succeeds with issues when every finding is a warning', async () => {
    const host = new FakeHost({ ...INPUTS });
    const tree = new MemoryTree();
    const model = new FakeModel(
      filesReply({ 'svc/client.py': 'import requests\nrequests.get(URL, verify=False)\n' }),
    );
    await run(host, async (_s, h) => ports(model, tree, h as FakeHost));
    assert.equal(host.result?.outcome, 'SucceededWithIssues', host.result?.message);
    assert.ok(tree.files.has('svc/client.py'));
    assert.deepEqual(
      host.issues.map((i) => [i.level, i.at?.line, i.message.split(':')[0]]),
      [['warning', 2, 'policy/tls-verification-off']],
    );
  });

  it('reads the policy file before asking the model, and stops on its problems', async () => {
    const p = ports(new FakeModel(SEED_REPLY));
    await assert.rejects(
      synthesize(parseSettings({ ...INPUTS, policyFile: 'broken.yaml' }), p),
      PolicyFileError,
    );
    assert.equal(p.connects, 0);
  });
});

describe('scan stage: failOnFindings false', () => {
  it('writes the files, reports each finding as a warning and the run as SucceededWithIssues', async () => {
    const host = new FakeHost({ ...INPUTS, failOnFindings: 'false', policyFile: 'policy.yaml' });
    const tree = new MemoryTree();
    const result = await run(host, async (_s, h) => ports(new FakeModel(SEED_REPLY), tree, h as FakeHost));
    assert.equal(host.result?.outcome, 'SucceededWithIssues', host.result?.message);
    assert.match(host.result?.message ?? '', /the scan reported 2 finding\(s\) as warnings/);
    assert.equal(tree.files.get('weather/app.py'), SEED_FLASK_APP);
    assert.deepEqual(
      host.issues.map((i) => [i.level, i.at?.path, i.at?.line, i.message.split(':')[0]]),
      [
        ['warning', 'weather/app.py', 6, 'no-api-keys'],
        ['warning', 'weather/app.py', 6, 'placeholder/credential'],
      ],
    );
    const manifest = JSON.parse(tree.files.get(MANIFEST_PATH)!);
    assert.deepEqual(manifest.findings, {
      error: 2,
      warning: 0,
      byRule: { 'no-api-keys': 1, 'placeholder/credential': 1 },
    });
    assert.deepEqual(manifest.policy, { file: 'policy.yaml', sha256: sha256(POLICY), rules: 2 });
    assert.deepEqual(
      result?.findings.map((f) => f.ruleId),
      ['no-api-keys', 'placeholder/credential'],
    );
    assert.match(
      host.summary ?? '',
      /\*\*Scan:\*\* 2 finding\(s\)\. SARIF log: `\/agent\/_temp\/CodeSynthesis-1\.sarif`/,
    );
    assert.match(
      host.summary ?? '',
      /\| weather\/app\.py \| 6 \| no-api-keys \| error \| API keys are forbidden here/,
    );
  });

  it('never prints, publishes or stores a secret the model wrote', async () => {
    const S = fakeSecrets(3);
    const host = new FakeHost({ ...INPUTS, failOnFindings: 'false' });
    const tree = new MemoryTree();
    const model = new FakeModel(
      filesReply({
        'svc/app.py': `GITHUB = "${S.githubToken}"\nSTORAGE = "${S.storageKey}"\n`,
        'svc/.env': `DB_PASSWORD=${S.dbPassword}\n`,
      }),
    );
    await run(host, async (_s, h) => ports(model, tree, h as FakeHost));
    assert.equal(host.result?.outcome, 'SucceededWithIssues');
    assert.equal(host.issues.length, 3);
    const published = [host.allText(), ...host.sarif, tree.files.get(MANIFEST_PATH)!].join('\n');
    for (const secret of [S.githubToken, S.storageKey, S.dbPassword])
      assert.ok(!published.includes(secret.slice(3)), `printed: ${secret}`);
  });
});

describe('provenance', () => {
  it('stores the request and the reply metadata per call, masks registered secrets, and the manifest points to it', async () => {
    const host = new FakeHost();
    host.setSecret('s3cr3t-value-from-the-vault');
    const tree = new MemoryTree();
    const model = new FakeModel({
      ...filesReply({ 'weather/app.py': 'print(1)\n' }),
      systemFingerprint: 'fp_123',
      request: {
        model: 'gpt',
        messages: [{ role: 'user', content: 'key s3cr3t-value-from-the-vault "quoted"' }],
      },
    });
    await synthesize(
      parseSettings({ ...INPUTS, intent: WEATHER_CARD, instructionsFile: 'conventions.md' }),
      ports(model, tree, host, {
        buildId: '4242',
        buildNumber: '20260102.1',
        repository: 'contoso/weather',
        commit: 'abc123',
        intentVariable: WEATHER_CARD,
      }),
    );
    const record = JSON.parse(tree.files.get('.synthesis/prompts/chatcmpl-1.json')!);
    assert.deepEqual(record.request.messages, [{ role: 'user', content: 'key *** "quoted"' }]);
    assert.deepEqual(record.reply, {
      id: 'chatcmpl-1',
      model: 'gpt-4o',
      systemFingerprint: 'fp_123',
      finishReason: 'stop',
      usage: { promptTokens: 10, completionTokens: 20 },
      contentSha256: sha256(model.reply.content),
    });
    assert.equal(record.durationMs, 1000);
    const manifest = JSON.parse(tree.files.get(MANIFEST_PATH)!);
    assert.deepEqual(manifest.calls, [
      {
        purpose: 'generate',
        replyId: 'chatcmpl-1',
        promptFile: '.synthesis/prompts/chatcmpl-1.json',
        model: 'gpt-4o',
        systemFingerprint: 'fp_123',
        finishReason: 'stop',
        startedAt: '2026-01-02T03:04:00.000Z',
        durationMs: 1000,
        usage: { promptTokens: 10, completionTokens: 20 },
        messages: 2,
        messagesSha256: sha256(JSON.stringify(model.requests[0]!.messages.map((m) => [m.role, m.content]))),
      },
    ]);
    assert.deepEqual(manifest.build, {
      buildId: '4242',
      buildNumber: '20260102.1',
      repository: 'contoso/weather',
      commit: 'abc123',
    });
    assert.equal(manifest.intent.source, 'variable');
    assert.deepEqual(manifest.instructions, { file: 'conventions.md', sha256: sha256('Use Entra ID.') });
    assert.equal(manifest.provenanceHeaders, false);
    assert.equal(
      tree.files.get('weather/app.py'),
      'print(1)\n',
      'byte-for-byte what the model wrote by default',
    );
  });

  it("masks the service's strings (reply id, model, fingerprint) before they name a file or reach the manifest, log or summary", async () => {
    const key = 'sk-live-0123456789abcdef';
    const host = new FakeHost({ ...INPUTS });
    host.setSecret(key);
    const tree = new MemoryTree();
    const model = new FakeModel({
      ...filesReply({ 'weather/app.py': 'print(1)\n' }),
      id: key,
      model: key,
      systemFingerprint: `fp-${key}`,
    });
    await run(host, async (_s, h) => ports(model, tree, h as FakeHost));
    assert.equal(host.result?.outcome, 'Succeeded', host.result?.message);
    const manifest = JSON.parse(tree.files.get(MANIFEST_PATH)!);
    assert.equal(manifest.model.replyId, '***');
    assert.equal(manifest.model.model, '***');
    assert.equal(manifest.calls[0].replyId, '***');
    assert.equal(manifest.calls[0].model, '***');
    assert.equal(manifest.calls[0].systemFingerprint, 'fp-***');
    assert.match(manifest.calls[0].promptFile, /^\.synthesis\/prompts\/reply-[0-9a-f]{12}\.json$/);
    const everything = [...tree.files.keys(), ...tree.files.values(), host.allText()].join('\n');
    assert.ok(!everything.includes(key), everything);
  });

  it('records the request core built when the client reports none (offline)', async () => {
    const tree = new MemoryTree();
    await synthesize(
      parseSettings({ ...INPUTS, seed: '7' }),
      ports(new FakeModel(filesReply({ 'a.txt': 'x\n' })), tree),
    );
    const record = JSON.parse(tree.files.get('.synthesis/prompts/chatcmpl-1.json')!);
    assert.deepEqual(
      record.request.messages.map((m: { role: string }) => m.role),
      ['system', 'user'],
    );
    assert.match(record.request.messages[1].content, /name: weather/);
    assert.equal(record.request.response_format.type, 'json_schema');
    assert.equal(record.request.seed, 7);
    assert.deepEqual(record.limits, { maxFiles: 200, maxTotalSizeKB: 5120 });
  });

  it('with provenanceHeaders, starts each source file with the header; the manifest hashes the file as written', async () => {
    const tree = new MemoryTree();
    const result = await synthesize(
      parseSettings({ ...INPUTS, provenanceHeaders: 'true', failOnFindings: 'false' }),
      ports(new FakeModel(SEED_REPLY), tree, new FakeHost(), { buildId: '4242' }),
    );
    const app = tree.files.get('weather/app.py')!;
    assert.match(
      app,
      /^# Generated by CodeSynthesis 1\.0\.0 in build 4242 from intent sha256:[0-9a-f]{12}\.\n# Prompt: \.synthesis\/prompts\/chatcmpl-1\.json; model gpt-4o \(deployment gpt\)\.\nfrom flask/,
    );
    assert.equal(result.manifest.files.find((f) => f.path === 'weather/app.py')!.sha256, sha256(app));
    // Findings point at the line as written: the placeholder moved from line 6 to line 8.
    assert.deepEqual(
      result.findings.map((f) => [f.path, f.line]),
      [['weather/app.py', 8]],
    );
  });

  it('shows the estimated cost when both prices are set', async () => {
    const host = new FakeHost({ ...INPUTS, promptTokenPrice: '2.5', completionTokenPrice: '10' });
    const tree = new MemoryTree();
    await run(host, async (_s, h) =>
      ports(new FakeModel(filesReply({ 'a.txt': 'x\n' })), tree, h as FakeHost),
    );
    // 10 prompt tokens at 2.5 and 20 completion tokens at 10 per million: 0.000225.
    assert.match(host.summary ?? '', /\*\*Estimated cost:\*\* 0\.000225 /);
    assert.equal(JSON.parse(tree.files.get(MANIFEST_PATH)!).usage.estimatedCost, 0.000225);
    assert.match(host.summary ?? '', /\*\*Scan:\*\* no findings\./);
  });
});

describe("scan stage: the model's summary", () => {
  const S = fakeSecrets(13);
  const reply = (summary: string) => new FakeModel(filesReply({ 'svc/app.py': 'print(1)\n' }, summary));

  it('with failOnFindings false: reports a secret in it as a finding and publishes it cut out', async () => {
    const host = new FakeHost({ ...INPUTS, failOnFindings: 'false' });
    const tree = new MemoryTree();
    const summary = `Created the service.\nUse the client secret ${S.entraSecret} to sign in.`;
    const result = await run(host, async (_s, h) => ports(reply(summary), tree, h as FakeHost));
    assert.equal(host.result?.outcome, 'SucceededWithIssues', host.result?.message);
    assert.deepEqual(
      result?.findings.map((f) => [f.path, f.line, f.ruleId]),
      [['<model summary>', 2, 'azure/entra-client-secret']],
    );
    assert.equal(
      result?.modelSummary,
      'Created the service.\nUse the client secret [redacted: azure/entra-client-secret] to sign in.',
    );
    assert.deepEqual(
      host.issues.map((i) => [i.level, i.at]),
      [['warning', undefined]],
    );
    assert.match(host.issues[0]!.message, /^In the model's summary, line 2: azure\/entra-client-secret: /);
    assert.match(host.summary ?? '', /\[redacted: azure\/entra-client-secret\] to sign in/);
    assert.match(host.summary ?? '', /\| \\<model summary\\> \| 2 \| azure\/entra-client-secret \|/);
    const sarif = JSON.parse(host.sarif[0]!);
    assert.equal(sarifErrors(sarif), '');
    assert.deepEqual(sarif.runs[0].results[0].locations, [
      { logicalLocations: [{ name: 'model summary', kind: 'resource' }] },
    ]);
    const published = [host.allText(), ...host.sarif, ...tree.files.values()].join('\n');
    assert.ok(!published.includes(S.entraSecret.slice(3)), 'the secret was published');
  });

  it('with failOnFindings true: a secret in it stops the write like one in a file', async () => {
    const tree = new MemoryTree();
    const err = await synthesize(parseSettings(INPUTS), ports(reply(`key ${S.githubToken}`), tree)).then(
      () => assert.fail('no error'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof FindingsError, String(err));
    assert.match(err.message, /- "<model summary>":1 secretlint\/github\.$/);
    assert.equal(tree.commits, 0);
  });

  it('only the secret rules read it: placeholders and TLS advice in prose are no findings', async () => {
    const tree = new MemoryTree();
    const summary = 'Set API_KEY=your-api-key-here in .env; never use verify=False.';
    const result = await synthesize(parseSettings(INPUTS), ports(reply(summary), tree));
    assert.deepEqual(result.findings, []);
    assert.equal(result.modelSummary, summary);
  });
});
