/**
 * The runner's OIDC token service, as @actions/core's getIDToken calls it: GET
 * $ACTIONS_ID_TOKEN_REQUEST_URL&audience=<aud> with `Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN`,
 * answering `{"value": "<jwt>"}` (https://docs.github.com/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect).
 */
import { sendJson, type Route } from '../support/fake-azure';

export const ACTIONS_OIDC_HOST = 'pipelines.actions.githubusercontent.com';

/** A JWT-shaped token as GitHub issues it for a job of `repository` on `ref`. */
export function githubOidcToken(repository: string, ref: string, audience: string): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({
    iss: 'https://token.actions.githubusercontent.com',
    sub: `repo:${repository}:ref:${ref}`,
    aud: audience,
    repository,
    ref,
    exp: Math.floor(Date.now() / 1000) + 300,
  })}.c2ln`;
}

export interface FakeActionsOidc extends Route {
  /** ACTIONS_ID_TOKEN_REQUEST_URL */
  requestUrl: string;
  /** The audiences asked for, in order. */
  audiences: string[];
}

export function fakeActionsOidc(options: { requestToken: string; token: string }): FakeActionsOidc {
  const fake: FakeActionsOidc = {
    host: new RegExp(`^${ACTIONS_OIDC_HOST.replace(/\./g, '\\.')}$`),
    requestUrl: `https://${ACTIONS_OIDC_HOST}/00000000-run/idtoken/job?api-version=2.0`,
    audiences: [],
    handle(req, res) {
      const url = new URL(req.url ?? '/', `https://${ACTIONS_OIDC_HOST}`);
      if (req.headers.authorization !== `Bearer ${options.requestToken}`)
        return sendJson(res, 401, { message: 'Unauthorized' });
      if (req.method !== 'GET' || !url.pathname.endsWith('/idtoken/job'))
        return sendJson(res, 404, { message: 'Not Found' });
      fake.audiences.push(url.searchParams.get('audience') ?? '');
      sendJson(res, 200, { count: 1, value: options.token });
    },
  };
  return fake;
}
