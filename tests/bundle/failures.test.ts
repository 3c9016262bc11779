/**
 * Every failure a user can meet, through the built bundle run as the agent runs it (inputs, endpoints
 * and variables in the environment; the agent's proxy and CA where Azure hosts are involved). Each case
 * asserts: the task failed; the message names the resource or input at fault and what to do; the output
 * directory is byte-for-byte unchanged; no secret was printed (only registered with ##vso[task.setsecret]).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fakeOidcToken } from '../fake-servers/azure-devops';
import { AADSTS, makeAppCertificate } from '../fake-servers/entra-id';
import {
  azureAnswers,
  completion,
  type FakeAnswer,
  type FakeOpenAIOptions,
} from '../fake-servers/azure-openai';
import { agent, outcome, visibleOutput, type EndpointSpec, type TaskRunOptions } from '../support/agent-run';
import {
  API_KEY,
  APP,
  JOB_VARIABLES,
  OIDC,
  PROXY_USER,
  spConnection,
  startAzureWorld,
  SUBJECT,
  SYSTEM_VSS_CONNECTION,
  TENANT,
  WIF_APP,
  wifConnection,
  type AzureWorld,
} from '../support/azure-world';
import { commitInChild } from '../support/killed-commit';
import { snapshotTree } from '../support/tree-snapshot';
import { useWorkDir } from '../support/work-dir';

const OTHER_TENANT = '99999999-8888-7777-6666-555555555555';
/** An app whose federated credential was made for another connection name. */
const WIF_STALE_APP = 'cccccccc-dddd-eeee-ffff-000000000000';
const OLD_KEY = 'aoai-key-0ld0ld0ld0ld0ld0ld0ld0ld0ld0ld0l';
const WRONG_SP_SECRET = 'sp-secret~Wrong.456';
const WRONG_PROXY_PASSWORD = 'proxy-Wr0ng!';
const HOST = 'my-resource.openai.azure.com';

const CONN = {
  sp: '0f5e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b',
  wrongSecret: '2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901',
  wrongTenant: '3c4d5e6f-7081-4293-a4b5-c6d7e8f90a12',
  wif: '1a2b3c4d-5e6f-4789-8abc-def012345678',
  wifStale: '4d5e6f70-8192-43a4-b5c6-d7e8f90a1b23',
  userPass: '5e6f7081-92a3-44b5-86d7-e8f90a1b2c34',
  otherCert: '6f708192-a3b4-45c6-97e8-f90a1b2c3d46',
} as const;
/** A certificate (with its key) that is not registered on the app. */
const OTHER_CERT = makeAppCertificate('not-the-app');
/** The private key's base64 lines: secret, each one. */
const KEY_LINES = OTHER_CERT.combinedPem
  .split(/-----END PRIVATE KEY-----/)[0]!
  .split('\n')
  .filter((l) => l.length >= 8 && !l.startsWith('-----'));

const ENDPOINTS: Record<string, EndpointSpec> = {
  [CONN.sp]: spConnection(),
  [CONN.wrongSecret]: spConnection({ serviceprincipalkey: WRONG_SP_SECRET }),
  [CONN.wrongTenant]: spConnection({ tenantid: OTHER_TENANT }),
  [CONN.wif]: wifConnection(WIF_APP),
  [CONN.wifStale]: wifConnection(WIF_STALE_APP),
  [CONN.userPass]: { scheme: 'UsernamePassword', auth: { username: 'me', password: 'pw' } },
  [CONN.otherCert]: spConnection({
    serviceprincipalkey: '',
    authenticationType: 'spnCertificate',
    servicePrincipalCertificate: OTHER_CERT.combinedPem,
  }),
  SystemVssConnection: SYSTEM_VSS_CONNECTION,
};
/** Secrets that must never be printed (besides ##vso[task.setsecret] lines). */
const SECRETS = [
  API_KEY,
  OLD_KEY,
  APP.secret,
  WRONG_SP_SECRET,
  PROXY_USER.password,
  WRONG_PROXY_PASSWORD,
  OIDC,
  ...KEY_LINES,
];

/** One failure: how to run it and what the message must say. */
interface FailureCase {
  name: string;
  /** Inputs over the defaults (azureOpenAI, Key Vault 'kv-ci' via service connection CONN.sp). */
  inputs?: Record<string, string>;
  /** Run without the proxy (the agent has none). */
  direct?: boolean;
  /** Variables over the agent's defaults. */
  variables?: Record<string, string>;
  proxyPassword?: string;
  /** Options for this case's fake Azure OpenAI. */
  openai?: FakeOpenAIOptions;
  /** Scripted Azure OpenAI answers. */
  answers?: FakeAnswer[];
  /** Every token request fails with this Entra error. */
  entraFails?: () => ReturnType<(typeof AADSTS)['expiredSecret']>;
  /** Every pattern must be found in the failure message. */
  says: Array<string | RegExp>;
  /** Patterns that must not be in the message. */
  saysNot?: Array<string | RegExp>;
}

const apiKeyAuth = { authMode: 'apiKey', apiKey: API_KEY };

const CASES: FailureCase[] = [
  // Azure OpenAI
  {
    name: 'Azure OpenAI 401: the key in Key Vault is not a key of the resource',
    inputs: { keyVaultName: 'kv-stale' },
    says: [
      `Azure OpenAI at ${HOST} rejected the API key (401)`,
      "the Key Vault secret 'openai-api-key' in vault 'kv-stale'",
      'Keys and Endpoint',
      "'endpoint'",
    ],
  },
  {
    name: 'Azure OpenAI 401 with Entra ID: the identity has no role on the resource',
    inputs: { authMode: 'entraId' },
    openai: { bearerTokens: [] },
    says: [
      `Azure OpenAI at ${HOST} rejected the Entra ID token`,
      'PermissionDenied',
      "'Cognitive Services OpenAI User' role",
    ],
  },
  {
    name: 'Azure OpenAI 403: key-based authentication is disabled',
    inputs: apiKeyAuth,
    answers: [azureAnswers.keyAuthDisabled()],
    says: [`Azure OpenAI at ${HOST} has key-based authentication disabled (403`, "'authMode' to 'entraId'"],
  },
  {
    name: 'Azure OpenAI 403: the resource firewall refuses the agent',
    inputs: apiKeyAuth,
    answers: [azureAnswers.firewall()],
    says: [`Azure OpenAI at ${HOST} refused the connection because of its network rules (403)`, 'Networking'],
  },
  {
    name: 'Azure OpenAI 404 DeploymentNotFound',
    inputs: { ...apiKeyAuth, deployment: 'gpt-4o-typo' },
    says: [
      `Azure OpenAI at ${HOST} has no deployment named 'gpt-4o-typo' (404 DeploymentNotFound)`,
      "Set 'deployment'",
    ],
  },
  {
    name: 'Azure OpenAI: unsupported api-version',
    inputs: { ...apiKeyAuth, apiVersion: '2023-01-01' },
    says: [
      `Azure OpenAI at ${HOST} does not accept api-version '2023-01-01' for deployment 'gpt-4o'`,
      "Set 'apiVersion'",
      '2024-10-21',
    ],
  },
  {
    name: 'Azure OpenAI 400 content_filter (ResponsibleAIPolicyViolation) on the prompt',
    inputs: apiKeyAuth,
    answers: [
      azureAnswers.contentFilter({
        hate: { filtered: false, severity: 'safe' },
        violence: { filtered: true, severity: 'medium' },
        jailbreak: { filtered: true, detected: true },
      }),
    ],
    says: [
      "Azure OpenAI's content filter blocked the prompt (categories: violence (medium), jailbreak)",
      'Nothing was written',
      "deployment 'gpt-4o'",
    ],
    saysNot: ['hate'],
  },
  {
    name: "Azure OpenAI content filter on the model's answer (finish_reason content_filter)",
    inputs: apiKeyAuth,
    answers: [
      completion(null, {
        finishReason: 'content_filter',
        filter: { self_harm: { filtered: true, severity: 'high' } },
      }),
    ],
    says: ["content filter blocked the model's answer (categories: self_harm (high))", 'Nothing was written'],
  },
  {
    name: 'Azure OpenAI 400 context_length_exceeded',
    inputs: apiKeyAuth,
    answers: [azureAnswers.contextLengthExceeded(128000, 131000, 4096)],
    says: [
      "The request is too long for deployment 'gpt-4o': it needs 135096 tokens (131000 in the prompt, 4096 reserved for the answer), the model's limit is 128000",
      "'maxOutputTokens'",
    ],
  },
  {
    name: 'Azure OpenAI reply cut off at the token limit (finish_reason length)',
    // 'single': with 'auto' (the default) a cut reply goes on as a planned generation.
    inputs: { ...apiKeyAuth, maxOutputTokens: '256', generationStrategy: 'single' },
    answers: [
      completion('{"files":[{"path":"svc/app.py","content":"import fla', {
        finishReason: 'length',
        completionTokens: 256,
      }),
    ],
    says: [
      'cut off at the output token limit (256 tokens)',
      "Raise 'maxOutputTokens'",
      'Nothing was written',
    ],
  },
  {
    name: 'Azure OpenAI empty reply with finish_reason length (a reasoning model spent the budget)',
    inputs: { ...apiKeyAuth, maxOutputTokens: '100' },
    answers: [completion('', { finishReason: 'length', completionTokens: 100 })],
    says: ["empty answer (finish_reason 'length')", "Raise 'maxOutputTokens'"],
  },
  {
    name: 'invalid structured output: malformed JSON',
    inputs: apiKeyAuth,
    answers: [completion('{"files": [{"path": "svc/app.py", "content": }]}')],
    says: ['Model reply: the reply starts as JSON but is not valid JSON', 'Nothing was written'],
  },
  {
    name: 'invalid structured output: JSON of the wrong shape',
    inputs: apiKeyAuth,
    answers: [completion(JSON.stringify({ files: [{ path: 'svc/app.py', content: 42 }, { name: 'x' }] }))],
    says: [
      'Model reply: the JSON does not match the schema',
      'files[0].content is not a string',
      'files[1].path is not a string',
      'Nothing was written',
    ],
  },
  {
    name: 'Azure OpenAI 429 beyond the time budget',
    inputs: { ...apiKeyAuth, timeoutSeconds: '5' },
    answers: [azureAnswers.throttled(20000)],
    says: [
      `Azure OpenAI at ${HOST} is throttling requests (429); it asked to wait 20 s`,
      "'timeoutSeconds' (5 s)",
      "tokens-per-minute quota of deployment 'gpt-4o'",
    ],
  },
  // Key Vault
  {
    name: 'Key Vault 403: access policy without Get on secrets',
    inputs: { keyVaultName: 'kv-policy' },
    says: [
      `service connection '${CONN.sp}' (object id ${APP.objectId}) may not read secret 'openai-api-key' in Key Vault 'kv-policy'`,
      'AccessDenied',
      'access policy with Get on secrets',
    ],
  },
  {
    name: 'Key Vault 403: Azure RBAC without a role',
    inputs: { keyVaultName: 'kv-rbac' },
    says: [
      `(object id ${APP.objectId}) may not read secret 'openai-api-key' in Key Vault 'kv-rbac'`,
      'ForbiddenByRbac',
      "'Key Vault Secrets User' role",
    ],
  },
  {
    name: 'Key Vault 404: no such secret',
    inputs: { keyVaultName: 'kv-ci', apiKeySecretName: 'aoai-key' },
    says: ["Secret 'aoai-key' was not found in Key Vault 'kv-ci'", "'apiKeySecretName'"],
  },
  {
    name: 'Key Vault: the secret is disabled',
    inputs: { keyVaultName: 'kv-ci', apiKeySecretName: 'retired-key' },
    says: ["Secret 'retired-key' in Key Vault 'kv-ci' is disabled (SecretDisabled)", 'Enable the secret'],
  },
  {
    name: 'Key Vault: the vault name does not resolve (no proxy)',
    direct: true,
    inputs: { keyVaultName: 'kv-typo' },
    says: [
      "Key Vault 'kv-typo' was not found in AzureCloud (kv-typo.vault.azure.net does not resolve)",
      "'keyVaultName'",
    ],
  },
  {
    name: 'Key Vault: the vault name does not resolve at the proxy',
    inputs: { keyVaultName: 'kv-unknown' },
    says: ["Key Vault 'kv-unknown'", 'kv-unknown.vault.azure.net', "'keyVaultName'"],
  },
  {
    name: "Key Vault: the vault's firewall refuses the agent (ForbiddenByFirewall)",
    inputs: { keyVaultName: 'kv-firewall' },
    says: [
      "Key Vault 'kv-firewall' refused the agent's address (firewall, ForbiddenByFirewall)",
      'Networking',
    ],
  },
  {
    name: 'Key Vault: private endpoint only (ForbiddenByConnection)',
    inputs: { keyVaultName: 'kv-private' },
    says: [
      "Key Vault 'kv-private' does not accept public network access",
      'ForbiddenByConnection',
      'private endpoint',
    ],
  },
  // Entra ID
  {
    name: 'Entra ID AADSTS7000222: the client secret expired',
    entraFails: () => AADSTS.expiredSecret(APP.clientId),
    says: [
      `The client secret of service connection '${CONN.sp}' has expired (AADSTS7000222)`,
      `new client secret for app '${APP.clientId}'`,
    ],
  },
  {
    name: 'Entra ID AADSTS7000215: the client secret is wrong',
    inputs: { azureSubscription: CONN.wrongSecret },
    says: [
      `Entra ID rejected the client secret of service connection '${CONN.wrongSecret}' (AADSTS7000215`,
      'value, not its ID',
    ],
  },
  {
    name: 'Entra ID AADSTS700027: the certificate is not registered on the app (its multi-line PEM masked line by line)',
    inputs: { azureSubscription: CONN.otherCert },
    says: [
      `Entra ID rejected the certificate of service connection '${CONN.otherCert}' (AADSTS700027)`,
      `not registered on app '${APP.clientId}'`,
      'Certificates & secrets',
    ],
  },
  {
    name: 'Entra ID AADSTS90002: the tenant does not exist (Entra ID auth, no vault challenge)',
    inputs: { azureSubscription: CONN.wrongTenant, authMode: 'entraId' },
    says: [
      `Tenant '${OTHER_TENANT}' of service connection '${CONN.wrongTenant}' was not found in AzureCloud (AADSTS90002)`,
      'tenant ID',
    ],
  },
  {
    name: "Entra ID: the vault is in another tenant than the connection's",
    inputs: { azureSubscription: CONN.wrongTenant },
    says: [`tenant '${TENANT}'`, `service connection '${CONN.wrongTenant}' is for tenant '${OTHER_TENANT}'`],
  },
  {
    name: 'Entra ID AADSTS700213: no federated credential matches the pipeline token',
    inputs: { azureSubscription: CONN.wifStale },
    variables: JOB_VARIABLES,
    says: [
      `No federated credential of app '${WIF_STALE_APP}' matches the pipeline's token`,
      'AADSTS700213',
      `subject '${SUBJECT}'`,
      'issuer https://vstoken.dev.azure.com/org-id',
    ],
  },
  // Service connection
  {
    name: 'service connection with an unsupported scheme',
    inputs: { azureSubscription: CONN.userPass },
    says: [
      `Service connection '${CONN.userPass}' uses the authorization scheme 'UsernamePassword'`,
      'ServicePrincipal, WorkloadIdentityFederation, ManagedServiceIdentity',
    ],
  },
  {
    name: 'workload identity federation without the System.* job variables',
    inputs: { azureSubscription: CONN.wif },
    variables: { 'System.TeamProject': 'web' },
    says: [
      'Workload identity federation needs the pipeline variables',
      'System.CollectionUri',
      'System.TeamProjectId',
      'System.HostType',
      'System.PlanId, System.JobId, which are not set',
    ],
    saysNot: ['System.JobId, System.AccessToken'],
  },
  // Proxy
  {
    name: 'proxy 407: wrong proxy password (Azure SDK path, Key Vault first)',
    proxyPassword: WRONG_PROXY_PASSWORD,
    says: [
      "Cannot reach Key Vault 'kv-ci' (kv-ci.vault.azure.net)",
      "rejected the agent's proxy credentials (HTTP 407)",
      "agent's proxy configuration",
    ],
  },
  {
    name: 'proxy 407: wrong proxy password (model call with an API key; not retried until the time budget runs out)',
    inputs: { ...apiKeyAuth, timeoutSeconds: '5' },
    proxyPassword: WRONG_PROXY_PASSWORD,
    says: [
      `proxy refused to connect to ${HOST} (407 Proxy Authentication Required)`,
      'proxy user name and password',
    ],
  },
];

describe('bundle: every failure fails the task with a specific message and writes nothing', function () {
  this.timeout(30000);
  let world: AzureWorld;

  before(async function () {
    if (!fs.existsSync(agent.TASK_ENTRY))
      throw new Error(`${agent.TASK_ENTRY} is missing: run npm run build first`);
    world = await startAzureWorld({
      apps: [
        {
          clientId: WIF_STALE_APP,
          federated: { token: fakeOidcToken('sc://contoso/web/old-name', 1), subject: SUBJECT },
        },
      ],
      vaults: {
        'kv-ci': {
          secrets: { 'openai-api-key': API_KEY, 'retired-key': { value: OLD_KEY, enabled: false } },
        },
        'kv-stale': { secrets: { 'openai-api-key': OLD_KEY } },
        'kv-policy': { secrets: { 'openai-api-key': API_KEY }, deny: 'accessPolicy' },
        'kv-rbac': { secrets: { 'openai-api-key': API_KEY }, deny: 'rbac' },
        'kv-firewall': { secrets: { 'openai-api-key': API_KEY }, deny: 'firewall' },
        'kv-private': { secrets: { 'openai-api-key': API_KEY }, deny: 'privateLink' },
      },
      // A corporate proxy answers 502 when the host of a CONNECT does not resolve; the fakes serve only these vaults.
      unknownHost: (host) => /^kv-(unknown|typo)\./.test(host),
    });
  });
  after(() => world?.close());
  const dir = useWorkDir('cs-failures', {
    'README.md': 'the repository\n',
    'svc/app.py': 'print("mine")\n',
  });
  afterEach(() => {
    world.entra.fail = undefined;
  });

  const defaults = (): Record<string, string> => ({
    provider: 'azureOpenAI',
    intent: 'service:\n  name: svc\n  language: python\n  framework: flask\n',
    outputDirectory: dir.out,
    azureSubscription: CONN.sp,
    keyVaultName: 'kv-ci',
    endpoint: `https://${HOST}/`,
    deployment: 'gpt-4o',
    conflictPolicy: 'overwrite',
  });

  function options(c: FailureCase): TaskRunOptions {
    const agentDirs = { 'Agent.TempDirectory': dir.work, 'Build.SourcesDirectory': dir.out };
    return {
      inputs: { ...defaults(), ...c.inputs },
      endpoints: ENDPOINTS,
      variables: { ...(c.direct ? agentDirs : world.behindProxy(dir)), ...c.variables },
      secrets: c.direct ? {} : { 'Agent.ProxyPassword': c.proxyPassword ?? PROXY_USER.password },
    };
  }

  for (const c of CASES) {
    it(c.name, async () => {
      // Each case gets a fresh fake Azure OpenAI (its own options and answer queue).
      const openai = world.replaceOpenAI(c.openai);
      if (c.answers) openai.enqueue(...c.answers);
      if (c.entraFails) world.entra.fail = c.entraFails();
      const before = snapshotTree(dir.out);

      const run = await agent.runTask(options(c));

      const o = outcome(run);
      const context = `\n--- message: ${o.message}\n--- stdout:\n${run.stdout}\n--- stderr:\n${run.stderr}`;
      assert.equal(o.result, 'Failed', context);
      const message = o.message ?? '';
      for (const s of c.says) {
        if (typeof s === 'string') assert.ok(message.includes(s), `the message lacks "${s}"${context}`);
        else assert.match(message, s, context);
      }
      for (const s of c.saysNot ?? []) {
        if (typeof s === 'string') assert.ok(!message.includes(s), `the message has "${s}"${context}`);
        else assert.doesNotMatch(message, s, context);
      }
      assert.deepEqual(snapshotTree(dir.out), before, 'the output directory changed');
      if (c.answers) assert.equal(openai.chats.length, c.answers.length, 'every scripted answer was served');
      assertNoSecretPrinted(run);
    });
  }
});

describe('bundle: problems with the output directory itself name it and say what to fix there', function () {
  this.timeout(30000);
  const dir = useWorkDir('cs-outdir', { 'README.md': 'the repository\n', 'svc/app.py': 'print("mine")\n' });
  const intent = 'service:\n  name: svc\n  language: python\n  framework: flask\n';

  async function runOffline(outputDirectory: string) {
    const run = await agent.runTask({
      inputs: { provider: 'offline', intent, outputDirectory, conflictPolicy: 'overwrite' },
      variables: { 'Agent.TempDirectory': dir.work, 'Build.SourcesDirectory': dir.out },
    });
    return { run, ...outcome(run) };
  }

  const cases: [name: string, arrange: () => string, says: RegExp][] = [
    [
      'the output directory is a file',
      () => {
        fs.writeFileSync(path.join(dir.out, 'gen'), 'a file\n');
        return path.join(dir.out, 'gen');
      },
      /^Input 'outputDirectory': '.*[\\/]gen' is not a folder: it, or a folder above it, is a file\. Set 'outputDirectory' to a folder/,
    ],
    [
      '.synthesis is a symlink',
      () => {
        fs.mkdirSync(path.join(dir.work, 'elsewhere'));
        fs.symlinkSync(path.join(dir.work, 'elsewhere'), path.join(dir.out, '.synthesis'));
        return dir.out;
      },
      /^Input 'outputDirectory': "\.synthesis" in '.*' is a symlink or a file, not a folder; the task keeps its manifest in that folder\. Remove or rename "\.synthesis" there/,
    ],
    [
      'the manifest path is a folder',
      () => {
        fs.mkdirSync(path.join(dir.out, '.synthesis', 'manifest.json'), { recursive: true });
        return dir.out;
      },
      /^Input 'outputDirectory': "\.synthesis\/manifest\.json" in '.*' is a folder, where the task writes its manifest/,
    ],
    [
      'an existing .Synthesis folder',
      () => {
        fs.mkdirSync(path.join(dir.out, '.Synthesis'));
        return dir.out;
      },
      /^Input 'outputDirectory': "\.Synthesis" in '.*' differs only in letter case or Unicode form from "\.synthesis"/,
    ],
    [
      'the output directory is a symlink inside the sources directory',
      () => {
        fs.mkdirSync(path.join(dir.work, 'elsewhere'));
        fs.symlinkSync(path.join(dir.work, 'elsewhere'), path.join(dir.out, 'gen'));
        return path.join(dir.out, 'gen');
      },
      /^Input 'outputDirectory': '.*[\\/]gen' is reached through the symlink '.*[\\/]gen' inside the sources directory '.*'\. Writing through it would put the files wherever the link points/,
    ],
    [
      'a leftover staging folder holding backups but no journal',
      () => {
        fs.mkdirSync(path.join(dir.out, '.synthesis-staging-0123', 'old'), { recursive: true });
        fs.writeFileSync(path.join(dir.out, '.synthesis-staging-0123', 'old', '0'), 'the only copy\n');
        return dir.out;
      },
      /^The output directory holds \.synthesis-staging-0123, left by an interrupted run, and the task cannot tell how to undo it:(\n|%0A) {2}- no journal says what it changed; its old folder holds 1 replaced file\(s\)\.(\n|%0A)Nothing was changed\. The files that run replaced are in .*old: restore what you need, then delete \.synthesis-staging-0123 and run again\.$/,
    ],
  ];
  for (const [name, arrange, says] of cases) {
    it(name, async () => {
      const out = arrange();
      // The sources folder, and the folder a symlink points to (the agent keeps its own files in work).
      const trees = (): unknown => [snapshotTree(dir.out), snapshotTree(path.join(dir.work, 'elsewhere'))];
      const before = trees();
      const r = await runOffline(out);
      assert.equal(r.result, 'Failed', r.run.stdout);
      assert.match(r.message ?? '', says);
      assert.doesNotMatch(r.message ?? '', /model proposed|remove \./);
      assert.deepEqual(trees(), before, 'nothing was written');
    });
  }

  it('a commit killed mid-move: the next run restores the tree, says so, then writes', async () => {
    const files = [
      { path: 'svc/app.py', content: 'print("generated")\n' },
      { path: 'svc/new.py', content: 'new\n' },
      { path: 'README.md', content: 'overwritten\n' },
    ];
    assert.equal(commitInChild(dir.out, files, { killBefore: 'README.md' }), 'killed');
    assert.equal(fs.readFileSync(path.join(dir.out, 'svc/app.py'), 'utf8'), 'print("generated")\n');
    const r = await runOffline(dir.out);
    assert.equal(r.result, 'Succeeded', `${r.message}\n${r.run.stdout}`);
    assert.match(
      r.run.stdout,
      /##vso\[task\.issue type=warning[^\]]*\]Found \.synthesis-staging-[0-9a-f]+, left by a run that was interrupted while moving files into place; restored the output directory as it was before that run: put back 2 replaced file\(s\) and removed 1 file\(s\) and 0 folder\(s\) it had created\./,
    );
    assert.equal(fs.readFileSync(path.join(dir.out, 'README.md'), 'utf8'), 'the repository\n');
    assert.equal(fs.existsSync(path.join(dir.out, 'svc/new.py')), false);
    assert.deepEqual(
      fs.readdirSync(dir.out).filter((n) => n.startsWith('.synthesis-staging-')),
      [],
    );
  });
});

/**
 * No secret in stdout/stderr except ##vso[task.setsecret] lines. task-lib echoes Agent.ProxyPassword
 * as a debug line at import, before any task code runs; the agent masks it as the secret variable it is.
 */
function assertNoSecretPrinted(run: Awaited<ReturnType<typeof agent.runTask>>): void {
  const lines = visibleOutput(run)
    .split('\n')
    .filter((l) => !l.startsWith('##vso[task.debug]Agent.ProxyPassword='));
  for (const secret of SECRETS) {
    const line = lines.find((l) => l.includes(secret));
    assert.equal(line, undefined, `a secret was printed: ${line}`);
  }
}
