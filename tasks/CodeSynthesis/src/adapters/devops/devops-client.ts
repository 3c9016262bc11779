/**
 * azure-devops-node-api clients for the job's own organization: authenticated with the job's access
 * token (the SystemVssConnection endpoint), through the agent's proxy and with its TLS settings.
 * Each API client module is imported on its own: the package's index (WebApi) pulls in every API
 * client (~1.1 MB minified, against ~120 KB for GitApi).
 */
import type {
  IRequestHandler,
  IRequestOptions,
} from 'azure-devops-node-api/interfaces/common/VsoBaseInterfaces';
import type { AgentHost, CertSettings, ProxySettings } from '../pipeline/agent-host';

/** An azure-devops-node-api client class (TaskApi, GitApi, ...). */
export type DevOpsClientClass<T> = new (
  baseUrl: string,
  handlers: IRequestHandler[],
  options?: IRequestOptions,
) => T;

/** Options for azure-devops-node-api's clients from the agent's proxy and certificate settings. */
export function webApiOptions(
  proxy: ProxySettings | undefined,
  certs: CertSettings | undefined,
): IRequestOptions {
  return {
    allowRetries: true,
    maxRetries: 3,
    ...(proxy
      ? {
          proxy: {
            proxyUrl: proxy.url,
            proxyUsername: proxy.username,
            proxyPassword: proxy.password,
            proxyBypassHosts: [...proxy.bypass],
          },
        }
      : {}),
    ...(certs
      ? {
          cert: {
            caFile: certs.caFile,
            certFile: certs.certFile,
            keyFile: certs.keyFile,
            passphrase: certs.passphrase,
          },
        }
      : {}),
    ...(certs?.skipValidation ? { ignoreSslError: true } : {}),
  } as IRequestOptions;
}

/** A client of `Client`'s API at `baseUrl` (the collection URI) that sends the job's token as a Bearer token. */
export async function jobTokenClient<T>(
  Client: DevOpsClientClass<T>,
  baseUrl: string,
  accessToken: string,
  options: IRequestOptions,
): Promise<T> {
  const { BearerCredentialHandler } = await import('azure-devops-node-api/handlers/bearertoken');
  return new Client(baseUrl, [new BearerCredentialHandler(accessToken, false)], options);
}

/** System.AccessToken as the agent passes it on the SystemVssConnection endpoint, if it does. */
export function systemAccessToken(host: AgentHost): string | undefined {
  try {
    return host.getConnection('SystemVssConnection').auth.AccessToken;
  } catch {
    return undefined;
  }
}
