import { composeAction } from './action-compose';
import { parseGitHubReviewers } from './adapters/github/github-review';
import { createActionsHost } from './adapters/pipeline/actions-host';
import { run } from './run';

// The GitHub Action's entry (action.yml runs dist/action/index.js): the same run as the task's, with
// GitHub logins and teams as reviewers.
const host = createActionsHost();
void run(host, composeAction, { parseReviewers: parseGitHubReviewers })
  .then(() => host.flush())
  .then(() => {
    // As in index.ts: a socket an SDK left open must not keep the job waiting once the result is set.
    setTimeout(() => process.exit(), 3000).unref();
  });
