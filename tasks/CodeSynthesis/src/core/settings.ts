/**
 * Settings: every task input read once, validated, into one plain object.
 */
import { archiveReviewBranch } from './archive';
import { DEFAULTS, INPUTS, type InputName } from './contract';
import { InputError } from './errors';
import type { ModelSettings, ProviderName } from './ports';
import { parseReviewSettings, type ReviewersParser, type ReviewSettings } from './review';
import { checkWorkingDirectory } from './validate';

export type AuthSettings =
  | { mode: 'keyVault'; connection: string; vaultName: string; secretName: string }
  | { mode: 'entraId'; connection: string }
  | { mode: 'apiKey'; apiKey: string }
  | { mode: 'none' };

export type ConflictPolicy = 'fail' | 'overwrite' | 'skip' | 'merge';

/**
 * How the files are asked for: `single`, one reply holding every file; `planned`, an outline of the
 * files first, then the files in parallel calls; `auto`, planned for stack cards and when one reply
 * cannot hold the service (see core/strategy.ts).
 */
export type GenerationStrategy = 'single' | 'planned' | 'auto';

export interface GenerationSettings {
  strategy: GenerationStrategy;
  /** File calls in flight at once in a planned generation (1-16). */
  concurrency: number;
}

export interface Settings {
  /**
   * The intent text or file; `archive` when provider 'archive' runs without one (no intentFile, and
   * `intent` empty or the undefined default `$(intent)`): the archive then stands for it (core/archive.ts).
   */
  intent:
    { kind: 'inline'; text: string } | { kind: 'file'; path: string } | { kind: 'archive'; file: string };
  provider: ProviderName;
  /** Provider 'archive': the zip, tar or tar.gz to unpack (input archiveFile); absent otherwise. */
  archiveFile?: string;
  auth: AuthSettings;
  endpoint?: string;
  deployment?: string;
  apiVersion: string;
  outputDirectory: string;
  conflictPolicy: ConflictPolicy;
  deniedPaths: string[];
  maxFiles: number;
  maxTotalBytes: number;
  model: ModelSettings;
  instructionsFile?: string;
  failOnFindings: boolean;
  /** The organisation's rules (policyFile), when set. */
  policyFile?: string;
  /** Files larger than this are a finding (maxFileSizeKB * 1024). */
  maxFileBytes: number;
  /** Put a provenance comment at the top of each generated source file. */
  provenanceHeaders: boolean;
  /** Prices per million tokens, for the cost estimate; set together or not at all. */
  prices?: { prompt: number; completion: number };
  timeoutSeconds: number;
  /** validateCommand and its limits; absent when no command is set (no validation). */
  validation?: ValidationSettings;
  /** The pull-request gate (reviewMode and its inputs). */
  review: ReviewSettings;
  /** generationStrategy and concurrency. */
  generation: GenerationSettings;
  /** Reuse the last generation when its fingerprint is this run's (no sign-in, no model call). */
  reuse: boolean;
}

export interface ValidationSettings {
  /** The command, as written (may span lines). */
  command: string;
  /** Repairs the model may make after the first run fails (0: none). */
  repairAttempts: number;
  /** The limit of each round. */
  timeoutSeconds: number;
  /** Relative to the output directory, '/' separators, '' for its root. */
  workingDirectory: string;
}

/** Raw input values by YAML name, as the host read them (undefined or '' when not set). */
export type RawInputs = Partial<Record<InputName, string>>;

const PROVIDERS: readonly ProviderName[] = ['azureOpenAI', 'openAICompatible', 'offline', 'archive'];
const AUTH_MODES = ['keyVault', 'entraId', 'apiKey'] as const;
const POLICIES: readonly ConflictPolicy[] = ['fail', 'overwrite', 'skip', 'merge'];
const STRATEGIES: readonly GenerationStrategy[] = ['auto', 'single', 'planned'];
const VAULT_NAME = /^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/;
const SECRET_NAME = /^[0-9a-zA-Z-]{1,127}$/;
/** An unexpanded macro: the agent leaves `$(name)` as is when the variable is not defined. */
const MACRO = /^\$\(([^)]+)\)$/;

/** How a front door reads the inputs whose syntax is its own. */
export interface ParseOptions {
  /** The reviewers' syntax: Azure DevOps identity ids by default (review.ts parseReviewers). */
  parseReviewers?: ReviewersParser;
}

/**
 * Parse and validate all inputs.
 * @throws InputError naming the first input at fault and how to fix it.
 */
export function parseSettings(raw: RawInputs, options: ParseOptions = {}): Settings {
  const get = (name: InputName): string | undefined => {
    const value = raw[name]?.trim();
    return value ? value : undefined;
  };
  const required = (name: InputName, why: string): string => {
    const value = get(name);
    if (!value) throw new InputError(name, 'a value is required ' + why + '.', `Set '${name}' on the task.`);
    return value;
  };

  const provider = pick(INPUTS.provider, get(INPUTS.provider) ?? DEFAULTS.provider, PROVIDERS);
  // The archive provider needs no sign-in, endpoint or deployment, and no intent (core/archive.ts).
  const archiveFile =
    provider === 'archive'
      ? path(
          INPUTS.archiveFile,
          required(INPUTS.archiveFile, "for provider 'archive' (the zip, tar or tar.gz file to unpack)"),
        )
      : undefined;

  const intentFile = get(INPUTS.intentFile);
  let intent: Settings['intent'];
  if (intentFile) intent = { kind: 'file', path: path(INPUTS.intentFile, intentFile)! };
  else if (archiveFile && isUnset(raw[INPUTS.intent])) intent = { kind: 'archive', file: archiveFile };
  else {
    const text = raw[INPUTS.intent] ?? DEFAULTS.intent;
    const macro = MACRO.exec(text.trim());
    if (macro) {
      throw new InputError(
        INPUTS.intent,
        `the pipeline variable '${macro[1]}' is not defined, so the intent is the literal text '${text.trim()}'.`,
        `Define the variable '${macro[1]}' (variables: ${macro[1]}: ...), or set the 'intent' input to the intent text, or set 'intentFile'.`,
      );
    }
    if (!text.trim())
      throw new InputError(
        INPUTS.intent,
        'the intent is empty.',
        "Set 'intent' to a YAML service card or free text, or set 'intentFile'.",
      );
    intent = { kind: 'inline', text };
  }

  let auth: AuthSettings = { mode: 'none' };
  let endpoint: string | undefined;
  let deployment: string | undefined;
  if (provider === 'azureOpenAI' || provider === 'openAICompatible') {
    endpoint = checkUrl(required(INPUTS.endpoint, `for provider '${provider}'`));
    deployment = required(
      INPUTS.deployment,
      `for provider '${provider}' (the ${provider === 'azureOpenAI' ? 'deployment' : 'model'} name)`,
    );
    const mode = pick(INPUTS.authMode, get(INPUTS.authMode) ?? DEFAULTS.authMode, AUTH_MODES);
    if (mode === 'apiKey') {
      const apiKey = get(INPUTS.apiKey);
      if (!apiKey || MACRO.test(apiKey)) {
        throw new InputError(
          INPUTS.apiKey,
          "authMode 'apiKey' needs the key.",
          "Set 'apiKey' to a secret pipeline variable, e.g. apiKey: $(openaiApiKey), and define that variable as secret.",
        );
      }
      auth = { mode, apiKey };
    } else {
      const connection = required(
        INPUTS.azureSubscription,
        `for authMode '${mode}' (an Azure Resource Manager service connection)`,
      );
      if (mode === 'entraId') {
        if (provider !== 'azureOpenAI')
          throw new InputError(
            INPUTS.authMode,
            "'entraId' works only with provider 'azureOpenAI'.",
            "Use authMode 'apiKey' or 'keyVault' for an OpenAI-compatible endpoint.",
          );
        auth = { mode, connection };
      } else {
        const vaultName = required(INPUTS.keyVaultName, "for authMode 'keyVault'");
        if (!VAULT_NAME.test(vaultName))
          throw new InputError(
            INPUTS.keyVaultName,
            `'${vaultName}' is not a Key Vault name.`,
            'A vault name is 3-24 letters, digits and dashes, starting with a letter (the name only, not the URL).',
          );
        const secretName = get(INPUTS.apiKeySecretName) ?? DEFAULTS.apiKeySecretName;
        if (!SECRET_NAME.test(secretName))
          throw new InputError(
            INPUTS.apiKeySecretName,
            `'${secretName}' is not a Key Vault secret name.`,
            'Secret names are 1-127 letters, digits and dashes.',
          );
        auth = { mode, connection, vaultName, secretName };
      }
    }
  }

  const apiVersion = get(INPUTS.apiVersion) ?? DEFAULTS.apiVersion;
  if (!/^\d{4}-\d{2}-\d{2}(-preview)?$/.test(apiVersion))
    throw new InputError(
      INPUTS.apiVersion,
      `'${apiVersion}' is not an api-version.`,
      `Use a date such as ${DEFAULTS.apiVersion} or 2025-04-01-preview.`,
    );

  const outputDirectory = path(
    INPUTS.outputDirectory,
    required(INPUTS.outputDirectory, '(the folder generated files are written to)'),
  )!;
  const conflictPolicy = pick(
    INPUTS.conflictPolicy,
    get(INPUTS.conflictPolicy) ?? DEFAULTS.conflictPolicy,
    POLICIES,
  );
  const deniedPaths = splitGlobs(raw[INPUTS.deniedPaths] ?? '');

  const maxFiles = int(INPUTS.maxFiles, get(INPUTS.maxFiles), DEFAULTS.maxFiles, 1, 10000);
  const maxTotalBytes =
    int(INPUTS.maxTotalSizeKB, get(INPUTS.maxTotalSizeKB), DEFAULTS.maxTotalSizeKB, 1, 1024 * 1024) * 1024;
  const model: ModelSettings = {};
  const temperature = num(INPUTS.temperature, get(INPUTS.temperature), 0, 2);
  if (temperature !== undefined) model.temperature = temperature;
  const maxOutputTokens = get(INPUTS.maxOutputTokens);
  if (maxOutputTokens !== undefined)
    model.maxOutputTokens = int(INPUTS.maxOutputTokens, maxOutputTokens, 0, 1, 1_000_000);
  const seed = get(INPUTS.seed);
  if (seed !== undefined) model.seed = int(INPUTS.seed, seed, 0, -(2 ** 31), 2 ** 31 - 1);
  const timeoutSeconds = int(
    INPUTS.timeoutSeconds,
    get(INPUTS.timeoutSeconds),
    DEFAULTS.timeoutSeconds,
    5,
    3600,
  );

  const instructionsFile = path(INPUTS.instructionsFile, get(INPUTS.instructionsFile));
  const policyFile = path(INPUTS.policyFile, get(INPUTS.policyFile));
  const maxFileBytes =
    int(INPUTS.maxFileSizeKB, get(INPUTS.maxFileSizeKB), DEFAULTS.maxFileSizeKB, 1, 1024 * 1024) * 1024;
  const promptPrice = num(INPUTS.promptTokenPrice, get(INPUTS.promptTokenPrice), 0, 1_000_000);
  const completionPrice = num(INPUTS.completionTokenPrice, get(INPUTS.completionTokenPrice), 0, 1_000_000);
  if ((promptPrice === undefined) !== (completionPrice === undefined)) {
    const missing = promptPrice === undefined ? INPUTS.promptTokenPrice : INPUTS.completionTokenPrice;
    throw new InputError(
      missing,
      'the cost estimate needs both token prices.',
      `Set '${INPUTS.promptTokenPrice}' and '${INPUTS.completionTokenPrice}' (currency per million tokens), or neither.`,
    );
  }
  const validateCommand = raw[INPUTS.validateCommand]?.trim()
    ? raw[INPUTS.validateCommand]!.trim()
    : undefined;
  const validation: ValidationSettings | undefined = validateCommand
    ? {
        command: validateCommand,
        repairAttempts: int(
          INPUTS.repairAttempts,
          get(INPUTS.repairAttempts),
          DEFAULTS.repairAttempts,
          0,
          10,
        ),
        timeoutSeconds: int(
          INPUTS.validateTimeoutSeconds,
          get(INPUTS.validateTimeoutSeconds),
          DEFAULTS.validateTimeoutSeconds,
          5,
          86400,
        ),
        workingDirectory: checkWorkingDirectory(get(INPUTS.validateWorkingDirectory)),
      }
    : undefined;
  const review = parseReviewSettings(raw, options.parseReviewers);
  return {
    intent,
    provider,
    ...(archiveFile ? { archiveFile } : {}),
    auth,
    ...(endpoint ? { endpoint } : {}),
    ...(deployment ? { deployment } : {}),
    apiVersion,
    outputDirectory,
    conflictPolicy,
    deniedPaths,
    maxFiles,
    maxTotalBytes,
    model,
    ...(instructionsFile ? { instructionsFile } : {}),
    failOnFindings: bool(INPUTS.failOnFindings, get(INPUTS.failOnFindings), true),
    ...(policyFile ? { policyFile } : {}),
    maxFileBytes,
    provenanceHeaders: bool(INPUTS.provenanceHeaders, get(INPUTS.provenanceHeaders), false),
    ...(promptPrice !== undefined && completionPrice !== undefined
      ? { prices: { prompt: promptPrice, completion: completionPrice } }
      : {}),
    timeoutSeconds,
    ...(validation ? { validation } : {}),
    review:
      intent.kind === 'archive' && review.mode === 'pullRequest' && !review.branch
        ? { ...review, branch: archiveReviewBranch(intent.file) }
        : review,
    generation: {
      strategy: pick(
        INPUTS.generationStrategy,
        get(INPUTS.generationStrategy) ?? DEFAULTS.generationStrategy,
        STRATEGIES,
      ),
      concurrency: int(INPUTS.concurrency, get(INPUTS.concurrency), DEFAULTS.concurrency, 1, 16),
    },
    reuse: bool(INPUTS.reuse, get(INPUTS.reuse), true),
  };
}

/** An intent left empty, or the default `$(intent)` with no pipeline variable `intent` to expand it. */
function isUnset(intent: string | undefined): boolean {
  const text = intent?.trim() ?? '';
  return text === '' || text === DEFAULTS.intent;
}

/**
 * One glob per line; commas also separate globs, except inside braces (`secrets/{*.pem,*.key}` is one).
 * Lines starting with '#' are comments.
 * @throws InputError for unbalanced braces, which would otherwise deny less than meant.
 */
function splitGlobs(text: string): string[] {
  const globs: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim().startsWith('#')) continue;
    let depth = 0;
    let current = '';
    for (const c of line) {
      if (c === '{') depth++;
      if (c === '}') depth--;
      if (depth < 0) break;
      if (c === ',' && depth === 0) {
        globs.push(current);
        current = '';
      } else current += c;
    }
    if (depth !== 0) {
      throw new InputError(
        INPUTS.deniedPaths,
        `'${line.trim()}' has unbalanced braces.`,
        'Close every { with } (e.g. secrets/{*.pem,*.key}).',
      );
    }
    globs.push(current);
  }
  return globs.map((g) => g.trim()).filter(Boolean);
}

/**
 * A path input, refusing an unexpanded macro: `$(Build.SourcesDirectory)` left as is means the variable
 * does not exist in this job, and a folder of that literal name would be used.
 */
function path(input: InputName, value: string | undefined): string | undefined {
  const macro = value && /\$\(([^)]+)\)/.exec(value);
  if (macro) {
    throw new InputError(
      input,
      `'${value}' holds the macro $(${macro[1]}), and no variable '${macro[1]}' is defined in this job.`,
      `Define '${macro[1]}', or give '${input}' a path without it.`,
    );
  }
  return value;
}

function pick<T extends string>(input: InputName, value: string, allowed: readonly T[]): T {
  const found = allowed.find((a) => a.toLowerCase() === value.toLowerCase());
  if (!found)
    throw new InputError(
      input,
      `'${value}' is not one of the accepted values.`,
      `Use one of: ${allowed.join(', ')}.`,
    );
  return found;
}

function int(
  input: InputName,
  value: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new InputError(
      input,
      `'${value}' is not a whole number from ${min} to ${max}.`,
      `Set '${input}' to a whole number in that range.`,
    );
  }
  return n;
}

function num(input: InputName, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || n < min || n > max) {
    throw new InputError(
      input,
      `'${value}' is not a number from ${min} to ${max}.`,
      `Set '${input}' to a number in that range, or leave it empty.`,
    );
  }
  return n;
}

function bool(input: InputName, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  const v = value.toLowerCase();
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new InputError(input, `'${value}' is not a boolean.`, 'Use true or false.');
}

function checkUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InputError(
      INPUTS.endpoint,
      `'${value}' is not a URL.`,
      'Use the full https:// URL, e.g. https://my-resource.openai.azure.com/.',
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InputError(
      INPUTS.endpoint,
      `'${value}' must use https.`,
      'Use the full https:// URL of the endpoint.',
    );
  }
  if (url.username || url.password)
    throw new InputError(
      INPUTS.endpoint,
      'the URL must not carry credentials.',
      "Remove the user and password from the URL; use 'authMode' for credentials.",
    );
  return value.replace(/\/+$/, '');
}
