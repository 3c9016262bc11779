/**
 * The built action (dist/action/index.js), run black-box as the GitHub runner runs it (runner-run.ts):
 * INPUT_* variables, the GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files read back, GITHUB_WORKSPACE,
 * GITHUB_EVENT_PATH; offline, and against the fake Azure OpenAI, Entra ID, the runner's OIDC service and
 * the fake GitHub REST API under their real host names behind the runner's proxy (HTTPS_PROXY), the test
 * CA trusted the runner's way (NODE_EXTRA_CA_CERTS).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ACTIONS_OIDC_HOST, fakeActionsOidc, githubOidcToken } from '../fake-servers/actions-oidc';
import { fakeGitHub, type FakeGitHub } from '../fake-servers/github';
import {
  API_KEY,
  COGNITIVE,
  PROXY_USER as PROXY,
  TENANT,
  startAzureWorld,
  type AzureWorld,
} from '../support/azure-world';
import { REPO_ROOT } from '../support/repo';
import { ACTION_ENTRY, runAction, type ActionRun, type ActionRunOptions } from '../support/runner-run';
import { snapshotTree } from '../support/tree-snapshot';
import { useWorkDir } from '../support/work-dir';

const TOKEN = 'ghs_jobToken0123456789abcdefABCDEF012345';
const GH_APP = 'dddddddd-1111-2222-3333-444444444444';
const ID_TOKEN = githubOidcToken('contoso/web', 'refs/heads/main', 'api://AzureADTokenExchange');
const REQUEST_TOKEN = 'actions-runtime-request-token-7f3e';
const WEATHER = fs.readFileSync(path.join(REPO_ROOT, 'examples', 'weather.yaml'), 'utf8');

describe('bundle: the GitHub Action run as the runner runs it', function () {
  this.timeout(60000);
  let world: AzureWorld;
  let github: FakeGitHub;
  const oidc = fakeActionsOidc({ requestToken: REQUEST_TOKEN, token: ID_TOKEN });
  const dir = useWorkDir('cs-action', { 'README.md': 'the repository\n' });

  before(async function () {
    if (!fs.existsSync(ACTION_ENTRY)) throw new Error(`${ACTION_ENTRY} is missing: run npm run build first`);
    github = fakeGitHub({ owner: 'contoso', repo: 'web', token: TOKEN, files: { 'README.md': '# web\n' } });
    world = await startAzureWorld({
      apps: [
        {
          clientId: GH_APP,
          objectId: 'gh-oid',
          federated: { token: ID_TOKEN, subject: 'repo:contoso/web:ref:refs/heads/main' },
        },
      ],
      vaults: { 'kv-ci': { secrets: { 'openai-api-key': API_KEY } } },
      routes: [
        oidc,
        // The GitHub API by its name only: 127.0.0.1 stays with the other fakes.
        { host: /^api\.github\.com$/, handle: (...args) => github.handle(...args) },
      ],
    });
  });
  after(() => world?.close());

  /** The runner of a self-hosted machine behind the corporate proxy, trusting its CA. */
  const behindProxy = (): Record<string, string> => ({
    HTTPS_PROXY: `http://${encodeURIComponent(PROXY.username)}:${encodeURIComponent(PROXY.password)}@127.0.0.1:${world.proxy.port}`,
    NODE_EXTRA_CA_CERTS: world.caFile,
  });
  const run = (options: Omit<ActionRunOptions, 'workspace' | 'temp'>): Promise<ActionRun> =>
    runAction({ workspace: dir.out, temp: dir.work, token: TOKEN, ...options });
  const commands = (r: ActionRun, name: string) => r.commands.filter((c) => c.name === name);
  const ok = (r: ActionRun): ActionRun => {
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.deepEqual(commands(r, 'error'), []);
    return r;
  };

  it('offline: writes the files, sets the outputs in GITHUB_OUTPUT, the summary in GITHUB_STEP_SUMMARY, masks the key', async () => {
    const r = ok(
      await run({
        inputs: {
          provider: 'offline',
          intent: WEATHER,
          'output-directory': 'services',
          'api-key': 'sk-live-5ecret-K3y',
        },
      }),
    );
    const out = path.join(dir.out, 'services');
    assert.ok(fs.existsSync(path.join(out, 'weather', 'app.py')), 'files written under the workspace');
    assert.equal(r.outputs['service-name'], 'weather');
    assert.equal(r.outputs['output-directory'], out);
    assert.equal(r.outputs['manifest-path'], path.join(out, '.synthesis', 'manifest.json'));
    assert.ok(Number(r.outputs['files-written']) > 3, r.outputs['files-written']);
    assert.equal(r.outputs['prompt-tokens'], '0');
    const sarif = r.outputs['sarif-path']!;
    assert.equal(path.dirname(sarif), dir.work, 'the SARIF log is in RUNNER_TEMP, not the output directory');
    assert.equal(JSON.parse(fs.readFileSync(sarif, 'utf8')).version, '2.1.0');
    assert.match(r.summary, /weather/);
    assert.match(r.summary, /manifest\.json/);
    assert.deepEqual(
      commands(r, 'add-mask').map((c) => c.data),
      ['sk-live-5ecret-K3y'],
      'the key is masked the moment it is read',
    );
    const elsewhere = r.stdout
      .split('\n')
      .filter((l) => l.includes('sk-live-5ecret-K3y') && !l.startsWith('::add-mask::'));
    assert.deepEqual(elsewhere, []);
    assert.match(r.stdout, /Wrote \d+ file\(s\) to /);
  });

  it('findings become annotations on the file and line, relative to the workspace; an error stops the run before the write', async () => {
    fs.writeFileSync(
      path.join(dir.out, 'policy.yaml'),
      [
        'rules:',
        '  - id: flask-import',
        '    message: Flask is imported here',
        "    pattern: 'from flask import'",
        '    severity: warning',
      ].join('\n'),
    );
    const warned = ok(
      await run({
        inputs: {
          provider: 'offline',
          intent: WEATHER,
          'output-directory': 'svc',
          'policy-file': 'policy.yaml',
        },
      }),
    );
    const warning = commands(warned, 'warning').find((c) => c.properties.file);
    assert.ok(warning, warned.stdout);
    assert.equal(warning.properties.file, 'svc/weather/app.py');
    assert.match(warning.properties.line ?? '', /^\d+$/);
    assert.match(warning.data, /flask-import/);

    fs.writeFileSync(
      path.join(dir.out, 'policy.yaml'),
      fs.readFileSync(path.join(dir.out, 'policy.yaml'), 'utf8').replace('warning', 'error'),
    );
    const before = snapshotTree(path.join(dir.out));
    const blocked = await run({
      inputs: {
        provider: 'offline',
        intent: WEATHER,
        'output-directory': 'other',
        'policy-file': 'policy.yaml',
      },
    });
    assert.equal(blocked.code, 1, 'setFailed: the step fails');
    const errors = commands(blocked, 'error');
    assert.ok(
      errors.some((c) => c.properties.file === 'other/weather/app.py' && c.data.includes('flask-import')),
    );
    const failure = errors.find((c) => !c.properties.file)!;
    assert.match(failure.data, /nothing was written/);
    assert.match(failure.data, /set fail-on-findings to false/, 'inputs are named as the action names them');
    assert.deepEqual(snapshotTree(dir.out), before);
    assert.ok(fs.existsSync(blocked.outputs['sarif-path']!), 'the SARIF log is there for upload-sarif');
    assert.match(blocked.summary, /flask-import/);
  });

  it('a bad input fails the step naming the action input', async () => {
    const r = await run({ inputs: { provider: 'offline', intent: WEATHER, 'max-files': 'lots' } });
    assert.equal(r.code, 1);
    assert.match(commands(r, 'error').at(-1)!.data, /^Input 'max-files': 'lots' is not a whole number/);
    assert.deepEqual(r.outputs, {});
  });

  it('Azure OpenAI with api-key, then review mode: validated, pushed and the pull request opened through the proxy, then written; a second run updates it', async () => {
    const inputs = {
      provider: 'azureOpenAI',
      'auth-mode': 'apiKey',
      'api-key': API_KEY,
      endpoint: 'https://my-resource.openai.azure.com/',
      deployment: 'gpt-4o',
      intent: 'service:\n  name: svc\n  language: python\n  framework: flask\n',
      'output-directory': 'services',
      'validate-command': 'test -f svc/app.py',
      'review-mode': 'pullRequest',
      'review-draft': 'true',
      reviewers: 'octocat',
    };
    github.collaborators.add('octocat');
    const env = { ...behindProxy(), GITHUB_SHA: github.baseCommit };
    const first = ok(await run({ inputs, env }));

    // The task's order: validated, pushed, the pull request opened, then written to the workspace.
    const at = (pattern: RegExp): number => {
      const i = first.stdout.split('\n').findIndex((l) => pattern.test(l));
      assert.ok(i >= 0, `no line matches ${pattern}:\n${first.stdout}`);
      return i;
    };
    const order = [
      at(/^Validation round 1: running validate-command/),
      at(/^Validation round 1: passed/),
      at(/^Pushed \d+ file\(s\) to 'synthesis\/svc'/),
      at(/^Opened pull request #1 from 'synthesis\/svc' into 'main'/),
      at(/^ {2}created: svc\/app\.py/),
    ];
    assert.deepEqual(
      order,
      [...order].sort((a, b) => a - b),
      'validate, push, pull request, write: in this order',
    );

    assert.equal(fs.readFileSync(path.join(dir.out, 'services', 'svc', 'app.py'), 'utf8'), 'print("hi")\n');
    assert.equal(world.openai.chats.at(-1)!.headers['api-key'], API_KEY);
    assert.equal(github.pulls.length, 1);
    const pr = github.pulls[0]!;
    assert.deepEqual(
      { head: pr.head, base: pr.base, draft: pr.draft, reviewers: pr.requestedReviewers, labels: pr.labels },
      {
        head: 'synthesis/svc',
        base: 'main',
        draft: true,
        reviewers: ['octocat'],
        labels: ['code-synthesis'],
      },
    );
    assert.equal(github.fileOn('synthesis/svc', 'services/svc/app.py'), 'print("hi")\n');
    assert.ok(
      github.fileOn('synthesis/svc', 'services/.synthesis/manifest.json'),
      'the manifest is committed',
    );
    assert.match(pr.body, /Code synthesis/);
    assert.match(pr.body, /\[this build\]\(https:\/\/github\.com\/contoso\/web\/actions\/runs\/4242\)/);
    assert.match(
      pr.body,
      /### Validation\n\n- Round 1: test -f svc\/app\.py exited 0/,
      'the use case wrote it',
    );
    assert.deepEqual(
      {
        id: first.outputs['pull-request-id'],
        url: first.outputs['pull-request-url'],
        branch: first.outputs['review-branch'],
      },
      {
        id: String(pr.number),
        url: `https://github.com/contoso/web/pull/${pr.number}`,
        branch: 'synthesis/svc',
      },
    );
    assert.match(
      first.summary,
      /\*\*Pull request:\*\* \[1\]\(https:\/\/github\.com\/contoso\/web\/pull\/1\) from `synthesis\/svc` \(opened\)/,
    );
    assert.match(
      first.stdout,
      /Wrote \d+ file\(s\) to .*services; opened pull request 1 from 'synthesis\/svc' \(https:\/\/github\.com\/contoso\/web\/pull\/1\)\./,
    );
    assert.equal(github.requests.at(-1)!.headers.authorization, `Bearer ${TOKEN}`);
    const tunnels = world.proxy.tunnels;
    for (const host of ['my-resource.openai.azure.com:443', 'api.github.com:443'])
      assert.ok(tunnels.includes(host), `no tunnel to ${host}: ${tunnels.join(', ')}`);
    const masks = commands(first, 'add-mask').map((c) => c.data);
    for (const secret of [API_KEY, TOKEN, PROXY.password])
      assert.ok(masks.includes(secret), `not masked: ${secret}`);
    for (const secret of [API_KEY, TOKEN, PROXY.password]) {
      const shown = first.stdout
        .split('\n')
        .filter((l) => l.includes(secret) && !l.startsWith('::add-mask::'));
      assert.deepEqual(shown, [], `a secret was printed: ${secret}`);
    }

    world.openai.enqueue({
      status: 200,
      body: {
        id: 'chatcmpl-2',
        object: 'chat.completion',
        created: 1,
        model: 'gpt-4o',
        choices: [
          {
            index: 0,
            finish_reason: 'stop',
            message: {
              role: 'assistant',
              content: JSON.stringify({
                files: [{ path: 'svc/app.py', content: 'print("again")\n' }],
                summary: 'x',
              }),
            },
          },
        ],
        usage: { prompt_tokens: 10, completion_tokens: 20, total_tokens: 30 },
      },
    });
    const second = ok(await run({ inputs: { ...inputs, 'conflict-policy': 'overwrite' }, env }));
    assert.equal(github.pulls.length, 1, 'the same pull request');
    assert.equal(second.outputs['pull-request-id'], String(pr.number));
    assert.match(
      second.summary,
      /\[1\]\(https:\/\/github\.com\/contoso\/web\/pull\/1\) from `synthesis\/svc` \(updated\)/,
    );
    assert.equal(github.fileOn('synthesis/svc', 'services/svc/app.py'), 'print("again")\n');
    const head = github.refs.get('refs/heads/synthesis/svc')!;
    assert.equal(github.commits.get(github.commits.get(head)!.parents[0]!)!.parents[0], github.baseCommit);
  });

  it('review mode with a read-only token: the push fails before the write, so nothing is written; the step names the permissions', async () => {
    github.permissions.contents = 'read';
    try {
      const before = snapshotTree(dir.out);
      const r = await run({
        inputs: {
          provider: 'offline',
          intent: WEATHER,
          'output-directory': 'readonly',
          'review-mode': 'pullRequest',
          'review-branch': 'synthesis/readonly',
        },
        env: { ...behindProxy(), GITHUB_SHA: github.baseCommit },
      });
      assert.equal(r.code, 1);
      const message = commands(r, 'error').at(-1)!.data;
      assert.match(message, /it lacks 'contents: write'/);
      assert.match(message, /permissions: \{ contents: write, pull-requests: write \}/);
      assert.deepEqual(snapshotTree(dir.out), before, 'the workspace is unchanged');
      assert.equal(github.refs.has('refs/heads/synthesis/readonly'), false);
      assert.deepEqual(r.outputs, {}, 'no outputs for a failed run');
    } finally {
      github.permissions.contents = 'write';
    }
  });

  it('review mode on a pull_request event needs review-target-branch: named before the model is asked, and GitHub reviewers are checked as logins', async () => {
    const chats = world.openai.chats.length;
    const inputs = {
      provider: 'azureOpenAI',
      'auth-mode': 'apiKey',
      'api-key': API_KEY,
      endpoint: 'https://my-resource.openai.azure.com/',
      deployment: 'gpt-4o',
      intent: 'service:\n  name: svc\n  language: python\n  framework: flask\n',
      'review-mode': 'pullRequest',
    };
    const merge = await run({ inputs, env: { ...behindProxy(), GITHUB_REF: 'refs/pull/3/merge' } });
    assert.equal(merge.code, 1);
    assert.match(
      commands(merge, 'error').at(-1)!.data,
      /'refs\/pull\/3\/merge' is not a branch a pull request can target.*Set 'review-target-branch'/,
    );
    const bad = await run({ inputs: { ...inputs, reviewers: 'octocat, not a login' }, env: behindProxy() });
    assert.equal(bad.code, 1);
    assert.match(
      commands(bad, 'error').at(-1)!.data,
      /^Input 'reviewers': "not a login" is not a GitHub login or team/,
    );
    assert.equal(world.openai.chats.length, chats, 'the model was not asked');
    assert.equal(github.pulls.length, 1, 'no pull request beyond the first test’s');
  });

  it('validate-command runs without the runner’s secrets: no INPUT_*, runtime token, workflow token or key in its environment', async () => {
    const r = ok(
      await run({
        inputs: {
          provider: 'offline',
          intent: WEATHER,
          'output-directory': 'validated',
          'api-key': 'sk-live-5ecret-K3y',
          // Passes only when grep finds none of them in the command's environment (bash -eo pipefail).
          'validate-command': `! env | grep -E 'INPUT_|ACTIONS_RUNTIME|ACTIONS_ID_TOKEN|ghs_|sk-live|${PROXY.password}'`,
        },
        env: {
          ...behindProxy(),
          ACTIONS_RUNTIME_TOKEN: 'actions-runtime-token-93af',
          ACTIONS_ID_TOKEN_REQUEST_URL: 'https://pipelines.actions.githubusercontent.com/oidc',
          ACTIONS_ID_TOKEN_REQUEST_TOKEN: REQUEST_TOKEN,
        },
      }),
    );
    assert.match(r.stdout, /Validation round 1: passed/);
    assert.ok(fs.existsSync(path.join(dir.out, 'validated', 'weather', 'app.py')));
  });

  it("entraId through the runner's OIDC token: exchanged at Entra ID for the app in client-id, no key anywhere", async () => {
    const r = ok(
      await run({
        inputs: {
          provider: 'azureOpenAI',
          'auth-mode': 'entraId',
          'client-id': GH_APP,
          'tenant-id': TENANT,
          endpoint: 'https://my-resource.openai.azure.com/',
          deployment: 'gpt-4o',
          intent: 'service:\n  name: svc\n  language: python\n  framework: flask\n',
        },
        env: {
          ...behindProxy(),
          ACTIONS_ID_TOKEN_REQUEST_URL: oidc.requestUrl,
          ACTIONS_ID_TOKEN_REQUEST_TOKEN: REQUEST_TOKEN,
        },
      }),
    );
    assert.ok(oidc.audiences.length > 0, 'the runner was asked for a token');
    assert.deepEqual([...new Set(oidc.audiences)], ['api://AzureADTokenExchange'], 'for Entra ID only');
    const chat = world.openai.chats.at(-1)!;
    assert.equal(chat.headers['api-key'], undefined);
    assert.ok(world.entra.lookup(String(chat.headers.authorization).replace(/^Bearer /, ''), COGNITIVE));
    assert.ok(world.proxy.tunnels.includes(`${ACTIONS_OIDC_HOST}:443`));
    assert.ok(
      commands(r, 'add-mask').some((c) => c.data === ID_TOKEN),
      'the OIDC token is masked',
    );
  });

  it('keyVault through the same OIDC sign-in: the key read from the vault, masked, sent to Azure OpenAI', async () => {
    const r = ok(
      await run({
        inputs: {
          provider: 'azureOpenAI',
          'auth-mode': 'keyVault',
          'client-id': GH_APP,
          'tenant-id': TENANT,
          'key-vault-name': 'kv-ci',
          endpoint: 'https://my-resource.openai.azure.com/',
          deployment: 'gpt-4o',
          intent: 'service:\n  name: svc\n  language: python\n  framework: flask\n',
        },
        env: {
          ...behindProxy(),
          ACTIONS_ID_TOKEN_REQUEST_URL: oidc.requestUrl,
          ACTIONS_ID_TOKEN_REQUEST_TOKEN: REQUEST_TOKEN,
        },
      }),
    );
    assert.ok(world.vault.reads.some((read) => read.caller.clientId === GH_APP));
    assert.equal(world.openai.chats.at(-1)!.headers['api-key'], API_KEY);
    assert.ok(commands(r, 'add-mask').some((c) => c.data === API_KEY));
    assert.ok(!r.stdout.split('\n').some((l) => l.includes(API_KEY) && !l.startsWith('::add-mask::')));
  });

  it('entraId without id-token: write names the permission, before the model is asked', async () => {
    const chats = world.openai.chats.length;
    const r = await run({
      inputs: {
        provider: 'azureOpenAI',
        'auth-mode': 'entraId',
        'client-id': GH_APP,
        'tenant-id': TENANT,
        endpoint: 'https://my-resource.openai.azure.com/',
        deployment: 'gpt-4o',
        intent: 'service:\n  name: svc\n  language: python\n  framework: flask\n',
      },
      env: behindProxy(),
    });
    assert.equal(r.code, 1);
    assert.match(commands(r, 'error').at(-1)!.data, /permissions: id-token: write/);
    assert.equal(world.openai.chats.length, chats);
  });
});
