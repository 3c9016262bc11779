/**
 * createCredential with the real @azure/identity (MSAL inside) over HTTPS, through a CONNECT proxy,
 * against the fake Entra ID: client secret, certificate (signed client assertion verified by the fake),
 * workload identity federation, sovereign clouds, and the one-line causes of AADSTS failures.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { cloudFromConnection } from '../../tasks/CodeSynthesis/src/adapters/azure/cloud';
import {
  createCredential,
  type CredentialDeps,
} from '../../tasks/CodeSynthesis/src/adapters/azure/credential';
import { loadNetwork, type Network } from '../../tasks/CodeSynthesis/src/adapters/net/network';
import { CredentialError } from '../../tasks/CodeSynthesis/src/core/errors';
import type { ServiceConnection } from '../../tasks/CodeSynthesis/src/adapters/pipeline/agent-host';
import { startCorporateNetwork, type CorporateNetwork } from '../support/azure-world';
import { startFakeProxy, type FakeAzure, type FakeProxy } from '../support/fake-azure';
import { FAKE_HOSTS } from '../support/test-ca';
import { AADSTS, fakeEntraId, makeAppCertificate, type FakeEntraId } from '../fake-servers/entra-id';

const TENANT = '3f1e2d4c-5b6a-4789-8a0b-1c2d3e4f5a6b';
const SECRET_APP = 'aaaaaaaa-1111-4222-8333-444444444444';
const CERT_APP = 'bbbbbbbb-1111-4222-8333-444444444444';
const WIF_APP = 'cccccccc-1111-4222-8333-444444444444';
const SP_SECRET = 'Qx8~sp-secret-value';
const OIDC_TOKEN = 'eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiJzYzovL2NvbnRvc28vd2ViL2Nvbm4ifQ.sig';
const SUBJECT = 'sc://contoso/web/my-wif-connection';
const VAULT_SCOPE = 'https://vault.azure.net/.default';
const FAST = { retryOptions: { maxRetries: 0 } };

describe('createCredential (real @azure/identity, fake Entra ID, through a proxy)', () => {
  const appCert = makeAppCertificate();
  const strangerCert = makeAppCertificate('not-registered');
  let entra: FakeEntraId;
  let corp: CorporateNetwork;
  let azure: FakeAzure;
  let proxy: FakeProxy;
  let caFile: string;
  let net: Network;
  let secrets: string[];

  before(async () => {
    entra = fakeEntraId({
      tenantId: TENANT,
      apps: [
        { clientId: SECRET_APP, secret: SP_SECRET },
        { clientId: CERT_APP, certificatePem: appCert.certificatePem },
        { clientId: WIF_APP, federated: { token: OIDC_TOKEN, subject: SUBJECT } },
      ],
    });
    corp = await startCorporateNetwork([entra.route]);
    ({ server: azure, proxy, caFile } = corp);
    net = await loadNetwork(
      { url: proxy.url, bypass: [] },
      { caFile },
      (p) => fs.promises.readFile(p, 'utf8'),
      () => undefined,
    );
  });

  after(() => corp.close());

  beforeEach(() => {
    secrets = [];
    delete entra.fail;
    proxy.tunnels.length = 0;
    entra.tokenRequests.length = 0;
  });

  function conn(
    scheme: string,
    auth: Record<string, string>,
    data: Record<string, string> = { environment: 'AzureCloud' },
  ): ServiceConnection {
    return { id: 'my-connection', scheme, auth: { tenantid: TENANT, ...auth }, data };
  }

  function credential(c: ServiceConnection, deps: Partial<CredentialDeps> = {}) {
    return createCredential(c, cloudFromConnection(c), net, {
      setSecret: (s) => secrets.push(s),
      clientOptions: FAST,
      ...deps,
    });
  }

  async function failure(promise: Promise<unknown>): Promise<CredentialError> {
    const err = await promise.then(
      () => assert.fail('expected a CredentialError'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof CredentialError, `expected CredentialError, got ${String(err)}`);
    for (const secret of [SP_SECRET, OIDC_TOKEN, appCert.combinedPem])
      assert.ok(!err.describe().includes(secret), 'a secret leaked into the message');
    return err;
  }

  const secretConn = () =>
    conn('ServicePrincipal', {
      serviceprincipalid: SECRET_APP,
      serviceprincipalkey: SP_SECRET,
      authenticationType: 'spnKey',
    });

  it('gets a token with a client secret, through the proxy, and masks the secret before use', async () => {
    const token = await credential(secretConn()).getToken(VAULT_SCOPE);
    assert.match(token!.token, /^fake-at-/);
    assert.ok(token!.expiresOnTimestamp > Date.now());
    assert.deepEqual(secrets, [SP_SECRET]);
    assert.deepEqual([...new Set(proxy.tunnels)], ['login.microsoftonline.com:443']);
    const request = entra.tokenRequests.at(-1);
    assert.equal(request?.client_secret, SP_SECRET);
    assert.equal(request?.scope, VAULT_SCOPE);
    assert.equal(entra.issued.at(-1)?.grant, 'secret');
  });

  it('treats a connection with no authenticationType as a client secret connection', async () => {
    const c = conn('ServicePrincipal', { serviceprincipalid: SECRET_APP, serviceprincipalkey: SP_SECRET });
    assert.match((await credential(c).getToken(VAULT_SCOPE))!.token, /^fake-at-/);
  });

  it('gets a token with the connection certificate: a client assertion signed by its key', async () => {
    const c = conn('ServicePrincipal', {
      serviceprincipalid: CERT_APP,
      authenticationType: 'spnCertificate',
      servicePrincipalCertificate: appCert.combinedPem,
    });
    const token = await credential(c).getToken(VAULT_SCOPE);
    assert.match(token!.token, /^fake-at-/);
    assert.equal(entra.issued.at(-1)?.grant, 'certificate');
    assert.equal(entra.tokenRequests.at(-1)?.client_secret, undefined);
    assert.deepEqual(secrets, [appCert.combinedPem]);
  });

  it('says the certificate is not registered on the app (AADSTS700027)', async () => {
    const c = conn('ServicePrincipal', {
      serviceprincipalid: CERT_APP,
      authenticationType: 'spnCertificate',
      servicePrincipalCertificate: strangerCert.combinedPem,
    });
    const err = await failure(credential(c).getToken(VAULT_SCOPE));
    assert.equal(
      err.message,
      `Entra ID rejected the certificate of service connection 'my-connection' (AADSTS700027): it is not registered on app '${CERT_APP}' or has expired.`,
    );
  });

  it('rejects a certificate PEM without its private key before any request', () => {
    const c = conn('ServicePrincipal', {
      serviceprincipalid: CERT_APP,
      authenticationType: 'spnCertificate',
      servicePrincipalCertificate: appCert.certificatePem,
    });
    assert.throws(
      () => credential(c),
      (e: unknown) =>
        e instanceof CredentialError &&
        /is not a PEM with both the certificate and its private key/.test(e.message),
    );
    assert.deepEqual(secrets, [appCert.certificatePem]);
  });

  it('uses workload identity federation with the Azure DevOps OIDC token, masked when received', async () => {
    let asked = 0;
    const c = conn('WorkloadIdentityFederation', { serviceprincipalid: WIF_APP });
    const token = await credential(c, { getOidcToken: async () => (asked++, OIDC_TOKEN) }).getToken(
      VAULT_SCOPE,
    );
    assert.match(token!.token, /^fake-at-/);
    assert.ok(asked >= 1);
    assert.ok(secrets.length >= 1 && secrets.every((s) => s === OIDC_TOKEN));
    const request = entra.tokenRequests.at(-1);
    assert.equal(request?.client_assertion, OIDC_TOKEN);
    assert.equal(request?.client_assertion_type, 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
  });

  it('prints the expected subject when no federated credential matches (AADSTS700213)', async () => {
    const c = conn('WorkloadIdentityFederation', { serviceprincipalid: WIF_APP });
    const err = await failure(
      credential(c, { getOidcToken: async () => 'some-other-token', expectedSubject: SUBJECT }).getToken(
        VAULT_SCOPE,
      ),
    );
    assert.equal(
      err.describe(),
      `No federated credential of app '${WIF_APP}' matches the pipeline's token for service connection 'my-connection' (AADSTS700213). Add a federated credential to the app with issuer https://vstoken.dev.azure.com/<organization id> and subject '${SUBJECT}', or convert the connection again in Project settings > Service connections.`,
    );
  });

  it('needs a token source for workload identity federation', () => {
    const c = conn('WorkloadIdentityFederation', { serviceprincipalid: WIF_APP });
    assert.throws(
      () => credential(c),
      /uses workload identity federation, but no Azure DevOps OIDC token source was given/,
    );
  });

  it('says the tenant was not found (AADSTS90002)', async () => {
    const c = conn('ServicePrincipal', {
      tenantid: 'contoso.onmicrosoft.com',
      serviceprincipalid: SECRET_APP,
      serviceprincipalkey: SP_SECRET,
    });
    const err = await failure(credential(c).getToken(VAULT_SCOPE));
    assert.equal(
      err.describe(),
      "Tenant 'contoso.onmicrosoft.com' of service connection 'my-connection' was not found in AzureCloud (AADSTS90002). Check the connection's tenant ID and that it is for the right cloud (Project settings > Service connections).",
    );
  });

  it('says the client secret has expired (AADSTS7000222)', async () => {
    entra.fail = AADSTS.expiredSecret(SECRET_APP);
    const err = await failure(credential(secretConn()).getToken(VAULT_SCOPE));
    assert.equal(
      err.message,
      "The client secret of service connection 'my-connection' has expired (AADSTS7000222).",
    );
  });

  it('links to the lookup page for AADSTS codes it does not know', async () => {
    entra.fail = {
      status: 400,
      error: 'invalid_request',
      code: 50012,
      description: 'AADSTS50012: Something else.',
    };
    const err = await failure(credential(secretConn()).getToken(VAULT_SCOPE));
    assert.equal(
      err.describe(),
      "Entra ID refused the sign-in of service connection 'my-connection' (AADSTS50012). See https://login.microsoftonline.com/error?code=50012 for the cause.",
    );
  });

  it('signs in at the US Government authority for an AzureUSGovernment connection', async () => {
    const c = conn(
      'ServicePrincipal',
      { serviceprincipalid: SECRET_APP, serviceprincipalkey: SP_SECRET },
      { environment: 'AzureUSGovernment' },
    );
    await credential(c).getToken('https://vault.usgovcloudapi.net/.default');
    assert.deepEqual([...new Set(proxy.tunnels)], ['login.microsoftonline.us:443']);
  });

  it('signs in at the China authority for an AzureChinaCloud connection', async () => {
    const c = conn(
      'ServicePrincipal',
      { serviceprincipalid: SECRET_APP, serviceprincipalkey: SP_SECRET },
      { environment: 'AzureChinaCloud' },
    );
    const outcome = await credential(c)
      .getToken('https://vault.azure.cn/.default')
      .then(
        () => 'token',
        (e: unknown) => e,
      );
    // MSAL sends China sign-ins to its preferred alias of login.chinacloudapi.cn.
    assert.deepEqual([...new Set(proxy.tunnels)], ['login.partner.microsoftonline.cn:443']);
    // The token itself needs that name in the test PKI (tests/support/test-ca.ts FAKE_HOSTS).
    if (FAKE_HOSTS.includes('login.partner.microsoftonline.cn')) assert.equal(outcome, 'token');
  });

  it('explains an untrusted TLS certificate on the way to Entra ID, although MSAL reports only network_error', async () => {
    const noCa = await loadNetwork(
      { url: proxy.url, bypass: [] },
      undefined,
      (p) => fs.promises.readFile(p, 'utf8'),
      () => undefined,
    );
    const c = secretConn();
    const err = await failure(
      createCredential(c, cloudFromConnection(c), noCa, {
        setSecret: () => undefined,
        clientOptions: FAST,
      }).getToken(VAULT_SCOPE),
    );
    assert.equal(err.subject, 'Agent.CAInfo');
    assert.equal(
      err.message,
      'Cannot reach Entra ID (login.microsoftonline.com): its TLS certificate is not trusted (UNABLE_TO_VERIFY_LEAF_SIGNATURE).',
    );
  });

  it('explains a proxy that rejects the agent proxy credentials (407), without printing them', async () => {
    const authProxy = await startFakeProxy(azure, { username: 'builder', password: 'right-pass' });
    try {
      const wrong = await loadNetwork(
        { url: authProxy.url, username: 'builder', password: 'wrong-pass', bypass: [] },
        { caFile },
        (p) => fs.promises.readFile(p, 'utf8'),
        () => undefined,
      );
      const c = secretConn();
      const err = await failure(
        createCredential(c, cloudFromConnection(c), wrong, {
          setSecret: () => undefined,
          clientOptions: FAST,
        }).getToken(VAULT_SCOPE),
      );
      assert.equal(
        err.message,
        `Cannot reach Entra ID (login.microsoftonline.com): The proxy ${authProxy.url} requires authentication and rejected the agent's proxy credentials (HTTP 407) for login.microsoftonline.com:443.`,
      );
      assert.ok(!err.describe().includes('wrong-pass'));
      assert.deepEqual(authProxy.authorizations, [
        'Basic ' + Buffer.from('builder:wrong-pass').toString('base64'),
      ]);
    } finally {
      await authProxy.close();
    }
  });

  it('names an unknown scheme and lists the supported ones', () => {
    assert.throws(
      () => credential(conn('PublishProfile', {})),
      (e: unknown) =>
        e instanceof CredentialError &&
        e.describe() ===
          "Service connection 'my-connection' uses the authorization scheme 'PublishProfile', which this task does not support. Use an Azure Resource Manager service connection with one of: ServicePrincipal, WorkloadIdentityFederation, ManagedServiceIdentity.",
    );
  });

  it('names the missing parameter of the connection', () => {
    assert.throws(
      () => credential(conn('ServicePrincipal', { serviceprincipalid: SECRET_APP })),
      /has no client secret \('serviceprincipalkey'\)/,
    );
    assert.throws(
      () =>
        credential(
          conn('ServicePrincipal', {
            tenantid: '',
            serviceprincipalkey: 'x',
            serviceprincipalid: SECRET_APP,
          }),
        ),
      /has no tenant ID \('tenantid'\)/,
    );
  });

  it('creates a managed identity credential without reading secrets', () => {
    const c: ServiceConnection = {
      id: 'msi',
      scheme: 'ManagedServiceIdentity',
      auth: {},
      data: { environment: 'AzureCloud', msiclientId: SECRET_APP },
    };
    const cred = credential(c);
    assert.equal(typeof cred.getToken, 'function');
    assert.deepEqual(secrets, []);
  });
});
