/**
 * SecretStore over Azure Key Vault (@azure/keyvault-secrets). Each failure becomes a CredentialError
 * naming the vault, the secret and what to change (role, firewall, name, cloud).
 */
import type { TokenCredential } from '@azure/core-auth';
import { SecretClient, type SecretClientOptions } from '@azure/keyvault-secrets';
import { INPUTS } from '../../core/contract';
import { CredentialError } from '../../core/errors';
import type { SecretStore } from '../../core/ports';
import { azureClientOptions, type Network } from '../net/network';
import { describeNetworkFailure, networkErrorCode } from '../net/network-errors';
import { keyVaultUrl, type AzureCloud } from './cloud';

/** What a KeyVaultSecretStore reads from and how. */
export interface KeyVaultSecretStoreOptions {
  vaultName: string;
  cloud: AzureCloud;
  credential: TokenCredential;
  network: Network;
  /** Mask the secret's value in all later log lines; called the moment it is read. */
  setSecret(value: string): void;
  /** The service connection whose identity reads the vault, for messages. */
  connection?: string;
  /** Extra SDK client options (tests use it to shorten retries or swap the agent). */
  clientOptions?: SecretClientOptions;
}

/** The parts of a Key Vault failure a message may name. */
export interface VaultContext {
  vaultName: string;
  secretName: string;
  cloud: string;
  host: string;
  connection?: string;
}

/** Reads secrets from one vault. */
export class KeyVaultSecretStore implements SecretStore {
  private readonly client: SecretClient;
  private readonly host: string;

  constructor(private readonly options: KeyVaultSecretStoreOptions) {
    const url = keyVaultUrl(options.cloud, options.vaultName);
    this.host = new URL(url).host;
    this.client = new SecretClient(url, options.credential, {
      ...azureClientOptions(options.network),
      ...options.clientOptions,
    });
  }

  /**
   * The secret's current value, trimmed of surrounding whitespace.
   * @throws CredentialError naming the vault and secret: no permission, not found, disabled, firewall, unknown vault, sign-in failure, empty value.
   */
  async getSecret(name: string, signal?: AbortSignal): Promise<string> {
    const ctx: VaultContext = {
      vaultName: this.options.vaultName,
      secretName: name,
      cloud: this.options.cloud.name,
      host: this.host,
      ...(this.options.connection ? { connection: this.options.connection } : {}),
    };
    let value: string | undefined;
    try {
      value = (await this.client.getSecret(name, signal ? { abortSignal: signal } : {})).value;
    } catch (err) {
      throw explainKeyVaultFailure(err, ctx);
    }
    if (value) this.options.setSecret(value);
    const trimmed = value?.trim();
    if (!trimmed) {
      throw new CredentialError(
        `Secret '${name}' in Key Vault '${ctx.vaultName}' is empty.`,
        INPUTS.apiKeySecretName,
        `Set the secret's value to the API key, or set '${INPUTS.apiKeySecretName}' to the secret that holds it.`,
      );
    }
    if (trimmed !== value) this.options.setSecret(trimmed);
    return trimmed;
  }
}

interface RestErrorShape {
  statusCode?: number;
  code?: string;
  message?: string;
  details?: {
    error?: {
      code?: string;
      message?: string;
      innerError?: { code?: string };
      innererror?: { code?: string };
    };
  };
}

/**
 * One CredentialError for a failed secret read. The service's own message is not repeated (it is
 * remote text); only the object id of the caller is taken from it.
 */
export function explainKeyVaultFailure(err: unknown, ctx: VaultContext): CredentialError {
  const signIn = findCredentialError(err);
  if (signIn) return signIn;
  const vault = `Key Vault '${ctx.vaultName}'`;
  const secret = `secret '${ctx.secretName}'`;
  const rest = (err ?? {}) as RestErrorShape;
  const status = rest.statusCode;
  const body = rest.details?.error;
  const inner = body?.innerError?.code ?? body?.innererror?.code;
  const code = body?.code ?? rest.code;

  if (status === 404) {
    return new CredentialError(
      `${capital(secret)} was not found in ${vault}${code && code !== 'SecretNotFound' ? ` (${code})` : ''}.`,
      INPUTS.apiKeySecretName,
      `Check '${INPUTS.apiKeySecretName}' (the secret's name, not its URL) and '${INPUTS.keyVaultName}'; a deleted secret must be recovered before use.`,
      { cause: err },
    );
  }
  if (status === 403) {
    if (inner === 'SecretDisabled') {
      return new CredentialError(
        `${capital(secret)} in ${vault} is disabled (SecretDisabled).`,
        INPUTS.apiKeySecretName,
        `Enable the secret's current version in the vault, or set '${INPUTS.apiKeySecretName}' to an enabled secret.`,
        { cause: err },
      );
    }
    if (inner === 'ForbiddenByFirewall') {
      return new CredentialError(
        `${vault} refused the agent's address (firewall, ForbiddenByFirewall) when reading ${secret}.`,
        INPUTS.keyVaultName,
        "Add the agent's outbound IP address to the vault's firewall (Networking > Firewalls and virtual networks), or run the job on an agent in an allowed virtual network.",
        { cause: err },
      );
    }
    if (inner === 'ForbiddenByConnection') {
      return new CredentialError(
        `${vault} does not accept public network access (private endpoint only, ForbiddenByConnection) when reading ${secret}.`,
        INPUTS.keyVaultName,
        'Run the job on a self-hosted agent in a network with a private endpoint to the vault, or allow public access from selected networks that include the agent.',
        { cause: err },
      );
    }
    const oid = /\boid=([0-9a-fA-F-]{36})\b/.exec(body?.message ?? rest.message ?? '')?.[1];
    const who = `The identity of ${ctx.connection ? `service connection '${ctx.connection}'` : 'the service connection'}${oid ? ` (object id ${oid})` : ''}`;
    return new CredentialError(
      `${who} may not read ${secret} in ${vault} (HTTP 403${inner ? `, ${inner}` : ''}).`,
      INPUTS.keyVaultName,
      `Grant it the 'Key Vault Secrets User' role on the vault (Azure RBAC), or, if the vault uses access policies, an access policy with Get on secrets.`,
      { cause: err },
    );
  }
  if (status === 401) {
    return new CredentialError(
      `${vault} rejected the service connection's token when reading ${secret} (HTTP 401).`,
      INPUTS.keyVaultName,
      "The vault may belong to another Entra ID tenant than the service connection; use a connection in the vault's tenant.",
      { cause: err },
    );
  }
  const net = networkErrorCode(err);
  if (net === 'ENOTFOUND') {
    return new CredentialError(
      `${vault} was not found in ${ctx.cloud} (${ctx.host} does not resolve).`,
      INPUTS.keyVaultName,
      `Check '${INPUTS.keyVaultName}' (the vault's name only, not its URL), and that the service connection is for the cloud the vault is in.`,
      { cause: err },
    );
  }
  const network = describeNetworkFailure(err, `${vault} (${ctx.host})`);
  if (network && net === 'EPROXYREFUSED') {
    // Behind a proxy the proxy resolves the name: an unknown vault comes back as a refused tunnel (502/503).
    return new CredentialError(
      network.message,
      INPUTS.keyVaultName,
      `Check '${INPUTS.keyVaultName}' (the vault's name only, not its URL): a proxy refuses the tunnel when ${ctx.host} does not resolve. If the name is right, ask the proxy's administrators to allow ${ctx.host}, or add it to the agent's .proxybypass list.`,
      { cause: err },
    );
  }
  if (network) return new CredentialError(network.message, network.subject, network.hint, { cause: err });
  return new CredentialError(
    `${vault} failed to return ${secret}${status ? ` (HTTP ${status}${code ? `, ${code}` : ''})` : code ? ` (${code})` : ''}.`,
    INPUTS.keyVaultName,
    'Run again; if it persists, enable system.debug to see the service response.',
    { cause: err },
  );
}

function findCredentialError(err: unknown): CredentialError | undefined {
  let e: unknown = err;
  for (let i = 0; e && i < 6; i++) {
    if (e instanceof CredentialError) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function capital(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
