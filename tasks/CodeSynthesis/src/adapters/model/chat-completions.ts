/**
 * What the Azure OpenAI and OpenAI-compatible clients share: the request body, the call with its time
 * budget and retry logging, the reply mapping and the classification of the SDK's errors (whose
 * messages live in model-errors.ts).
 *
 * Retry policy (the `openai` SDK's own, see node_modules/openai/src/client.ts `shouldRetry`/`retryRequest`):
 * connection errors and 408, 409, 429 and 5xx answers are retried up to `maxRetries` times, waiting what
 * the service asks for (`retry-after-ms`, then `retry-after`) or else 0.5 s, 1 s, 2 s ... capped at 8 s
 * (less up to 25% jitter). On top of it, everything (all attempts and waits) is bounded by one time budget,
 * `timeoutMs`: the call is aborted when it runs out, and a retry whose wait would not fit in the time left
 * is not attempted (we answer `x-should-retry: false` to the SDK) so the user hears at once that the
 * service is throttling.
 * The SDK's own sleep between attempts cannot be cancelled, so for answers it will retry we take the same
 * wait ourselves, cancellably, and then tell it `retry-after-ms: 0`. A cancelled run then stops at once
 * and leaves no timer behind. (Connection errors still use the SDK's sleep, at most 8 s.)
 */
import { setTimeout as delay } from 'node:timers/promises';
import type OpenAI from 'openai';
import type {
  ChatCompletion,
  ChatCompletionCreateParamsNonStreaming,
} from 'openai/resources/chat/completions';
import { INPUTS } from '../../core/contract';
import { ModelError, SynthesisError } from '../../core/errors';
import type { Logger, ModelReply, ModelRequest } from '../../core/ports';
import {
  contentFilterError,
  describeFailure,
  filteredCategories,
  formatWait,
  isPermanentConnectionFailure,
  isResponseFormatUnsupported,
  type CallContext,
  type Failure,
  type StoppedRetry,
} from './model-errors';
import { isRecord } from '../net/error-chain';
import { untilAborted } from '../net/abort';

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
  /** Time budget for the whole call, retries and waits included. */
  timeoutMs: number;
  /** How many times the SDK may retry a connection error, 408, 409, 429 or 5xx. */
  maxRetries: number;
  logger: Logger;
  /** Where the API key came from, named in the 401 hint, e.g. "the Key Vault secret 'openai-api-key' in vault 'kv-ci'". */
  keySource?: string;
}

/** One provider's way of making the SDK client. */
export interface ChatSpec {
  ctx: CallContext;
  logger: Logger;
  fetch: Fetch;
  /** Redacted from debug output if a server echoes it. */
  secret?: string;
  /** Create the SDK client sending through `fetch`. */
  createClient(sdk: typeof import('openai'), fetch: Fetch): OpenAI;
  /** Ask once more without response_format when the endpoint says it does not support it. */
  retryWithoutSchema: boolean;
}

/** What one SDK call saw, filled in by the watching fetch. */
interface CallState {
  attempts: number;
  /** Aborted when a connection failure cannot be cured by retrying, so the SDK stops at once. */
  stop: AbortController;
  permanent?: { cause: unknown };
  lastError?: { body: unknown; text?: string };
  stoppedRetry?: StoppedRetry;
  /** The service answered `x-should-retry: false` to an attempt the SDK would otherwise have retried. */
  retryRefused?: boolean;
  /** A 2xx answer whose body is not JSON: its text went to debug output, never into a message. */
  unreadable?: { status: number; contentType?: string };
  /** The 2xx answer's body, parsed once here (the SDK gets an empty body and does not parse it again). */
  answer?: { data: unknown };
}

const REQUEST_ID_HEADERS = ['apim-request-id', 'x-request-id', 'x-ms-request-id'];
const MAX_LOGGED_BODY = 4000;

/**
 * The chat.completions request body: system and user messages, structured output (json_schema, strict)
 * unless `structured` is false, and only the model settings the user set. Never `max_tokens`, which
 * reasoning models reject; `max_completion_tokens` works for all current models.
 */
export function chatParams(
  request: ModelRequest,
  model: string,
  structured: boolean,
): ChatCompletionCreateParamsNonStreaming {
  const { settings } = request;
  return {
    model,
    messages: [
      { role: 'system', content: request.system },
      { role: 'user', content: request.user },
    ],
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
  };
}

/**
 * Send one request for files and map the answer.
 * @throws ModelError for every service or connection failure (see model-errors.ts), CancelledError when
 *   `signal` aborts, or the typed error (e.g. CredentialError) the token provider threw.
 */
export async function completeChat(
  spec: ChatSpec,
  request: ModelRequest,
  signal: AbortSignal,
): Promise<ModelReply> {
  const { ctx, logger } = spec;
  const budget = AbortSignal.timeout(ctx.timeoutMs);
  const deadline = Date.now() + ctx.timeoutMs;
  const callSignal = AbortSignal.any([signal, budget]);
  const sdk = await import('openai');

  const send = async (
    structured: boolean,
  ): Promise<
    { data: ChatCompletion; params: ChatCompletionCreateParamsNonStreaming } | { failure: Failure }
  > => {
    const state: CallState = { attempts: 0, stop: new AbortController() };
    const sendSignal = AbortSignal.any([callSignal, state.stop.signal]);
    try {
      const client = spec.createClient(sdk, watchResponses(spec, state, deadline));
      const params = chatParams(request, ctx.deployment, structured);
      // asResponse(): the SDK still sends, retries and throws its typed errors, but leaves the body to
      // us. watchResponses has read and parsed it once; letting the SDK read a rebuilt copy too held
      // the reply in memory four times over (text, Response bytes, the SDK's text, its parse).
      await untilAborted(
        client.chat.completions.create(params, { signal: sendSignal }).asResponse(),
        sendSignal,
      );
      if (state.unreadable) return { failure: { kind: 'unreadable', ...state.unreadable } };
      return { data: state.answer?.data as ChatCompletion, params };
    } catch (err) {
      return { failure: classify(err, sdk, state, signal, budget) };
    }
  };

  let result = await send(true);
  if ('failure' in result && spec.retryWithoutSchema && isResponseFormatUnsupported(result.failure)) {
    logger.info(
      `The endpoint ${ctx.endpointHost} does not support response_format json_schema; asking again without it (the reply may then be JSON or fenced code blocks).`,
    );
    result = await send(false);
  }
  if ('failure' in result) throw describeFailure(result.failure, ctx);
  // The body as sent goes to the prompt store (.synthesis/prompts/), for provenance.
  return {
    ...toModelReply(result.data, ctx, logger),
    request: result.params as unknown as Record<string, unknown>,
  };
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
 * A fetch around the injected one that sees every attempt the SDK makes: it logs request ids and error
 * bodies at debug level, logs each retry wait, and stops retries that would outlast the time budget.
 */
function watchResponses(spec: ChatSpec, state: CallState, deadline: number): Fetch {
  const { ctx, logger } = spec;
  const service = ctx.provider === 'azureOpenAI' ? 'Azure OpenAI' : `The endpoint ${ctx.endpointHost}`;
  return async (input, init) => {
    state.attempts += 1;
    const attempt = state.attempts;
    const retryNote = `retry ${attempt} of ${ctx.maxRetries}`;
    const mayRetry = attempt <= ctx.maxRetries;
    let response: Response;
    try {
      response = await spec.fetch(input, init);
    } catch (err) {
      if (isPermanentConnectionFailure(err)) {
        // The SDK retries every connection error; aborting its signal is the only way to stop it.
        state.permanent = { cause: err };
        state.stop.abort();
        throw err;
      }
      if (mayRetry && !init?.signal?.aborted)
        logger.info(`Could not connect to ${ctx.endpointHost}; retrying (${retryNote}).`);
      throw err;
    }
    const requestId = REQUEST_ID_HEADERS.map((h) => response.headers.get(h)).find((v) => v);
    const idNote = requestId ? ` (request id ${requestId})` : '';
    const text = await readText(response);
    const body = parseJson(text);
    const headers = new Headers(response.headers);
    headers.delete('content-length');
    headers.delete('content-encoding');
    const rebuilt = (): Response =>
      new Response(text, { status: response.status, statusText: response.statusText, headers });
    if (response.ok) {
      if (body !== undefined) {
        logger.untrusted(`${service} answered ${response.status}${idNote}.`, 'debug');
        // What the SDK's defaultParseResponse would return: the JSON for a JSON content-type, else the text.
        state.answer = { data: isJsonMediaType(response.headers.get('content-type')) ? body : text };
        return new Response(null, { status: response.status, statusText: response.statusText, headers });
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
    if (mayRetry && response.headers.get('x-should-retry') === 'false') state.retryRefused = true;
    if (mayRetry && sdkWillRetry(response.status, headers)) {
      const wait = retryWait(headers, attempt);
      const leftMs = deadline - Date.now();
      if (wait >= leftMs) {
        headers.set('x-should-retry', 'false');
        state.stoppedRetry = { status: response.status, waitMs: wait, leftMs };
      } else {
        logger.info(
          `${service} answered ${response.status}; retrying in ${formatWait(wait)} (${retryNote}).`,
        );
        await delay(wait, undefined, init?.signal ? { signal: init.signal } : {});
        headers.delete('retry-after');
        headers.set('retry-after-ms', '0');
      }
    }
    return rebuilt();
  };
}

/** The SDK's shouldRetry: the server's x-should-retry wins, else 408, 409, 429 and 5xx. */
function sdkWillRetry(status: number, headers: Headers): boolean {
  const said = headers.get('x-should-retry');
  if (said === 'true') return true;
  if (said === 'false') return false;
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** The wait the SDK would take before retry `attempt` (its retryRequest): the headers', else its jittered backoff. */
function retryWait(headers: Headers, attempt: number): number {
  const ms = parseFloat(headers.get('retry-after-ms') ?? '');
  if (!Number.isNaN(ms) && ms) return ms;
  const after = headers.get('retry-after');
  if (after) {
    const seconds = parseFloat(after);
    const wait = Number.isNaN(seconds) ? Date.parse(after) - Date.now() : seconds * 1000;
    return Number.isFinite(wait) ? Math.max(0, wait) : 0;
  }
  return Math.min(0.5 * 2 ** (attempt - 1), 8) * 1000 * (1 - Math.random() * 0.25);
}

function classify(
  err: unknown,
  sdk: typeof import('openai'),
  state: CallState,
  run: AbortSignal,
  budget: AbortSignal,
): Failure {
  if (run.aborted) return { kind: 'cancelled' };
  if (state.permanent) return { kind: 'connection', cause: state.permanent.cause };
  if (budget.aborted) return { kind: 'timeout' };
  const typed = findTyped(err);
  if (typed) return { kind: 'typed', error: typed };
  if (err instanceof sdk.APIConnectionTimeoutError) return { kind: 'timeout' };
  if (err instanceof sdk.APIConnectionError) return { kind: 'connection', cause: err.cause ?? err };
  if (err instanceof sdk.APIError && typeof err.status === 'number') {
    const seen = state.lastError ?? { body: { error: err.error } };
    return {
      kind: 'http',
      status: err.status,
      ...seen,
      attempts: state.attempts,
      ...(state.retryRefused ? { retryRefused: true } : {}),
      ...(state.stoppedRetry ? { stoppedRetry: state.stoppedRetry } : {}),
    };
  }
  if (state.unreadable) return { kind: 'unreadable', ...state.unreadable };
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

/** Settle with `promise`, or reject as soon as `signal` aborts (the SDK's retry sleeps do not watch the signal). */

/**
 * Options both SDK clients get: our fetch, the time budget and retry count, logs to debug output, and
 * no organization/project headers (so OPENAI_ORG_ID / OPENAI_PROJECT_ID in the agent's environment
 * are not sent).
 */
export function sdkClientOptions(options: ChatClientOptions, fetch: Fetch) {
  return {
    organization: null,
    project: null,
    fetch,
    timeout: options.timeoutMs,
    maxRetries: options.maxRetries,
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

function redact(text: string, secret: string | undefined): string {
  return secret ? text.split(secret).join('***') : text;
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

/** The SDK's test for a JSON answer (openai/internal/parse.ts): application/json or a +json type. */
function isJsonMediaType(contentType: string | null): boolean {
  const mediaType = contentType?.split(';')[0]?.trim();
  return !!mediaType && (mediaType.includes('application/json') || mediaType.endsWith('+json'));
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
