import { composeAction } from './action-compose';
import { createActionsHost } from './adapters/pipeline/actions-host';
import { run } from './run';

// The GitHub Action's entry (action.yml runs dist/action/index.js): the same run as the task's.
const host = createActionsHost();
void run(host, (settings) => composeAction(settings, host))
  .then(() => host.flush())
  .then(() => {
    // As in index.ts: a socket an SDK left open must not keep the job waiting once the result is set.
    setTimeout(() => process.exit(), 3000).unref();
  });
