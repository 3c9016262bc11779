/**
 * The GitHub Action's public contract (action.yml): the task's inputs and outputs under GitHub's
 * kebab-case names (`maxTotalSizeKB` -> `max-total-size-kb`), the task inputs only Azure Pipelines
 * has, the inputs only the action has, and where the agent's predefined variables come from on a
 * runner. A unit test checks action.yml against it and task.json.
 */
import { INPUTS, OUTPUTS, type InputName, type OutputName } from '../../core/contract';

/** `maxTotalSizeKB` -> `max-total-size-kb`, `apiKey` -> `api-key`. */
export function kebabCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2')
    .toLowerCase();
}

/** The action input of a task input. */
export function actionInputName(name: InputName): string {
  return kebabCase(name);
}

/** The action output of a task output variable. */
export function actionOutputName(name: OutputName): string {
  return kebabCase(name);
}

/**
 * Task inputs that have no twin of the same meaning: a service connection exists only in Azure
 * Pipelines. On GitHub, `azureSubscription` is read from `client-id` (with `tenant-id`): the app
 * registration or user-assigned managed identity that trusts the workflow's OIDC token.
 */
export const AZURE_PIPELINES_ONLY: ReadonlySet<InputName> = new Set([INPUTS.azureSubscription]);

/** Inputs only the action has. */
export const ACTION_INPUTS = {
  /** Client id of the app or managed identity with a federated credential for this repository. */
  clientId: 'client-id',
  /** Its Entra ID tenant. */
  tenantId: 'tenant-id',
  /** AzureCloud (default), AzureUSGovernment or AzureChinaCloud. */
  azureEnvironment: 'azure-environment',
  /** The token for the pull request (default: the workflow's GITHUB_TOKEN). */
  githubToken: 'github-token',
} as const;

/** Every output of the action: the task's output variables in kebab-case. */
export const ALL_ACTION_OUTPUTS: readonly string[] = Object.values(OUTPUTS).map(actionOutputName);

/**
 * The agent's predefined variables the code reads, and the runner's environment variables that hold
 * the same thing (https://docs.github.com/actions/reference/variables-reference).
 */
export const RUNNER_VARIABLES: Readonly<Record<string, string>> = {
  'Build.SourcesDirectory': 'GITHUB_WORKSPACE',
  'Build.BuildId': 'GITHUB_RUN_ID',
  'Build.BuildNumber': 'GITHUB_RUN_NUMBER',
  'Build.DefinitionName': 'GITHUB_WORKFLOW',
  'Build.Repository.Name': 'GITHUB_REPOSITORY',
  'Build.SourceVersion': 'GITHUB_SHA',
  'Build.SourceBranch': 'GITHUB_REF',
  'Agent.TempDirectory': 'RUNNER_TEMP',
};

/**
 * Messages name inputs by their task names ("Input 'maxFiles': ...", "set failOnFindings to false"):
 * the same text with each task input name replaced by its action name. Camel-case names are replaced
 * wherever they stand as a word; one-word names ('intent', 'endpoint', 'reviewers') are the same on
 * both sides; `azureSubscription` becomes `client-id`.
 */
export function withActionNames(text: string): string {
  const names = new Map<string, string>([
    ...Object.values(INPUTS)
      .filter((n) => /[A-Z]/.test(n))
      .map((n): [string, string] => [n, kebabCase(n)]),
    [INPUTS.azureSubscription, ACTION_INPUTS.clientId],
  ]);
  return text.replace(/\b[a-z]+(?:[A-Z][A-Za-z]*)+\b/g, (word) => names.get(word) ?? word);
}
