/**
 * The built bundle (dist/tasks/CodeSynthesis/index.js), run black-box as the agent runs it: inputs,
 * endpoints and variables in the environment, proxy and CA from the agent's settings (Agent.ProxyUrl,
 * Agent.CAInfo), against fake Entra ID, Key Vault, Azure OpenAI and Azure DevOps under Azure's real
 * host names, reached through an authenticating corporate proxy.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { OUTPUTS } from '../../tasks/CodeSynthesis/src/core/contract';
import { makeAppCertificate } from '../fake-servers/entra-id';
import { completion, DEFAULT_CONTENT } from '../fake-servers/azure-openai';
import { agent, outcome, visibleOutput, type TaskRunOptions } from '../support/agent-run';
import {
  API_KEY,
  APP,
  COGNITIVE,
  JOB_VARIABLES,
  PROXY_USER,
  spConnection,
  startAzureWorld,
  SYSTEM_VSS_CONNECTION,
  TENANT,
  WIF_APP,
  wifConnection,
  type AzureWorld,
} from '../support/azure-world';
import { snapshotTree } from '../support/tree-snapshot';
import { useWorkDir } from '../support/work-dir';

const CERT_APP = 'cccccccc-1111-2222-3333-444444444444';
const CERT = makeAppCertificate();
const CONN = '0f5e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b';
const WIF_CONN = '1a2b3c4d-5e6f-4789-8abc-def012345678';

describe('bundle: the packaged task run as the agent runs it', function () {
  this.timeout(60000);
  let world: AzureWorld;

  before(async function () {
    if (!fs.existsSync(agent.TASK_ENTRY))
      throw new Error(`${agent.TASK_ENTRY} is missing: run npm run build first`);
    world = await startAzureWorld({
      apps: [{ clientId: CERT_APP, objectId: 'cert-oid', certificatePem: CERT.certificatePem }],
      vaults: {
        'kv-ci': { secrets: { 'openai-api-key': API_KEY } },
        'kv-locked': { secrets: { 'openai-api-key': API_KEY }, deny: 'rbac' },
      },
      openaiHost: /\.openai\.azure\.com$|^127\.0\.0\.1$/,
    });
  });
  after(() => world?.close());
  const dir = useWorkDir('cs-bundle', { 'README.md': 'the repository\n' });

  const azureInputs = (extra: Record<string, string> = {}) => ({
    provider: 'azureOpenAI',
    intent: 'service:\n  name: svc\n  language: python\n  framework: flask\n',
    outputDirectory: dir.out,
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
      inputs: { provider: 'offline', intent, outputDirectory: dir.out },
      variables: { 'Agent.TempDirectory': dir.work },
    });
    assert.equal(o.outputs[OUTPUTS.serviceName], 'weather');
    assert.equal(o.outputs[OUTPUTS.manifestPath], path.join(dir.out, '.synthesis', 'manifest.json'));
    assert.ok(fs.existsSync(path.join(dir.out, 'weather', 'app.py')));
  });

  it('keyVault: service principal secret, Key Vault, Azure OpenAI, all through the authenticating proxy', async () => {
    const before = world.proxy.tunnels.length;
    const { run, o } = await runOk({
      inputs: azureInputs({ keyVaultName: 'kv-ci' }),
      endpoints: { [CONN]: spConnection() },
      variables: world.behindProxy(dir),
      secrets: world.proxySecret,
    });
    assert.equal(o.outputs[OUTPUTS.filesWritten], '1');
    assert.equal(fs.readFileSync(path.join(dir.out, 'svc', 'app.py'), 'utf8'), 'print("hi")\n');
    const tunnels = world.proxy.tunnels.slice(before);
    for (const host of [
      'login.microsoftonline.com:443',
      'kv-ci.vault.azure.net:443',
      'my-resource.openai.azure.com:443',
    ])
      assert.ok(tunnels.includes(host), `no tunnel to ${host}: ${tunnels.join(', ')}`);
    assert.ok(
      world.server.requests.every((r) => r.host !== '127.0.0.1'),
      'every request went through the proxy under its real host name',
    );
    const chat = world.openai.chats.at(-1)!;
    assert.equal(chat.headers['api-key'], API_KEY);
    assert.ok('max_completion_tokens' in chat.body || !('max_tokens' in chat.body));
    const manifest = JSON.parse(fs.readFileSync(path.join(dir.out, '.synthesis', 'manifest.json'), 'utf8'));
    assert.equal(manifest.model.endpointHost, 'my-resource.openai.azure.com');
    // task-lib echoes Agent.ProxyPassword at import (internal _exposeProxySettings -> _getVariable debug
    // line), before any task code runs; the agent masks it as the secret variable it is. Nothing else may.
    const printed = (
      visibleOutput(run) + fs.readFileSync(path.join(dir.out, '.synthesis', 'manifest.json'), 'utf8')
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
      variables: world.behindProxy(dir),
      secrets: world.proxySecret,
    });
    assert.ok(
      world.vault.reads.some((r) => r.caller.clientId === CERT_APP && r.caller.grant === 'certificate'),
    );
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
    world.openai.enqueue(hostile);
    const { run, o } = await runOk({
      inputs: azureInputs({ authMode: 'apiKey', apiKey: API_KEY }),
      variables: world.behindProxy(dir),
      secrets: world.proxySecret,
    });
    assert.equal(o.outputs[OUTPUTS.serviceName], 'svc');
    assert.ok(!run.stdout.includes('##vso[task.prependpath]'));
    assert.ok(!/^##vso\[task\.setvariable variable=serviceName;[^\]]*\]pwned/m.test(run.stdout));
  });

  it('entraId: no key at all, a bearer token for the Cognitive Services scope', async () => {
    await runOk({
      inputs: azureInputs({ authMode: 'entraId' }),
      endpoints: { [CONN]: spConnection() },
      variables: world.behindProxy(dir),
      secrets: world.proxySecret,
    });
    const chat = world.openai.chats.at(-1)!;
    assert.equal(chat.headers['api-key'], undefined);
    assert.ok(world.entra.lookup(String(chat.headers.authorization).replace(/^Bearer /, ''), COGNITIVE));
  });

  it('workload identity federation: OIDC token from Azure DevOps, exchanged at Entra ID, Key Vault read', async () => {
    await runOk({
      inputs: azureInputs({ azureSubscription: WIF_CONN, keyVaultName: 'kv-ci' }),
      endpoints: { [WIF_CONN]: wifConnection(WIF_APP), SystemVssConnection: SYSTEM_VSS_CONNECTION },
      variables: { ...world.behindProxy(dir), ...JOB_VARIABLES },
      secrets: world.proxySecret,
    });
    assert.ok(world.proxy.tunnels.includes('dev.azure.com:443'));
    assert.ok(world.vault.reads.some((r) => r.caller.clientId === WIF_APP));
  });

  it('a Key Vault refusal names the vault, the role, and writes nothing', async () => {
    const before = snapshotTree(dir.out);
    const run = await agent.runTask({
      inputs: azureInputs({ keyVaultName: 'kv-locked' }),
      endpoints: { [CONN]: spConnection() },
      variables: world.behindProxy(dir),
      secrets: world.proxySecret,
    });
    const o = outcome(run);
    assert.equal(o.result, 'Failed');
    assert.match(o.message ?? '', /kv-locked/);
    assert.match(o.message ?? '', /Key Vault Secrets User/);
    assert.deepEqual(snapshotTree(dir.out), before);
  });

  it('a cancelled run (SIGINT during the model call) leaves the output directory untouched', async () => {
    world.openai.enqueue({ status: 200, body: null, delayMs: 20000 });
    const before = snapshotTree(dir.out);
    const started = Date.now();
    const run = await agent.runTask(
      {
        inputs: { ...azureInputs({ authMode: 'apiKey', apiKey: API_KEY }), endpoint: world.server.url },
        variables: { 'Agent.TempDirectory': dir.work, 'Agent.CAInfo': world.caFile },
      },
      {
        onSpawn: (child) => {
          const poll = setInterval(() => {
            if (world.openai.chats.length && world.server.requests.at(-1)?.url.includes('chat/completions')) {
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
    // The warning must not promise what a move already under way cannot keep.
    assert.match(
      run.stdout,
      /Received SIGINT: cancelling\. Nothing is written unless the files have already started moving into place; a move that has started is completed\./,
    );
    assert.doesNotMatch(run.stdout, /Nothing partial is left/);
    assert.deepEqual(snapshotTree(dir.out), before);
  });
});
