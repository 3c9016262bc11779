import { compose } from './compose';
import { createTaskLibHost } from './adapters/pipeline/task-lib-host';
import { run } from './run';

void run(createTaskLibHost(), compose).then(() => {
  // The result is set. A socket an SDK left open (a sign-in abandoned on cancellation or timeout) must
  // not keep the agent waiting: exit soon if nothing else does. unref: a clean run exits at once.
  setTimeout(() => process.exit(), 3000).unref();
});
