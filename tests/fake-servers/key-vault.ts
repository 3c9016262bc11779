/**
 * A fake Azure Key Vault data plane for *.vault.azure.net (and the US Government and China suffixes).
 * Like the real service: a request without a bearer token gets 401 with the challenge
 * `WWW-Authenticate: Bearer authorization="<authority>/<tenant>", resource="https://vault.azure.net"`;
 * GET /secrets/{name}[/{version}] with a token the fake Entra ID issued for the vault's scope returns a
 * SecretBundle; failures use Key Vault's error JSON ({"error":{"code","message","innererror":{"code"}}}).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson, type Route } from '../support/fake-azure';
import type { FakeEntraId, IssuedToken } from './entra-id';

/** A secret: its value, and whether it is enabled (disabled secrets answer 403 SecretDisabled). */
export interface FakeSecret {
  value: string;
  enabled?: boolean;
}

/**
 * Why a vault refuses a caller: 'firewall' (ForbiddenByFirewall), 'privateLink' (ForbiddenByConnection),
 * 'accessPolicy' (no Get on secrets, AccessDenied), 'rbac' (no role, ForbiddenByRbac).
 */
export type VaultDenial = 'firewall' | 'privateLink' | 'accessPolicy' | 'rbac';

export interface FakeVault {
  secrets: Record<string, string | FakeSecret>;
  deny?: VaultDenial;
}

export interface FakeKeyVault {
  route: Route;
  vaults: Record<string, FakeVault>;
  /** Secret reads that succeeded: vault/name and the caller. */
  reads: { vault: string; secret: string; caller: IssuedToken }[];
}

const SUFFIXES: Readonly<Record<string, { resource: string; authority: string }>> = {
  'vault.azure.net': { resource: 'https://vault.azure.net', authority: 'https://login.microsoftonline.com' },
  'vault.usgovcloudapi.net': {
    resource: 'https://vault.usgovcloudapi.net',
    authority: 'https://login.microsoftonline.us',
  },
  'vault.azure.cn': { resource: 'https://vault.azure.cn', authority: 'https://login.chinacloudapi.cn' },
};
const HOST = /^([a-z0-9-]+)\.(vault\.azure\.net|vault\.usgovcloudapi\.net|vault\.azure\.cn)$/;

/** A fake Key Vault whose callers sign in at `entra`. */
export function fakeKeyVault(entra: FakeEntraId, vaults: Record<string, FakeVault>): FakeKeyVault {
  const fake: FakeKeyVault = {
    vaults,
    reads: [],
    route: { host: HOST, handle: (req, res) => handle(fake, entra, req, res) },
  };
  return fake;
}

function kvError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  inner?: string,
  headers: Record<string, string> = {},
): void {
  sendJson(
    res,
    status,
    { error: { code, message, ...(inner ? { innererror: { code: inner } } : {}) } },
    headers,
  );
}

function handle(fake: FakeKeyVault, entra: FakeEntraId, req: IncomingMessage, res: ServerResponse): void {
  const host = (req.headers.host ?? '').replace(/:\d+$/, '');
  const match = HOST.exec(host);
  const vaultName = match?.[1] ?? '';
  const cloud = SUFFIXES[match?.[2] ?? ''];
  const vault = fake.vaults[vaultName];
  if (!match || !cloud || !vault) {
    // A real client never gets here: the vault's name does not resolve (ENOTFOUND).
    res.writeHead(502, { 'content-type': 'text/plain' }).end(`no vault ${host}`);
    return;
  }
  const url = new URL(req.url ?? '/', `https://${host}`);
  if (!url.searchParams.get('api-version')) {
    kvError(res, 400, 'BadParameter', 'The request URI contains an invalid or missing api-version.');
    return;
  }
  const challenge = `Bearer authorization="${cloud.authority}/${entra.tenantId}", resource="${cloud.resource}"`;
  const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
  if (!bearer) {
    kvError(res, 401, 'Unauthorized', 'AKV10000: Request is missing a Bearer or PoP token.', undefined, {
      'www-authenticate': challenge,
    });
    return;
  }
  const caller = entra.lookup(bearer, `${cloud.resource}/.default`);
  if (!caller) {
    kvError(res, 401, 'Unauthorized', 'AKV10022: Invalid audience.', undefined, {
      'www-authenticate': challenge,
    });
    return;
  }
  const who = `appid=${caller.clientId};oid=${caller.objectId};iss=https://sts.windows.net/${caller.tenantId}/`;
  const where = `${vaultName};location=eastus`;
  const parts = url.pathname.split('/').filter(Boolean);
  const name = parts[1] ?? '';
  switch (vault.deny) {
    case 'firewall':
      return kvError(
        res,
        403,
        'Forbidden',
        `Client address is not authorized and caller is not a trusted service.\r\nClient address: 203.0.113.7\r\nCaller: ${who}\r\nVault: ${where}`,
        'ForbiddenByFirewall',
      );
    case 'privateLink':
      return kvError(
        res,
        403,
        'Forbidden',
        `Public network access is disabled and request is not from a trusted service nor via an approved private link.\r\nCaller: ${who}\r\nVault: ${where}`,
        'ForbiddenByConnection',
      );
    case 'accessPolicy':
      return kvError(
        res,
        403,
        'Forbidden',
        `The user, group or application '${who}' does not have secrets get permission on key vault '${where}'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287`,
        'AccessDenied',
      );
    case 'rbac':
      return kvError(
        res,
        403,
        'Forbidden',
        `Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: ${who}\r\nAction: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'\r\nResource: '/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/rg/providers/microsoft.keyvault/vaults/${vaultName}/secrets/${name}'\r\nAssignment: (not found)\r\nDenyAssignmentId: null\r\nDecisionReason: null \r\nVault: ${where}\r\n`,
        'ForbiddenByRbac',
      );
    default:
      break;
  }
  if (req.method !== 'GET' || parts[0] !== 'secrets' || !name || parts.length > 3) {
    kvError(res, 405, 'BadParameter', `The fake Key Vault has no ${req.method} ${url.pathname}.`);
    return;
  }
  const entry = vault.secrets[name];
  const secret: FakeSecret | undefined = typeof entry === 'string' ? { value: entry } : entry;
  if (!secret) {
    kvError(
      res,
      404,
      'SecretNotFound',
      `A secret with (name/id) ${name} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`,
    );
    return;
  }
  if (secret.enabled === false) {
    kvError(res, 403, 'Forbidden', 'Operation get is not allowed on a disabled secret.', 'SecretDisabled');
    return;
  }
  fake.reads.push({ vault: vaultName, secret: name, caller });
  const version = parts[2] || randomBytes(16).toString('hex');
  const now = Math.floor(Date.now() / 1000);
  sendJson(res, 200, {
    value: secret.value,
    id: `https://${host}/secrets/${name}/${version}`,
    attributes: {
      enabled: true,
      created: now - 3600,
      updated: now - 3600,
      recoveryLevel: 'Recoverable+Purgeable',
      recoverableDays: 90,
    },
    tags: {},
  });
}
