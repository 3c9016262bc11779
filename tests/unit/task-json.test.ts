/**
 * task.json is the public contract: it must match Microsoft's schema and agree with core/contract.ts,
 * which the code reads inputs and sets outputs by.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv-draft-04';
import { DEFAULTS, INPUTS, OUTPUTS } from '../../tasks/CodeSynthesis/src/core/contract';
import { REPO_ROOT } from '../support/repo';

interface TaskInput {
  name: string;
  type: string;
  label: string;
  defaultValue?: string | boolean;
  required?: boolean;
  helpMarkDown?: string;
  groupName?: string;
  visibleRule?: string;
  aliases?: string[];
  options?: Record<string, string>;
  properties?: Record<string, unknown>;
}

interface TaskJson {
  id: string;
  name: string;
  friendlyName: string;
  version: { Major: number; Minor: number; Patch: number };
  minimumAgentVersion: string;
  instanceNameFormat: string;
  groups: { name: string; displayName: string; visibleRule?: string }[];
  inputs: TaskInput[];
  dataSourceBindings: { target: string; endpointId: string; dataSourceName: string }[];
  outputVariables: { name: string; description?: string }[];
  restrictions: { commands?: unknown; settableVariables: { allowed: string[] } };
  execution: Record<string, { target: string; argumentFormat?: string }>;
}

const ROOT = REPO_ROOT;
const TASK_JSON = path.join(ROOT, 'tasks', 'CodeSynthesis', 'task.json');
/** Microsoft's task.json schema, carried in the project (source and licence in tests/fixtures/SOURCES.md). */
const SCHEMA = path.join(ROOT, 'tests', 'fixtures', 'task.schema.json');
const readJson = (file: string): unknown => JSON.parse(fs.readFileSync(file, 'utf8'));
const task = readJson(TASK_JSON) as TaskJson;
const inputNamed = (name: string): TaskInput => {
  const found = task.inputs.find((i) => i.name === name);
  assert.ok(found, `task.json has no input '${name}'`);
  return found;
};

/** The inputs as the brief specifies them: YAML name -> [type, default]. */
const EXPECTED: Record<string, [string, string | boolean | undefined]> = {
  intent: ['multiLine', '$(intent)'],
  intentFile: ['filePath', undefined],
  provider: ['pickList', 'azureOpenAI'],
  archiveFile: ['filePath', undefined],
  azureSubscription: ['connectedService:AzureRM', undefined],
  authMode: ['pickList', 'keyVault'],
  keyVaultName: ['pickList', undefined],
  apiKeySecretName: ['string', 'openai-api-key'],
  apiKey: ['string', undefined],
  endpoint: ['string', undefined],
  deployment: ['string', undefined],
  apiVersion: ['string', '2024-10-21'],
  outputDirectory: ['filePath', '$(Build.SourcesDirectory)'],
  conflictPolicy: ['pickList', 'fail'],
  deniedPaths: ['multiLine', undefined],
  maxFiles: ['string', '200'],
  maxTotalSizeKB: ['string', '5120'],
  temperature: ['string', undefined],
  maxOutputTokens: ['string', undefined],
  seed: ['string', undefined],
  instructionsFile: ['filePath', undefined],
  failOnFindings: ['boolean', true],
  policyFile: ['filePath', undefined],
  maxFileSizeKB: ['string', '1024'],
  provenanceHeaders: ['boolean', false],
  promptTokenPrice: ['string', undefined],
  completionTokenPrice: ['string', undefined],
  timeoutSeconds: ['string', '300'],
  validateCommand: ['multiLine', undefined],
  repairAttempts: ['string', '2'],
  validateTimeoutSeconds: ['string', '600'],
  validateWorkingDirectory: ['string', undefined],
  reviewMode: ['pickList', 'none'],
  reviewBranch: ['string', undefined],
  reviewTargetBranch: ['string', undefined],
  reviewDraft: ['boolean', false],
  reviewers: ['multiLine', undefined],
  generationStrategy: ['pickList', 'auto'],
  concurrency: ['string', '4'],
  reuse: ['boolean', true],
};

/**
 * Evaluates a visibleRule as the task editor does: clauses `name = value`, `name != value`, joined by
 * all `&&` or all `||` (the editor does not mix them).
 */
function isVisible(rule: string | undefined, values: Record<string, string>): boolean {
  if (!rule) return true;
  const and = rule.includes('&&');
  const results = parseRule(rule).map(
    ({ name, op, value }) => ((values[name] ?? '') === value) === (op === '='),
  );
  return and ? results.every(Boolean) : results.some(Boolean);
}

function parseRule(rule: string): { name: string; op: '=' | '!='; value: string }[] {
  assert.ok(
    !(rule.includes('&&') && rule.includes('||')),
    `visibleRule '${rule}' mixes && and ||, which the editor does not support`,
  );
  return rule.split(/&&|\|\|/).map((clause) => {
    const m = /^\s*([A-Za-z][A-Za-z0-9]*)\s*(!=|=)\s*(\S+)\s*$/.exec(clause);
    assert.ok(m, `visibleRule clause '${clause.trim()}' is not 'name = value' or 'name != value'`);
    return { name: m[1]!, op: m[2] as '=' | '!=', value: m[3]! };
  });
}

describe('task.json', () => {
  it('is valid against the published task schema, additional properties rejected as the schema says', () => {
    const schema = readJson(SCHEMA) as { $schema?: string };
    assert.match(String(schema.$schema), /draft-04/);
    // The schema's patterns (e.g. '^connectedService\:.+$') are not valid with the u flag; its
    // defaultValue is ["string","boolean"], a union type.
    const ajv = new Ajv({ allErrors: true, unicodeRegExp: false, allowUnionTypes: true });
    const validate = ajv.compile(schema);
    assert.ok(validate(task), ajv.errorsText(validate.errors, { separator: '\n' }));

    const tampered = structuredClone(task) as unknown as Record<string, unknown> & {
      inputs: Record<string, unknown>[];
    };
    tampered.notInSchema = true;
    tampered.inputs[0]!.alsoNotInSchema = 1;
    assert.equal(validate(tampered), false, 'the validator must reject fields the schema lacks');
    assert.deepEqual(
      validate.errors?.map((e) => e.params),
      [{ additionalProperty: 'notInSchema' }, { additionalProperty: 'alsoNotInSchema' }],
    );
  });

  it('identifies the task as CodeSynthesis@1 with a fixed GUID', () => {
    assert.equal(task.id, '86ee887c-a650-46cc-bc05-7a55bb58767d', 'the id must never change once published');
    assert.equal(task.name, 'CodeSynthesis');
    assert.deepEqual(task.version, { Major: 1, Minor: 0, Patch: 0 });
    assert.ok(task.friendlyName.length <= 40, 'tfx rejects a friendlyName over 40 characters');
    assert.ok(task.instanceNameFormat);
  });

  it('runs on Node24 with Node20_1 as fallback, from index.js beside task.json', () => {
    assert.deepEqual(Object.keys(task.execution).sort(), ['Node20_1', 'Node24']);
    for (const handler of Object.values(task.execution))
      assert.deepEqual(handler, { target: 'index.js', argumentFormat: '' });
    // https://github.com/microsoft/azure-pipelines-tasks/blob/master/docs/migrateNode24.md: 4.265.1 is
    // the first agent with the Node24 handler.
    const version = task.minimumAgentVersion.split('.').map(Number);
    assert.ok(version.length === 3 && version.every(Number.isInteger), task.minimumAgentVersion);
    const [major, minor, patch] = version as [number, number, number];
    assert.ok(
      major > 4 || (major === 4 && (minor > 265 || (minor === 265 && patch >= 1))),
      `minimumAgentVersion ${task.minimumAgentVersion} is older than 4.265.1`,
    );
  });

  it('has exactly the inputs of contract.ts INPUTS, no duplicates', () => {
    const names = task.inputs.map((i) => i.name);
    assert.equal(new Set(names).size, names.length, 'duplicate input names');
    assert.deepEqual([...names].sort(), Object.values(INPUTS).sort());
  });

  it('gives each input the specified type and default', () => {
    assert.deepEqual(Object.keys(EXPECTED).sort(), Object.values(INPUTS).sort());
    for (const [name, [type, defaultValue]] of Object.entries(EXPECTED)) {
      const input = inputNamed(name);
      assert.equal(input.type, type, `type of ${name}`);
      assert.equal(
        input.defaultValue === '' ? undefined : input.defaultValue,
        defaultValue,
        `defaultValue of ${name}`,
      );
    }
    assert.deepEqual(inputNamed(INPUTS.azureSubscription).aliases, ['connectedServiceName']);
    assert.equal(
      inputNamed(INPUTS.keyVaultName).properties?.EditableOptions,
      'True',
      'keyVaultName must accept a typed name',
    );
  });

  it('uses the defaults of contract.ts DEFAULTS', () => {
    for (const [name, value] of Object.entries(DEFAULTS)) {
      assert.equal(inputNamed(name).defaultValue, String(value), `defaultValue of ${name}`);
    }
  });

  it('offers exactly the accepted values in each pick list', () => {
    const options = (name: string) => Object.keys(inputNamed(name).options ?? {});
    assert.deepEqual(options(INPUTS.provider), ['azureOpenAI', 'openAICompatible', 'offline', 'archive']);
    assert.deepEqual(options(INPUTS.authMode), ['keyVault', 'entraId', 'apiKey']);
    assert.deepEqual(options(INPUTS.conflictPolicy), ['fail', 'overwrite', 'skip', 'merge']);
    assert.deepEqual(options(INPUTS.reviewMode), ['none', 'pullRequest']);
    assert.deepEqual(options(INPUTS.generationStrategy), ['auto', 'single', 'planned']);
    for (const input of task.inputs.filter((i) => i.type === 'pickList' && i.options)) {
      assert.ok(
        Object.keys(input.options!).includes(String(input.defaultValue)),
        `default of ${input.name} is not an option`,
      );
    }
  });

  it('has help on every input', () => {
    for (const input of task.inputs)
      assert.ok(input.helpMarkDown?.trim(), `input ${input.name} has no helpMarkDown`);
  });

  it('places inputs only in declared groups, and every group holds an input', () => {
    const groups = task.groups.map((g) => g.name);
    for (const input of task.inputs)
      if (input.groupName)
        assert.ok(groups.includes(input.groupName), `${input.name}: unknown group ${input.groupName}`);
    for (const group of groups)
      assert.ok(
        task.inputs.some((i) => i.groupName === group),
        `group ${group} is empty`,
      );
  });

  it('writes visibleRules over existing inputs and values they can take', () => {
    const rules = [...task.inputs, ...task.groups].filter((x) => x.visibleRule);
    assert.ok(rules.length > 0);
    for (const { name: owner, visibleRule } of rules) {
      for (const clause of parseRule(visibleRule!)) {
        const input = task.inputs.find((i) => i.name === clause.name);
        assert.ok(input, `visibleRule of ${owner} refers to unknown input '${clause.name}'`);
        assert.notEqual(clause.name, owner, `visibleRule of ${owner} refers to itself`);
        if (input.options)
          assert.ok(
            clause.value in input.options,
            `visibleRule of ${owner}: '${clause.value}' is not an option of ${clause.name}`,
          );
      }
    }
  });

  it('shows each authentication input only where it is used', () => {
    const groupRule = (name: string | undefined) => task.groups.find((g) => g.name === name)?.visibleRule;
    const shown = (provider: string, authMode: string) =>
      task.inputs
        .filter((i) => i.groupName === 'authentication')
        .filter(
          (i) =>
            isVisible(groupRule(i.groupName), { provider, authMode }) &&
            isVisible(i.visibleRule, { provider, authMode }),
        )
        .map((i) => i.name)
        .sort();
    for (const mode of ['keyVault', 'entraId', 'apiKey']) {
      assert.deepEqual(shown('offline', mode), [], `offline, ${mode}`);
      assert.deepEqual(shown('archive', mode), [], `archive, ${mode}`);
    }
    for (const provider of ['azureOpenAI', 'openAICompatible']) {
      assert.deepEqual(shown(provider, 'keyVault'), [
        'apiKeySecretName',
        'authMode',
        'azureSubscription',
        'keyVaultName',
      ]);
      assert.deepEqual(shown(provider, 'entraId'), ['authMode', 'azureSubscription']);
      assert.deepEqual(shown(provider, 'apiKey'), ['apiKey', 'authMode']);
    }
    const modelInputs = (provider: string) =>
      [INPUTS.endpoint, INPUTS.deployment, INPUTS.apiVersion].filter((n) =>
        isVisible(inputNamed(n).visibleRule, { provider }),
      );
    assert.deepEqual(modelInputs('offline'), []);
    assert.deepEqual(modelInputs('archive'), []);
    assert.deepEqual(modelInputs('azureOpenAI'), ['endpoint', 'deployment', 'apiVersion']);
    assert.deepEqual(modelInputs('openAICompatible'), ['endpoint', 'deployment']);
  });

  it('shows the archive file only for the archive provider, and hides what a model needs', () => {
    const archiveFile = inputNamed(INPUTS.archiveFile);
    assert.equal(archiveFile.groupName, 'model');
    for (const provider of ['azureOpenAI', 'openAICompatible', 'offline'])
      assert.equal(isVisible(archiveFile.visibleRule, { provider }), false, provider);
    assert.equal(isVisible(archiveFile.visibleRule, { provider: 'archive' }), true);
    assert.match(archiveFile.helpMarkDown ?? '', /zip, tar or tar\.gz/);
    for (const limit of ['Maximum number of files', 'Maximum total size', 'decompression bomb', 'links'])
      assert.ok(archiveFile.helpMarkDown?.includes(limit), `archiveFile help names ${limit}`);
    const pointless = [
      INPUTS.temperature,
      INPUTS.maxOutputTokens,
      INPUTS.seed,
      INPUTS.repairAttempts,
      INPUTS.promptTokenPrice,
      INPUTS.completionTokenPrice,
    ];
    for (const name of pointless) {
      assert.equal(isVisible(inputNamed(name).visibleRule, { provider: 'archive' }), false, name);
      assert.equal(isVisible(inputNamed(name).visibleRule, { provider: 'azureOpenAI' }), true, name);
    }
  });

  it('groups the validation and review inputs in the classic editor, showing the review details only for pull requests', () => {
    const group = (name: string) => task.groups.find((g) => g.name === name);
    assert.equal(group('validation')?.displayName, 'Validation');
    assert.equal(group('review')?.displayName, 'Review');
    const inGroup = (name: string) => task.inputs.filter((i) => i.groupName === name).map((i) => i.name);
    assert.deepEqual(inGroup('validation'), [
      INPUTS.validateCommand,
      INPUTS.repairAttempts,
      INPUTS.validateTimeoutSeconds,
      INPUTS.validateWorkingDirectory,
    ]);
    assert.deepEqual(inGroup('review'), [
      INPUTS.reviewMode,
      INPUTS.reviewBranch,
      INPUTS.reviewTargetBranch,
      INPUTS.reviewDraft,
      INPUTS.reviewers,
    ]);
    const shown = (reviewMode: string) =>
      inGroup('review').filter((n) => isVisible(inputNamed(n).visibleRule, { reviewMode }));
    assert.deepEqual(shown('none'), [INPUTS.reviewMode]);
    assert.deepEqual(shown('pullRequest'), inGroup('review'));
    for (const name of [...inGroup('validation'), ...inGroup('review')])
      assert.ok((inputNamed(name).helpMarkDown ?? '').length > 80, `${name} needs real help text`);
  });

  it('lists the key vaults of the chosen subscription as AzureKeyVault@2 does', () => {
    assert.equal(task.dataSourceBindings.length, 1);
    const binding = task.dataSourceBindings[0]!;
    assert.equal(binding.target, INPUTS.keyVaultName);
    assert.equal(binding.endpointId, `$(${INPUTS.azureSubscription})`);
    assert.equal(binding.dataSourceName, 'AzureKeyVaultsListV2');
    assert.equal(inputNamed(INPUTS.azureSubscription).type, 'connectedService:AzureRM');
  });

  it('declares exactly the OUTPUTS of contract.ts, and may set only those variables', () => {
    const outputs = Object.values(OUTPUTS).sort();
    assert.deepEqual(task.outputVariables.map((o) => o.name).sort(), outputs);
    for (const o of task.outputVariables)
      assert.ok(o.description?.trim(), `output ${o.name} has no description`);
    assert.deepEqual([...task.restrictions.settableVariables.allowed].sort(), outputs);
    assert.equal(
      task.restrictions.commands,
      undefined,
      'restricted command mode would block the summary upload (task.uploadsummary)',
    );
  });
});
