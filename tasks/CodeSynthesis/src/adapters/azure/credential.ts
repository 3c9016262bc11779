/**
 * An AzureRM service connection turned into an @azure/identity TokenCredential, the way Microsoft's
 * own tasks read the connection (auth params tenantid, serviceprincipalid, serviceprincipalkey,
 * authenticationType, servicePrincipalCertificate). Everything is passed explicitly: authority host
 * from the connection's cloud, network from the agent, never AZURE_* environment variables.
 *
 * The returned credential turns sign-in failures into CredentialError with a one-line cause.
 */
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import {
  ClientAssertionCredential,
  ClientCertificateCredential,
  ClientSecretCredential,
  ManagedIdentityCredential,
  type TokenCredentialOptions,
} from '@azure/identity';
import { CredentialError, SynthesisError } from '../../core/errors';
import { azureClientOptions, type Network } from '../net/network';
import { chainText, describeNetworkFailure, networkErrorCode } from '../net/network-errors';
import type { ServiceConnection } from '../pipeline/agent-host';
import type { AzureCloud } from './cloud';

/** Schemes an AzureRM connection may have; the values are as the agent gives them. */
export const SUPPORTED_SCHEMES = [
  'ServicePrincipal',
  'WorkloadIdentityFederation',
  'ManagedServiceIdentity',
] as const;

/** What createCredential needs from its caller besides the connection. */
export interface CredentialDeps {
  /** Mask a value in all later log lines; called with each secret the moment it is read. */
  setSecret(value: string): void;
  /** WorkloadIdentityFederation: an OIDC token for this connection from Azure DevOps (adapters/devops/oidc-token.ts). */
  getOidcToken?: () => Promise<string>;
  /** WorkloadIdentityFederation: the subject the app's federated credential must have, e.g. sc://org/project/connection. */
  expectedSubject?: string;
  /** Extra SDK client options (tests use it to shorten retries). */
  clientOptions?: TokenCredentialOptions;
}

/** What a sign-in failure message may name. */
export interface SignInContext {
  connection: string;
  scheme: string;
  tenantId?: string;
  clientId?: string;
  cloud: string;
  authorityHost: string;
  expectedSubject?: string;
  /** WorkloadIdentityFederation: the issuer of the pipeline's OIDC token, which the federated credential must name. */
  expectedIssuer?: string;
}

/**
 * A TokenCredential for the connection.
 * @throws CredentialError when the scheme is unknown or the connection lacks a parameter the scheme needs.
 */
export function createCredential(
  conn: ServiceConnection,
  cloud: AzureCloud,
  network: Network,
  deps: CredentialDeps,
): TokenCredential {
  const scheme = SUPPORTED_SCHEMES.find(
    (s) => s.toLowerCase() === (conn.scheme || 'ServicePrincipal').toLowerCase(),
  );
  if (!scheme) {
    throw new CredentialError(
      `Service connection '${conn.id}' uses the authorization scheme '${conn.scheme}', which this task does not support.`,
      conn.id,
      `Use an Azure Resource Manager service connection with one of: ${SUPPORTED_SCHEMES.join(', ')}.`,
    );
  }
  const sent = new SendFailures();
  const options: TokenCredentialOptions & { disableInstanceDiscovery?: boolean } = {
    authorityHost: cloud.authorityHost,
    ...(cloud.adfs ? { disableInstanceDiscovery: true } : {}),
    ...azureClientOptions(network),
    ...deps.clientOptions,
    additionalPolicies: [
      ...(deps.clientOptions?.additionalPolicies ?? []),
      { policy: sent.policy, position: 'perRetry' },
    ],
  };
  const param = (key: string, what: string, secret = false): string => {
    const raw = conn.auth[key];
    if (secret && raw) deps.setSecret(raw);
    const value = raw?.trim();
    if (!value) {
      throw new CredentialError(
        `Service connection '${conn.id}' (${scheme}) has no ${what} ('${key}').`,
        conn.id,
        'Edit the service connection in Project settings > Service connections and save it again, or recreate it.',
      );
    }
    return value;
  };
  const ctx: SignInContext = {
    connection: conn.id,
    scheme,
    cloud: cloud.name,
    authorityHost: cloud.authorityHost,
  };
  let inner: TokenCredential;

  if (scheme === 'ManagedServiceIdentity') {
    const clientId = conn.data.msiclientId?.trim();
    // The identity endpoint (IMDS, 169.254.169.254) is plain http on the machine: no proxy, no agent TLS.
    const msiOptions: TokenCredentialOptions = {
      ...deps.clientOptions,
      additionalPolicies: options.additionalPolicies ?? [],
    };
    inner = clientId
      ? new ManagedIdentityCredential(clientId, msiOptions)
      : new ManagedIdentityCredential(msiOptions);
    if (clientId) ctx.clientId = clientId;
  } else {
    const tenantId = cloud.adfs ? 'adfs' : param('tenantid', 'tenant ID');
    const clientId = param('serviceprincipalid', 'service principal (client) ID');
    ctx.tenantId = tenantId;
    ctx.clientId = clientId;
    if (scheme === 'WorkloadIdentityFederation') {
      const getOidcToken = deps.getOidcToken;
      if (!getOidcToken) {
        throw new CredentialError(
          `Service connection '${conn.id}' uses workload identity federation, but no Azure DevOps OIDC token source was given.`,
          conn.id,
          'Run the task in an Azure Pipelines job (it needs System.AccessToken, System.PlanId and System.JobId), or use a service principal connection.',
        );
      }
      if (deps.expectedSubject) ctx.expectedSubject = deps.expectedSubject;
      inner = new ClientAssertionCredential(
        tenantId,
        clientId,
        async () => {
          const token = await getOidcToken();
          deps.setSecret(token);
          // The federated credential must match the token's issuer and subject exactly; the subject
          // also carries the connection's name, which the agent does not pass to the task.
          const claims = oidcClaims(token);
          if (claims.sub) ctx.expectedSubject = claims.sub;
          if (claims.iss) ctx.expectedIssuer = claims.iss;
          return token;
        },
        options,
      );
    } else if ((conn.auth.authenticationType ?? '').toLowerCase() === 'spncertificate') {
      const pem = param('servicePrincipalCertificate', 'certificate', true);
      if (
        !/-----BEGIN CERTIFICATE-----/.test(pem) ||
        !/-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/.test(pem)
      ) {
        throw new CredentialError(
          `The certificate of service connection '${conn.id}' is not a PEM with both the certificate and its private key.`,
          conn.id,
          'Paste the PEM that contains both "-----BEGIN CERTIFICATE-----" and "-----BEGIN PRIVATE KEY-----" blocks into the service connection.',
        );
      }
      inner = new ClientCertificateCredential(tenantId, clientId, { certificate: pem }, options);
    } else {
      const secret = param('serviceprincipalkey', 'client secret', true);
      inner = new ClientSecretCredential(tenantId, clientId, secret, options);
    }
  }
  return new ExplainingCredential(inner, ctx, sent);
}

/**
 * Remembers the last transport failure of a sign-in. Why: MSAL reports every transport failure as a
 * bare "network_error" and @azure/identity drops the cause (msal/utils.js handleMsalError), so the
 * proxy, DNS or TLS reason is taken from the pipeline instead.
 */
class SendFailures {
  last: unknown;
  readonly policy: PipelinePolicy = {
    name: 'codeSynthesisSendFailures',
    sendRequest: async (request, next) => {
      try {
        return await next(request);
      } catch (err) {
        this.last = err;
        throw err;
      }
    },
  };
}

/** Passes tokens through and turns failures into CredentialError (see explainSignInFailure). */
class ExplainingCredential implements TokenCredential {
  constructor(
    private readonly inner: TokenCredential,
    private readonly ctx: SignInContext,
    private readonly sent: SendFailures,
  ) {}

  async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken> {
    this.sent.last = undefined;
    try {
      const token = await this.inner.getToken(scopes, options);
      if (!token) throw new Error('the credential returned no token');
      return token;
    } catch (err) {
      if (err instanceof Error && err.name === 'AbortError') throw err;
      const transport = this.sent.last;
      if (transport !== undefined && !/AADSTS\d/.test(chainText(err)) && !networkErrorCode(err))
        throw explainSignInFailure(transport, this.ctx);
      throw explainSignInFailure(err, this.ctx);
    }
  }
}

/** AADSTS codes we can explain in one line; others link to Microsoft's lookup page. */
function aadstsCause(code: number, ctx: SignInContext): { message: string; hint: string } | undefined {
  const conn = `service connection '${ctx.connection}'`;
  const edit = 'Project settings > Service connections';
  switch (code) {
    case 7000215:
      return {
        message: `Entra ID rejected the client secret of ${conn} (AADSTS7000215: invalid client secret).`,
        hint: `Create a new client secret for app '${ctx.clientId}' and update the connection (${edit} > Edit); use the secret's value, not its ID.`,
      };
    case 7000222:
      return {
        message: `The client secret of ${conn} has expired (AADSTS7000222).`,
        hint: `Create a new client secret for app '${ctx.clientId}' and update the connection (${edit} > Edit).`,
      };
    case 90002:
      return {
        message: `Tenant '${ctx.tenantId}' of ${conn} was not found in ${ctx.cloud} (AADSTS90002).`,
        hint: `Check the connection's tenant ID and that it is for the right cloud (${edit}).`,
      };
    case 700016:
      return {
        message: `App '${ctx.clientId}' of ${conn} was not found in tenant '${ctx.tenantId}' (AADSTS700016).`,
        hint: `Check the connection's service principal (client) ID and tenant ID; the app may have been deleted or belong to another tenant (${edit}).`,
      };
    case 700213:
    case 70021:
      return {
        message: `No federated credential of app '${ctx.clientId}' matches the pipeline's token for ${conn} (AADSTS${code}).`,
        hint: ctx.expectedSubject
          ? `Add a federated credential to the app with issuer ${ctx.expectedIssuer ?? 'https://vstoken.dev.azure.com/<organization id>'} and subject '${ctx.expectedSubject}', or convert the connection again in ${edit}.`
          : `Check the issuer and subject of the app's federated credential match the connection's (shown in ${edit} > the connection > Edit).`,
      };
    case 700027:
      return {
        message: `Entra ID rejected the certificate of ${conn} (AADSTS700027): it is not registered on app '${ctx.clientId}' or has expired.`,
        hint: `Upload the connection's certificate to the app registration (Certificates & secrets), or update the connection with a current certificate.`,
      };
    case 7000112:
      return {
        message: `App '${ctx.clientId}' of ${conn} is disabled (AADSTS7000112).`,
        hint: 'Enable the service principal in Entra ID (Enterprise applications > Properties) or use another connection.',
      };
    default:
      return undefined;
  }
}

/**
 * One CredentialError for a failed sign-in: AADSTS codes, proxy and network failures get a one-line
 * cause and what to do. The remote error text is not repeated (it goes to debug output by the caller).
 */
export function explainSignInFailure(err: unknown, ctx: SignInContext): CredentialError {
  if (err instanceof CredentialError) return err;
  if (err instanceof SynthesisError)
    return new CredentialError(err.message, err.subject, err.hint, { cause: err });
  const text = chainText(err);
  const aadsts = /AADSTS(\d{5,7})/.exec(text);
  if (aadsts) {
    const code = Number(aadsts[1]);
    const known = aadstsCause(code, ctx);
    if (known) return new CredentialError(known.message, ctx.connection, known.hint, { cause: err });
    return new CredentialError(
      `Entra ID refused the sign-in of service connection '${ctx.connection}' (AADSTS${code}).`,
      ctx.connection,
      `See https://login.microsoftonline.com/error?code=${code} for the cause.`,
      { cause: err },
    );
  }
  // @azure/identity refuses a token for another tenant than the connection's (a Key Vault challenge names the vault's tenant).
  const otherTenant = /not configured to acquire tokens for tenant (\S+?)\.? /.exec(text)?.[1];
  if (otherTenant) {
    return new CredentialError(
      `The resource asked for a token from Entra ID tenant '${otherTenant}', but service connection '${ctx.connection}' is for tenant '${ctx.tenantId}'.`,
      ctx.connection,
      `Use a service connection in tenant '${otherTenant}' (the tenant of the vault or resource), or correct the connection's tenant ID.`,
      { cause: err },
    );
  }
  const network = describeNetworkFailure(err, `Entra ID (${hostOf(ctx.authorityHost)})`);
  if (network) return new CredentialError(network.message, network.subject, network.hint, { cause: err });
  if (ctx.scheme === 'ManagedServiceIdentity') {
    const which = ctx.clientId
      ? `the user-assigned managed identity with client ID '${ctx.clientId}'`
      : 'the system-assigned managed identity';
    return new CredentialError(
      `No managed identity token for service connection '${ctx.connection}' (${which} of the agent's machine).`,
      ctx.connection,
      `Managed identity connections work only on agents running in Azure with that identity assigned (the VM, scale set or App Service > Identity${ctx.clientId ? ' > User assigned; or correct the client ID in the connection' : ''}); use a service principal or workload identity federation connection on other agents.`,
      { cause: err },
    );
  }
  return new CredentialError(
    `Signing in with service connection '${ctx.connection}' failed (${firstLine(text)}).`,
    ctx.connection,
    `Check the connection in Project settings > Service connections (Verify), and that the agent can reach ${hostOf(ctx.authorityHost)}.`,
    { cause: err },
  );
}

/**
 * The issuer and subject claims of the Azure DevOps OIDC token (a JWT; its signature is Entra ID's to
 * check, not ours). Only values that look like an issuer URL or a subject are kept: they are printed.
 */
export function oidcClaims(token: string): { iss?: string; sub?: string } {
  const payload = token.split('.')[1];
  if (!payload) return {};
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return {};
  }
  if (typeof claims !== 'object' || claims === null) return {};
  const { iss, sub } = claims as { iss?: unknown; sub?: unknown };
  const printable = (v: unknown): v is string => typeof v === 'string' && /^[\x21-\x7e]{1,300}$/.test(v);
  return {
    ...(printable(iss) && /^https:\/\//.test(iss) ? { iss } : {}),
    ...(printable(sub) ? { sub } : {}),
  };
}

function firstLine(text: string): string {
  const line = (text.split(/\r?\n| \| /)[0] ?? '').replace(/[^\x20-\x7e]/g, ' ').trim();
  return line.length > 160 ? `${line.slice(0, 157)}...` : line || 'no details';
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
