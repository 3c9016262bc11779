/**
 * KeyVaultSecretStore with the real @azure/identity and @azure/keyvault-secrets clients over HTTPS,
 * reaching login.microsoftonline.com and myvault.vault.azure.net through an HTTP CONNECT proxy to the
 * fakes. The test CA reaches the clients as the agent gives it: a CA file (Agent.CAInfo).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import { cloudFromConnection } from '../../tasks/CodeSynthesis/src/adapters/azure/cloud';
import { createCredential } from '../../tasks/CodeSynthesis/src/adapters/azure/credential';
import { KeyVaultSecretStore } from '../../tasks/CodeSynthesis/src/adapters/azure/key-vault-secret-store';
import { loadNetwork, type Network } from '../../tasks/CodeSynthesis/src/adapters/net/network';
import { CredentialError } from '../../tasks/CodeSynthesis/src/core/errors';
import type {
  ProxySettings,
  ServiceConnection,
} from '../../tasks/CodeSynthesis/src/adapters/pipeline/agent-host';
import { startCorporateNetwork, type CorporateNetwork } from '../support/azure-world';
import { startFakeProxy, type FakeAzure, type FakeProxy } from '../support/fake-azure';
import { AADSTS, fakeEntraId, type FakeEntraId } from '../fake-servers/entra-id';
import { fakeKeyVault, type FakeKeyVault } from '../fake-servers/key-vault';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT_ID = '1c4b7f0e-2a3d-4e5f-8a9b-0c1d2e3f4a5b';
const OBJECT_ID = '9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a';
const SP_SECRET = 'sp-secret-Zq8~value';
const API_KEY = 'openai-key-0123456789abcdef';
const FAST = { retryOptions: { maxRetries: 0 } };

function connection(overrides: Partial<ServiceConnection['auth']> = {}): ServiceConnection {
  return {
    id: 'my-azure-connection',
    scheme: 'ServicePrincipal',
    auth: {
      tenantid: TENANT,
      serviceprincipalid: CLIENT_ID,
      serviceprincipalkey: SP_SECRET,
      authenticationType: 'spnKey',
      ...overrides,
    },
    data: { environment: 'AzureCloud', subscriptionId: '00000000-0000-0000-0000-000000000000' },
  };
}

describe('KeyVaultSecretStore (real SDKs, fake Entra ID and Key Vault, through a proxy)', () => {
  let entra: FakeEntraId;
  let vault: FakeKeyVault;
  let corp: CorporateNetwork;
  let azure: FakeAzure;
  let proxy: FakeProxy;
  let caFile: string;
  let secrets: string[];

  before(async () => {
    entra = fakeEntraId({
      tenantId: TENANT,
      apps: [{ clientId: CLIENT_ID, objectId: OBJECT_ID, secret: SP_SECRET }],
    });
    vault = fakeKeyVault(entra, {
      myvault: {
        secrets: { 'openai-api-key': API_KEY, 'old-key': { value: 'x', enabled: false }, blank: '  \n' },
      },
      walled: { secrets: { 'openai-api-key': API_KEY }, deny: 'firewall' },
      private: { secrets: { 'openai-api-key': API_KEY }, deny: 'privateLink' },
      policies: { secrets: { 'openai-api-key': API_KEY }, deny: 'accessPolicy' },
      roles: { secrets: { 'openai-api-key': API_KEY }, deny: 'rbac' },
    });
    corp = await startCorporateNetwork([entra.route, vault.route]);
    ({ server: azure, proxy, caFile } = corp);
  });

  after(() => corp.close());

  beforeEach(() => {
    secrets = [];
    delete entra.fail;
    proxy.tunnels.length = 0;
  });

  async function network(
    proxySettings: ProxySettings | undefined = { url: proxy.url, bypass: [] },
  ): Promise<Network> {
    return loadNetwork(
      proxySettings,
      { caFile },
      (p) => fs.promises.readFile(p, 'utf8'),
      (s) => secrets.push(s),
    );
  }

  async function store(
    vaultName: string,
    conn = connection(),
    net?: Network,
    clientOptions: object = FAST,
  ): Promise<KeyVaultSecretStore> {
    const n = net ?? (await network());
    const cloud = cloudFromConnection(conn);
    const credential = createCredential(conn, cloud, n, {
      setSecret: (s) => secrets.push(s),
      clientOptions: FAST,
    });
    return new KeyVaultSecretStore({
      vaultName,
      cloud,
      credential,
      network: n,
      setSecret: (s) => secrets.push(s),
      connection: conn.id,
      clientOptions,
    });
  }

  async function failure(promise: Promise<unknown>): Promise<CredentialError> {
    const err = await promise.then(
      () => assert.fail('expected a CredentialError'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof CredentialError, `expected CredentialError, got ${String(err)}`);
    for (const secret of [SP_SECRET, API_KEY])
      assert.ok(!err.describe().includes(secret), 'a secret leaked into the message');
    return err;
  }

  it('reads the secret through the proxy, signing in at Entra ID, and masks the key and the value', async () => {
    const value = await (await store('myvault')).getSecret('openai-api-key');
    assert.equal(value, API_KEY);
    assert.deepEqual([...new Set(proxy.tunnels)].sort(), [
      'login.microsoftonline.com:443',
      'myvault.vault.azure.net:443',
    ]);
    assert.ok(secrets.includes(SP_SECRET) && secrets.includes(API_KEY));
    const read = vault.reads.at(-1);
    assert.equal(read?.caller.clientId, CLIENT_ID);
    assert.equal(read?.caller.scope, 'https://vault.azure.net/.default');
    assert.equal(read?.caller.grant, 'secret');
  });

  it('ignores HTTPS_PROXY, NO_PROXY and AZURE_AUTHORITY_HOST from the environment', async () => {
    const saved = { ...process.env };
    process.env.HTTPS_PROXY = 'http://127.0.0.1:9';
    process.env.NO_PROXY = '*';
    process.env.AZURE_AUTHORITY_HOST = 'https://127.0.0.1:9';
    try {
      assert.equal(await (await store('myvault')).getSecret('openai-api-key'), API_KEY);
      assert.ok(proxy.tunnels.includes('myvault.vault.azure.net:443'));
    } finally {
      for (const key of ['HTTPS_PROXY', 'NO_PROXY', 'AZURE_AUTHORITY_HOST']) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    }
  });

  it('fails with TLS trust advice when the agent CA is not given', async () => {
    const net = await loadNetwork(
      { url: proxy.url, bypass: [] },
      undefined,
      (p) => fs.promises.readFile(p, 'utf8'),
      () => undefined,
    );
    const err = await failure((await store('myvault', connection(), net)).getSecret('openai-api-key'));
    assert.equal(err.subject, 'Agent.CAInfo');
    assert.match(
      err.describe(),
      /^Cannot reach Key Vault 'myvault' \(myvault\.vault\.azure\.net\): its TLS certificate is not trusted \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)\. If a proxy or firewall inspects TLS/,
    );
  });

  it('names the vault and secret when the secret does not exist (404 SecretNotFound)', async () => {
    const err = await failure((await store('myvault')).getSecret('missing'));
    assert.equal(err.subject, 'apiKeySecretName');
    assert.equal(
      err.describe(),
      "Secret 'missing' was not found in Key Vault 'myvault'. Check 'apiKeySecretName' (the secret's name, not its URL) and 'keyVaultName'; a deleted secret must be recovered before use.",
    );
  });

  it('says the secret is disabled (403 SecretDisabled)', async () => {
    const err = await failure((await store('myvault')).getSecret('old-key'));
    assert.equal(
      err.describe(),
      "Secret 'old-key' in Key Vault 'myvault' is disabled (SecretDisabled). Enable the secret's current version in the vault, or set 'apiKeySecretName' to an enabled secret.",
    );
  });

  it('fails on an empty secret', async () => {
    const err = await failure((await store('myvault')).getSecret('blank'));
    assert.equal(err.message, "Secret 'blank' in Key Vault 'myvault' is empty.");
  });

  it('names the missing permission and the object id (403 access policy)', async () => {
    const err = await failure((await store('policies')).getSecret('openai-api-key'));
    assert.equal(
      err.describe(),
      `The identity of service connection 'my-azure-connection' (object id ${OBJECT_ID}) may not read secret 'openai-api-key' in Key Vault 'policies' (HTTP 403, AccessDenied). Grant it the 'Key Vault Secrets User' role on the vault (Azure RBAC), or, if the vault uses access policies, an access policy with Get on secrets.`,
    );
  });

  it('names the missing role (403 ForbiddenByRbac)', async () => {
    const err = await failure((await store('roles')).getSecret('openai-api-key'));
    assert.match(
      err.message,
      new RegExp(
        `object id ${OBJECT_ID}\\) may not read secret 'openai-api-key' in Key Vault 'roles' \\(HTTP 403, ForbiddenByRbac\\)`,
      ),
    );
    assert.match(err.hint, /Key Vault Secrets User/);
  });

  it('explains the vault firewall (403 ForbiddenByFirewall)', async () => {
    const err = await failure((await store('walled')).getSecret('openai-api-key'));
    assert.equal(
      err.describe(),
      "Key Vault 'walled' refused the agent's address (firewall, ForbiddenByFirewall) when reading secret 'openai-api-key'. Add the agent's outbound IP address to the vault's firewall (Networking > Firewalls and virtual networks), or run the job on an agent in an allowed virtual network.",
    );
  });

  it('explains a private-endpoint-only vault (403 ForbiddenByConnection)', async () => {
    const err = await failure((await store('private')).getSecret('openai-api-key'));
    assert.match(
      err.message,
      /^Key Vault 'private' does not accept public network access \(private endpoint only, ForbiddenByConnection\)/,
    );
  });

  it('says the vault is not found in the cloud when its name does not resolve (ENOTFOUND)', async () => {
    // No proxy, and an agent whose DNS lookup fails: no real resolver is asked.
    const net = await network(undefined);
    const noDns = new https.Agent({
      lookup: ((host: string, _options: unknown, callback: (err: Error | null) => void) =>
        callback(
          Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND', hostname: host }),
        )) as never,
    });
    const cloud = cloudFromConnection(connection());
    const credential = {
      getToken: async () => ({ token: 'unused', expiresOnTimestamp: Date.now() + 3600_000 }),
    };
    const kv = new KeyVaultSecretStore({
      vaultName: 'nosuchvault',
      cloud,
      credential,
      network: net,
      setSecret: () => undefined,
      clientOptions: { ...FAST, agent: noDns },
    });
    const err = await failure(kv.getSecret('openai-api-key'));
    assert.equal(
      err.describe(),
      "Key Vault 'nosuchvault' was not found in AzureCloud (nosuchvault.vault.azure.net does not resolve). Check 'keyVaultName' (the vault's name only, not its URL), and that the service connection is for the cloud the vault is in.",
    );
  });

  it('turns an invalid client secret into one line naming the connection (AADSTS7000215)', async () => {
    entra.fail = AADSTS.invalidSecret(CLIENT_ID);
    const err = await failure((await store('myvault')).getSecret('openai-api-key'));
    assert.equal(
      err.describe(),
      `Entra ID rejected the client secret of service connection 'my-azure-connection' (AADSTS7000215: invalid client secret). Create a new client secret for app '${CLIENT_ID}' and update the connection (Project settings > Service connections > Edit); use the secret's value, not its ID.`,
    );
  });

  it("says the vault is in another tenant than the connection's", async () => {
    const err = await failure(
      (await store('myvault', connection({ tenantid: 'contoso.onmicrosoft.com' }))).getSecret(
        'openai-api-key',
      ),
    );
    assert.equal(
      err.describe(),
      `The resource asked for a token from Entra ID tenant '${TENANT}', but service connection 'my-azure-connection' is for tenant 'contoso.onmicrosoft.com'. Use a service connection in tenant '${TENANT}' (the tenant of the vault or resource), or correct the connection's tenant ID.`,
    );
  });

  it('says the app was not found in the tenant (AADSTS700016)', async () => {
    const other = '0f0f0f0f-0000-4000-8000-000000000000';
    const err = await failure(
      (await store('myvault', connection({ serviceprincipalid: other }))).getSecret('openai-api-key'),
    );
    assert.equal(
      err.message,
      `App '${other}' of service connection 'my-azure-connection' was not found in tenant '${TENANT}' (AADSTS700016).`,
    );
  });

  it('fails with proxy advice when the proxy wants credentials the agent does not have (407)', async () => {
    const authProxy = await startFakeProxy(azure, { username: 'builder', password: 'proxy-pass' });
    try {
      const err = await failure(
        (await store('myvault', connection(), await network({ url: authProxy.url, bypass: [] }))).getSecret(
          'openai-api-key',
        ),
      );
      assert.equal(err.subject, 'Agent.ProxyUsername');
      assert.equal(
        err.message,
        `Cannot reach Key Vault 'myvault' (myvault.vault.azure.net): The proxy ${authProxy.url} requires authentication (HTTP 407) for myvault.vault.azure.net:443.`,
      );
      assert.deepEqual(authProxy.tunnels, []);
    } finally {
      await authProxy.close();
    }
  });

  it('authenticates to the proxy with the agent proxy credentials, which are masked and never in messages', async () => {
    const authProxy = await startFakeProxy(azure, { username: 'builder', password: 'proxy-pass' });
    try {
      const net = await network({
        url: authProxy.url,
        username: 'builder',
        password: 'proxy-pass',
        bypass: [],
      });
      assert.equal(await (await store('myvault', connection(), net)).getSecret('openai-api-key'), API_KEY);
      assert.ok(authProxy.tunnels.includes('myvault.vault.azure.net:443'));
      assert.ok(secrets.includes('proxy-pass'));
    } finally {
      await authProxy.close();
    }
  });
});
