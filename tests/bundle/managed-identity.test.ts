/**
 * The ManagedServiceIdentity scheme through the built bundle, with the real @azure/identity
 * ManagedIdentityCredential (MSAL's App Service source). The agent's machine environment has
 * IDENTITY_ENDPOINT and IDENTITY_HEADER, as on App Service and Azure Functions; they point at a
 * plain-http fake on 127.0.0.1 that speaks the documented wire format
 * (https://learn.microsoft.com/azure/app-service/overview-managed-identity#rest-endpoint-reference):
 *   GET {IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=<resource>[&client_id=<id>]
 *   X-IDENTITY-HEADER: {IDENTITY_HEADER}
 *   200 {"access_token","expires_on":"<epoch seconds>","resource","token_type":"Bearer","client_id"}
 * The token it issues is registered with the fake Entra ID, so the fake Key Vault accepts it.
 * Azure hosts are reached through the agent's proxy with its CA; the identity endpoint never is.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fakeEntraId, type FakeEntraId } from '../fake-servers/entra-id';
import { fakeKeyVault, type FakeKeyVault } from '../fake-servers/key-vault';
import { fakeOpenAI, type FakeOpenAI } from '../fake-servers/azure-openai';
import { agent, outcome, visibleOutput, type TaskRunOptions } from '../support/agent-run';
import { startCorporateNetwork, type CorporateNetwork } from '../support/azure-world';
import { snapshotTree } from '../support/tree-snapshot';
import { useWorkDir } from '../support/work-dir';

const TENANT = '11111111-2222-3333-4444-555555555555';
const API_KEY = 'aoai-key-5f4dcc3b5aa765d61d8327deb882cf99';
const IDENTITY_HEADER = 'msi-header-6b2c0f0e-4f8e-4a8b-9d1e-3f2a1b0c9d8e';
/** The agent's system-assigned identity, and a user-assigned one also on the machine. */
const SYSTEM_MI = {
  clientId: 'dddddddd-1111-2222-3333-444444444444',
  objectId: 'eeeeeeee-1111-2222-3333-444444444444',
};
const USER_MI = {
  clientId: '77777777-1111-2222-3333-444444444444',
  objectId: '88888888-1111-2222-3333-444444444444',
};
const UNASSIGNED_MI = '66666666-1111-2222-3333-444444444444';
const CONN = '6f708192-a3b4-45c6-97e8-f90a1b2c3d45';

interface MsiRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  header: string | undefined;
}

/** A fake App Service managed identity endpoint that issues tokens the fake Entra ID knows. */
async function startAppServiceMsi(
  entra: FakeEntraId,
): Promise<{ url: string; requests: MsiRequest[]; close(): Promise<void> }> {
  const requests: MsiRequest[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const query = Object.fromEntries(url.searchParams);
    const header = req.headers['x-identity-header'];
    requests.push({
      method: req.method ?? '',
      path: url.pathname,
      query,
      header: typeof header === 'string' ? header : undefined,
    });
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
    };
    if (header !== IDENTITY_HEADER || query['api-version'] !== '2019-08-01' || !query.resource) {
      send(400, { statusCode: 400, message: 'Invalid request.', correlationId: randomUUID() });
      return;
    }
    const identity = !query.client_id
      ? SYSTEM_MI
      : query.client_id === USER_MI.clientId
        ? USER_MI
        : undefined;
    if (!identity) {
      send(400, {
        statusCode: 400,
        message: 'Unable to load the proper Managed Identity.',
        correlationId: randomUUID(),
      });
      return;
    }
    const token = `fake-mi-${randomUUID()}`;
    entra.issued.push({
      token,
      clientId: identity.clientId,
      objectId: identity.objectId,
      tenantId: TENANT,
      scope: `${query.resource.replace(/\/+$/, '')}/.default`,
      grant: 'managedIdentity',
    });
    send(200, {
      access_token: token,
      expires_on: String(Math.floor(Date.now() / 1000) + 3600),
      resource: query.resource,
      token_type: 'Bearer',
      client_id: identity.clientId,
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/msi/token`,
    requests,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('bundle: managed identity (App Service identity endpoint) reads the key from Key Vault', function () {
  this.timeout(30000);
  let entra: FakeEntraId;
  let vault: FakeKeyVault;
  let openai: FakeOpenAI;
  let network: CorporateNetwork;
  let msi: Awaited<ReturnType<typeof startAppServiceMsi>>;
  const saved: Record<string, string | undefined> = {};

  before(async function () {
    if (!fs.existsSync(agent.TASK_ENTRY))
      throw new Error(`${agent.TASK_ENTRY} is missing: run npm run build first`);
    entra = fakeEntraId({ tenantId: TENANT, apps: [] });
    vault = fakeKeyVault(entra, { 'kv-ci': { secrets: { 'openai-api-key': API_KEY } } });
    openai = fakeOpenAI({ apiKeys: [API_KEY], deployments: ['gpt-4o'], host: /\.openai\.azure\.com$/ });
    network = await startCorporateNetwork([openai.route, entra.route, vault.route]);
    msi = await startAppServiceMsi(entra);
    // The machine's environment, which the agent passes on to every task.
    for (const name of ['IDENTITY_ENDPOINT', 'IDENTITY_HEADER']) saved[name] = process.env[name];
    process.env.IDENTITY_ENDPOINT = msi.url;
    process.env.IDENTITY_HEADER = IDENTITY_HEADER;
  });
  after(async () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await msi?.close();
    await network?.close();
  });
  const dir = useWorkDir('cs-msi', { 'README.md': 'the repository\n' });

  const run = (msiclientId?: string): Promise<Awaited<ReturnType<typeof agent.runTask>>> => {
    const options: TaskRunOptions = {
      inputs: {
        provider: 'azureOpenAI',
        intent: 'service:\n  name: svc\n  language: python\n  framework: flask\n',
        outputDirectory: dir.out,
        azureSubscription: CONN,
        keyVaultName: 'kv-ci',
        endpoint: 'https://my-resource.openai.azure.com/',
        deployment: 'gpt-4o',
      },
      endpoints: {
        [CONN]: {
          scheme: 'ManagedServiceIdentity',
          auth: { tenantid: TENANT },
          data: { environment: 'AzureCloud', ...(msiclientId ? { msiclientId } : {}) },
          url: 'https://management.azure.com/',
        },
      },
      variables: network.behindProxy(dir),
    };
    return agent.runTask(options);
  };

  it('system-assigned: asks the identity endpoint for a Key Vault token, reads the key, writes the files', async () => {
    const seen = msi.requests.length;
    const tunnels = network.proxy.tunnels.length;
    const r = await run();
    const o = outcome(r);
    assert.equal(o.result, 'Succeeded', `${o.message}\n${r.stdout}\n${r.stderr}`);
    assert.equal(fs.readFileSync(path.join(dir.out, 'svc', 'app.py'), 'utf8'), 'print("hi")\n');

    const asked = msi.requests.slice(seen);
    assert.ok(asked.length >= 1, 'the identity endpoint was asked for a token');
    for (const q of asked) {
      assert.equal(q.method, 'GET');
      assert.equal(q.path, '/msi/token');
      assert.equal(q.header, IDENTITY_HEADER);
      assert.equal(q.query['api-version'], '2019-08-01');
      assert.equal(q.query.resource, 'https://vault.azure.net');
      assert.equal(q.query.client_id, undefined, 'system-assigned: no client_id');
    }
    const read = vault.reads.at(-1);
    assert.equal(read?.vault, 'kv-ci');
    assert.equal(read?.caller.clientId, SYSTEM_MI.clientId);
    assert.equal(read?.caller.grant, 'managedIdentity');
    assert.equal(openai.chats.at(-1)?.headers['api-key'], API_KEY);
    // Azure hosts through the proxy; the machine-local identity endpoint directly.
    const used = network.proxy.tunnels.slice(tunnels);
    assert.ok(used.includes('kv-ci.vault.azure.net:443'), used.join(', '));
    const msiHost = new URL(msi.url).host;
    assert.ok(
      !used.some((t) => t.includes(msiHost)),
      `the identity endpoint went through the proxy: ${used.join(', ')}`,
    );
    assert.ok(!visibleOutput(r).includes(API_KEY), 'the key was printed');
  });

  it("user-assigned: sends the connection's msiclientId as client_id and reads as that identity", async () => {
    const seen = msi.requests.length;
    const r = await run(USER_MI.clientId);
    const o = outcome(r);
    assert.equal(o.result, 'Succeeded', `${o.message}\n${r.stdout}\n${r.stderr}`);
    const asked = msi.requests.slice(seen);
    assert.ok(asked.length >= 1);
    assert.ok(
      asked.every((q) => q.query.client_id === USER_MI.clientId),
      JSON.stringify(asked),
    );
    assert.equal(vault.reads.at(-1)?.caller.clientId, USER_MI.clientId);
  });

  it('an identity not assigned to the machine fails naming the connection and the client ID, and writes nothing', async () => {
    const before = snapshotTree(dir.out);
    const reads = vault.reads.length;
    const r = await run(UNASSIGNED_MI);
    const o = outcome(r);
    assert.equal(o.result, 'Failed', r.stdout);
    assert.match(o.message ?? '', new RegExp(`No managed identity token for service connection '${CONN}'`));
    assert.match(
      o.message ?? '',
      new RegExp(`user-assigned managed identity with client ID '${UNASSIGNED_MI}'`),
    );
    assert.match(o.message ?? '', /Identity > User assigned/);
    assert.equal(vault.reads.length, reads, 'no secret was read');
    assert.deepEqual(snapshotTree(dir.out), before);
  });
});
