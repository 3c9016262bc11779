/**
 * Sign-in on a GitHub runner: the app registration or user-assigned managed identity named by
 * `client-id` (with `tenant-id`) trusts the workflow's OIDC token through a federated credential
 * (issuer https://token.actions.githubusercontent.com, subject e.g. repo:<owner>/<repo>:ref:refs/heads/main),
 * and @azure/identity's ClientAssertionCredential exchanges that token at Entra ID. The host describes
 * the identity as a workload identity federation connection (ActionsHost.getConnection), so the
 * credential, its error messages and the cloud come from the same code as in Azure Pipelines.
 * Reached only through `await import()` from action-compose.ts, like compose-remote.ts.
 */
import type { TokenCredential } from '@azure/core-auth';
import { cloudFromConnection } from './adapters/azure/cloud';
import { createCredential } from './adapters/azure/credential';
import type { SignIn } from './compose-remote';

/** A SignIn for connectRemoteModel whose OIDC tokens come from `getIdToken` (the runner's). */
export function gitHubOidcSignIn(getIdToken: () => Promise<string>): SignIn {
  return (connectionId, host, network) => {
    const conn = host.getConnection(connectionId);
    const cloud = cloudFromConnection(conn);
    // MSAL rewraps whatever the assertion callback throws (AuthenticationRequiredError, message only),
    // so the runner's own failure, which names the permission to add, is kept here and thrown instead.
    let failure: unknown;
    const inner = createCredential(conn, cloud, network, {
      setSecret: (value) => host.setSecret(value),
      getOidcToken: async () => {
        failure = undefined;
        try {
          return await getIdToken();
        } catch (err) {
          failure = err;
          throw err;
        }
      },
    });
    const credential: TokenCredential = {
      async getToken(scopes, options) {
        try {
          return await inner.getToken(scopes, options);
        } catch (err) {
          throw failure ?? err;
        }
      },
    };
    return { conn, cloud, credential };
  };
}
