/**
 * The built bundle (dist/tasks/CodeSynthesis/index.js), run black-box as the agent runs it: inputs,
 * endpoints and variables in the environment, proxy and CA from the agent's settings (Agent.ProxyUrl,
 * Agent.CAInfo), against fake Entra ID, Key Vault, Azure OpenAI and Azure DevOps under Azure's real
 * host names, reached through an authenticating corporate proxy.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OUTPUTS } from '../../tasks/CodeSynthesis/src/core/contract';
import { fakeAzureDevOps, fakeOidcToken } from '../fake-servers/azure-devops';
import { fakeEntraId, makeAppCertificate, type FakeEntraId } from '../fake-servers/entra-id';
import { fakeKeyVault, type FakeKeyVault } from '../fake-servers/key-vault';
import { completion, DEFAULT_CONTENT, fakeOpenAI, type FakeOpenAI } from '../fake-servers/azure-openai';
import { agent, outcome, visibleOutput, type TaskRunOptions } from '../support/agent-run';
import { startFakeAzure, startFakeProxy, type FakeAzure, type FakeProxy } from '../support/fake-azure';
import { snapshotTree } from '../support/tree-snapshot';

const TENANT = '11111111-2222-3333-4444-555555555555';
const APP = {
  clientId: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
  objectId: 'ffffffff-0000-1111-2222-333333333333',
  secret: 'sp-secret~Value.123',
};
const WIF_APP = 'bbbbbbbb-cccc-dddd-eeee-ffffffffffff';
const CERT_APP = 'cccccccc-1111-2222-3333-444444444444';
const CERT = makeAppCertificate();
const CONN = '0f5e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b';
const WIF_CONN = '1a2b3c4d-5e6f-4789-8abc-def012345678';
const API_KEY = 'aoai-key-5f4dcc3b5aa765d61d8327deb882cf99';
const PROXY_USER = { username: 'corp\\builder', password: 'proxy-P@ss' };
const OIDC = fakeOidcToken('sc://contoso/web/prod-arm', 1);
const COGNITIVE = 'https://cognitiveservices.azure.com/.default';

describe('bundle: the packaged task run as the agent runs it', function () {
  this.timeout(60000);
  let entra: FakeEntraId;
  let vault: FakeKeyVault;
  let openai: FakeOpenAI;
  let server: FakeAzure;
  let proxy: FakeProxy;
  let work: string;
  let out: string;
  let caFile: string;

  before(async function () {
    if (!fs.existsSync(agent.TASK_ENTRY))
      throw new Error(`${agent.TASK_ENTRY} is missing: run npm run build first`);
    entra = fakeEntraId({
      tenantId: TENANT,
      apps: [
        APP,
        { clientId: CERT_APP, objectId: 'cert-oid', certificatePem: CERT.certificatePem },
        {
          clientId: WIF_APP,
          objectId: 'wif-oid',
          federated: { token: OIDC, subject: 'sc://contoso/web/prod-arm' },
        },
      ],
    });
    vault = fakeKeyVault(entra, {
      'kv-ci': { secrets: { 'openai-api-key': API_KEY } },
      'kv-locked': { secrets: { 'openai-api-key': API_KEY }, deny: 'rbac' },
    });
    openai = fakeOpenAI({
      apiKeys: [API_KEY],
      deployments: ['gpt-4o'],
      bearerTokens: { includes: (t: string) => !!entra.lookup(t, COGNITIVE) },
      host: /\.openai\.azure\.com$|^127\.0\.0\.1$/,
    });
    const devops = fakeAzureDevOps({
      org: 'contoso',
      project: 'web',
      connectionName: 'prod-arm',
      accessToken: 'job-access-token',
      token: OIDC,
    });
    server = await startFakeAzure([openai.route, entra.route, vault.route, devops]);
    proxy = await startFakeProxy(server, PROXY_USER);
    const ca = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-bundle-ca-'));
    caFile = path.join(ca, 'corp-ca.pem');
    fs.writeFileSync(caFile, server.caPem);
  });
  after(async () => {
    await proxy?.close();
    await server?.close();
  });
  beforeEach(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-bundle-'));
    out = path.join(work, 's');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'README.md'), 'the repository\n');
  });
  afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

  /** A self-hosted agent behind the corporate proxy with its own CA. */
  const behindProxy = () => ({
    'Agent.TempDirectory': work,
    'Build.SourcesDirectory': out,
    'Agent.ProxyUrl': proxy.url,
    'Agent.ProxyUsername': PROXY_USER.username,
    'Agent.CAInfo': caFile,
  });
  /** The agent passes the proxy password as a secret variable. */
  const proxySecret = { 'Agent.ProxyPassword': PROXY_USER.password };
  const spConnection = {
    scheme: 'ServicePrincipal',
    auth: {
      tenantid: TENANT,
      serviceprincipalid: APP.clientId,
      serviceprincipalkey: APP.secret,
      authenticationType: 'spnKey',
    },
    data: { environment: 'AzureCloud', subscriptionId: 'sub' },
    url: 'https://management.azure.com/',
  };
  const azureInputs = (extra: Record<string, string> = {}) => ({
    provider: 'azureOpenAI',
    intent: 'service:\n  name: svc\n  language: python\n  framework: flask\n',
    outputDirectory: out,
    azureSubscription: CONN,
    endpoint: 'https://my-resource.openai.azure.com/',
    deployment: 'gpt-4o',
    ...extra,
  });

  async function runOk(options: TaskRunOptions) {
    const run = await agent.runTask(options);
    const o = outcome(run);
    assert.equal(o.result, 'Succeeded', `${o.message}\n${run.stdout}\n${run.stderr}`);
    assert.deepEqual(agent.injectedCommands(run.stdout), []);
    return { run, o };
  }

  it('offline: writes the weather service and sets the output variables', async () => {
    const intent = fs.readFileSync(path.join(agent.ROOT, 'examples', 'weather.yaml'), 'utf8');
    const { o } = await runOk({
      inputs: { provider: 'offline', intent, outputDirectory: out },
      variables: { 'Agent.TempDirectory': work },
    });
    assert.equal(o.outputs[OUTPUTS.serviceName], 'weather');
    assert.equal(o.outputs[OUTPUTS.manifestPath], path.join(out, '.synthesis', 'manifest.json'));
    assert.ok(fs.existsSync(path.join(out, 'weather', 'app.py')));
  });

  it('keyVault: service principal secret, Key Vault, Azure OpenAI, all through the authenticating proxy', async () => {
    const before = proxy.tunnels.length;
    const { run, o } = await runOk({
      inputs: azureInputs({ keyVaultName: 'kv-ci' }),
      endpoints: { [CONN]: spConnection },
      variables: behindProxy(),
      secrets: proxySecret,
    });
    assert.equal(o.outputs[OUTPUTS.filesWritten], '1');
    assert.equal(fs.readFileSync(path.join(out, 'svc', 'app.py'), 'utf8'), 'print("hi")\n');
    const tunnels = proxy.tunnels.slice(before);
    for (const host of [
      'login.microsoftonline.com:443',
      'kv-ci.vault.azure.net:443',
      'my-resource.openai.azure.com:443',
    ])
      assert.ok(tunnels.includes(host), `no tunnel to ${host}: ${tunnels.join(', ')}`);
    assert.ok(
      server.requests.every((r) => r.host !== '127.0.0.1'),
      'every request went through the proxy under its real host name',
    );
    const chat = openai.chats.at(-1)!;
    assert.equal(chat.headers['api-key'], API_KEY);
    assert.ok('max_completion_tokens' in chat.body || !('max_tokens' in chat.body));
    const manifest = JSON.parse(fs.readFileSync(path.join(out, '.synthesis', 'manifest.json'), 'utf8'));
    assert.equal(manifest.model.endpointHost, 'my-resource.openai.azure.com');
    // task-lib echoes Agent.ProxyPassword at import (internal _exposeProxySettings -> _getVariable debug
    // line), before any task code runs; the agent masks it as the secret variable it is. Nothing else may.
    const printed = (
      visibleOutput(run) + fs.readFileSync(path.join(out, '.synthesis', 'manifest.json'), 'utf8')
    )
      .split('\n')
      .filter((l) => !l.startsWith('##vso[task.debug]Agent.ProxyPassword='))
      .join('\n');
    for (const secret of [API_KEY, APP.secret, PROXY_USER.password]) {
      const line = printed.split('\n').find((l) => l.includes(secret));
      assert.equal(line, undefined, `a secret was printed: ${secret}`);
    }
    assert.ok(
      run.stdout.includes(`##vso[task.setsecret]${API_KEY}`),
      'the key is registered as a secret the moment it is read',
    );
  });

  it('keyVault with a certificate connection: signs in with the PEM, masks every line of its key', async () => {
    const certConnection = {
      scheme: 'ServicePrincipal',
      auth: {
        tenantid: TENANT,
        serviceprincipalid: CERT_APP,
        authenticationType: 'spnCertificate',
        servicePrincipalCertificate: CERT.combinedPem,
      },
      data: { environment: 'AzureCloud' },
    };
    const { run } = await runOk({
      inputs: azureInputs({ keyVaultName: 'kv-ci' }),
      endpoints: { [CONN]: certConnection },
      variables: behindProxy(),
      secrets: proxySecret,
    });
    assert.ok(vault.reads.some((r) => r.caller.clientId === CERT_APP && r.caller.grant === 'certificate'));
    const keyLines = CERT.combinedPem
      .split('\n')
      .filter((l) => l.length >= 8 && !l.startsWith('-----'))
      .slice(0, 3);
    for (const line of keyLines)
      assert.ok(run.stdout.includes(`##vso[task.setsecret]${line}`), `not masked: ${line}`);
  });

  it('a reply cannot issue logging commands: its id and finish reason reach the log neutralised', async () => {
    const hostile = completion(DEFAULT_CONTENT);
    const body = hostile.body as Record<string, unknown>;
    body.id = 'x ##vso[task.setvariable variable=serviceName;isOutput=true;]pwned';
    body.model = 'm ##vso[task.prependpath]/evil';
    openai.enqueue(hostile);
    const { run, o } = await runOk({
      inputs: azureInputs({ authMode: 'apiKey', apiKey: API_KEY }),
      variables: behindProxy(),
      secrets: proxySecret,
    });
    assert.equal(o.outputs[OUTPUTS.serviceName], 'svc');
    assert.ok(!run.stdout.includes('##vso[task.prependpath]'));
    assert.ok(!/^##vso\[task\.setvariable variable=serviceName;[^\]]*\]pwned/m.test(run.stdout));
  });

  it('entraId: no key at all, a bearer token for the Cognitive Services scope', async () => {
    await runOk({
      inputs: azureInputs({ authMode: 'entraId' }),
      endpoints: { [CONN]: spConnection },
      variables: behindProxy(),
      secrets: proxySecret,
    });
    const chat = openai.chats.at(-1)!;
    assert.equal(chat.headers['api-key'], undefined);
    assert.ok(entra.lookup(String(chat.headers.authorization).replace(/^Bearer /, ''), COGNITIVE));
  });

  it('workload identity federation: OIDC token from Azure DevOps, exchanged at Entra ID, Key Vault read', async () => {
    await runOk({
      inputs: azureInputs({ azureSubscription: WIF_CONN, keyVaultName: 'kv-ci' }),
      endpoints: {
        [WIF_CONN]: {
          scheme: 'WorkloadIdentityFederation',
          auth: { tenantid: TENANT, serviceprincipalid: WIF_APP },
          data: { environment: 'AzureCloud' },
        },
        SystemVssConnection: {
          scheme: 'OAuth',
          auth: { AccessToken: 'job-access-token' },
          url: 'https://dev.azure.com/contoso/',
        },
      },
      variables: {
        ...behindProxy(),
        'System.CollectionUri': 'https://dev.azure.com/contoso/',
        'System.TeamProjectId': 'proj-guid',
        'System.TeamProject': 'web',
        'System.HostType': 'build',
        'System.PlanId': 'plan-guid',
        'System.JobId': 'job-guid',
      },
      secrets: proxySecret,
    });
    assert.ok(proxy.tunnels.includes('dev.azure.com:443'));
    assert.ok(vault.reads.some((r) => r.caller.clientId === WIF_APP));
  });

  it('a Key Vault refusal names the vault, the role, and writes nothing', async () => {
    const before = snapshotTree(out);
    const run = await agent.runTask({
      inputs: azureInputs({ keyVaultName: 'kv-locked' }),
      endpoints: { [CONN]: spConnection },
      variables: behindProxy(),
      secrets: proxySecret,
    });
    const o = outcome(run);
    assert.equal(o.result, 'Failed');
    assert.match(o.message ?? '', /kv-locked/);
    assert.match(o.message ?? '', /Key Vault Secrets User/);
    assert.deepEqual(snapshotTree(out), before);
  });

  it('a cancelled run (SIGINT during the model call) leaves the output directory untouched', async () => {
    openai.enqueue({ status: 200, body: null, delayMs: 20000 });
    const before = snapshotTree(out);
    const started = Date.now();
    const run = await agent.runTask(
      {
        inputs: { ...azureInputs({ authMode: 'apiKey', apiKey: API_KEY }), endpoint: server.url },
        variables: { 'Agent.TempDirectory': work, 'Agent.CAInfo': caFile },
      },
      {
        onSpawn: (child) => {
          const poll = setInterval(() => {
            if (openai.chats.length && server.requests.at(-1)?.url.includes('chat/completions')) {
              clearInterval(poll);
              child.kill('SIGINT');
            }
          }, 20);
          child.on('exit', () => clearInterval(poll));
        },
      },
    );
    assert.ok(Date.now() - started < 15000, 'the task stopped soon after SIGINT');
    const o = outcome(run);
    assert.equal(o.result, 'Cancelled', run.stdout);
    assert.match(o.message ?? '', /cancelled/i);
    assert.deepEqual(snapshotTree(out), before);
  });
});
