import { compose } from './compose';
import { createTaskLibHost } from './adapters/pipeline/task-lib-host';
import { run } from './run';

void run(createTaskLibHost(), compose);
