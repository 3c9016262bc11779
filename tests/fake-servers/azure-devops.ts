/**
 * Fake Azure DevOps: the resource-location OPTIONS call azure-devops-node-api makes, and TaskApi's
 * createOidcToken route (POST {project}/_apis/distributedtask/hubs/{hub}/plans/{plan}/jobs/{job}/oidctoken).
 */
import type { Route } from '../support/fake-azure';
import { sendJson } from '../support/fake-azure';

export const OIDC_LOCATION_ID = '69a319f4-28c1-4bfd-93e6-ea0ff5c6f1a2';

export interface FakeDevOps extends Route {
  /** Tokens handed out, newest last. */
  issued: string[];
  /** The bearer token the fake accepts (System.AccessToken). */
  accessToken: string;
  /** When set, the next calls fail with this status. */
  failWith?: number;
}

/** A JWT-shaped assertion (header.payload.signature); the fake Entra ID checks its subject. */
export function fakeOidcToken(subject: string, n: number): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ iss: 'https://vstoken.dev.azure.com/org-id', sub: subject, aud: 'api://AzureADTokenExchange', n, exp: Math.floor(Date.now() / 1000) + 600 })}.c2ln`;
}

/** `token`: hand out this token every time (tests that register it with the fake Entra ID). */
export function fakeAzureDevOps(options: {
  org: string;
  project: string;
  connectionName: string;
  accessToken: string;
  token?: string;
}): FakeDevOps {
  const fake: FakeDevOps = {
    host: /^(dev\.azure\.com|127\.0\.0\.1)$/,
    issued: [],
    accessToken: options.accessToken,
    handle(req, res) {
      const url = new URL(req.url ?? '/', 'https://dev.azure.com');
      if (req.headers.authorization !== `Bearer ${fake.accessToken}`) {
        sendJson(res, 401, { message: 'TF400813: The user is not authorized to access this resource.' });
        return;
      }
      if (req.method === 'OPTIONS' && url.pathname.endsWith('/_apis/distributedtask')) {
        sendJson(res, 200, {
          count: 1,
          value: [
            {
              id: OIDC_LOCATION_ID,
              area: 'distributedtask',
              resourceName: 'oidctoken',
              routeTemplate:
                '{scopeIdentifier}/_apis/{area}/hubs/{hubName}/plans/{planId}/jobs/{jobId}/{resource}',
              resourceVersion: 1,
              minVersion: '7.1',
              maxVersion: '7.2',
              releasedVersion: '0.0',
            },
          ],
        });
        return;
      }
      const m = /\/_apis\/distributedtask\/hubs\/[^/]+\/plans\/[^/]+\/jobs\/[^/]+\/oidctoken$/.exec(
        url.pathname,
      );
      if (req.method === 'POST' && m) {
        if (fake.failWith) {
          sendJson(res, fake.failWith, {
            message: 'Service connection not found or not authorized.',
            typeKey: 'ServiceEndpointNotFoundException',
          });
          return;
        }
        const token =
          options.token ??
          fakeOidcToken(
            `sc://${options.org}/${options.project}/${options.connectionName}`,
            fake.issued.length + 1,
          );
        fake.issued.push(token);
        sendJson(res, 200, { oidcToken: token });
        return;
      }
      sendJson(res, 404, { message: `fake Azure DevOps has no ${req.method} ${url.pathname}` });
    },
  };
  return fake;
}
