import assert from 'node:assert/strict';
import { cloudFromConnection, keyVaultUrl } from '../../tasks/CodeSynthesis/src/adapters/azure/cloud';
import { CredentialError } from '../../tasks/CodeSynthesis/src/core/errors';
import type { ServiceConnection } from '../../tasks/CodeSynthesis/src/adapters/pipeline/agent-host';

function conn(data: Record<string, string>): ServiceConnection {
  return { id: 'conn', scheme: 'ServicePrincipal', auth: {}, data };
}

describe('cloudFromConnection', () => {
  it('uses the public cloud when the connection names no environment', () => {
    assert.deepEqual(cloudFromConnection(conn({})), {
      name: 'AzureCloud',
      authorityHost: 'https://login.microsoftonline.com',
      adfs: false,
      keyVaultDnsSuffix: 'vault.azure.net',
      keyVaultScope: 'https://vault.azure.net/.default',
      cognitiveServicesScope: 'https://cognitiveservices.azure.com/.default',
    });
  });

  it('knows the US Government and China clouds without endpoint data', () => {
    const gov = cloudFromConnection(conn({ environment: 'AzureUSGovernment' }));
    assert.equal(gov.authorityHost, 'https://login.microsoftonline.us');
    assert.equal(gov.keyVaultDnsSuffix, 'vault.usgovcloudapi.net');
    assert.equal(gov.keyVaultScope, 'https://vault.usgovcloudapi.net/.default');
    assert.equal(gov.cognitiveServicesScope, 'https://cognitiveservices.azure.us/.default');
    const china = cloudFromConnection(conn({ environment: 'azurechinacloud' }));
    assert.equal(china.authorityHost, 'https://login.chinacloudapi.cn');
    assert.equal(china.keyVaultDnsSuffix, 'vault.azure.cn');
    assert.equal(china.cognitiveServicesScope, 'https://cognitiveservices.azure.cn/.default');
  });

  it('reads the authority and vault endpoints from the data when present', () => {
    const cloud = cloudFromConnection(
      conn({
        environment: 'AzureCloud',
        environmentAuthorityUrl: 'https://login.contoso.example/',
        AzureKeyVaultDnsSuffix: 'vault.contoso.example',
        AzureKeyVaultServiceEndpointResourceId: 'https://vault.contoso.example/',
      }),
    );
    assert.equal(cloud.authorityHost, 'https://login.contoso.example');
    assert.equal(cloud.keyVaultDnsSuffix, 'vault.contoso.example');
    assert.equal(cloud.keyVaultScope, 'https://vault.contoso.example/.default');
  });

  it('prefers activeDirectoryAuthority, and maps the ADAL alias login.windows.net to MSAL host', () => {
    assert.equal(
      cloudFromConnection(conn({ environmentAuthorityUrl: 'https://login.windows.net/' })).authorityHost,
      'https://login.microsoftonline.com',
    );
    assert.equal(
      cloudFromConnection(
        conn({
          environmentAuthorityUrl: 'https://login.windows.net/',
          activeDirectoryAuthority: 'https://login.microsoftonline.us/',
        }),
      ).authorityHost,
      'https://login.microsoftonline.us',
    );
  });

  it('reads Azure Stack from its data, detecting AD FS', () => {
    const cloud = cloudFromConnection(
      conn({
        environment: 'AzureStack',
        environmentAuthorityUrl: 'https://adfs.local.azurestack.external/adfs/',
        AzureKeyVaultDnsSuffix: 'vault.local.azurestack.external',
      }),
    );
    assert.deepEqual(cloud, {
      name: 'AzureStack',
      authorityHost: 'https://adfs.local.azurestack.external/adfs',
      adfs: true,
      keyVaultDnsSuffix: 'vault.local.azurestack.external',
      keyVaultScope: 'https://vault.local.azurestack.external/.default',
    });
    const entra = cloudFromConnection(
      conn({
        environment: 'AzureStack',
        environmentAuthorityUrl: 'https://login.microsoftonline.com/',
        AzureKeyVaultDnsSuffix: 'vault.region.example',
      }),
    );
    assert.equal(entra.adfs, false);
    assert.equal(
      cloudFromConnection(
        conn({
          environment: 'AzureStack',
          environmentAuthorityUrl: 'https://sts.example/',
          AzureKeyVaultDnsSuffix: 'v.example',
          EnableAdfsAuthentication: 'True',
        }),
      ).adfs,
      true,
    );
  });

  it('names what Azure Stack data lacks', () => {
    assert.throws(
      () =>
        cloudFromConnection(
          conn({ environment: 'AzureStack', AzureKeyVaultDnsSuffix: 'vault.local.azurestack.external' }),
        ),
      (e: unknown) =>
        e instanceof CredentialError &&
        e.subject === 'conn' &&
        e.message ===
          "Service connection 'conn' is for the 'AzureStack' environment, and its endpoint data lacks environmentAuthorityUrl.",
    );
    assert.throws(
      () => cloudFromConnection(conn({ environment: 'AzureStack' })),
      /lacks environmentAuthorityUrl and AzureKeyVaultDnsSuffix\./,
    );
  });

  it('lists the supported environments for an unknown one without data', () => {
    assert.throws(
      () => cloudFromConnection(conn({ environment: 'AzureGermanCloud' })),
      (e: unknown) =>
        e instanceof CredentialError &&
        e.hint ===
          'Supported environments without endpoint data: AzureCloud, AzureUSGovernment, AzureChinaCloud.',
    );
  });

  it('rejects an authority that is not https', () => {
    assert.throws(
      () => cloudFromConnection(conn({ environmentAuthorityUrl: 'http://login.example/' })),
      /has 'http:\/\/login\.example\/' as environmentAuthorityUrl, which is not an https URL\./,
    );
  });
});

describe('keyVaultUrl', () => {
  it('joins the vault name, lower-cased, and the cloud suffix', () => {
    assert.equal(keyVaultUrl(cloudFromConnection(conn({})), 'MyVault'), 'https://myvault.vault.azure.net');
    assert.equal(
      keyVaultUrl(cloudFromConnection(conn({ environment: 'AzureChinaCloud' })), 'kv1'),
      'https://kv1.vault.azure.cn',
    );
  });
});
