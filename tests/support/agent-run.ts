/**
 * Typed access to scripts/agent-env.cjs, which runs the bundled task the way the agent does
 * (shared with `npm run demo` and `npm run bench`).
 */
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { REPO_ROOT } from './repo';

export interface EndpointSpec {
  scheme: string;
  auth?: Record<string, string>;
  data?: Record<string, string>;
  url?: string;
}

export interface TaskRunOptions {
  inputs?: Record<string, string>;
  variables?: Record<string, string>;
  secrets?: Record<string, string>;
  endpoints?: Record<string, EndpointSpec>;
  cwd?: string;
}

export interface TaskRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface VsoCommand {
  command: string;
  properties: Record<string, string>;
  message: string;
}

interface AgentEnv {
  ROOT: string;
  TASK_ENTRY: string;
  /** The environment the agent gives one task run. */
  agentEnv(options: TaskRunOptions): NodeJS.ProcessEnv;
  runTask(
    options: TaskRunOptions,
    how?: { entry?: string; node?: string; onSpawn?: (child: ChildProcess) => void },
  ): Promise<TaskRun>;
  vsoCommands(stdout: string): VsoCommand[];
  /** Lines where '##vso[' stands anywhere but at the start of the line. */
  injectedCommands(stdout: string): string[];
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const agent = require(path.join(REPO_ROOT, 'scripts', 'agent-env.cjs')) as AgentEnv;

/** The task result and the output variables a run set. */
export function outcome(run: TaskRun): {
  result?: string;
  message?: string;
  outputs: Record<string, string>;
} {
  const commands = agent.vsoCommands(run.stdout);
  const complete = commands.find((c) => c.command === 'task.complete');
  const outputs: Record<string, string> = {};
  for (const c of commands)
    if (c.command === 'task.setvariable' && c.properties.isOutput === 'true')
      outputs[c.properties.variable!] = c.message;
  return { ...(complete ? { result: complete.properties.result, message: complete.message } : {}), outputs };
}

/** Output with the ##vso[task.setsecret] lines (how a task registers a secret with the agent) removed. */
export function visibleOutput(run: TaskRun): string {
  return (run.stdout + '\n' + run.stderr)
    .split(/\r?\n/)
    .filter((l) => !l.startsWith('##vso[task.setsecret]'))
    .join('\n');
}
