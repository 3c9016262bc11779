/**
 * What the Azure OpenAI and OpenAI-compatible clients share: the request body, the call with its retries
 * inside the run's time budget, the reply mapping and the classification of the SDK's errors (whose
 * messages live in model-errors.ts).
 *
 * Retries are ours (retry-policy.ts), not the SDK's: it is given `maxRetries: 0`, and each attempt is one
 * SDK call. Between attempts we wait what the service asks for, or back off, logging each wait; the wait
 * watches the run's signal, so a cancel stops it at once, and a wait that would not fit in what is left
 * of the time budget (timeoutSeconds, shared by every call of the run) is not taken: the user hears at
 * once that the service is throttling.
 *
 * Replies are streamed (server-sent events, with `stream_options.include_usage` for the token counts),
 * so that progress can be shown while they come in. A reply is used only once its stream is complete (a
 * choice has its finish_reason): a stream that ends or breaks before that is a failed attempt, retried
 * like a dropped connection, and never parsed in part.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type OpenAI from 'openai';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParamsStreaming,
} from 'openai/resources/chat/completions';
import { INPUTS } from '../../core/contract';
import { ModelError, SynthesisError } from '../../core/errors';
import type { Logger, ModelReply, ModelRequest, ReplyObserver } from '../../core/ports';
import { maskText } from '../../core/secret-forms';
import {
  contentFilterError,
  describeFailure,
  filteredCategories,
  formatWait,
  isResponseFormatUnsupported,
  type CallContext,
  type Failure,
} from './model-errors';
import { untilAborted } from '../net/abort';
import { isPermanentNetworkFailure, isRecord } from '../net/network-errors';
import { decideRetry, type AttemptFailure } from '../net/retry-policy';
import type { TimeBudget } from '../net/time-budget';

/** The fetch the SDK calls; compose passes undici's fetch bound to the agent's proxy and CA. */
export type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Options both clients take. */
export interface ChatClientOptions {
  /** The resource or API base URL, e.g. https://my-resource.openai.azure.com or https://api.example.com/v1. */
  endpoint: string;
  /** Azure: the deployment name. OpenAI-compatible: the model name. */
  deployment: string;
  apiKey?: string;
  /** Injected fetch (proxy, CA); defaults to the global fetch. */
  fetch?: Fetch;
  /** The run's time budget (timeoutSeconds), shared with the sign-in and every other call. */
  budget: TimeBudget;
  /** How many times a call may be retried after a connection error, 408, 409, 429 or 5xx (retry-policy.ts). */
  maxRetries: number;
  logger: Logger;
  /** Where the API key came from, named in the 401 hint, e.g. "the Key Vault secret 'openai-api-key' in vault 'kv-ci'". */
  keySource?: string;
}

/** One provider's way of making the SDK client. */
export interface ChatSpec {
  ctx: CallContext;
  budget: TimeBudget;
  logger: Logger;
  fetch: Fetch;
  /** Redacted from debug output if a server echoes it. */
  secret?: string;
  /** Create the SDK client sending through `fetch`, giving up after `timeoutMs`. */
  createClient(sdk: typeof import('openai'), fetch: Fetch, timeoutMs: number): OpenAI;
  /** Ask once more without response_format when the endpoint says it does not support it. */
  retryWithoutSchema: boolean;
}

/** What one attempt (one SDK call) saw, filled in by the watching fetch. */
interface AttemptState {
  /** The last answer's headers, for the retry policy. */
  headers?: Headers;
  lastError?: { body: unknown; text?: string };
  /** A 2xx answer whose body is not JSON: its text went to debug output, never into a message. */
  unreadable?: { status: number; contentType?: string };
  /** A service that ignored `stream: true` answered with the whole completion as JSON: this body. */
  completion?: unknown;
}

/** A streamed reply that stopped before it was complete; classify() makes it a 'stream-cut' failure. */
class StreamCut extends Error {
  constructor(
    readonly received: number,
    options?: { cause?: unknown },
  ) {
    super('The stream stopped before the reply was complete.', options);
    this.name = 'StreamCut';
  }
}

const REQUEST_ID_HEADERS = ['apim-request-id', 'x-request-id', 'x-ms-request-id'];
const MAX_LOGGED_BODY = 4000;

/**
 * The chat.completions request body: the messages as given, structured output (json_schema, strict)
 * unless `structured` is false, and only the model settings the user set. Never `max_tokens`, which
 * reasoning models reject; `max_completion_tokens` works for all current models. Always streamed, with
 * the usage in the stream's last chunk (`stream_options.include_usage`).
 */
export function chatParams(
  request: ModelRequest,
  model: string,
  structured: boolean,
): ChatCompletionCreateParamsStreaming {
  const { settings } = request;
  return {
    model,
    messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
    ...(structured
      ? {
          response_format: {
            type: 'json_schema',
            json_schema: {
              name: request.responseSchema.name,
              schema: request.responseSchema.schema,
              strict: true,
            },
          },
        }
      : {}),
    ...(settings.maxOutputTokens !== undefined ? { max_completion_tokens: settings.maxOutputTokens } : {}),
    ...(settings.temperature !== undefined ? { temperature: settings.temperature } : {}),
    ...(settings.seed !== undefined ? { seed: settings.seed } : {}),
    stream: true,
    stream_options: { include_usage: true },
  };
}

/**
 * Send one request for files, retrying as retry-policy.ts says within the run's time budget, and map
 * the answer once its stream is complete.
 * @param observer sees the content as it streams in, and each restart after a broken stream.
 * @throws ModelError for every service or connection failure (see model-errors.ts), CancelledError when
 *   `signal` aborts, or the typed error (e.g. CredentialError) the token provider threw.
 */
export async function completeChat(
  spec: ChatSpec,
  request: ModelRequest,
  signal: AbortSignal,
  observer?: ReplyObserver,
): Promise<ModelReply> {
  return spec.budget.spend(async (budget) => {
    const ctx: CallContext = {
      ...spec.ctx,
      timeoutMs: spec.budget.totalMs,
      leftMs: spec.budget.remainingMs(),
    };
    const { logger } = spec;
    const callSignal = AbortSignal.any([signal, budget]);
    const sdk = await import('openai');
    const service = ctx.provider === 'azureOpenAI' ? 'Azure OpenAI' : `The endpoint ${ctx.endpointHost}`;
    let structured = true;
    let retries = 0;
    for (;;) {
      const state: AttemptState = {};
      const outcome = await attempt(spec, sdk, request, structured, state, callSignal, observer);
      if ('data' in outcome) {
        // The body as sent goes to the prompt store (.synthesis/prompts/), for provenance.
        return {
          ...toModelReply(outcome.data, ctx, logger),
          request: outcome.params as unknown as Record<string, unknown>,
        };
      }
      const failure = classify(outcome.error, sdk, state, signal, budget);
      if (structured && spec.retryWithoutSchema && isResponseFormatUnsupported(failure)) {
        logger.info(
          `The endpoint ${ctx.endpointHost} does not support response_format json_schema; asking again without it (the reply may then be JSON or fenced code blocks).`,
        );
        structured = false;
        continue;
      }
      const retryable = asAttemptFailure(failure, state);
      if (!retryable) throw describeFailure(failure, ctx);
      const decision = decideRetry(retryable, retries + 1, ctx.maxRetries, spec.budget.remainingMs());
      if (!decision.retry) {
        throw describeFailure(
          failure.kind === 'http'
            ? {
                ...failure,
                attempts: retries + 1,
                ...(decision.reason === 'refused' ? { retryRefused: true } : {}),
                ...(decision.reason === 'over-budget'
                  ? {
                      stoppedRetry: {
                        status: failure.status,
                        waitMs: decision.waitMs ?? 0,
                        leftMs: spec.budget.remainingMs(),
                      },
                    }
                  : {}),
              }
            : failure.kind === 'stream-cut'
              ? { ...failure, attempts: retries + 1 }
              : failure,
          ctx,
        );
      }
      retries += 1;
      const note = `retrying in ${formatWait(decision.waitMs)} (retry ${retries} of ${ctx.maxRetries})`;
      logger.info(
        failure.kind === 'http'
          ? `${service} answered ${failure.status}; ${note}.`
          : failure.kind === 'stream-cut'
            ? `The reply from ${ctx.endpointHost} stopped after ${failure.received} streamed chunk(s), before it was complete; ${note}.`
            : `Could not connect to ${ctx.endpointHost}; ${note}.`,
      );
      observer?.restarted();
      try {
        await delay(decision.waitMs, undefined, { signal: callSignal });
      } catch {
        throw describeFailure(signal.aborted ? { kind: 'cancelled' } : { kind: 'timeout' }, ctx);
      }
    }
  });
}

/** One SDK call (no retries of its own), through a fetch that watches the answer, read to its end. */
async function attempt(
  spec: ChatSpec,
  sdk: typeof import('openai'),
  request: ModelRequest,
  structured: boolean,
  state: AttemptState,
  signal: AbortSignal,
  observer: ReplyObserver | undefined,
): Promise<{ data: unknown; params: ChatCompletionCreateParamsStreaming } | { error: unknown }> {
  try {
    const client = spec.createClient(sdk, watchResponses(spec, state), spec.budget.remainingMs());
    const params = chatParams(request, spec.ctx.deployment, structured);
    const stream = await untilAborted(client.chat.completions.create(params, { signal }), signal);
    // A 2xx answer that was neither an event stream nor JSON (see watchResponses).
    if (state.unreadable) return { error: new Error('unreadable answer') };
    const data = await readStream(stream, state, signal, observer);
    return { data, params };
  } catch (error) {
    return { error };
  }
}

/**
 * Read a streamed chat completion to its end, into the shape of a whole one (toModelReply checks it).
 * The stream is complete once the choice carries its finish_reason (the usage chunk may follow); one
 * that ends or breaks before that throws StreamCut. The SDK ends an aborted stream quietly, so the
 * signal is checked after the loop.
 */
async function readStream(
  stream: AsyncIterable<ChatCompletionChunk>,
  state: AttemptState,
  signal: AbortSignal,
  observer: ReplyObserver | undefined,
): Promise<unknown> {
  const reply = {
    id: '',
    model: '',
    systemFingerprint: undefined as unknown,
    content: '',
    refusal: '',
    finishReason: undefined as string | undefined,
    filter: undefined as unknown,
    usage: undefined as unknown,
  };
  let received = 0;
  try {
    for await (const chunk of stream as AsyncIterable<unknown>) {
      if (!isRecord(chunk)) continue;
      if (typeof chunk['id'] === 'string' && chunk['id']) reply.id = chunk['id'];
      if (typeof chunk['model'] === 'string' && chunk['model']) reply.model = chunk['model'];
      if (chunk['system_fingerprint'] !== undefined) reply.systemFingerprint = chunk['system_fingerprint'];
      if (isRecord(chunk['usage'])) reply.usage = chunk['usage'];
      const choices = Array.isArray(chunk['choices']) ? (chunk['choices'] as unknown[]) : [];
      const choice = choices.find((c) => isRecord(c) && (c['index'] ?? 0) === 0);
      if (!isRecord(choice)) continue;
      const delta = isRecord(choice['delta']) ? choice['delta'] : {};
      if (typeof delta['content'] === 'string' && delta['content']) {
        reply.content += delta['content'];
        received += 1;
        observer?.received(delta['content']);
      }
      if (typeof delta['refusal'] === 'string') reply.refusal += delta['refusal'];
      // Azure adds content_filter_results to the choice of each chunk; the last one stands.
      if (choice['content_filter_results'] !== undefined) reply.filter = choice['content_filter_results'];
      if (typeof choice['finish_reason'] === 'string' && choice['finish_reason'])
        reply.finishReason = choice['finish_reason'];
    }
  } catch (err) {
    if (signal.aborted) throw err;
    throw new StreamCut(received, { cause: err });
  }
  if (signal.aborted) throw new Error('The stream was aborted.');
  if (reply.finishReason === undefined) {
    if (state.completion !== undefined && received === 0) return state.completion;
    throw new StreamCut(received);
  }
  return {
    id: reply.id,
    object: 'chat.completion',
    model: reply.model,
    system_fingerprint: reply.systemFingerprint,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: reply.content || null, refusal: reply.refusal || null },
        finish_reason: reply.finishReason,
        ...(reply.filter !== undefined ? { content_filter_results: reply.filter } : {}),
      },
    ],
    ...(reply.usage !== undefined ? { usage: reply.usage } : {}),
  };
}

/** What the retry policy sees of a failure; undefined for failures it has no say in. */
function asAttemptFailure(failure: Failure, state: AttemptState): AttemptFailure | undefined {
  if (failure.kind === 'http')
    return { kind: 'http', status: failure.status, ...(state.headers ? { headers: state.headers } : {}) };
  if (failure.kind === 'connection')
    return { kind: 'connection', permanent: isPermanentNetworkFailure(failure.cause) };
  // A broken stream is a dropped connection to the policy: worth another attempt.
  if (failure.kind === 'stream-cut') return { kind: 'connection', permanent: false };
  return undefined;
}

/**
 * Map a chat completion to a ModelReply. The body came from the network: every field is checked.
 * @throws ModelError when the answer was filtered, refused, empty or not a chat completion.
 */
export function toModelReply(data: unknown, ctx: CallContext, logger: Logger): ModelReply {
  const completion = (isRecord(data) ? data : {}) as Partial<ChatCompletion>;
  const choice =
    Array.isArray(completion.choices) && isRecord(completion.choices[0]) ? completion.choices[0] : undefined;
  const at = `${ctx.provider === 'azureOpenAI' ? 'Azure OpenAI' : 'The OpenAI-compatible endpoint'} at ${ctx.endpointHost}`;
  if (!choice) {
    throw new ModelError(
      `${at} answered with something that is not a chat completion (no choices).`,
      `Check that '${INPUTS.endpoint}' is the API's base URL; the answer is in the debug output.`,
    );
  }
  const finishReason =
    typeof choice.finish_reason === 'string' && /^[a-z_]{1,40}$/.test(choice.finish_reason)
      ? choice.finish_reason
      : 'unknown';
  // Azure adds content_filter_results to each choice (@azure/openai's ContentFilterResultsForChoiceOutput).
  if (finishReason === 'content_filter')
    throw contentFilterError(
      ctx,
      'reply',
      filteredCategories((choice as Record<string, unknown>)['content_filter_results']),
    );
  const message = isRecord(choice.message) ? choice.message : undefined;
  const refusal = message?.refusal;
  if (typeof refusal === 'string' && refusal.trim()) {
    logger.untrusted(`The model refused: ${refusal}`, 'warn');
    throw new ModelError(
      'The model refused to generate the files (its explanation is in the log above).',
      'Nothing was written. Rephrase the intent so it asks only for source code.',
    );
  }
  const content = message?.content;
  if (typeof content !== 'string' || !content.trim()) {
    throw new ModelError(
      `${at} returned an empty answer (finish_reason '${finishReason}').`,
      finishReason === 'length'
        ? "Nothing was written. Raise 'maxOutputTokens' (reasoning models spend part of it before answering) or clear it."
        : 'Nothing was written. Run again; the full answer is in the debug output.',
    );
  }
  const usage = isRecord(completion.usage) ? completion.usage : undefined;
  return {
    // Recorded in the manifest and the log: only an id-shaped value is kept.
    id: typeof completion.id === 'string' && /^[\w.:-]{1,200}$/.test(completion.id) ? completion.id : '',
    model: typeof completion.model === 'string' ? completion.model : ctx.deployment,
    content,
    finishReason,
    usage: { promptTokens: count(usage?.prompt_tokens), completionTokens: count(usage?.completion_tokens) },
    ...(typeof completion.system_fingerprint === 'string' &&
    /^[\w.:-]{1,100}$/.test(completion.system_fingerprint)
      ? { systemFingerprint: completion.system_fingerprint }
      : {}),
  };
}

/**
 * A fetch around the injected one that sees the attempt's answer: it logs the request id and an error
 * body at debug level, keeps the headers for the retry policy, and keeps a non-JSON body out of the
 * SDK's error messages. An event stream passes through unread; a whole completion sent as JSON (a
 * service that does not stream) is kept for readStream, and the SDK gets an empty stream.
 */
function watchResponses(spec: ChatSpec, state: AttemptState): Fetch {
  const { ctx, logger } = spec;
  const service = ctx.provider === 'azureOpenAI' ? 'Azure OpenAI' : `The endpoint ${ctx.endpointHost}`;
  return async (input, init) => {
    const response = await spec.fetch(input, init);
    const requestId = REQUEST_ID_HEADERS.map((h) => response.headers.get(h)).find((v) => v);
    const idNote = requestId ? ` (request id ${requestId})` : '';
    const mediaType = response.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase();
    if (response.ok && mediaType === 'text/event-stream') {
      logger.untrusted(`${service} answered ${response.status}${idNote}, streaming.`, 'debug');
      state.headers = new Headers(response.headers);
      return response;
    }
    const text = await readText(response);
    const body = parseJson(text);
    const headers = new Headers(response.headers);
    headers.delete('content-length');
    headers.delete('content-encoding');
    state.headers = headers;
    const rebuilt = (): Response =>
      new Response(text, { status: response.status, statusText: response.statusText, headers });
    if (response.ok) {
      if (body !== undefined) {
        logger.untrusted(`${service} answered ${response.status}${idNote}, not streaming.`, 'debug');
        state.completion = body;
        headers.set('content-type', 'text/event-stream');
        return new Response('', { status: response.status, statusText: response.statusText, headers });
      }
      // Not JSON: the SDK's parse error would quote the body's first characters in its message.
      logger.untrusted(
        `${service} answered ${response.status}${idNote} with a body that is not JSON: ${redact(text, spec.secret).slice(0, MAX_LOGGED_BODY)}`,
        'debug',
      );
      const contentType = response.headers.get('content-type')?.split(';')[0]?.trim();
      state.unreadable = { status: response.status, ...(contentType ? { contentType } : {}) };
      return new Response('{}', { status: response.status, statusText: response.statusText, headers });
    }
    logger.untrusted(
      `${service} answered ${response.status}${idNote}: ${redact(text, spec.secret).slice(0, MAX_LOGGED_BODY)}`,
      'debug',
    );
    state.lastError = body === undefined ? { body, text } : { body };
    return rebuilt();
  };
}

function classify(
  err: unknown,
  sdk: typeof import('openai'),
  state: AttemptState,
  run: AbortSignal,
  budget: AbortSignal,
): Failure {
  if (run.aborted) return { kind: 'cancelled' };
  if (budget.aborted) return { kind: 'timeout' };
  if (state.unreadable) return { kind: 'unreadable', ...state.unreadable };
  if (err instanceof StreamCut) return { kind: 'stream-cut', received: err.received, cause: err.cause };
  const typed = findTyped(err);
  if (typed) return { kind: 'typed', error: typed };
  if (err instanceof sdk.APIConnectionTimeoutError) return { kind: 'timeout' };
  if (err instanceof sdk.APIConnectionError) return { kind: 'connection', cause: err.cause ?? err };
  if (err instanceof sdk.APIError && typeof err.status === 'number') {
    return { kind: 'http', status: err.status, ...(state.lastError ?? { body: { error: err.error } }) };
  }
  return { kind: 'other', cause: err };
}

/** A typed error from our own code (the token provider) anywhere in the cause chain: pass it through. */
function findTyped(err: unknown): SynthesisError | undefined {
  let current = err;
  for (let i = 0; i < 8 && current instanceof Error; i++) {
    if (current instanceof SynthesisError) return current;
    current = current.cause;
  }
  return undefined;
}

/**
 * Options both SDK clients get: our fetch, no retries of its own (ours are in completeChat), the time
 * left as its timeout, logs to debug output, and no organization/project headers (so OPENAI_ORG_ID /
 * OPENAI_PROJECT_ID in the agent's environment are not sent).
 */
export function sdkClientOptions(options: ChatClientOptions, fetch: Fetch, timeoutMs: number) {
  return {
    organization: null,
    project: null,
    fetch,
    timeout: Math.max(1, Math.ceil(timeoutMs)),
    maxRetries: 0,
    logger: sdkLogger(options.logger),
    logLevel: 'warn' as const,
  };
}

/** Routes the SDK's own log lines (off below warn) to debug output; they may quote remote text. */
export function sdkLogger(logger: Logger): { error: LogFn; warn: LogFn; info: LogFn; debug: LogFn } {
  const log: LogFn = (message) => logger.untrusted(`openai: ${message}`, 'debug');
  return { error: log, warn: log, info: log, debug: log };
}
type LogFn = (message: string, ...rest: unknown[]) => void;

/** The host name of an endpoint URL, for messages and the manifest. */
export function hostOf(endpoint: string): string {
  try {
    return new URL(endpoint).host;
  } catch {
    return endpoint;
  }
}

/** The body with the key masked, also where the server echoed it JSON-escaped. */
function redact(text: string, secret: string | undefined): string {
  return secret ? maskText(text, [secret]) : text;
}

/** The most a declared content-length reserves before any byte has arrived. */
const MAX_RESERVED_BYTES = 64 * 1024 * 1024;

/**
 * The body as text. Response.text() gathers every chunk and then copies them into one buffer before
 * decoding, so a 20 MB reply briefly took three times its size; here the chunks are copied as they arrive
 * into one buffer sized by content-length (at most MAX_RESERVED_BYTES up front, and grown when the header
 * is missing or smaller, as with a compressed answer), and decoded once. Decoding is the same (UTF-8, a
 * leading BOM dropped, invalid bytes replaced).
 */
async function readText(response: Response): Promise<string> {
  if (!response.body) return '';
  const declared = Number(response.headers.get('content-length'));
  let bytes = Buffer.allocUnsafe(
    Number.isSafeInteger(declared) && declared > 0 ? Math.min(declared, MAX_RESERVED_BYTES) : 64 * 1024,
  );
  let used = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (used + value.byteLength > bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(bytes.length * 2, used + value.byteLength));
      bytes.copy(grown, 0, 0, used);
      bytes = grown;
    }
    bytes.set(value, used);
    used += value.byteLength;
  }
  return new TextDecoder().decode(bytes.subarray(0, used));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function count(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0;
}
