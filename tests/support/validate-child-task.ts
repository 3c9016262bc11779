/**
 * A stand-in for the task process, for tests of SandboxedRunner: started with secrets in its initial
 * environment, as the agent starts a task, it deletes them from process.env as task-lib does (the
 * kernel's copy in /proc/<pid>/environ keeps them), then runs one command through the runner and
 * prints the result as JSON on stdout.
 *
 * Usage: node validate-child-task.js '<json ChildTaskRequest>'
 */
import { SandboxedRunner } from '../../tasks/CodeSynthesis/src/adapters/validate/sandboxed-runner';
import type { StrategyName } from '../../tasks/CodeSynthesis/src/adapters/validate/isolation';

export interface ChildTaskRequest {
  outputDirectory: string;
  tempDirectory: string;
  command: string;
  secrets: string[];
  /** Names to delete from process.env before running, as task-lib does for SECRET_* and ENDPOINT_AUTH_*. */
  deleteFromEnv: string[];
  strategies?: StrategyName[];
  timeoutMs?: number;
}

async function main(): Promise<void> {
  const request = JSON.parse(process.argv[2] ?? '{}') as ChildTaskRequest;
  for (const name of request.deleteFromEnv) delete process.env[name];
  const runner = new SandboxedRunner({
    outputDirectory: request.outputDirectory,
    tempDirectory: request.tempDirectory,
    secrets: request.secrets,
    ...(request.strategies ? { strategies: request.strategies } : {}),
  });
  const result = await runner.run({
    command: request.command,
    files: [],
    workingDirectory: '',
    timeoutMs: request.timeoutMs ?? 20_000,
    signal: new AbortController().signal,
  });
  process.stdout.write(JSON.stringify({ pid: process.pid, result }));
}

main().catch((error: unknown) => {
  process.stderr.write(String((error as Error)?.stack ?? error));
  process.exitCode = 1;
});
