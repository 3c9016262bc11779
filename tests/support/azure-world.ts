/**
 * The Azure a bundled task meets on a self-hosted agent behind a corporate proxy: fakes on one HTTPS
 * server under Azure's real host names, an HTTP CONNECT proxy in front of it, the server's CA in a
 * file, and the agent variables that point the task at them.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fakeAzureDevOps, fakeOidcToken } from '../fake-servers/azure-devops';
import { fakeAzureRepos, type FakeAzureRepos, type FakeAzureReposOptions } from '../fake-servers/azure-repos';
import { fakeOpenAI, type FakeOpenAI, type FakeOpenAIOptions } from '../fake-servers/azure-openai';
import { fakeEntraId, type FakeApp, type FakeEntraId } from '../fake-servers/entra-id';
import { fakeKeyVault, type FakeKeyVault, type FakeVault } from '../fake-servers/key-vault';
import type { EndpointSpec } from './agent-run';
import { startFakeAzure, startFakeProxy, type FakeAzure, type FakeProxy, type Route } from './fake-azure';
import type { WorkDir } from './work-dir';

export const TENANT = '11111111-2222-3333-4444-555555555555';
/** The app of the service principal connection, signing in with its client secret. */
export const APP = {
  clientId: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
  objectId: 'ffffffff-0000-1111-2222-333333333333',
  secret: 'sp-secret~Value.123',
};
/** The app of the workload identity federation connection: it trusts OIDC for SUBJECT. */
export const WIF_APP = 'bbbbbbbb-cccc-dddd-eeee-ffffffffffff';
/** The subject of the pipeline's OIDC token: connection 'prod-arm' of project contoso/web. */
export const SUBJECT = 'sc://contoso/web/prod-arm';
/** The OIDC token the fake Azure DevOps hands out. */
export const OIDC = fakeOidcToken(SUBJECT, 1);
/** The Azure OpenAI resource's key. */
export const API_KEY = 'aoai-key-5f4dcc3b5aa765d61d8327deb882cf99';
/** The corporate proxy's user; the agent passes the password as the secret variable Agent.ProxyPassword. */
export const PROXY_USER = { username: 'corp\\builder', password: 'proxy-P@ss' };
/** The scope of Entra ID tokens for Azure OpenAI. */
export const COGNITIVE = 'https://cognitiveservices.azure.com/.default';

/** A ServicePrincipal connection for APP with its client secret; `auth` overrides its parameters. */
export const spConnection = (auth: Record<string, string> = {}): EndpointSpec => ({
  scheme: 'ServicePrincipal',
  auth: {
    tenantid: TENANT,
    serviceprincipalid: APP.clientId,
    serviceprincipalkey: APP.secret,
    authenticationType: 'spnKey',
    ...auth,
  },
  data: { environment: 'AzureCloud', subscriptionId: 'sub' },
  url: 'https://management.azure.com/',
});

/** A WorkloadIdentityFederation connection for the app `clientId`. */
export const wifConnection = (clientId: string): EndpointSpec => ({
  scheme: 'WorkloadIdentityFederation',
  auth: { tenantid: TENANT, serviceprincipalid: clientId },
  data: { environment: 'AzureCloud' },
});

/** The job's own connection, whose access token the fake Azure DevOps accepts. */
export const SYSTEM_VSS_CONNECTION: EndpointSpec = {
  scheme: 'OAuth',
  auth: { AccessToken: 'job-access-token' },
  url: 'https://dev.azure.com/contoso/',
};

/** The System.* variables of the job, which workload identity federation needs. */
export const JOB_VARIABLES = {
  'System.CollectionUri': 'https://dev.azure.com/contoso/',
  'System.TeamProjectId': 'proj-guid',
  'System.TeamProject': 'web',
  'System.HostType': 'build',
  'System.PlanId': 'plan-guid',
  'System.JobId': 'job-guid',
};

/** The fake Azure server, the proxy in front of it and its CA file, as an agent is set up to use them. */
export interface CorporateNetwork {
  server: FakeAzure;
  proxy: FakeProxy;
  /** The server's CA certificate in a PEM file, for the agent's CA setting (Agent.CAInfo). */
  caFile: string;
  /** The variables of an agent working in `dir` behind the proxy, trusting its CA. */
  behindProxy(dir: WorkDir): Record<string, string>;
  /** The agent's secret variable with the proxy password (none when the proxy asks for no credentials). */
  proxySecret: Record<string, string>;
  close(): Promise<void>;
}

/**
 * Starts one fake Azure server for `routes` and a CONNECT proxy to it, asking for `credentials` when
 * given; `unknownHost` names the hosts the proxy answers 502 for (see startFakeProxy).
 */
export async function startCorporateNetwork(
  routes: Route[],
  options: {
    credentials?: { username: string; password: string };
    unknownHost?: (host: string) => boolean;
  } = {},
): Promise<CorporateNetwork> {
  const { credentials, unknownHost } = options;
  const server = await startFakeAzure(routes);
  const proxy = await startFakeProxy(server, credentials, { unknownHost });
  const caDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-corp-ca-'));
  const caFile = path.join(caDir, 'corp-ca.pem');
  fs.writeFileSync(caFile, server.caPem);
  return {
    server,
    proxy,
    caFile,
    behindProxy: (dir) => ({
      'Agent.TempDirectory': dir.work,
      'Build.SourcesDirectory': dir.out,
      'Agent.ProxyUrl': proxy.url,
      ...(credentials ? { 'Agent.ProxyUsername': credentials.username } : {}),
      'Agent.CAInfo': caFile,
    }),
    proxySecret: credentials ? { 'Agent.ProxyPassword': credentials.password } : {},
    close: async () => {
      await proxy.close();
      await server.close();
      fs.rmSync(caDir, { recursive: true, force: true });
    },
  };
}

export interface AzureWorldOptions {
  /** Apps of tenant TENANT besides APP and WIF_APP. */
  apps?: FakeApp[];
  vaults: Record<string, FakeVault>;
  /** The hosts whose requests go to Azure OpenAI (default: *.openai.azure.com). */
  openaiHost?: RegExp;
  /** Hosts the proxy answers 502 for, as a proxy does when the host of a CONNECT does not resolve. */
  unknownHost?: (host: string) => boolean;
  /** An Azure Repos Git repository of contoso/web at dev.azure.com, accepting the job's access token. */
  repos?: Pick<FakeAzureReposOptions, 'repository' | 'files' | 'defaultBranch'>;
  /** More fake services on the same server (GitHub, the runner's OIDC service), tried first. */
  routes?: Route[];
}

/** Fake Entra ID, Key Vault, Azure OpenAI and Azure DevOps behind the proxy, which asks for PROXY_USER. */
export interface AzureWorld extends CorporateNetwork {
  entra: FakeEntraId;
  vault: FakeKeyVault;
  /** The fake Azure OpenAI that requests go to now. */
  readonly openai: FakeOpenAI;
  /**
   * Puts a new fake Azure OpenAI (accepting API_KEY, Entra ID tokens for COGNITIVE and deployment
   * 'gpt-4o', unless `options` say otherwise) in place of the current one, and returns it.
   */
  replaceOpenAI(options?: FakeOpenAIOptions): FakeOpenAI;
  /** The fake Azure Repos, when `repos` was given. */
  repos?: FakeAzureRepos;
}

export async function startAzureWorld(options: AzureWorldOptions): Promise<AzureWorld> {
  const entra = fakeEntraId({
    tenantId: TENANT,
    apps: [
      APP,
      { clientId: WIF_APP, objectId: 'wif-oid', federated: { token: OIDC, subject: SUBJECT } },
      ...(options.apps ?? []),
    ],
  });
  const vault = fakeKeyVault(entra, options.vaults);
  const devops = fakeAzureDevOps({
    org: 'contoso',
    project: 'web',
    connectionName: 'prod-arm',
    accessToken: 'job-access-token',
    token: OIDC,
  });
  const newOpenAI = (over: FakeOpenAIOptions = {}): FakeOpenAI =>
    fakeOpenAI({
      apiKeys: [API_KEY],
      deployments: ['gpt-4o'],
      bearerTokens: { includes: (t: string) => !!entra.lookup(t, COGNITIVE) },
      ...over,
    });
  let openai = newOpenAI();
  // One route for whichever fake Azure OpenAI is current.
  const openaiRoute: Route = {
    host: options.openaiHost ?? /\.openai\.azure\.com$/,
    handle: (...args) => openai.route.handle(...args),
  };
  // Azure Repos answers its Git calls and passes the others (OIDC tokens) to the fake Azure DevOps.
  const repos = options.repos
    ? fakeAzureRepos({
        org: 'contoso',
        project: 'web',
        accessToken: SYSTEM_VSS_CONNECTION.auth!.AccessToken!,
        ...options.repos,
        next: devops,
      })
    : undefined;
  const network = await startCorporateNetwork(
    [...(options.routes ?? []), openaiRoute, entra.route, vault.route, repos ?? devops],
    {
      credentials: PROXY_USER,
      unknownHost: options.unknownHost,
    },
  );
  return {
    ...network,
    entra,
    vault,
    get openai() {
      return openai;
    },
    replaceOpenAI: (over) => (openai = newOpenAI(over)),
    ...(repos ? { repos } : {}),
  };
}
