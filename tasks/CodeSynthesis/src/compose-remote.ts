/**
 * The composition of the remote providers: the agent's network settings, the credential from the
 * service connection, the key from Key Vault (or a secret variable), then the Azure OpenAI or
 * OpenAI-compatible client, all under one time budget for the run. Reached only through a literal
 * `await import()` from compose.ts, so the offline path loads none of this (the task ships it as a
 * second bundle, remote.js: scripts/bundle.mjs).
 */
import fs from 'node:fs/promises';
import type { TokenCredential } from '@azure/core-auth';
import { cloudFromConnection, type AzureCloud } from './adapters/azure/cloud';
import { createCredential } from './adapters/azure/credential';
import { KeyVaultSecretStore } from './adapters/azure/key-vault-secret-store';
import { createAzureReposPublisher } from './adapters/devops/azure-repos-publisher';
import { systemAccessToken } from './adapters/devops/devops-client';
import { oidcTokenProvider, readJobContext, webApiOptions } from './adapters/devops/oidc-token';
import { AzureOpenAIClient } from './adapters/model/azure-openai-client';
import { OpenAICompatibleClient } from './adapters/model/openai-compatible-client';
import { untilAborted } from './adapters/net/abort';
import { createFetch, loadNetwork, type Network } from './adapters/net/network';
import { MAX_RETRIES } from './adapters/net/retry-policy';
import { TimeBudget } from './adapters/net/time-budget';
import type { AgentHost, ServiceConnection } from './adapters/pipeline/agent-host';
import { INPUTS } from './core/contract';
import { CancelledError, CredentialError } from './core/errors';
import type { ModelClient } from './core/ports';
import type { ReviewPublisher } from './core/review';
import type { Settings } from './core/settings';

/** A signed-in connection: the credential for `connectionId` and the cloud it belongs to. */
export interface SignedIn {
  conn: ServiceConnection;
  cloud: AzureCloud;
  credential: TokenCredential;
}

/** Turns the connection the settings name into a credential (the host decides where OIDC tokens come from). */
export type SignIn = (connectionId: string, host: AgentHost, network: Network) => SignedIn;

/**
 * Sign in and build the client. The sign-in, the Key Vault read and every model call (retries and waits
 * included) draw on one time budget, timeoutSeconds, and stop when the run is cancelled. `signIn`
 * defaults to the Azure Pipelines service connection (workload identity federation through Azure
 * DevOps' OIDC tokens); the GitHub Action passes its own (action-sign-in.ts).
 * @throws CredentialError, CancelledError, InputError.
 */
export async function connectRemoteModel(
  settings: Settings,
  host: AgentHost,
  signal: AbortSignal,
  signIn: SignIn = signInWithConnection,
): Promise<ModelClient> {
  const endpoint = settings.endpoint!;
  const deployment = settings.deployment!;
  const certs = host.certificates();
  if (certs?.skipValidation)
    host.warn(
      'The agent skips TLS certificate validation (--sslskipcertvalidation), so this task does too. Configure the CA instead (Agent.CAInfo).',
    );
  const network = await loadNetwork(
    host.proxy(),
    certs,
    (p) => fs.readFile(p, 'utf8'),
    (v) => host.setSecret(v),
  );
  const common = {
    endpoint,
    deployment,
    fetch: createFetch(network).fetch,
    budget: new TimeBudget(settings.timeoutSeconds * 1000),
    maxRetries: MAX_RETRIES,
    logger: host,
  };
  const auth = settings.auth;
  if (auth.mode === 'entraId') {
    const { conn, cloud, credential } = signIn(auth.connection, host, network);
    const scope = cloud.cognitiveServicesScope;
    if (!scope) {
      throw new CredentialError(
        `Entra ID sign-in to Azure OpenAI is not known for cloud '${cloud.name}' of service connection '${conn.id}'.`,
        INPUTS.authMode,
        "Use authMode 'keyVault' or 'apiKey' in this cloud.",
      );
    }
    const { getBearerTokenProvider } = await import('@azure/identity');
    host.info(
      `Authenticating to Azure OpenAI with an Entra ID token from service connection '${conn.id}' (${cloud.name}).`,
    );
    const provider = getBearerTokenProvider(credential, scope);
    return new AzureOpenAIClient({
      ...common,
      apiVersion: settings.apiVersion,
      azureADTokenProvider: async () => {
        const token = await provider();
        host.setSecret(token);
        return token;
      },
    });
  }
  let apiKey: string;
  let keySource: string;
  if (auth.mode === 'keyVault') {
    const { conn, cloud, credential } = signIn(auth.connection, host, network);
    host.info(
      `Reading secret '${auth.secretName}' from Key Vault '${auth.vaultName}' (${cloud.name}) with service connection '${conn.id}'.`,
    );
    const store = new KeyVaultSecretStore({
      vaultName: auth.vaultName,
      cloud,
      credential,
      network,
      setSecret: (v) => host.setSecret(v),
      connection: conn.id,
    });
    apiKey = await common.budget.spend((budget) =>
      withinBudget(
        store.getSecret(auth.secretName, AbortSignal.any([signal, budget])),
        budget,
        signal,
        () =>
          new CredentialError(
            `Signing in and reading secret '${auth.secretName}' from Key Vault '${auth.vaultName}' took longer than ${settings.timeoutSeconds} s.`,
            INPUTS.timeoutSeconds,
            "Check that the agent can reach Entra ID and the vault (proxy, firewall, DNS), or raise 'timeoutSeconds'.",
          ),
      ),
    );
    keySource = `the Key Vault secret '${auth.secretName}' in vault '${auth.vaultName}'`;
  } else if (auth.mode === 'apiKey') {
    apiKey = auth.apiKey;
    keySource = "the 'apiKey' input";
  } else {
    throw new Error(`No credentials for provider ${settings.provider}.`);
  }
  host.setSecret(apiKey);
  if (settings.provider === 'azureOpenAI')
    return new AzureOpenAIClient({ ...common, apiVersion: settings.apiVersion, apiKey, keySource });
  return new OpenAICompatibleClient({ ...common, apiKey, keySource });
}

/**
 * The publisher of reviewMode 'pullRequest': Azure Repos Git as the job's build identity, with the job's
 * access token (SystemVssConnection), through the agent's proxy and CA.
 * @throws ReviewError naming the pipeline variables that are missing.
 */
export function createReviewPublisher(host: AgentHost): ReviewPublisher {
  return createAzureReposPublisher(host);
}

/** The call's result, or CancelledError / the budget's error as soon as either signal aborts. */
async function withinBudget<T>(
  call: Promise<T>,
  budget: AbortSignal,
  run: AbortSignal,
  overBudget: () => Error,
): Promise<T> {
  try {
    return await untilAborted(call, AbortSignal.any([run, budget]));
  } catch (err) {
    if (run.aborted) throw new CancelledError();
    if (budget.aborted) throw overBudget();
    throw err;
  }
}

/** The connection's credential; WorkloadIdentityFederation gets its OIDC tokens from Azure DevOps. */
function signInWithConnection(connectionId: string, host: AgentHost, network: Network): SignedIn {
  const conn = host.getConnection(connectionId);
  const cloud = cloudFromConnection(conn);
  let deps: Parameters<typeof createCredential>[3] = { setSecret: (v) => host.setSecret(v) };
  if (conn.scheme.toLowerCase() === 'workloadidentityfederation') {
    const vssToken = systemAccessToken(host);
    const context = readJobContext(host, vssToken);
    deps = {
      ...deps,
      getOidcToken: oidcTokenProvider(
        context,
        conn.id,
        webApiOptions(host.proxy(), host.certificates()),
        (v) => host.setSecret(v),
      ),
      expectedSubject: expectedSubject(
        context.collectionUri,
        host.getVariable('System.TeamProject'),
        connectionId,
      ),
    };
  }
  const credential = createCredential(conn, cloud, network, deps);
  return { conn, cloud, credential };
}

/** The subject Azure DevOps puts in the OIDC token: sc://<organization>/<project>/<connection name>. */
export function expectedSubject(
  collectionUri: string,
  project: string | undefined,
  connection: string,
): string {
  let org = '<organization>';
  try {
    const url = new URL(collectionUri);
    org = /\.visualstudio\.com$/i.test(url.hostname)
      ? url.hostname.split('.')[0]!
      : (url.pathname.split('/').filter(Boolean)[0] ?? org);
  } catch {
    /* keep the placeholder */
  }
  const name = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(connection)
    ? '<service connection name>'
    : connection;
  return `sc://${org}/${project ?? '<project>'}/${name}`;
}
