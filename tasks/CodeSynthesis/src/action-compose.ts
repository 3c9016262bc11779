/**
 * The GitHub Action's composition: the task's ports (compose.ts), with Entra ID sign-in through the
 * runner's OIDC token instead of an Azure Pipelines service connection, and review mode's pull
 * request (action-review.ts). SDKs are still loaded with `await import()` only when needed.
 */
import { readActionReviewSettings, withReview } from './action-review';
import { ENTRA_AUDIENCE, type ActionsHost } from './adapters/pipeline/actions-host';
import { compose } from './compose';
import type { Intent } from './core/intent';
import type { Settings } from './core/settings';
import type { SynthesisPorts } from './core/synthesize';

/** Build the ports for one action run. Review inputs are checked here, before the model is asked. */
export async function composeAction(settings: Settings, host: ActionsHost): Promise<SynthesisPorts> {
  const ports = await compose(settings, host);
  const review = readActionReviewSettings(host);
  let intent: Intent | undefined;
  const connectModel: SynthesisPorts['connectModel'] = async (parsed, signal) => {
    intent = parsed;
    if (settings.provider === 'offline') return ports.connectModel(parsed, signal);
    const [{ connectRemoteModel }, { gitHubOidcSignIn }] = await Promise.all([
      import('./adapters/model/connect'),
      import('./adapters/github/oidc-sign-in'),
    ]);
    return connectRemoteModel(
      settings,
      host,
      signal,
      gitHubOidcSignIn(() => host.getIdToken(ENTRA_AUDIENCE)),
    );
  };
  return {
    ...ports,
    connectModel,
    ...(review.mode === 'pullRequest' ? { tree: withReview(ports.tree, review, host, () => intent) } : {}),
  };
}
