/**
 * The provenance manifest, written to <outputDirectory>/.synthesis/manifest.json with the files.
 * It holds hashes and names, never a secret.
 */
import { createHash } from 'node:crypto';
import { INPUTS, MANIFEST_PATH } from './contract';
import type { CallPurpose, Phase } from './draft';
import { InputError } from './errors';
import type { Intent } from './intent';
import { showPath } from './paths';
import type { BuildInfo, FileToWrite, ModelInfo, ModelReply, PathState, TokenUsage } from './ports';
import type { Fingerprint } from './fingerprint';
import type { Severity } from './scan';
import type { GenerationStrategy } from './settings';
import type { ValidationRound } from './validate';

/**
 * What the run did with a file: created it, overwrote it, found it already identical, merged a
 * person's edits with the new generation (conflictPolicy 'merge'), or, in a pull request, committed it
 * with conflict markers for a person to resolve.
 */
export type FileAction = 'created' | 'overwritten' | 'unchanged' | 'merged' | 'conflict';

export interface ManifestFile {
  path: string;
  /** SHA-256 of the file as written. */
  sha256: string;
  bytes: number;
  action: FileAction;
  /**
   * SHA-256 of what the model generated for the file, when the file as written differs from it (a
   * merge): the next run's conflictPolicy 'merge' tells a person's edits from the last generation by it.
   */
  generatedSha256?: string;
}

/**
 * Where the intent came from: the `intent` input (inline, or the pipeline variable `intent`), a file, or
 * none given with provider 'archive' (`file` is then the archive, which stands for it: core/archive.ts).
 */
export type IntentSource =
  | { kind: 'inline' }
  | { kind: 'variable'; variable: string }
  | { kind: 'file'; file: string }
  | { kind: 'archive'; file: string };

/** One model call, and where its prompt is stored. */
export interface ManifestCall {
  /**
   * `generate`: the request for every file in one reply; `outline`: the outline of a planned
   * generation; `file`: some of its files (`paths`); `repair`: a request after validateCommand failed.
   */
  purpose: CallPurpose;
  /** A `file` call: the paths it asked for. */
  paths?: string[];
  /** The reply was not used, and the call was made again (or, cut at the token limit, planned): why. */
  rejected?: string;
  replyId: string;
  /** The prompt record, relative to the output directory (.synthesis/prompts/<reply id>.json). */
  promptFile: string;
  model: string;
  systemFingerprint?: string;
  finishReason: string;
  startedAt: string;
  durationMs: number;
  usage: TokenUsage;
  /** How many messages the request held (2 for the first; a repair adds the reply and what failed). */
  messages: number;
  /** SHA-256 of the request's messages (roles and contents, as JSON). */
  messagesSha256: string;
}

/** One phase of the generation: its calls, their tokens, its wall time and the most calls at once. */
export interface GenerationPhase {
  phase: Phase;
  calls: number;
  promptTokens: number;
  completionTokens: number;
  /** From the first call's start to the last call's end. */
  wallMs: number;
  maxInFlight: number;
}

/** How the files were generated: the strategy used (and asked for), and each phase. */
export interface ManifestGeneration {
  strategy: 'single' | 'planned';
  requested: GenerationStrategy;
  concurrency: number;
  phases: GenerationPhase[];
}

export interface Manifest {
  schemaVersion: 1;
  tool: { name: 'code-synthesis'; version: string };
  generatedAt: string;
  build?: BuildInfo;
  intent: {
    sha256: string;
    kind: Intent['kind'];
    source: IntentSource['kind'];
    file?: string;
    variable?: string;
    /** The service's name; for a stack card, the stack's. */
    serviceName?: string;
    /** The service's language; for a stack card, each service's language once, comma-separated, in card order. */
    language?: string;
    /** The service's framework; for a stack card, as `language`. */
    framework?: string;
    /** A stack card's services. */
    services?: { name: string; language: string; framework: string }[];
  };
  instructions?: { file: string; sha256: string };
  policy?: { file: string; sha256: string; rules: number };
  /** The first request's messages; absent when nothing was sent (provider 'archive'). */
  prompt?: { sha256: string };
  model: ModelInfo & { model: string; replyId: string; finishReason: string };
  usage: { promptTokens: number; completionTokens: number; estimatedCost?: number };
  calls: ManifestCall[];
  /** The strategy and its phases (calls, tokens, wall time, the most in flight). */
  generation?: ManifestGeneration;
  /** What decided the files: a later run with the same fingerprint reuses them (reuse-stage.ts). */
  fingerprint?: Fingerprint;
  findings: Record<Severity, number> & { byRule: Record<string, number> };
  /** The rounds of validateCommand, when it is set: the first run, then one per repair. */
  validation?: ValidationRound[];
  provenanceHeaders: boolean;
  conflictPolicy: string;
  files: ManifestFile[];
  skipped: string[];
}

/** SHA-256 of UTF-8 text, lower-case hex. */
export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Inputs to the manifest: everything is already known before the write. */
export interface ManifestInput {
  version: string;
  now: Date;
  intent: Intent;
  intentSource: IntentSource;
  instructions?: { file: string; text: string };
  policy?: { file: string; text: string; rules: number };
  build?: BuildInfo;
  /** The first request's text; absent when nothing was sent (provider 'archive'). */
  promptText?: string;
  model: ModelInfo;
  /** The reply the files came from last (its id, model and finish reason are the manifest's `model`). */
  reply: ModelReply;
  /** Tokens of every call together; the reply's when absent. */
  usage?: TokenUsage;
  /** The model calls (default none). */
  calls?: readonly ManifestCall[];
  generation?: ManifestGeneration;
  fingerprint?: Fingerprint;
  /** Rule id and severity of each finding (default none). */
  findings?: readonly { ruleId: string; severity: Severity }[];
  validation?: readonly ValidationRound[];
  provenanceHeaders?: boolean;
  estimatedCost?: number;
  conflictPolicy: string;
  written: readonly FileToWrite[];
  overwritten: readonly string[];
  unchanged: readonly string[];
  skipped: readonly string[];
  /** Paths written as a merge (conflictPolicy 'merge'). */
  merged?: readonly string[];
  /** Paths written with conflict markers (a pull request under conflictPolicy 'merge'). */
  conflicted?: readonly string[];
  /** What the model generated, for `generatedSha256` of the files written otherwise. */
  generated?: readonly FileToWrite[];
}

/** Build the manifest. Files are listed sorted by path so the manifest is stable. */
export function buildManifest(input: ManifestInput): Manifest {
  const overwritten = new Set(input.overwritten);
  const unchanged = new Set(input.unchanged);
  const merged = new Set(input.merged ?? []);
  const conflicted = new Set(input.conflicted ?? []);
  const generated = new Map((input.generated ?? []).map((f) => [f.path, f.content]));
  const files = [...input.written]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((f): ManifestFile => {
      const hash = sha256(f.content);
      const model = generated.get(f.path);
      const modelHash = model === undefined ? hash : sha256(model);
      return {
        path: f.path,
        sha256: hash,
        bytes: Buffer.byteLength(f.content, 'utf8'),
        action: conflicted.has(f.path)
          ? 'conflict'
          : merged.has(f.path)
            ? 'merged'
            : unchanged.has(f.path)
              ? 'unchanged'
              : overwritten.has(f.path)
                ? 'overwritten'
                : 'created',
        ...(modelHash !== hash ? { generatedSha256: modelHash } : {}),
      };
    });
  const source = input.intentSource;
  const byRule: Record<string, number> = {};
  const findings = input.findings ?? [];
  for (const f of findings) byRule[f.ruleId] = (byRule[f.ruleId] ?? 0) + 1;
  const build = Object.fromEntries(Object.entries(input.build ?? {}).filter(([, v]) => v)) as BuildInfo;
  return {
    schemaVersion: 1,
    tool: { name: 'code-synthesis', version: input.version },
    generatedAt: input.now.toISOString(),
    ...(Object.keys(build).length ? { build } : {}),
    intent: {
      sha256: sha256(input.intent.text),
      kind: input.intent.kind,
      source: source.kind,
      ...(source.kind === 'file' || source.kind === 'archive' ? { file: source.file } : {}),
      ...(source.kind === 'variable' ? { variable: source.variable } : {}),
      ...describedCard(input.intent),
    },
    ...(input.instructions
      ? { instructions: { file: input.instructions.file, sha256: sha256(input.instructions.text) } }
      : {}),
    ...(input.policy
      ? {
          policy: { file: input.policy.file, sha256: sha256(input.policy.text), rules: input.policy.rules },
        }
      : {}),
    ...(input.promptText !== undefined ? { prompt: { sha256: sha256(input.promptText) } } : {}),
    model: {
      ...input.model,
      model: input.reply.model,
      replyId: input.reply.id,
      finishReason: input.reply.finishReason,
    },
    usage: {
      ...(input.usage ?? input.reply.usage),
      ...(input.estimatedCost !== undefined ? { estimatedCost: input.estimatedCost } : {}),
    },
    calls: (input.calls ?? []).map((c) => ({ ...c, usage: { ...c.usage } })),
    ...(input.generation
      ? { generation: { ...input.generation, phases: input.generation.phases.map((p) => ({ ...p })) } }
      : {}),
    ...(input.fingerprint
      ? { fingerprint: { sha256: input.fingerprint.sha256, parts: { ...input.fingerprint.parts } } }
      : {}),
    findings: {
      error: findings.filter((f) => f.severity === 'error').length,
      warning: findings.filter((f) => f.severity === 'warning').length,
      byRule,
    },
    ...(input.validation
      ? { validation: input.validation.map((r) => ({ ...r, changedFiles: [...r.changedFiles] })) }
      : {}),
    provenanceHeaders: input.provenanceHeaders ?? false,
    conflictPolicy: input.conflictPolicy,
    files,
    skipped: [...input.skipped].sort(),
  };
}

/** The manifest as the file written to disk. */
export function manifestContent(manifest: Manifest): string {
  return JSON.stringify(manifest, null, 2) + '\n';
}

/**
 * Check that the manifest can be written where the task keeps it: the output directory is a folder,
 * `.synthesis` is a plain folder (or absent), `.synthesis/manifest.json` is a file (or absent), and no
 * entry differing only in letter case or Unicode form stands in for either (`.Synthesis/`), which
 * would leave two folders on a case-sensitive disk and one checkout-breaking pair in the repository.
 * These are problems of the output directory, not of the model's paths: the error says what to fix there.
 * @param state what TreeStore.inspect saw at `path`.
 * @param root the output directory, for the message.
 * @param path one of the task's own files under .synthesis/ (the manifest by default, or the prompt record).
 * @param what that file, as the message names it.
 * @throws InputError on 'outputDirectory'.
 */
export function checkManifestLocation(
  state: PathState | undefined,
  root: string,
  path: string = MANIFEST_PATH,
  what = 'its manifest',
): void {
  if (!state) return;
  const where = `in '${root}'`;
  const fail = (message: string, hint: string): never => {
    throw new InputError(
      INPUTS.outputDirectory,
      message,
      `${hint}, or choose another '${INPUTS.outputDirectory}'. Nothing was written.`,
    );
  };
  if (state.blockedBy === '.') {
    throw new InputError(
      INPUTS.outputDirectory,
      `'${root}' is not a folder: it, or a folder above it, is a file.`,
      `Set '${INPUTS.outputDirectory}' to a folder, or move the file away. Nothing was written.`,
    );
  }
  if (state.blockedBy !== undefined) {
    const folder = showPath(state.blockedBy);
    fail(
      `${folder} ${where} is a symlink or a file, not a folder; the task keeps ${what} in that folder.`,
      `Remove or rename ${folder} there (a symlink is never followed)`,
    );
  }
  if (state.kind !== 'absent' && state.kind !== 'file') {
    const kind = { directory: 'a folder', symlink: 'a symlink', other: 'a special file' }[state.kind];
    fail(`${showPath(path)} ${where} is ${kind}, where the task writes ${what}.`, 'Remove or rename it');
  }
  if (state.caseTwin !== undefined) {
    const twin = showPath(state.caseTwin);
    const meant = showPath(path.split('/').slice(0, state.caseTwin.split('/').length).join('/'));
    fail(
      `${twin} ${where} differs only in letter case or Unicode form from ${meant}, where the task keeps ${what}: writing would create ${meant} beside it.`,
      `Rename ${twin} to ${meant} or remove it`,
    );
  }
}

/** What the manifest says of the card: its service, or the stack and its services. */
function describedCard(intent: Intent): Partial<Manifest['intent']> {
  if (intent.kind === 'card')
    return {
      serviceName: intent.card.name,
      language: intent.card.language,
      framework: intent.card.framework,
    };
  if (intent.kind === 'text') return {};
  const { name, services } = intent.stack;
  const each = (key: 'language' | 'framework') => [...new Set(services.map((s) => s[key]))].join(',');
  return {
    serviceName: name,
    language: each('language'),
    framework: each('framework'),
    services: services.map((s) => ({ name: s.name, language: s.language, framework: s.framework })),
  };
}
