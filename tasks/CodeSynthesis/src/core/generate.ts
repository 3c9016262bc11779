/**
 * The generate stage: connect to the model (sign in, read the key) once the intent is known to be
 * usable, ask for the files, parse the reply. Also the one way any stage calls the model (callModel),
 * so that every call is timed and recorded for the manifest.
 */
import type { Generated, ModelCall, Prepared } from './draft';
import { CancelledError } from './errors';
import type { Intent } from './intent';
import type { Clock, Logger, ModelClient, ModelRequest, PipelineHost } from './ports';
import { maskReplyFields, promptFilePath } from './provenance';
import { parseReply, type ParsedReply } from './reply';

export interface GeneratePorts {
  log: Logger;
  clock: Clock;
  /**
   * Connects to the model (signs in, reads credentials) only once the intent is known to be usable.
   * `signal` is the run's: cancellation stops the sign-in too.
   */
  connectModel(intent: Intent, signal: AbortSignal): Promise<ModelClient>;
  signal: AbortSignal;
  /** Masks registered secrets in what the service sent back (reply id, model, fingerprint). */
  report: Pick<PipelineHost, 'mask'>;
}

/**
 * Connect, ask for the files and parse the reply.
 * @throws ModelError, CredentialError, ReplyError, CancelledError.
 */
export async function generate<T extends Prepared>(draft: T, ports: GeneratePorts): Promise<T & Generated> {
  const model = await ports.connectModel(draft.intent, ports.signal);
  throwIfAborted(ports.signal);
  ports.log.info(`Asking ${describeModel(model)} for the files...`);
  const call = await callModel(model, draft.request, 'generate', [], ports);
  const parsed = readReply(call, ports.log);
  return {
    ...draft,
    model,
    calls: [call],
    proposed: parsed.files.map((f) => ({ path: f.path, content: f.content, call: 0 })),
    ...(parsed.summary ? { modelSummary: parsed.summary } : {}),
  };
}

/**
 * One model call, timed, logged and given its prompt record's path (unique among `earlier` calls').
 * @throws what the model client throws (ModelError, CredentialError, CancelledError).
 */
export async function callModel(
  model: ModelClient,
  request: ModelRequest,
  purpose: ModelCall['purpose'],
  earlier: readonly ModelCall[],
  ports: Pick<GeneratePorts, 'log' | 'clock' | 'signal' | 'report'>,
): Promise<ModelCall> {
  const startedAt = ports.clock.now();
  // The service's own strings name the prompt file and reach the manifest: masked before any use.
  const reply = maskReplyFields(await model.complete(request, ports.signal), (text) =>
    ports.report.mask(text),
  );
  const finishedAt = ports.clock.now();
  // The id and finish reason are the service's text: printed only through the untrusted channel.
  ports.log.untrusted(
    `Reply ${reply.id}: ${reply.usage.promptTokens} prompt + ${reply.usage.completionTokens} completion tokens, finish reason '${reply.finishReason}'.`,
    'info',
  );
  const promptFile = promptFilePath(
    reply,
    earlier.map((c) => c.promptFile),
  );
  return { purpose, request, reply, startedAt, finishedAt, promptFile };
}

/** The call's reply as files; a reply in fenced blocks is accepted with a warning. @throws ReplyError. */
export function readReply(call: ModelCall, log: Logger): ParsedReply {
  const parsed = parseReply(call.reply);
  if (parsed.format === 'fences')
    log.warn('The reply was not structured JSON; files were read from path-tagged fenced code blocks.');
  return parsed;
}

function describeModel(model: ModelClient): string {
  const { provider, deployment, endpointHost } = model.info;
  return [provider, deployment && `'${deployment}'`, endpointHost && `at ${endpointHost}`]
    .filter(Boolean)
    .join(' ');
}

export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new CancelledError();
}
