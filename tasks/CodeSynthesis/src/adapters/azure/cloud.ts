/**
 * The Azure cloud an AzureRM service connection points at: where to sign in and the host names and
 * token scopes of the services we call. Read from the connection's endpoint data the way Microsoft's
 * own tasks do (azure-arm-rest AzureRMEndpoint), with the well-known values for the public and
 * sovereign clouds when the data is missing.
 */
import { CredentialError } from '../../core/errors';
import type { ServiceConnection } from '../pipeline/agent-host';

/** Endpoints of one Azure cloud. URLs never end with '/'. */
export interface AzureCloud {
  /** The connection's environment name (AzureCloud, AzureUSGovernment, AzureChinaCloud, AzureStack). */
  name: string;
  /** Entra ID (or AD FS) authority host, e.g. https://login.microsoftonline.com. */
  authorityHost: string;
  /** True when the authority is AD FS (Azure Stack Hub disconnected): tenant 'adfs', no instance discovery. */
  adfs: boolean;
  /** DNS suffix of vaults, e.g. vault.azure.net. */
  keyVaultDnsSuffix: string;
  /** Token scope for Key Vault, e.g. https://vault.azure.net/.default. */
  keyVaultScope: string;
  /** Token scope for Azure OpenAI / Cognitive Services; undefined where the cloud has none (Azure Stack). */
  cognitiveServicesScope?: string;
}

interface WellKnown {
  authorityHost: string;
  keyVaultDnsSuffix: string;
  keyVaultResource: string;
  cognitiveServicesScope: string;
}

/** Values from https://learn.microsoft.com/azure/key-vault/general/about-keys-secrets-certificates#dns-suffixes-for-object-identifiers and the clouds' metadata endpoints. */
const WELL_KNOWN: Readonly<Record<string, WellKnown>> = {
  azurecloud: {
    authorityHost: 'https://login.microsoftonline.com',
    keyVaultDnsSuffix: 'vault.azure.net',
    keyVaultResource: 'https://vault.azure.net',
    cognitiveServicesScope: 'https://cognitiveservices.azure.com/.default',
  },
  azureusgovernment: {
    authorityHost: 'https://login.microsoftonline.us',
    keyVaultDnsSuffix: 'vault.usgovcloudapi.net',
    keyVaultResource: 'https://vault.usgovcloudapi.net',
    cognitiveServicesScope: 'https://cognitiveservices.azure.us/.default',
  },
  azurechinacloud: {
    authorityHost: 'https://login.chinacloudapi.cn',
    keyVaultDnsSuffix: 'vault.azure.cn',
    keyVaultResource: 'https://vault.azure.cn',
    cognitiveServicesScope: 'https://cognitiveservices.azure.cn/.default',
  },
};

/** ADAL-era alias the agent still stores in environmentAuthorityUrl for the public cloud; MSAL's host is login.microsoftonline.com. */
const ADAL_ALIASES: Readonly<Record<string, string>> = { 'login.windows.net': 'login.microsoftonline.com' };

/**
 * The cloud of a connection. Endpoint data wins over the well-known values (a connection may point
 * at a private authority). Azure Stack and unknown environments are read from data only.
 * @throws CredentialError when the environment is unknown or Azure Stack data lacks the authority or vault suffix.
 */
export function cloudFromConnection(conn: ServiceConnection): AzureCloud {
  const name = conn.data.environment?.trim() || 'AzureCloud';
  const known = WELL_KNOWN[name.toLowerCase()];
  // MSAL-aware Microsoft tasks read 'activeDirectoryAuthority' first (azure-arm-rest azure-arm-endpoint.ts).
  const authorityData =
    conn.data.activeDirectoryAuthority?.trim() || conn.data.environmentAuthorityUrl?.trim();
  const suffixData = conn.data.AzureKeyVaultDnsSuffix?.trim();
  const resourceData = conn.data.AzureKeyVaultServiceEndpointResourceId?.trim();

  if (!known) {
    const missing = [
      ...(authorityData ? [] : ['environmentAuthorityUrl']),
      ...(suffixData ? [] : ['AzureKeyVaultDnsSuffix']),
    ];
    if (missing.length) {
      throw new CredentialError(
        `Service connection '${conn.id}' is for the '${name}' environment, and its endpoint data lacks ${missing.join(' and ')}.`,
        conn.id,
        name.toLowerCase() === 'azurestack'
          ? 'Recreate the Azure Stack service connection so the agent gets the environment endpoints (Project settings > Service connections), or use a connection to AzureCloud, AzureUSGovernment or AzureChinaCloud.'
          : `Supported environments without endpoint data: ${Object.keys(WELL_KNOWN).map(displayName).join(', ')}.`,
      );
    }
  }

  const authority = parseHttpsUrl(authorityData ?? known!.authorityHost, conn, 'environmentAuthorityUrl');
  authority.hostname = ADAL_ALIASES[authority.hostname.toLowerCase()] ?? authority.hostname;
  const path = authority.pathname.replace(/\/+$/, '');
  const adfs = conn.data.EnableAdfsAuthentication?.toLowerCase() === 'true' || /\/adfs$/i.test(path);
  const authorityHost = `${authority.origin}${path}`;

  const keyVaultDnsSuffix = (suffixData ?? known!.keyVaultDnsSuffix).replace(/^\.+|\/+$/g, '').toLowerCase();
  const keyVaultResource = trimSlash(
    resourceData ?? known?.keyVaultResource ?? `https://${keyVaultDnsSuffix}`,
  );
  return {
    name,
    authorityHost,
    adfs,
    keyVaultDnsSuffix,
    keyVaultScope: `${keyVaultResource}/.default`,
    ...(known ? { cognitiveServicesScope: known.cognitiveServicesScope } : {}),
  };
}

/** The data-plane URL of a vault, e.g. https://myvault.vault.azure.net. */
export function keyVaultUrl(cloud: AzureCloud, vaultName: string): string {
  return `https://${vaultName.toLowerCase()}.${cloud.keyVaultDnsSuffix}`;
}

function parseHttpsUrl(value: string, conn: ServiceConnection, key: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || url.protocol !== 'https:') {
    throw new CredentialError(
      `Service connection '${conn.id}' has '${value}' as ${key}, which is not an https URL.`,
      conn.id,
      'Fix the environment endpoints of the service connection (Project settings > Service connections).',
    );
  }
  return url;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function displayName(key: string): string {
  return (
    { azurecloud: 'AzureCloud', azureusgovernment: 'AzureUSGovernment', azurechinacloud: 'AzureChinaCloud' }[
      key
    ] ?? key
  );
}
