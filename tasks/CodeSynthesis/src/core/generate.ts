/**
 * The generate stage: connect to the model (sign in, read the key) once the intent is known to be
 * usable, then ask for the files in one reply or, planned (generate-planned.ts), an outline and then the
 * files in parallel calls (strategy.ts chooses). callModel (call-model.ts, re-exported here) is the one
 * way any stage calls the model, so that every call is timed and recorded for the manifest.
 */
import { callModel, describeModel, readReply, throwIfAborted } from './call-model';
import type { Generated, Prepared } from './draft';
import { generatePlanned } from './generate-planned';
import type { Intent } from './intent';
import type { Clock, Logger, ModelClient, PipelineHost } from './ports';
import { GenerationProgress, type ProgressPorts } from './progress';
import type { Settings } from './settings';
import { chooseStrategy } from './strategy';

export { callModel, readReply, throwIfAborted } from './call-model';

export interface GeneratePorts extends Omit<ProgressPorts, 'log'> {
  log: Logger;
  clock: Clock;
  /**
   * Connects to the model (signs in, reads credentials) only once the intent is known to be usable.
   * `signal` is the run's: cancellation stops the sign-in too.
   */
  connectModel(intent: Intent, signal: AbortSignal): Promise<ModelClient>;
  signal: AbortSignal;
  /** Masks registered secrets in what the service sent back (reply id, model, fingerprint). */
  report: Pick<PipelineHost, 'mask' | 'progress'>;
}

/** The settings the generate stage reads. */
export type GenerateSettings = Pick<Settings, 'generation' | 'deniedPaths' | 'maxFiles' | 'maxTotalBytes'>;

/**
 * Connect, ask for the files and parse the reply (or replies).
 * @throws ModelError, CredentialError, ReplyError, CancelledError; planned, also FileGenerationError
 *   naming the file that could not be generated, and PathError / LimitError for the outline's paths.
 */
export async function generate<T extends Prepared>(
  draft: T,
  settings: GenerateSettings,
  ports: GeneratePorts,
): Promise<T & Generated> {
  const model = await ports.connectModel(draft.intent, ports.signal);
  throwIfAborted(ports.signal);
  const choice = chooseStrategy(settings.generation.strategy, draft.intent, model.info.provider);
  if (choice.note) ports.log.info(choice.note);
  const progress = new GenerationProgress(ports);
  try {
    const generated =
      choice.strategy === 'planned'
        ? await generatePlanned(draft, model, [], settings, ports, progress)
        : await generateSingle(draft, model, choice.fallBackToPlanned, settings, ports, progress);
    progress.finish(generated.proposed.length);
    return generated;
  } finally {
    progress.stop();
  }
}

/** One request, one reply with every file; a reply cut at the token limit switches to planned when asked. */
async function generateSingle<T extends Prepared>(
  draft: T,
  model: ModelClient,
  fallBackToPlanned: boolean,
  settings: GenerateSettings,
  ports: GeneratePorts,
  progress: GenerationProgress,
): Promise<T & Generated> {
  ports.log.info(`Asking ${describeModel(model)} for the files...`);
  const call = await callModel(model, draft.request, 'generate', [], ports, progress.observe(true));
  if (fallBackToPlanned && call.reply.finishReason === 'length') {
    ports.log.info(
      `The reply was cut off at the output token limit (${call.reply.usage.completionTokens} tokens): the service does not fit in one reply, so it is generated with an outline, then file by file (generationStrategy 'auto').`,
    );
    const cut = { ...call, rejected: 'cut off at the output token limit' };
    return generatePlanned(draft, model, [cut], settings, ports, progress);
  }
  const parsed = readReply(call, ports.log);
  return {
    ...draft,
    model,
    calls: [call],
    proposed: parsed.files.map((f) => ({ path: f.path, content: f.content, call: 0 })),
    ...(parsed.summary ? { modelSummary: parsed.summary } : {}),
    generation: {
      requested: settings.generation.strategy,
      strategy: 'single',
      concurrency: settings.generation.concurrency,
      maxInFlight: {},
    },
  };
}
