/**
 * What the adapters need from the agent beyond the PipelineHost port of core: variables, service
 * connections, secrets and the agent's network settings. The task-lib host and the CLI host implement
 * it; the composition (compose.ts, compose-remote.ts) reads it. Core never sees these types.
 */
import type { PipelineHost } from '../../core/ports';

/** An AzureRM service connection as the agent hands it to the task. */
export interface ServiceConnection {
  id: string;
  /** Authorization scheme, e.g. ServicePrincipal, WorkloadIdentityFederation, ManagedServiceIdentity. */
  scheme: string;
  /** Authorization parameters (tenantid, serviceprincipalid, serviceprincipalkey, authenticationType, ...). */
  auth: Readonly<Record<string, string>>;
  /** Endpoint data (environment, environmentAuthorityUrl, AzureKeyVaultDnsSuffix, ...). */
  data: Readonly<Record<string, string>>;
  /** The endpoint URL (the cloud's Resource Manager URL). */
  url?: string;
}

/** The agent's proxy, from task-lib's getHttpProxyConfiguration. */
export interface ProxySettings {
  url: string;
  username?: string;
  password?: string;
  bypass: readonly string[];
}

/** The agent's TLS settings, from task-lib's getHttpCertConfiguration. */
export interface CertSettings {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  passphrase?: string;
  /** The agent was configured with --sslskipcertvalidation (Agent.SkipCertValidation). */
  skipValidation?: boolean;
}

/** The agent (or the CLI standing in for it) as the adapters and the composition see it. */
export interface AgentHost extends PipelineHost {
  getVariable(name: string): string | undefined;
  /**
   * @throws CredentialError when the connection is not found or not authorized.
   */
  getConnection(id: string): ServiceConnection;
  /** Mask a value in all later log lines. Call it the moment a secret is held. */
  setSecret(value: string): void;
  /**
   * Every value registered through setSecret so far (and the secrets the host read itself), for
   * keeping them out of a child process's environment and output. Read it when it is needed: later
   * secrets join the list.
   */
  secrets(): readonly string[];
  /** The agent proxy; with a URL, undefined when the bypass list exempts it. */
  proxy(url?: string): ProxySettings | undefined;
  certificates(): CertSettings | undefined;
}
