/**
 * The use case, top to bottom: intent -> prompt -> model -> reply -> paths -> (headers) -> scan ->
 * plan -> write (files, prompt record, manifest).
 */
import { INPUTS, MANIFEST_PATH } from './contract';
import { estimateCost } from './cost';
import { CancelledError } from './errors';
import { parseIntent, type Intent } from './intent';
import {
  buildManifest,
  checkManifestLocation,
  manifestContent,
  sha256,
  type IntentSource,
  type Manifest,
} from './manifest';
import { checkPaths } from './paths';
import { planWrite } from './plan';
import type { PatternRunner } from './pattern-runner';
import { parsePolicyFile } from './policy-file';
import { buildPrompt, promptText } from './prompt';
import { addProvenanceHeaders, maskReplyFields, promptFilePath, recordCall } from './provenance';
import { parseReply } from './reply';
import type { Finding, ScanRule, SecretScanner } from './scan';
import { scanStage } from './scan-stage';
import type { BuildInfo, Clock, FileReader, Logger, ModelClient, PipelineHost, TreeStore } from './ports';
import type { Settings } from './settings';

/** What the use case needs from the world. */
export interface SynthesisPorts {
  log: Logger;
  files: FileReader;
  tree: TreeStore;
  clock: Clock;
  /**
   * Connects to the model (signs in, reads credentials) only once the intent is known to be usable.
   * `signal` is the run's: cancellation stops the sign-in too.
   */
  connectModel(intent: Intent, signal: AbortSignal): Promise<ModelClient>;
  signal: AbortSignal;
  version: string;
  /** Loads the secret scanner (secretlint) when the scan runs. */
  secretScanner(): Promise<SecretScanner>;
  /** Loads the runner of organisation rules (a time budget, off the main thread); without it they run in-process. */
  patternRunner?(): Promise<PatternRunner>;
  /** Task issues, the SARIF artifact and the masker of registered secrets: the host. */
  report: Pick<PipelineHost, 'logIssue' | 'publishCodeAnalysisLog' | 'mask'>;
  /** The build around the run; `intentVariable` is the pipeline variable `intent`, to tell it from inline text. */
  build?: BuildInfo & { intentVariable?: string };
}

export interface SynthesisResult {
  intent: Intent;
  manifest: Manifest;
  /** Absolute path of the manifest. */
  manifestPath: string;
  outputDirectory: string;
  /** The model's own summary, with every secret the scan found in it cut out. */
  modelSummary?: string;
  /** Every scan finding; the files were written with them (as warnings, or warnings only). */
  findings: Finding[];
  /** The SARIF log, when one was written. */
  sarifPath?: string;
}

/**
 * Run one synthesis. Either every planned file, the prompt record and the manifest are written, or
 * nothing is. Every finding of the scan becomes a task issue, and the SARIF log is published, before
 * the write.
 * @throws FindingsError when failOnFindings is true and the scan found errors.
 * @throws the other typed errors of core/errors.ts; the output directory is unchanged whenever it throws.
 */
export async function synthesize(settings: Settings, ports: SynthesisPorts): Promise<SynthesisResult> {
  const { log, signal } = ports;
  const intentText =
    settings.intent.kind === 'file'
      ? await ports.files.readText(settings.intent.path, INPUTS.intentFile)
      : settings.intent.text;
  const intent = parseIntent(intentText);
  log.info(
    intent.kind === 'card'
      ? `Intent: service card '${intent.card.name}' (${intent.card.language}/${intent.card.framework}).`
      : 'Intent: free text.',
  );
  const instructions = settings.instructionsFile
    ? await ports.files.readText(settings.instructionsFile, INPUTS.instructionsFile)
    : undefined;
  // The policy is checked before the model is asked, so a broken file costs no tokens.
  const policy = settings.policyFile ? await readPolicy(ports.files, settings.policyFile) : undefined;
  const request = buildPrompt(intent, settings, settings.model, instructions);

  const model = await ports.connectModel(intent, signal);
  throwIfAborted(signal);
  log.info(`Asking ${describeModel(model)} for the files...`);
  const startedAt = ports.clock.now();
  const reply = maskReplyFields(await model.complete(request, signal), (text) => ports.report.mask(text));
  const finishedAt = ports.clock.now();
  // The id and finish reason are the service's text: printed only through the untrusted channel.
  log.untrusted(
    `Reply ${reply.id}: ${reply.usage.promptTokens} prompt + ${reply.usage.completionTokens} completion tokens, finish reason '${reply.finishReason}'.`,
    'info',
  );
  const parsed = parseReply(reply);
  if (parsed.format === 'fences')
    log.warn('The reply was not structured JSON; files were read from path-tagged fenced code blocks.');

  const promptFile = promptFilePath(reply);
  const checked = checkPaths(parsed.files, settings);
  const files = settings.provenanceHeaders
    ? addProvenanceHeaders(checked, {
        version: ports.version,
        intentSha256: sha256(intent.text),
        promptFile,
        model: reply.model,
        ...(model.info.deployment ? { deployment: model.info.deployment } : {}),
        ...(ports.build?.buildId ? { buildId: ports.build.buildId } : {}),
      })
    : checked;

  const { findings, sarifPath, modelSummary } = await scanStage(
    files,
    settings,
    policy?.rules ?? [],
    { ...ports, outputDirectory: ports.tree.root },
    parsed.summary,
  );

  const [manifestState, promptState, ...states] = await ports.tree.inspect([
    MANIFEST_PATH,
    promptFile,
    ...files,
  ]);
  checkManifestLocation(manifestState, ports.tree.root);
  checkManifestLocation(promptState, ports.tree.root, promptFile, 'the record of the prompt');
  const plan = planWrite(files, states, settings.conflictPolicy);
  const { record, call } = recordCall({
    request,
    reply,
    model: model.info,
    promptFile,
    startedAt,
    finishedAt,
    limits: settings,
    mask: (text) => ports.report.mask(text),
  });
  const manifest = buildManifest({
    version: ports.version,
    now: ports.clock.now(),
    intent,
    intentSource: intentSource(settings, ports.build?.intentVariable),
    ...(instructions !== undefined && settings.instructionsFile
      ? { instructions: { file: settings.instructionsFile, text: instructions } }
      : {}),
    ...(policy ? { policy: { file: policy.file, text: policy.text, rules: policy.rules.length } } : {}),
    ...(ports.build ? { build: withoutIntentVariable(ports.build) } : {}),
    promptText: promptText(request),
    model: model.info,
    reply,
    calls: [call],
    findings,
    provenanceHeaders: settings.provenanceHeaders,
    ...(settings.prices ? { estimatedCost: estimateCost(reply.usage, settings.prices) } : {}),
    conflictPolicy: settings.conflictPolicy,
    written: [...plan.write, ...files.filter((f) => plan.unchanged.includes(f.path))],
    overwritten: plan.overwritten,
    unchanged: plan.unchanged,
    skipped: plan.skipped,
  });

  throwIfAborted(signal);
  await ports.tree.commit(
    [...plan.write, record, { path: MANIFEST_PATH, content: manifestContent(manifest) }],
    signal,
  );
  for (const f of manifest.files) log.untrusted(`  ${f.action}: ${f.path} (${f.bytes} bytes)`, 'info');
  for (const p of plan.skipped) log.untrusted(`  skipped (exists): ${p}`, 'info');
  return {
    intent,
    manifest,
    manifestPath: joinPath(ports.tree.root, MANIFEST_PATH),
    outputDirectory: ports.tree.root,
    ...(modelSummary ? { modelSummary } : {}),
    findings,
    ...(sarifPath ? { sarifPath } : {}),
  };
}

async function readPolicy(
  files: FileReader,
  file: string,
): Promise<{ file: string; text: string; rules: ScanRule[] }> {
  const text = await files.readText(file, INPUTS.policyFile);
  return { file, text, rules: parsePolicyFile(text, file) };
}

function intentSource(settings: Settings, intentVariable: string | undefined): IntentSource {
  if (settings.intent.kind === 'file') return { kind: 'file', file: settings.intent.path };
  if (intentVariable !== undefined && intentVariable.trim() === settings.intent.text.trim())
    return { kind: 'variable', variable: 'intent' };
  return { kind: 'inline' };
}

function withoutIntentVariable(build: BuildInfo & { intentVariable?: string }): BuildInfo {
  return Object.fromEntries(Object.entries(build).filter(([key]) => key !== 'intentVariable'));
}

function describeModel(model: ModelClient): string {
  const { provider, deployment, endpointHost } = model.info;
  return [provider, deployment && `'${deployment}'`, endpointHost && `at ${endpointHost}`]
    .filter(Boolean)
    .join(' ');
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new CancelledError();
}

function joinPath(root: string, relative: string): string {
  const sep = root.includes('\\') && !root.includes('/') ? '\\' : '/';
  return root.replace(/[\\/]+$/, '') + sep + relative.split('/').join(sep);
}
