/**
 * The fingerprint of a run: a SHA-256 over everything that decides the files it writes, kept in the
 * manifest, so that a later run with the same fingerprint can reuse them (reuse-stage.ts) without
 * signing in or calling the model.
 *
 * What counts, part by part: the intent; the instructions and policy files' text; the prompt (the
 * request for every file, whose text also carries the limits and denied paths); the provider, endpoint,
 * deployment or model, api-version (Azure) and model settings (temperature, maxOutputTokens, seed); the
 * generation strategy and the version of the outline prompts; the checks and the write (deniedPaths,
 * maxFiles, maxTotalSizeKB, maxFileSizeKB, failOnFindings, provenanceHeaders, conflictPolicy); the
 * validation (command, repairs, its folder and time limit: a repair changes files); and the task
 * version (which covers the offline templates and the wording of our prompts).
 * What does not: concurrency (the requests are the same however many run at once), timeoutSeconds,
 * token prices, reviewMode and its inputs, reuse itself.
 */
import type { Prepared } from './draft';
import { sha256 } from './manifest';
import { OUTLINE_PROMPT_VERSION } from './outline';
import { promptText } from './prompt';
import type { Settings } from './settings';

/** The parts of the fingerprint, and how a message names each. */
export const FINGERPRINT_PARTS = {
  intent: 'the intent',
  instructions: 'the instructions file',
  policy: 'the policy file',
  prompt: 'the prompt',
  model: 'the model or its settings',
  generation: 'the generation strategy',
  checks: 'the checks and limits',
  validation: 'the validation',
  task: 'the task version',
} as const;

export type FingerprintPart = keyof typeof FINGERPRINT_PARTS;

/** The fingerprint: the SHA-256 of its parts', and each part's, so a change can be named. */
export interface Fingerprint {
  sha256: string;
  parts: Record<FingerprintPart, string>;
}

/** The fingerprint of a run of these settings over this intent, by this version of the task. */
export function fingerprintRun(prepared: Prepared, settings: Settings, version: string): Fingerprint {
  const remote = settings.provider !== 'offline';
  const values: Record<FingerprintPart, unknown> = {
    intent: prepared.intent.text,
    instructions: prepared.instructions?.text ?? null,
    policy: prepared.policy?.text ?? null,
    prompt: promptText(prepared.request),
    model: {
      provider: settings.provider,
      endpoint: remote ? (settings.endpoint ?? null) : null,
      deployment: remote ? (settings.deployment ?? null) : null,
      apiVersion: settings.provider === 'azureOpenAI' ? settings.apiVersion : null,
      temperature: settings.model.temperature ?? null,
      maxOutputTokens: settings.model.maxOutputTokens ?? null,
      seed: settings.model.seed ?? null,
    },
    generation: { strategy: settings.generation.strategy, outlinePrompt: OUTLINE_PROMPT_VERSION },
    checks: {
      deniedPaths: settings.deniedPaths,
      maxFiles: settings.maxFiles,
      maxTotalBytes: settings.maxTotalBytes,
      maxFileBytes: settings.maxFileBytes,
      failOnFindings: settings.failOnFindings,
      provenanceHeaders: settings.provenanceHeaders,
      conflictPolicy: settings.conflictPolicy,
    },
    validation: settings.validation ?? null,
    task: version,
  };
  const parts = Object.fromEntries(
    (Object.keys(FINGERPRINT_PARTS) as FingerprintPart[]).map((k) => [k, sha256(JSON.stringify(values[k]))]),
  ) as Record<FingerprintPart, string>;
  return { sha256: sha256(JSON.stringify(parts)), parts };
}

/**
 * What differs between a fingerprint read from a manifest (untrusted JSON) and this run's, as the
 * message names them (FINGERPRINT_PARTS); every part when the old one has no readable parts.
 */
export function changedParts(last: unknown, now: Fingerprint): string[] {
  const parts =
    typeof last === 'object' && last !== null && typeof (last as { parts?: unknown }).parts === 'object'
      ? ((last as { parts: Record<string, unknown> }).parts ?? {})
      : {};
  return (Object.keys(FINGERPRINT_PARTS) as FingerprintPart[])
    .filter((k) => parts[k] !== now.parts[k])
    .map((k) => FINGERPRINT_PARTS[k]);
}
