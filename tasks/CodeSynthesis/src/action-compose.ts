/**
 * The GitHub Action's composition: the task's ports (compose.ts) with the action's front door, that is
 * Entra ID sign-in through the runner's OIDC token instead of an Azure Pipelines service connection,
 * and review mode's pull request on GitHub: the use case pushes and opens it after the files are
 * checked, scanned and validated, and before the output directory is written, as in the task. SDKs and
 * the GitHub client are still loaded with `await import()` only when needed.
 */
import {
  GITHUB_DESCRIPTION_LIMIT,
  TOKEN_INPUT,
  readGitHubReviewContext,
} from './adapters/github/github-review';
import { ENTRA_AUDIENCE, type ActionsHost } from './adapters/pipeline/actions-host';
import { compose } from './compose';
import { ReviewError } from './core/review';
import type { ReviewPorts } from './core/review-stage';
import type { Settings } from './core/settings';
import type { SynthesisPorts } from './core/synthesize';
import { VERSION } from './version';

/** Build the ports for one action run. Review mode's variables and token are checked here, before the model is asked. */
export function composeAction(settings: Settings, host: ActionsHost): Promise<SynthesisPorts> {
  return compose(settings, host, {
    reviewPorts: () => gitHubReviewPorts(host),
    signIn: async () => {
      const { gitHubOidcSignIn } = await import('./action-sign-in');
      return gitHubOidcSignIn(() => host.getIdToken(ENTRA_AUDIENCE));
    },
  });
}

/**
 * The pull-request gate on GitHub: the runner's variables (no Azure Repos provider check) and the
 * workflow's token now, the REST client when the push is due; the description links to the run and
 * keeps to GitHub's 65,536 characters.
 * @throws ReviewError naming the runner variable or the token input that is missing.
 */
export function gitHubReviewPorts(host: ActionsHost): ReviewPorts {
  const github = readGitHubReviewContext((name) => host.runnerVariable(name), host.workspace);
  const token = host.getActionInput(TOKEN_INPUT);
  if (!token)
    throw new ReviewError(
      `review-mode 'pullRequest' needs a token for the GitHub API, and '${TOKEN_INPUT}' is empty.`,
      TOKEN_INPUT,
      `Leave '${TOKEN_INPUT}' at its default (\${{ github.token }}) and give the job 'permissions: { contents: write, pull-requests: write }'.`,
    );
  host.setSecret(token);
  return {
    context: github.context,
    ...(github.runUrl ? { summaryUrl: github.runUrl } : {}),
    descriptionLimit: GITHUB_DESCRIPTION_LIMIT,
    publisher: async () => {
      const { createGitHubPublisher } = await import('./adapters/github/github-publisher');
      return createGitHubPublisher(host, {
        apiUrl: github.apiUrl,
        serverUrl: github.serverUrl,
        token,
        userAgent: `code-synthesis/${VERSION}`,
      });
    },
  };
}
