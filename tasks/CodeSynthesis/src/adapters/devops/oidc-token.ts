/**
 * Workload identity federation: ask Azure DevOps for an OIDC token for the service connection
 * (TaskApi.createOidcToken), as Microsoft's AzureRM tasks do. A fresh token is requested each time
 * the credential needs one, since the token lives only a few minutes.
 */
import type { IRequestOptions } from 'azure-devops-node-api/interfaces/common/VsoBaseInterfaces';
import { CredentialError } from '../../core/errors';
import type { AgentHost } from '../pipeline/agent-host';
import { jobTokenClient } from './devops-client';

export { webApiOptions } from './devops-client';

/** Where the job runs, read from the pipeline's System.* variables. */
export interface JobContext {
  collectionUri: string;
  projectId: string;
  hostType: string;
  planId: string;
  jobId: string;
  accessToken: string;
}

const REQUIRED: Array<[keyof JobContext, string[]]> = [
  ['collectionUri', ['System.CollectionUri', 'System.TeamFoundationCollectionUri']],
  ['projectId', ['System.TeamProjectId']],
  ['hostType', ['System.HostType']],
  ['planId', ['System.PlanId']],
  ['jobId', ['System.JobId']],
  ['accessToken', ['System.AccessToken']],
];

/**
 * Read the job context. System.AccessToken is also taken from the SystemVssConnection endpoint,
 * where the agent always puts it.
 * @throws CredentialError naming the missing variables.
 */
export function readJobContext(host: AgentHost, systemVssToken?: string): JobContext {
  const context: Partial<JobContext> = {};
  const missing: string[] = [];
  for (const [key, names] of REQUIRED) {
    const value =
      names.map((n) => host.getVariable(n)).find((v) => v) ??
      (key === 'accessToken' ? systemVssToken : undefined);
    if (value) context[key] = value;
    else missing.push(names[0]!);
  }
  if (missing.length) {
    throw new CredentialError(
      `Workload identity federation needs the pipeline variables ${missing.join(', ')}, which are not set.`,
      'azureSubscription',
      'Run the task in an Azure Pipelines job: the agent sets them, and passes the job token on the SystemVssConnection endpoint.',
    );
  }
  host.setSecret(context.accessToken!);
  return context as JobContext;
}

/**
 * A function that returns a fresh OIDC token for the connection each time it is called.
 * azure-devops-node-api's TaskApi is loaded on first use only.
 */
export function oidcTokenProvider(
  context: JobContext,
  connectionId: string,
  options: IRequestOptions,
  setSecret: (v: string) => void,
): () => Promise<string> {
  return async () => {
    const { TaskApi } = await import('azure-devops-node-api/TaskApi');
    const api = await jobTokenClient(TaskApi, context.collectionUri, context.accessToken, options);
    let token: string | undefined;
    try {
      const response = await api.createOidcToken(
        {},
        context.projectId,
        context.hostType,
        context.planId,
        context.jobId,
        connectionId,
      );
      token = response?.oidcToken;
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      throw new CredentialError(
        `Azure DevOps refused an OIDC token for service connection '${connectionId}'${status ? ` (HTTP ${status})` : ''}: ${(err as Error).message}`,
        'azureSubscription',
        'Check the connection uses workload identity federation, the pipeline is authorised to use it, and the job has an OAuth token.',
        { cause: err },
      );
    }
    if (!token) {
      throw new CredentialError(
        `Azure DevOps returned no OIDC token for service connection '${connectionId}'.`,
        'azureSubscription',
        'Check the connection is of the Workload Identity federation type.',
      );
    }
    setSecret(token);
    return token;
  };
}
