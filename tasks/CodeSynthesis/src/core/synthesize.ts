/**
 * The use case, top to bottom: intent -> prompt -> model -> reply -> paths -> plan -> write -> manifest.
 */
import { INPUTS, MANIFEST_PATH } from './contract';
import { CancelledError } from './errors';
import { parseIntent, type Intent } from './intent';
import { buildManifest, checkManifestLocation, manifestContent, type Manifest } from './manifest';
import { checkPaths } from './paths';
import { planWrite } from './plan';
import { buildPrompt, promptText } from './prompt';
import { parseReply } from './reply';
import type { Clock, FileReader, Logger, ModelClient, TreeStore } from './ports';
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
}

export interface SynthesisResult {
  intent: Intent;
  manifest: Manifest;
  /** Absolute path of the manifest. */
  manifestPath: string;
  outputDirectory: string;
  modelSummary?: string;
}

/**
 * Run one synthesis. Either every planned file and the manifest are written, or nothing is.
 * @throws the typed errors of core/errors.ts; the output directory is unchanged whenever it throws.
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
  const request = buildPrompt(intent, settings, settings.model, instructions);

  const model = await ports.connectModel(intent, signal);
  throwIfAborted(signal);
  log.info(`Asking ${describeModel(model)} for the files...`);
  const reply = await model.complete(request, signal);
  // The id and finish reason are the service's text: printed only through the untrusted channel.
  log.untrusted(
    `Reply ${reply.id}: ${reply.usage.promptTokens} prompt + ${reply.usage.completionTokens} completion tokens, finish reason '${reply.finishReason}'.`,
    'info',
  );
  const parsed = parseReply(reply);
  if (parsed.format === 'fences')
    log.warn('The reply was not structured JSON; files were read from path-tagged fenced code blocks.');

  const files = checkPaths(parsed.files, settings);
  const [manifestState, ...states] = await ports.tree.inspect([MANIFEST_PATH, ...files]);
  checkManifestLocation(manifestState, ports.tree.root);
  const plan = planWrite(files, states, settings.conflictPolicy);
  const manifest = buildManifest({
    version: ports.version,
    now: ports.clock.now(),
    intent,
    intentSource: settings.intent.kind,
    promptText: promptText(request),
    model: model.info,
    reply,
    conflictPolicy: settings.conflictPolicy,
    written: [...plan.write, ...files.filter((f) => plan.unchanged.includes(f.path))],
    overwritten: plan.overwritten,
    unchanged: plan.unchanged,
    skipped: plan.skipped,
  });

  throwIfAborted(signal);
  await ports.tree.commit(
    [...plan.write, { path: MANIFEST_PATH, content: manifestContent(manifest) }],
    signal,
  );
  for (const f of manifest.files) log.untrusted(`  ${f.action}: ${f.path} (${f.bytes} bytes)`, 'info');
  for (const p of plan.skipped) log.untrusted(`  skipped (exists): ${p}`, 'info');
  return {
    intent,
    manifest,
    manifestPath: joinPath(ports.tree.root, MANIFEST_PATH),
    outputDirectory: ports.tree.root,
    ...(parsed.summary ? { modelSummary: parsed.summary } : {}),
  };
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
