/**
 * The script MockTestRunner runs: sets the agent's environment from the L0_SPEC variable, then loads
 * the unbundled task entry with the real task-lib (run(true): task-lib's mock-task lacks the external
 * output functions the task uses).
 */
import path from 'node:path';
import { TaskMockRunner } from 'azure-pipelines-task-lib/mock-run';

export interface L0Spec {
  inputs: Record<string, string>;
  variables?: Record<string, string>;
  endpoints?: Record<
    string,
    { scheme: string; auth?: Record<string, string>; data?: Record<string, string>; url?: string }
  >;
}

const spec = JSON.parse(process.env.L0_SPEC ?? '{}') as L0Spec;
const runner = new TaskMockRunner(
  path.join(__dirname, '..', '..', 'tasks', 'CodeSynthesis', 'src', 'index.js'),
);
for (const [name, value] of Object.entries(spec.inputs)) runner.setInput(name, value);
for (const [name, value] of Object.entries(spec.variables ?? {}))
  process.env[name.replace(/\./g, '_').toUpperCase()] = value;
for (const [id, e] of Object.entries(spec.endpoints ?? {})) {
  process.env[`ENDPOINT_AUTH_${id}`] = JSON.stringify({ scheme: e.scheme, parameters: e.auth ?? {} });
  process.env[`ENDPOINT_AUTH_SCHEME_${id}`] = e.scheme;
  for (const [k, v] of Object.entries(e.auth ?? {}))
    process.env[`ENDPOINT_AUTH_PARAMETER_${id}_${k.toUpperCase()}`] = v;
  for (const [k, v] of Object.entries(e.data ?? {}))
    process.env[`ENDPOINT_DATA_${id}_${k.toUpperCase()}`] = v;
  if (e.url) process.env[`ENDPOINT_URL_${id}`] = e.url;
}
runner.run(true);
