/**
 * The task's public contract: the YAML input names and the output variable names, in one place.
 * task.json must list exactly these (a unit test checks it).
 */
export const INPUTS = {
  intent: 'intent',
  intentFile: 'intentFile',
  provider: 'provider',
  archiveFile: 'archiveFile',
  azureSubscription: 'azureSubscription',
  authMode: 'authMode',
  keyVaultName: 'keyVaultName',
  apiKeySecretName: 'apiKeySecretName',
  apiKey: 'apiKey',
  endpoint: 'endpoint',
  deployment: 'deployment',
  apiVersion: 'apiVersion',
  outputDirectory: 'outputDirectory',
  conflictPolicy: 'conflictPolicy',
  deniedPaths: 'deniedPaths',
  maxFiles: 'maxFiles',
  maxTotalSizeKB: 'maxTotalSizeKB',
  temperature: 'temperature',
  maxOutputTokens: 'maxOutputTokens',
  seed: 'seed',
  instructionsFile: 'instructionsFile',
  failOnFindings: 'failOnFindings',
  policyFile: 'policyFile',
  maxFileSizeKB: 'maxFileSizeKB',
  provenanceHeaders: 'provenanceHeaders',
  promptTokenPrice: 'promptTokenPrice',
  completionTokenPrice: 'completionTokenPrice',
  timeoutSeconds: 'timeoutSeconds',
  validateCommand: 'validateCommand',
  repairAttempts: 'repairAttempts',
  validateTimeoutSeconds: 'validateTimeoutSeconds',
  validateWorkingDirectory: 'validateWorkingDirectory',
  reviewMode: 'reviewMode',
  reviewBranch: 'reviewBranch',
  reviewTargetBranch: 'reviewTargetBranch',
  reviewDraft: 'reviewDraft',
  reviewers: 'reviewers',
  generationStrategy: 'generationStrategy',
  concurrency: 'concurrency',
  reuse: 'reuse',
} as const;

export type InputName = (typeof INPUTS)[keyof typeof INPUTS];

/** Output variables, set with isOutput so later jobs can read them too. */
export const OUTPUTS = {
  filesWritten: 'filesWritten',
  manifestPath: 'manifestPath',
  outputDirectory: 'outputDirectory',
  serviceName: 'serviceName',
  language: 'language',
  promptTokens: 'promptTokens',
  completionTokens: 'completionTokens',
  sarifPath: 'sarifPath',
  pullRequestId: 'pullRequestId',
  pullRequestUrl: 'pullRequestUrl',
  reviewBranch: 'reviewBranch',
  reused: 'reused',
} as const;

export type OutputName = (typeof OUTPUTS)[keyof typeof OUTPUTS];

/** Defaults shared by task.json, the CLI and settings parsing. */
export const DEFAULTS = {
  intent: '$(intent)',
  provider: 'azureOpenAI',
  authMode: 'keyVault',
  apiKeySecretName: 'openai-api-key',
  apiVersion: '2024-10-21',
  conflictPolicy: 'fail',
  maxFiles: 200,
  maxTotalSizeKB: 5120,
  maxFileSizeKB: 1024,
  timeoutSeconds: 300,
  repairAttempts: 2,
  validateTimeoutSeconds: 600,
  reviewMode: 'none',
  generationStrategy: 'auto',
  concurrency: 4,
} as const;

/** Where the manifest is written, relative to the output directory. */
export const MANIFEST_PATH = '.synthesis/manifest.json';

/** The tool as the SARIF log names it. */
export const TOOL = {
  name: 'CodeSynthesis',
  /** The project's documentation; change it with vss-extension.json's publisher when publishing. */
  informationUri: 'https://marketplace.visualstudio.com/items?itemName=your-publisher.code-synthesis',
} as const;
