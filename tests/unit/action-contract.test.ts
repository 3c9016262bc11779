/**
 * action.yml is the GitHub Action's public contract: every task input (task.json, core/contract.ts) has
 * its kebab-case twin there with the same default, except the Azure-Pipelines-only ones; the outputs
 * are the task's in kebab-case plus the review's; the README documents the mapping. And the host's
 * pure pieces: names in messages, NO_PROXY, workflow commands in printed text.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import {
  ACTION_INPUTS,
  ALL_ACTION_OUTPUTS,
  AZURE_PIPELINES_ONLY,
  actionInputName,
  kebabCase,
  withActionNames,
} from '../../tasks/CodeSynthesis/src/adapters/pipeline/action-contract';
import {
  neutraliseWorkflowCommands,
  noProxyPatterns,
  runnerProxy,
} from '../../tasks/CodeSynthesis/src/adapters/pipeline/actions-host';
import { isBypassed } from '../../tasks/CodeSynthesis/src/adapters/net/network';
import { INPUTS, type InputName } from '../../tasks/CodeSynthesis/src/core/contract';
import { REPO_ROOT } from '../support/repo';

interface ActionYml {
  inputs: Record<string, { description: string; required?: boolean; default?: string }>;
  outputs: Record<string, { description: string }>;
  runs: { using: string; main: string };
}
interface TaskJson {
  inputs: { name: string; type: string; defaultValue?: string | boolean }[];
}

const action = parse(fs.readFileSync(path.join(REPO_ROOT, 'action.yml'), 'utf8')) as ActionYml;
const task = JSON.parse(
  fs.readFileSync(path.join(REPO_ROOT, 'tasks', 'CodeSynthesis', 'task.json'), 'utf8'),
) as TaskJson;
const sharedInputs = task.inputs.filter((i) => !AZURE_PIPELINES_ONLY.has(i.name as InputName));

describe('action.yml: the GitHub Action contract', () => {
  it('runs the bundle on node24', () => {
    assert.deepEqual(action.runs, { using: 'node24', main: 'dist/action/index.js' });
  });

  it('names inputs in kebab-case the way the README says', () => {
    assert.equal(kebabCase('maxTotalSizeKB'), 'max-total-size-kb');
    assert.equal(kebabCase('maxFileSizeKB'), 'max-file-size-kb');
    assert.equal(kebabCase('apiKey'), 'api-key');
    assert.equal(kebabCase('intent'), 'intent');
    assert.equal(kebabCase('reviewTargetBranch'), 'review-target-branch');
  });

  it('has the kebab-case twin of every task input except the Azure-Pipelines-only ones', () => {
    assert.ok(sharedInputs.length >= 26, String(sharedInputs.length));
    const missing = sharedInputs
      .map((i) => actionInputName(i.name as InputName))
      .filter((n) => !action.inputs[n]);
    assert.deepEqual(missing, []);
    assert.equal(action.inputs['azure-subscription'], undefined, 'no service connection on GitHub');
    // core/contract.ts and task.json list the same inputs (task-json.test.ts); both are covered here.
    assert.deepEqual(
      Object.values(INPUTS)
        .filter((n) => !AZURE_PIPELINES_ONLY.has(n))
        .sort(),
      sharedInputs.map((i) => i.name).sort(),
    );
  });

  it('keeps the task defaults, except those written as Azure Pipelines macros', () => {
    const differ: string[] = [];
    for (const input of sharedInputs) {
      const twin = action.inputs[actionInputName(input.name as InputName)]!;
      const taskDefault = input.defaultValue === undefined ? '' : String(input.defaultValue);
      if (/\$\(/.test(taskDefault)) {
        assert.equal(twin.default, undefined, `${input.name}: no macro default on GitHub`);
        continue;
      }
      if ((twin.default ?? '') !== taskDefault)
        differ.push(`${input.name}: ${taskDefault} vs ${twin.default}`);
    }
    assert.deepEqual(differ, []);
  });

  it('has no input that is neither a task input nor one of the action’s own', () => {
    const known = new Set([
      ...sharedInputs.map((i) => actionInputName(i.name as InputName)),
      ...Object.values(ACTION_INPUTS),
    ]);
    assert.deepEqual(
      Object.keys(action.inputs).filter((n) => !known.has(n)),
      [],
    );
    assert.deepEqual(
      Object.values(ACTION_INPUTS).filter((n) => !action.inputs[n]),
      [],
    );
    for (const [name, input] of Object.entries(action.inputs)) {
      assert.ok(input.description?.length > 10, `${name} is described`);
      assert.notEqual(
        input.required,
        true,
        `${name}: nothing is required up front; the run says what is missing`,
      );
    }
    assert.equal(action.inputs['github-token']!.default, '${{ github.token }}');
  });

  it('sets the task outputs in kebab-case, and the review outputs', () => {
    assert.deepEqual(Object.keys(action.outputs).sort(), [...ALL_ACTION_OUTPUTS].sort());
    for (const name of ['files-written', 'manifest-path', 'sarif-path', 'pull-request-url'])
      assert.ok(action.outputs[name], name);
  });

  it('the README documents every input of the action and where the Azure-only one went', () => {
    const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## GitHub Actions'));
    assert.ok(readme.includes('## GitHub Actions'), 'README has a GitHub Actions section');
    const undocumented = Object.keys(action.inputs).filter((n) => !section.includes(`\`${n}\``));
    assert.deepEqual(undocumented, []);
    assert.match(section, /`azureSubscription`[^\n]*`client-id`/);
  });
});

describe('examples/github/intent-to-pr.yml', () => {
  interface Workflow {
    on: { push: { branches: string[]; paths: string[] } };
    permissions: Record<string, string>;
    jobs: Record<string, { steps: { id?: string; uses?: string; with?: Record<string, unknown> }[] }>;
  }
  const workflow = parse(
    fs.readFileSync(path.join(REPO_ROOT, 'examples', 'github', 'intent-to-pr.yml'), 'utf8'),
  ) as Workflow;

  it('runs on a push touching intents/** with the permissions review mode and OIDC need', () => {
    assert.deepEqual(workflow.on.push.paths, ['intents/**']);
    for (const scope of ['contents', 'pull-requests', 'id-token'])
      assert.equal(workflow.permissions[scope], 'write', scope);
  });

  it('uses the action by its placeholder name with inputs action.yml has, in review mode', () => {
    const steps = Object.values(workflow.jobs).flatMap((j) => j.steps);
    const synth = steps.find((s) => s.uses === '<owner>/code-synthesis@v1');
    assert.ok(synth?.with, 'a step uses <owner>/code-synthesis@v1');
    assert.deepEqual(
      Object.keys(synth.with).filter((k) => !action.inputs[k]),
      [],
    );
    assert.equal(synth.with['review-mode'], 'pullRequest');
    assert.ok(steps.some((s) => s.uses?.startsWith('github/codeql-action/upload-sarif')));
  });

  it('validates in the action, before the push, with the tools set up before it', () => {
    const steps = Object.values(workflow.jobs).flatMap((j) => j.steps);
    const synth = steps.findIndex((s) => s.uses === '<owner>/code-synthesis@v1');
    assert.match(String(steps[synth]!.with!['validate-command']), /pytest/);
    assert.equal(steps[synth]!.with!['validate-working-directory'], 'weather');
    const python = steps.findIndex((s) => s.uses?.startsWith('actions/setup-python'));
    assert.ok(python >= 0 && python < synth, 'setup-python comes before the action');
  });
});

describe('the action host, pure parts', () => {
  it('names inputs in messages by their action names', () => {
    assert.equal(
      withActionNames("Input 'maxTotalSizeKB': too big. Set 'maxTotalSizeKB' or 'intent'; keep 'other'."),
      "Input 'max-total-size-kb': too big. Set 'max-total-size-kb' or 'intent'; keep 'other'.",
    );
    assert.equal(
      withActionNames("Input 'azureSubscription': a value is required for authMode 'keyVault'."),
      "Input 'client-id': a value is required for auth-mode 'keyVault'.",
    );
    assert.equal(withActionNames("Set 'reviewTargetBranch'."), "Set 'review-target-branch'.");
    assert.equal(
      withActionNames('or set failOnFindings to false; apiKey: $(openaiApiKey), authMode keyVault'),
      'or set fail-on-findings to false; api-key: $(openaiApiKey), auth-mode keyVault',
    );
    assert.equal(actionInputName(INPUTS.azureSubscription), 'azure-subscription');
  });

  it('reads the runner proxy from HTTPS_PROXY with its credentials apart, and NO_PROXY as the bypass list', () => {
    const proxy = runnerProxy({
      HTTPS_PROXY: 'http://corp%5Cbuilder:p%40ss@proxy.corp:3128',
      NO_PROXY: 'localhost, .internal.corp,10.0.0.1:8443 , *.svc',
    })!;
    assert.deepEqual(
      { url: proxy.url, username: proxy.username, password: proxy.password },
      { url: 'http://proxy.corp:3128', username: 'corp\\builder', password: 'p@ss' },
    );
    const bypassed = (url: string) => isBypassed(proxy, url);
    assert.ok(bypassed('https://localhost:8080/'));
    assert.ok(bypassed('https://git.internal.corp/'));
    assert.ok(bypassed('https://internal.corp/'));
    assert.ok(bypassed('https://10.0.0.1:8443/'));
    assert.ok(bypassed('https://a.svc/'));
    assert.ok(!bypassed('https://10.0.0.1/'), 'another port');
    assert.ok(!bypassed('https://api.github.com/'));
    assert.ok(!bypassed('https://notinternal.corp/'), 'a suffix is a whole label');
    assert.ok(!bypassed('https://localhost.evil.com/'));
    assert.equal(runnerProxy({}), undefined);
    assert.equal(runnerProxy({ https_proxy: 'proxy:8080' })!.url, 'http://proxy:8080');
    assert.ok(isBypassed({ url: 'http://p', bypass: noProxyPatterns('*') }, 'https://anything/'));
    assert.ok(
      isBypassed(
        { url: 'http://p', bypass: noProxyPatterns('api.github.com:443') },
        'https://api.github.com/',
      ),
    );
  });

  it('neutralises workflow commands in printed text, at the start of any line and ##[ anywhere', () => {
    const text = neutraliseWorkflowCommands(
      'ok\n::set-output name=x::pwned\n  ::add-mask::y\na ::b:: c\n##[error]z',
    );
    assert.doesNotMatch(text, /^\s*::/m);
    assert.doesNotMatch(text, /##\[/);
    assert.match(text, /a ::b:: c/, 'text in the middle of a line is left alone');
    assert.equal(neutraliseWorkflowCommands('plain text'), 'plain text');
  });
});
