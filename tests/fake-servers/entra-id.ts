/**
 * A fake Microsoft Entra ID token service for the client credentials flow, as documented in
 * https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow:
 * the OpenID configuration and instance discovery documents MSAL reads, and the v2.0 token endpoint
 * accepting a client secret, a certificate-signed client assertion (verified against the app's
 * certificate) or a federated (OIDC) assertion. Errors use Entra's body shape with AADSTS codes.
 */
import {
  createHash,
  createPublicKey,
  constants as cryptoConstants,
  generateKeyPairSync,
  randomUUID,
  verify,
  X509Certificate,
} from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import forge from 'node-forge';
import { sendJson, type Route } from '../support/fake-azure';

/** An app registration (service principal) in the fake tenant. */
export interface FakeApp {
  clientId: string;
  /** Object id of its service principal (what Key Vault reports as the caller's oid). */
  objectId?: string;
  /** Accepted client secret. */
  secret?: string;
  /** PEM certificate whose key must sign client assertions. */
  certificatePem?: string;
  /** Accepted federated assertion (the Azure DevOps OIDC token), and the subject printed when it does not match. */
  federated?: { token: string; subject: string };
}

/** An Entra error: HTTP status, OAuth error, AADSTS code and description. */
export interface AadstsError {
  status: number;
  error: string;
  code: number;
  description: string;
}

/** Canned AADSTS errors with the real services' descriptions (trimmed). */
export const AADSTS = {
  invalidSecret: (clientId: string): AadstsError => ({
    status: 401,
    error: 'invalid_client',
    code: 7000215,
    description: `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
  }),
  expiredSecret: (clientId: string): AadstsError => ({
    status: 401,
    error: 'invalid_client',
    code: 7000222,
    description: `AADSTS7000222: The provided client secret keys for app '${clientId}' are expired.`,
  }),
  tenantNotFound: (tenant: string): AadstsError => ({
    status: 400,
    error: 'invalid_tenant',
    code: 90002,
    description: `AADSTS90002: Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
  }),
  appNotFound: (clientId: string, tenant: string): AadstsError => ({
    status: 400,
    error: 'unauthorized_client',
    code: 700016,
    description: `AADSTS700016: Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant.`,
  }),
  federatedMismatch: (subject: string): AadstsError => ({
    status: 400,
    error: 'invalid_request',
    code: 700213,
    description: `AADSTS700213: No matching federated identity record found for presented assertion subject '${subject}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion.`,
  }),
  badAssertion: (): AadstsError => ({
    status: 401,
    error: 'invalid_client',
    code: 700027,
    description:
      'AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application.',
  }),
};

/** A token the fake issued. */
export interface IssuedToken {
  token: string;
  clientId: string;
  objectId: string;
  tenantId: string;
  scope: string;
  grant: 'secret' | 'certificate' | 'assertion' | 'managedIdentity';
}

export interface FakeEntraId {
  route: Route;
  tenantId: string;
  apps: Map<string, FakeApp>;
  /** When set, every token request fails with this error. */
  fail?: AadstsError;
  issued: IssuedToken[];
  /** Token requests seen (form fields; secrets included, for assertions in tests only). */
  tokenRequests: Record<string, string>[];
  /** The issued token record for a bearer value, if it was issued for `scope`. */
  lookup(token: string, scope?: string): IssuedToken | undefined;
}

const HOSTS =
  /^(login\.microsoftonline\.com|login\.microsoftonline\.us|login\.chinacloudapi\.cn|login\.partner\.microsoftonline\.cn|127\.0\.0\.1|localhost)$/;

/** A fake Entra ID with one tenant. */
export function fakeEntraId(options: { tenantId: string; apps: FakeApp[] }): FakeEntraId {
  const fake: FakeEntraId = {
    tenantId: options.tenantId,
    apps: new Map(options.apps.map((a) => [a.clientId, a])),
    issued: [],
    tokenRequests: [],
    lookup(token, scope) {
      const found = fake.issued.find((t) => t.token === token);
      return found && (!scope || found.scope.split(' ').includes(scope)) ? found : undefined;
    },
    route: {
      host: HOSTS,
      handle: (req, res, body) => handle(fake, req, res, body),
    },
  };
  return fake;
}

function sendError(res: ServerResponse, e: AadstsError): void {
  sendJson(res, e.status, {
    error: e.error,
    error_description: `${e.description}\r\nTrace ID: ${randomUUID()}\r\nCorrelation ID: ${randomUUID()}\r\nTimestamp: ${new Date().toISOString()}`,
    error_codes: [e.code],
    timestamp: new Date().toISOString(),
    trace_id: randomUUID(),
    correlation_id: randomUUID(),
    error_uri: `https://login.microsoftonline.com/error?code=${e.code}`,
  });
}

function handle(fake: FakeEntraId, req: IncomingMessage, res: ServerResponse, body: Buffer): void {
  const host = req.headers.host ?? 'login.microsoftonline.com';
  const base = `https://${host}`;
  const url = new URL(req.url ?? '/', base);
  const parts = url.pathname.split('/').filter(Boolean);
  const tenant = parts[0] ?? '';
  const knownTenant = tenant === fake.tenantId || tenant === 'common' || tenant === 'organizations';

  if (req.method === 'GET' && url.pathname === '/common/discovery/instance') {
    const authority = url.searchParams.get('authorization_endpoint') ?? '';
    const aliasHost = new URL(authority || base).host;
    sendJson(res, 200, {
      tenant_discovery_endpoint: `${base}/${tenantOf(authority) ?? 'common'}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: aliasHost, preferred_cache: aliasHost, aliases: [aliasHost] }],
    });
    return;
  }
  if (req.method === 'GET' && parts.slice(1).join('/') === 'v2.0/.well-known/openid-configuration') {
    if (!knownTenant) return sendError(res, AADSTS.tenantNotFound(tenant));
    sendJson(res, 200, {
      token_endpoint: `${base}/${tenant}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${base}/${tenant}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${base}/${tenant}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: 'https://graph.microsoft.com/oidc/userinfo',
      authorization_endpoint: `${base}/${tenant}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/${tenant}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/${tenant}/oauth2/v2.0/logout`,
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nonce'],
      kerberos_endpoint: `${base}/${tenant}/kerberos`,
      tenant_region_scope: 'NA',
      cloud_instance_name: host.replace(/^login\./, ''),
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: 'graph.microsoft.com',
      rbac_url: 'https://pas.windows.net',
    });
    return;
  }
  if (req.method === 'POST' && parts.slice(1).join('/') === 'oauth2/v2.0/token') {
    const form = Object.fromEntries(new URLSearchParams(body.toString('utf8')));
    fake.tokenRequests.push(form);
    if (!knownTenant) return sendError(res, AADSTS.tenantNotFound(tenant));
    if (fake.fail) return sendError(res, fake.fail);
    if (form.grant_type !== 'client_credentials') {
      return sendError(res, {
        status: 400,
        error: 'unsupported_grant_type',
        code: 70003,
        description: 'AADSTS70003: The app requested an unsupported grant type.',
      });
    }
    const clientId = form.client_id ?? '';
    const app = fake.apps.get(clientId);
    if (!app) return sendError(res, AADSTS.appNotFound(clientId, tenant));
    let grant: IssuedToken['grant'];
    if (form.client_secret !== undefined) {
      if (form.client_secret !== app.secret) return sendError(res, AADSTS.invalidSecret(clientId));
      grant = 'secret';
    } else if (
      form.client_assertion_type === 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' &&
      form.client_assertion
    ) {
      if (app.federated) {
        if (form.client_assertion !== app.federated.token)
          return sendError(res, AADSTS.federatedMismatch(app.federated.subject));
        grant = 'assertion';
      } else if (
        app.certificatePem &&
        verifyClientAssertion(form.client_assertion, app, `${base}/${tenant}/oauth2/v2.0/token`)
      ) {
        grant = 'certificate';
      } else {
        return sendError(res, AADSTS.badAssertion());
      }
    } else {
      return sendError(res, {
        status: 400,
        error: 'invalid_client',
        code: 7000218,
        description:
          "AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      });
    }
    const token = `fake-at-${randomUUID()}`;
    fake.issued.push({
      token,
      clientId,
      objectId: app.objectId ?? randomUUID(),
      tenantId: fake.tenantId,
      scope: form.scope ?? '',
      grant,
    });
    sendJson(res, 200, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: token });
    return;
  }
  sendJson(res, 404, {
    error: 'not_found',
    error_description: `the fake Entra ID has no ${req.method} ${url.pathname}`,
  });
}

function tenantOf(authority: string): string | undefined {
  try {
    return new URL(authority).pathname.split('/').filter(Boolean)[0];
  } catch {
    return undefined;
  }
}

/**
 * A client assertion is a JWT signed with the app certificate's key (RS256 or PS256) whose header
 * names the certificate by thumbprint (x5t#S256 or x5t), audience is the token endpoint and issuer
 * and subject are the client id.
 */
function verifyClientAssertion(jwt: string, app: FakeApp, tokenEndpoint: string): boolean {
  const [h, p, s] = jwt.split('.');
  if (!h || !p || !s) return false;
  const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as Record<string, string>;
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
  const cert = new X509Certificate(app.certificatePem!);
  const der = cert.raw;
  const x5tS256 = createHash('sha256').update(der).digest('base64url');
  const x5t = createHash('sha1').update(der).digest('base64url');
  if (header['x5t#S256'] !== x5tS256 && header.x5t !== x5t) return false;
  if (payload.aud !== tokenEndpoint || payload.iss !== app.clientId || payload.sub !== app.clientId)
    return false;
  if (typeof payload.exp !== 'number' || payload.exp * 1000 < Date.now()) return false;
  const key = createPublicKey(app.certificatePem!);
  const data = Buffer.from(`${h}.${p}`);
  const signature = Buffer.from(s, 'base64url');
  if (header.alg === 'RS256') return verify('sha256', data, key, signature);
  if (header.alg === 'PS256')
    return verify(
      'sha256',
      data,
      { key, padding: cryptoConstants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
      signature,
    );
  return false;
}

/** A self-signed certificate and key for an app registration, as one PEM (key + certificate) like an AzureRM connection holds. */
export function makeAppCertificate(commonName = 'code-synthesis-test-app'): {
  certificatePem: string;
  combinedPem: string;
} {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = '0a';
  cert.validity.notBefore = new Date(Date.now() - 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
  const name = [{ name: 'commonName', value: commonName }];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.sign(forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  const certificatePem = forge.pki.certificateToPem(cert);
  return { certificatePem, combinedPem: `${keyPem}${certificatePem}` };
}
