import assert from 'node:assert/strict';
import { DEFAULTS } from '../../tasks/CodeSynthesis/src/core/contract';
import { InputError, PathError } from '../../tasks/CodeSynthesis/src/core/errors';
import { checkPaths } from '../../tasks/CodeSynthesis/src/core/paths';
import { parseSettings, type RawInputs } from '../../tasks/CodeSynthesis/src/core/settings';

const offline: RawInputs = { provider: 'offline', intent: 'service: {}', outputDirectory: '/s' };
const azure: RawInputs = {
  provider: 'azureOpenAI',
  intent: 'x',
  outputDirectory: '/s',
  endpoint: 'https://res.openai.azure.com/',
  deployment: 'gpt-4o',
  azureSubscription: 'conn',
  keyVaultName: 'my-vault',
};

function rejects(raw: RawInputs, input: string, text: RegExp): void {
  assert.throws(
    () => parseSettings(raw),
    (e: unknown) => e instanceof InputError && e.subject === input && text.test(e.describe()),
  );
}

describe('settings', () => {
  it('applies the documented defaults', () => {
    const s = parseSettings(azure);
    assert.equal(s.apiVersion, DEFAULTS.apiVersion);
    assert.equal(s.conflictPolicy, 'fail');
    assert.equal(s.maxFiles, 200);
    assert.equal(s.maxTotalBytes, 5120 * 1024);
    assert.equal(s.timeoutSeconds, 300);
    assert.equal(s.failOnFindings, true);
    assert.deepEqual(s.model, {});
    assert.equal(s.endpoint, 'https://res.openai.azure.com');
    assert.deepEqual(s.auth, {
      mode: 'keyVault',
      connection: 'conn',
      vaultName: 'my-vault',
      secretName: 'openai-api-key',
    });
  });

  it('names the undefined pipeline variable when the intent is the literal $(intent)', () => {
    rejects({ ...offline, intent: '$(intent)' }, 'intent', /variable 'intent' is not defined/);
    rejects({ ...offline, intent: undefined }, 'intent', /variable 'intent' is not defined/);
  });

  it('prefers intentFile over intent', () => {
    assert.deepEqual(parseSettings({ ...offline, intent: '$(intent)', intentFile: 'a.yaml' }).intent, {
      kind: 'file',
      path: 'a.yaml',
    });
  });

  it('rejects an empty intent', () => rejects({ ...offline, intent: '  ' }, 'intent', /empty/));

  const bad: Array<[string, RawInputs, string, RegExp]> = [
    [
      'unknown provider',
      { ...offline, provider: 'gemini' },
      'provider',
      /azureOpenAI, openAICompatible, offline/,
    ],
    ['missing endpoint', { ...azure, endpoint: '' }, 'endpoint', /required/],
    ['endpoint not a URL', { ...azure, endpoint: 'res.openai' }, 'endpoint', /not a URL/],
    ['endpoint with credentials', { ...azure, endpoint: 'https://u:p@x.com' }, 'endpoint', /credentials/],
    ['ftp endpoint', { ...azure, endpoint: 'ftp://x.com' }, 'endpoint', /https/],
    ['missing deployment', { ...azure, deployment: undefined }, 'deployment', /required/],
    ['unknown auth mode', { ...azure, authMode: 'password' }, 'authMode', /keyVault, entraId, apiKey/],
    ['apiKey mode without key', { ...azure, authMode: 'apiKey' }, 'apiKey', /secret pipeline variable/],
    [
      'apiKey is an undefined variable',
      { ...azure, authMode: 'apiKey', apiKey: '$(key)' },
      'apiKey',
      /needs the key/,
    ],
    [
      'keyVault without connection',
      { ...azure, azureSubscription: '' },
      'azureSubscription',
      /service connection/,
    ],
    ['keyVault without vault', { ...azure, keyVaultName: '' }, 'keyVaultName', /required/],
    [
      'vault URL instead of name',
      { ...azure, keyVaultName: 'https://v.vault.azure.net' },
      'keyVaultName',
      /not a Key Vault name/,
    ],
    [
      'bad secret name',
      { ...azure, apiKeySecretName: 'a_b' },
      'apiKeySecretName',
      /not a Key Vault secret name/,
    ],
    [
      'entraId with compatible',
      { ...azure, provider: 'openAICompatible', authMode: 'entraId' },
      'authMode',
      /only with provider 'azureOpenAI'/,
    ],
    ['bad api version', { ...azure, apiVersion: 'latest' }, 'apiVersion', /not an api-version/],
    ['no output directory', { ...offline, outputDirectory: '' }, 'outputDirectory', /required/],
    [
      'bad conflict policy',
      { ...offline, conflictPolicy: 'rebase' },
      'conflictPolicy',
      /fail, overwrite, skip/,
    ],
    ['maxFiles not a number', { ...offline, maxFiles: 'ten' }, 'maxFiles', /whole number from 1 to 10000/],
    ['maxFiles zero', { ...offline, maxFiles: '0' }, 'maxFiles', /whole number/],
    ['maxTotalSizeKB fraction', { ...offline, maxTotalSizeKB: '1.5' }, 'maxTotalSizeKB', /whole number/],
    ['temperature too high', { ...offline, temperature: '3' }, 'temperature', /from 0 to 2/],
    ['temperature text', { ...offline, temperature: 'hot' }, 'temperature', /number/],
    ['maxOutputTokens negative', { ...offline, maxOutputTokens: '-5' }, 'maxOutputTokens', /whole number/],
    ['seed text', { ...offline, seed: 'abc' }, 'seed', /whole number/],
    ['failOnFindings not boolean', { ...offline, failOnFindings: 'yes' }, 'failOnFindings', /true or false/],
    ['timeout too small', { ...offline, timeoutSeconds: '1' }, 'timeoutSeconds', /from 5 to 3600/],
  ];
  for (const [name, raw, input, text] of bad)
    it(`rejects ${name}, naming '${input}'`, () => rejects(raw, input, text));

  it('reads model settings only when set', () => {
    const s = parseSettings({ ...offline, temperature: '0.2', maxOutputTokens: '4000', seed: '7' });
    assert.deepEqual(s.model, { temperature: 0.2, maxOutputTokens: 4000, seed: 7 });
  });

  it('splits deniedPaths on lines and commas, ignoring comments', () => {
    assert.deepEqual(
      parseSettings({ ...offline, deniedPaths: 'secrets/**\n# note\n*.pem, infra/**\n' }).deniedPaths,
      ['secrets/**', '*.pem', 'infra/**'],
    );
  });

  it('accepts values case-insensitively', () => {
    assert.equal(
      parseSettings({ ...offline, provider: 'OFFLINE', conflictPolicy: 'Skip' }).conflictPolicy,
      'skip',
    );
  });

  it('needs no credentials for the offline provider', () => {
    assert.deepEqual(parseSettings(offline).auth, { mode: 'none' });
  });

  it('reads apiKey and entraId modes', () => {
    assert.deepEqual(parseSettings({ ...azure, authMode: 'apiKey', apiKey: 'k' }).auth, {
      mode: 'apiKey',
      apiKey: 'k',
    });
    assert.deepEqual(parseSettings({ ...azure, authMode: 'entraId' }).auth, {
      mode: 'entraId',
      connection: 'conn',
    });
  });
});

describe('settings: path inputs and globs', () => {
  const base: RawInputs = { provider: 'offline', intent: 'x', outputDirectory: '/s' };

  it('keeps a brace glob with commas whole', () => {
    assert.deepEqual(parseSettings({ ...base, deniedPaths: 'secrets/{*.pem,*.key}, infra/**' }).deniedPaths, [
      'secrets/{*.pem,*.key}',
      'infra/**',
    ]);
  });

  it('a brace glob denies every alternative', () => {
    const settings = parseSettings({ ...base, deniedPaths: 'secrets/{*.pem,*.key}' });
    const files = ['secrets/a.pem', 'secrets/b.key'].map((path) => ({ path, content: 'x' }));
    assert.throws(
      () => checkPaths(files, settings),
      (e: unknown) => e instanceof PathError && e.problems.length === 2,
    );
  });

  it('rejects unbalanced braces in deniedPaths', () => {
    assert.throws(
      () => parseSettings({ ...base, deniedPaths: 'secrets/{*.pem' }),
      (e: unknown) => e instanceof InputError && e.subject === 'deniedPaths',
    );
  });

  for (const input of ['outputDirectory', 'intentFile', 'instructionsFile'] as const) {
    it(`rejects an unexpanded macro in ${input}`, () => {
      assert.throws(
        () => parseSettings({ ...base, [input]: '$(Build.SourcesDirectory)/x' }),
        (e: unknown) =>
          e instanceof InputError &&
          e.subject === input &&
          /no variable 'Build\.SourcesDirectory'/.test(e.message),
      );
    });
  }
});

describe('settings: scan, provenance and cost inputs', () => {
  it('defaults: no policy file, 1024 KB per file, no headers, no prices', () => {
    const s = parseSettings(offline);
    assert.equal(s.policyFile, undefined);
    assert.equal(s.maxFileBytes, 1024 * 1024);
    assert.equal(s.provenanceHeaders, false);
    assert.equal(s.prices, undefined);
  });

  it('reads them when set', () => {
    const s = parseSettings({
      ...offline,
      policyFile: 'policy.yaml',
      maxFileSizeKB: '64',
      provenanceHeaders: 'True',
      promptTokenPrice: '2.50',
      completionTokenPrice: '10',
    });
    assert.equal(s.policyFile, 'policy.yaml');
    assert.equal(s.maxFileBytes, 64 * 1024);
    assert.equal(s.provenanceHeaders, true);
    assert.deepEqual(s.prices, { prompt: 2.5, completion: 10 });
  });

  it('rejects bad values, naming the input', () => {
    rejects({ ...offline, maxFileSizeKB: '0' }, 'maxFileSizeKB', /whole number from 1/);
    rejects({ ...offline, provenanceHeaders: 'yes' }, 'provenanceHeaders', /not a boolean/);
    rejects(
      { ...offline, promptTokenPrice: '-1', completionTokenPrice: '1' },
      'promptTokenPrice',
      /number from 0/,
    );
    rejects({ ...offline, promptTokenPrice: '1' }, 'completionTokenPrice', /needs both token prices/);
    rejects({ ...offline, policyFile: '$(Missing)/p.yaml' }, 'policyFile', /no variable 'Missing'/);
  });

  describe('validation inputs', () => {
    it('are off without validateCommand, whatever the others say', () => {
      assert.equal(parseSettings({ ...offline, repairAttempts: '5' }).validation, undefined);
      assert.equal(parseSettings({ ...offline, validateCommand: '  \n ' }).validation, undefined);
    });

    it('take the documented defaults with a command', () => {
      assert.deepEqual(parseSettings({ ...offline, validateCommand: ' npm ci && npm test\n' }).validation, {
        command: 'npm ci && npm test',
        repairAttempts: 2,
        timeoutSeconds: 600,
        workingDirectory: '',
      });
    });

    it('read each value, and reject bad ones naming the input', () => {
      const v = parseSettings({
        ...offline,
        validateCommand: 'dotnet build',
        repairAttempts: '0',
        validateTimeoutSeconds: '900',
        validateWorkingDirectory: 'src\\Api',
      }).validation;
      assert.deepEqual(v, {
        command: 'dotnet build',
        repairAttempts: 0,
        timeoutSeconds: 900,
        workingDirectory: 'src/Api',
      });
      const cmd = { ...offline, validateCommand: 'pytest' };
      rejects({ ...cmd, repairAttempts: '11' }, 'repairAttempts', /whole number from 0 to 10/);
      rejects({ ...cmd, validateTimeoutSeconds: '1' }, 'validateTimeoutSeconds', /from 5 to 86400/);
      rejects({ ...cmd, validateWorkingDirectory: '../up' }, 'validateWorkingDirectory', /'\.\.'/);
    });
  });
});

describe('settings: the archive provider', () => {
  const archive: RawInputs = { provider: 'archive', archiveFile: '/a/generated.zip', outputDirectory: '/s' };

  it('needs archiveFile, and no credentials, endpoint, deployment or intent', () => {
    const s = parseSettings(archive);
    assert.equal(s.provider, 'archive');
    assert.equal(s.archiveFile, '/a/generated.zip');
    assert.deepEqual(s.auth, { mode: 'none' });
    assert.equal(s.endpoint, undefined);
    assert.equal(s.deployment, undefined);
    assert.deepEqual(s.intent, { kind: 'archive', file: '/a/generated.zip' });
    assert.equal(parseSettings({ ...archive, provider: 'Archive' }).provider, 'archive');
  });

  it('refuses a missing archiveFile, or one holding an undefined variable, naming the input', () => {
    rejects({ ...archive, archiveFile: undefined }, 'archiveFile', /required for provider 'archive'/);
    rejects({ ...archive, archiveFile: '  ' }, 'archiveFile', /zip, tar or tar\.gz/);
    rejects(
      { ...archive, archiveFile: '$(Pipeline.Workspace)/generated.zip' },
      'archiveFile',
      /no variable 'Pipeline\.Workspace'/,
    );
  });

  it("lets the archive stand for an intent left empty or the undefined default '$(intent)'", () => {
    for (const intent of [undefined, '', '  ', '$(intent)'])
      assert.deepEqual(parseSettings({ ...archive, intent }).intent, {
        kind: 'archive',
        file: '/a/generated.zip',
      });
  });

  it('still takes an intent given with it, and still names another undefined variable', () => {
    assert.deepEqual(parseSettings({ ...archive, intent: 'service:\n  name: w\n' }).intent, {
      kind: 'inline',
      text: 'service:\n  name: w\n',
    });
    assert.deepEqual(parseSettings({ ...archive, intentFile: 'card.yaml' }).intent, {
      kind: 'file',
      path: 'card.yaml',
    });
    rejects({ ...archive, intent: '$(card)' }, 'intent', /variable 'card' is not defined/);
  });

  it('ignores archiveFile for the other providers', () => {
    const s = parseSettings({ ...offline, archiveFile: '/a/generated.zip' });
    assert.equal(s.archiveFile, undefined);
    assert.equal(s.intent.kind, 'inline');
  });

  it('defaults the review branch to synthesis/archive-<file name> when the archive stands for the intent', () => {
    const branch = (raw: RawInputs) => {
      const review = parseSettings({ ...raw, reviewMode: 'pullRequest' }).review;
      assert.equal(review.mode, 'pullRequest');
      return review.mode === 'pullRequest' ? review.branch : 'none';
    };
    assert.equal(branch(archive), 'synthesis/archive-generated');
    assert.equal(branch({ ...archive, reviewBranch: 'gen/mine' }), 'gen/mine');
    // With an intent, the intent's default applies later (synthesis/<service name>).
    assert.equal(branch({ ...archive, intent: 'service:\n  name: w\n' }), undefined);
    assert.deepEqual(parseSettings(archive).review, { mode: 'none' });
  });
});
