import path from 'node:path';
import { MockTestRunner } from 'azure-pipelines-task-lib/mock-test';
import { REPO_ROOT } from '../support/repo';
import type { L0Spec } from './mock-run';

const TASK_JSON = path.join(REPO_ROOT, 'tasks', 'CodeSynthesis', 'task.json');

/** Runs the unbundled task entry under MockTestRunner (through mock-run.js) with the agent environment `spec`. */
export async function runL0(spec: L0Spec): Promise<MockTestRunner> {
  process.env.L0_SPEC = JSON.stringify(spec);
  try {
    const runner = new MockTestRunner(path.join(__dirname, 'mock-run.js'), TASK_JSON);
    await runner.runAsync();
    return runner;
  } finally {
    delete process.env.L0_SPEC;
  }
}
