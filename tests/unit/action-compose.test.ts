/**
 * The action's host and composition in-process: the host reads the runner's environment (inputs,
 * variables, secrets it hands the step), and in review mode the composition gives the use case
 * ReviewPorts over GitHub (the runner's variables, the workflow's token, the run's address, GitHub's
 * description limit) without the Azure Repos provider check; run() hands the settings the front
 * door's reviewer parser.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { composeAction } from '../../tasks/CodeSynthesis/src/action-compose';
import { parseGitHubReviewers } from '../../tasks/CodeSynthesis/src/adapters/github/github-review';
import {
  createActionsHost,
  type ActionsHost,
} from '../../tasks/CodeSynthesis/src/adapters/pipeline/actions-host';
import { INPUTS } from '../../tasks/CodeSynthesis/src/core/contract';
import { ReviewError } from '../../tasks/CodeSynthesis/src/core/review';
import { parseSettings, type Settings } from '../../tasks/CodeSynthesis/src/core/settings';
import { run } from '../../tasks/CodeSynthesis/src/run';
import { FakeHost } from '../fakes/ports';

const WORKSPACE = path.resolve(os.tmpdir(), 'cs-action-unit-workspace');
const TOKEN = 'ghs_unitToken0123456789abcdefABCDEF0123';
const RUNNER: Record<string, string> = {
  GITHUB_WORKSPACE: WORKSPACE,
  GITHUB_REPOSITORY: 'contoso/web',
  GITHUB_SHA: 'c'.repeat(40),
  GITHUB_REF: 'refs/heads/main',
  GITHUB_RUN_ID: '77',
  GITHUB_RUN_NUMBER: '9',
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_API_URL: 'https://api.github.com',
  RUNNER_TEMP: '/runner/_temp',
  'INPUT_GITHUB-TOKEN': TOKEN,
};

/** What the host printed to stdout (workflow commands) while `work` ran; nothing reaches mocha's output. */
async function printed<T>(work: () => T | Promise<T>): Promise<{ value: T; stdout: string }> {
  const write = process.stdout.write.bind(process.stdout);
  let stdout = '';
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  try {
    return { value: await work(), stdout };
  } finally {
    process.stdout.write = write;
  }
}

const reviewSettings = (): Settings =>
  parseSettings({
    provider: 'offline',
    intent: 'service:\n  name: svc\n  language: python\n  framework: flask\n',
    outputDirectory: path.join(WORKSPACE, 'services'),
    reviewMode: 'pullRequest',
  });

describe('action composition: review mode over GitHub', () => {
  it("gives the use case ReviewPorts from the runner's variables and the token, without the Azure Repos provider check", async () => {
    const host = createActionsHost({ ...RUNNER });
    assert.equal(host.getVariable('Build.Repository.Provider'), undefined, 'no provider on a runner');
    const { value: ports, stdout } = await printed(() => composeAction(reviewSettings(), host));
    const review = ports.review!;
    assert.deepEqual(review.context, {
      repositoryId: 'contoso/web',
      sourceVersion: 'c'.repeat(40),
      sourceBranch: 'refs/heads/main',
      sourcesDirectory: WORKSPACE,
      buildId: '77',
    });
    assert.equal(review.summaryUrl, 'https://github.com/contoso/web/actions/runs/77');
    assert.equal(review.descriptionLimit?.chars, 65536);
    assert.ok(host.secrets().includes(TOKEN));
    assert.match(stdout, new RegExp(`^::add-mask::${TOKEN}$`, 'm'), 'the token is masked once read');
  });

  it('fails before the model is asked when the runner variables or the token are missing, naming them', async () => {
    const noSha = { ...RUNNER, GITHUB_SHA: '' };
    await assert.rejects(
      printed(() => composeAction(reviewSettings(), createActionsHost(noSha))),
      (e: unknown) => e instanceof ReviewError && /GITHUB_SHA/.test(e.message),
    );
    await assert.rejects(
      printed(() =>
        composeAction(reviewSettings(), createActionsHost({ ...RUNNER, 'INPUT_GITHUB-TOKEN': '' })),
      ),
      (e: unknown) => e instanceof ReviewError && e.subject === 'github-token',
    );
  });

  it('composes no review without review mode, and needs no token then', async () => {
    const host = createActionsHost({ ...RUNNER, 'INPUT_GITHUB-TOKEN': '' });
    const settings = parseSettings({ provider: 'offline', intent: 'A service.', outputDirectory: WORKSPACE });
    const { value: ports } = await printed(() => composeAction(settings, host));
    assert.equal(ports.review, undefined);
  });

  it("run() reads the reviewers with the front door's parser", async () => {
    const inputs = {
      [INPUTS.provider]: 'offline',
      [INPUTS.intent]: 'A service.',
      [INPUTS.outputDirectory]: '/w/out',
      [INPUTS.reviewMode]: 'pullRequest',
      [INPUTS.reviewers]: 'octocat, contoso/platform',
    };
    let seen: Settings | undefined;
    const stop = async (settings: Settings): Promise<never> => {
      seen = settings;
      throw new ReviewError('stop here', 'test', 'none');
    };
    const github = new FakeHost(inputs);
    await run(github, stop, { parseReviewers: parseGitHubReviewers });
    assert.deepEqual(seen?.review.mode === 'pullRequest' && seen.review.reviewers, [
      'octocat',
      'contoso/platform',
    ]);

    const azure = new FakeHost(inputs);
    seen = undefined;
    await run(azure, stop);
    assert.equal(seen, undefined, 'the default parser refuses logins before compose');
    assert.match(azure.result!.message, /Input 'reviewers': .* are not identity ids/);
  });
});

describe('actions host', () => {
  const withInputs = (inputs: Record<string, string>): ActionsHost =>
    createActionsHost({
      ...RUNNER,
      ...Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v])),
    });

  it("lists the secrets the runner hands the step before they are read (the key, the token, the runtime's)", () => {
    const host = createActionsHost({
      ...RUNNER,
      'INPUT_API-KEY': 'sk-unit-key-1234',
      ACTIONS_RUNTIME_TOKEN: 'runtime-token-5678',
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'request-token-9012',
    });
    const secrets = host.secrets();
    for (const secret of [TOKEN, 'sk-unit-key-1234', 'runtime-token-5678', 'request-token-9012'])
      assert.ok(secrets.includes(secret), secret);
    assert.equal(host.mask(`key sk-unit-key-1234 and ${TOKEN}`), 'key *** and ***');
  });

  it('reads task inputs by their kebab-case names; paths from the workspace; an empty intent as empty, not $(intent)', () => {
    const host = withInputs({
      'max-total-size-kb': ' 10 ',
      'intent-file': 'intents/a.yaml',
      'validate-working-directory': 'svc',
    });
    assert.equal(host.getInput(INPUTS.maxTotalSizeKB), '10');
    assert.equal(host.getInput(INPUTS.intentFile), path.join(WORKSPACE, 'intents', 'a.yaml'));
    assert.equal(host.getInput(INPUTS.outputDirectory), WORKSPACE, 'the workspace by default');
    assert.equal(host.getInput(INPUTS.validateWorkingDirectory), 'svc', 'relative to the output directory');
    assert.equal(host.getInput(INPUTS.intent), '');
    assert.equal(host.getVariable('Agent.TempDirectory'), '/runner/_temp');
    assert.equal(host.getVariable('Build.BuildNumber'), '9');
  });

  it('names inputs the action’s way in its own lines, not in text from outside', async () => {
    const host = createActionsHost({ ...RUNNER });
    const { stdout } = await printed(() => {
      host.info('Validation round 1: running validateCommand "x"...');
      host.untrusted('a reply mentions maxFiles');
    });
    assert.match(stdout, /running validate-command "x"/);
    assert.match(stdout, /a reply mentions maxFiles/);
  });

  it('masks registered secrets in the step summary, which the runner does not', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cs-summary-')), 'summary.md');
    fs.writeFileSync(file, '');
    const saved = process.env.GITHUB_STEP_SUMMARY;
    process.env.GITHUB_STEP_SUMMARY = file;
    try {
      const host = createActionsHost({ ...RUNNER, 'INPUT_API-KEY': 'sk-unit-key-1234' });
      await printed(async () => {
        host.getInput(INPUTS.apiKey);
        host.publishSummary('the key sk-unit-key-1234 and the token ' + TOKEN);
        await host.flush();
      });
      assert.equal(fs.readFileSync(file, 'utf8').trim(), 'the key *** and the token ***');
    } finally {
      if (saved === undefined) delete process.env.GITHUB_STEP_SUMMARY;
      else process.env.GITHUB_STEP_SUMMARY = saved;
    }
  });
});
