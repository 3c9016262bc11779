/**
 * Sign-in on a GitHub runner: the app registration or user-assigned managed identity named by
 * `client-id` (with `tenant-id`) trusts the workflow's OIDC token through a federated credential
 * (issuer https://token.actions.githubusercontent.com, subject e.g. repo:<owner>/<repo>:ref:refs/heads/main),
 * and @azure/identity's ClientAssertionCredential exchanges that token at Entra ID. The host describes
 * the identity as a workload identity federation connection (ActionsHost.getConnection), so the
 * credential, its error messages and the cloud come from the same code as in Azure Pipelines.
 */
import { cloudFromConnection } from '../azure/cloud';
import { createCredential } from '../azure/credential';
import type { SignIn } from '../model/connect';

/** A SignIn for connectRemoteModel whose OIDC tokens come from `getIdToken` (the runner's). */
export function gitHubOidcSignIn(getIdToken: () => Promise<string>): SignIn {
  return (connectionId, host, network) => {
    const conn = host.getConnection(connectionId);
    const cloud = cloudFromConnection(conn);
    const credential = createCredential(conn, cloud, network, {
      setSecret: (value) => host.setSecret(value),
      getOidcToken: getIdToken,
    });
    return { conn, cloud, credential };
  };
}
