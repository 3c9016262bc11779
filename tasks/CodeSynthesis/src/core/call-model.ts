/**
 * The one way any stage calls the model: each call timed, logged and given its prompt record's path.
 */
import type { CallPurpose, ModelCall } from './draft';
import { CancelledError } from './errors';
import type { Clock, Logger, ModelClient, ModelRequest, PipelineHost, ReplyObserver } from './ports';
import { maskReplyFields, promptFilePath } from './provenance';
import { parseReply, type ParsedReply } from './reply';

/**
 * One model call, timed, logged and given its prompt record's path (unique among `earlier` calls').
 * @param observer sees the reply as it streams in.
 * @throws what the model client throws (ModelError, CredentialError, CancelledError).
 */
export async function callModel(
  model: ModelClient,
  request: ModelRequest,
  purpose: CallPurpose,
  earlier: readonly ModelCall[],
  ports: { log: Logger; clock: Clock; signal: AbortSignal; report: Pick<PipelineHost, 'mask'> },
  observer?: ReplyObserver,
): Promise<ModelCall> {
  const startedAt = ports.clock.now();
  // The service's own strings name the prompt file and reach the manifest: masked before any use.
  const reply = maskReplyFields(await model.complete(request, ports.signal, observer), (text) =>
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

/** The model as the log names it: provider, deployment and host. */
export function describeModel(model: ModelClient): string {
  const { provider, deployment, endpointHost } = model.info;
  return [provider, deployment && `'${deployment}'`, endpointHost && `at ${endpointHost}`]
    .filter(Boolean)
    .join(' ');
}

export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new CancelledError();
}
