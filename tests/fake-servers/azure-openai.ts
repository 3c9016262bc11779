/**
 * A fake Azure OpenAI (and OpenAI-compatible) chat completions service, as a Route for startFakeAzure().
 *
 * Azure:  POST /openai/deployments/{deployment}/chat/completions?api-version=... with `api-key` or
 *         `Authorization: Bearer <Entra token>`.
 * OpenAI: POST /v1/chat/completions with `Authorization: Bearer <key>`, the model in the body.
 *
 * It checks the credential, the api-version and the deployment as the real services do and answers with
 * their documented bodies; tests can queue scripted answers (429, content filter, ...) that are served,
 * in order, to requests that pass those checks, or answer from the request itself (`respond`).
 *
 * A request with `stream: true` gets a 200 completion as the services stream it: server-sent events of
 * `chat.completion.chunk`s (Azure first sends one with the prompt's filter results and no choices), the
 * content a few characters a chunk, the finish_reason, the usage when `stream_options.include_usage`
 * asks for it, then `data: [DONE]`; at a fixed rate of chunks per second when asked, and cut off (the
 * connection closed: no finish_reason, no [DONE]) after a given chunk when asked. Errors stay JSON.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Agent, ProxyAgent, fetch as undiciFetch } from 'undici';
import type { Logger, ModelRequest, ModelSettings } from '../../tasks/CodeSynthesis/src/core/ports';
import { REPLY_SCHEMA } from '../../tasks/CodeSynthesis/src/core/prompt';
import { sendJson, type Route } from '../support/fake-azure';

/** One scripted answer. `delayMs` holds the answer back (for time-budget tests). */
export interface FakeAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
  /** Sent as is instead of `body` as JSON (with content-type application/json unless `headers` says otherwise). */
  raw?: string;
  /** How a 200 completion is streamed to a request with `stream: true`. */
  stream?: StreamScript;
}

/** How to stream one completion. */
export interface StreamScript {
  /** Content chunks (about 4 characters, one "token" each) per second; default the fake's, or at once. */
  tokensPerSecond?: number;
  /** Close the connection after this many content chunks: no finish_reason, no [DONE]. */
  cutAfter?: number;
  /** Answer with the whole completion as JSON, as a service that ignores `stream` does. */
  notStreamed?: boolean;
}

/** A chat request as the fake saw it. */
export interface SeenChat {
  style: 'azure' | 'openai';
  deployment: string;
  apiVersion: string | null;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}

export interface FakeOpenAIOptions {
  /** Keys accepted in `api-key` (Azure) or as Bearer (OpenAI style). */
  apiKeys?: string[];
  /** Entra ID tokens accepted as Bearer on the Azure path. */
  bearerTokens?: readonly string[] | { includes(token: string): boolean };
  /** Azure deployments, or OpenAI model names. */
  deployments?: string[];
  apiVersions?: string[];
  /** The content of the default answer. */
  content?: string;
  /** false: the OpenAI-style path refuses response_format json_schema with 400 as older servers do. */
  jsonSchema?: boolean;
  /** Hosts to answer (default OPENAI_HOSTS, which includes 127.0.0.1: list this route after others sharing the server). */
  host?: RegExp;
  /** The rate every stream is sent at, in content chunks per second (default: at once). */
  tokensPerSecond?: number;
  /** Answers a request that passed the checks when the queue is empty; undefined: the default answer. */
  respond?: (chat: SeenChat) => FakeAnswer | undefined;
}

export interface FakeOpenAI {
  route: Route;
  chats: SeenChat[];
  /** Queue answers for the next requests that pass the credential, api-version and deployment checks. */
  enqueue(...answers: FakeAnswer[]): void;
  /** Chat requests being answered now, and the most at once so far. */
  readonly load: { inFlight: number; maxInFlight: number };
}

export const DEFAULT_CONTENT = JSON.stringify({
  files: [{ path: 'svc/app.py', content: 'print("hi")\n' }],
  summary: 'A tiny service.',
});

/** Hosts the fake answers to: Azure OpenAI in every cloud, and 127.0.0.1/localhost. */
export const OPENAI_HOSTS =
  /(^|\.)openai\.azure\.(com|us|cn)$|\.cognitiveservices\.azure\.com$|^127\.0\.0\.1$|^localhost$/;

export function fakeOpenAI(options: FakeOpenAIOptions = {}): FakeOpenAI {
  const apiKeys = options.apiKeys ?? ['test-key'];
  const tokens = options.bearerTokens ?? [];
  const deployments = options.deployments ?? ['gpt-4o'];
  const apiVersions = options.apiVersions ?? ['2024-10-21', '2025-04-01-preview'];
  const queue: FakeAnswer[] = [];
  const chats: SeenChat[] = [];
  const load = { inFlight: 0, maxInFlight: 0 };

  const answer = async (res: ServerResponse, a: FakeAnswer, chat?: SeenChat): Promise<void> => {
    if (a.delayMs) await new Promise((r) => setTimeout(r, a.delayMs));
    if (res.destroyed) return;
    const headers = { 'apim-request-id': 'req-' + chats.length, ...a.headers };
    if (chat?.body['stream'] === true && a.status === 200 && a.raw === undefined && !a.stream?.notStreamed)
      return streamCompletion(res, a, chat, headers, options.tokensPerSecond);
    if (a.raw === undefined) return sendJson(res, a.status, a.body, headers);
    res.writeHead(a.status, { 'content-type': 'application/json', ...headers });
    res.end(a.raw);
  };

  const route: Route = {
    host: options.host ?? OPENAI_HOSTS,
    async handle(req, res, raw) {
      const url = new URL(req.url ?? '/', 'https://fake');
      const azure = /^\/openai\/deployments\/([^/]+)\/chat\/completions$/.exec(url.pathname);
      const openai = /\/v1\/chat\/completions$/.test(url.pathname);
      if (req.method !== 'POST' || (!azure && !openai)) return answer(res, azureAnswers.resourceNotFound());
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(raw.toString()) as Record<string, unknown>;
      } catch {
        return answer(res, {
          status: 400,
          body: { error: { code: 'BadRequest', message: 'Invalid JSON body.' } },
        });
      }
      const deployment = azure ? decodeURIComponent(azure[1]!) : String(body['model']);
      const apiVersion = url.searchParams.get('api-version');
      chats.push({ style: azure ? 'azure' : 'openai', deployment, apiVersion, headers: req.headers, body });
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];

      if (azure) {
        const key = req.headers['api-key'];
        if (typeof key === 'string' ? !apiKeys.includes(key) : !bearer || !tokens.includes(bearer)) {
          return answer(res, bearer && !key ? azureAnswers.tokenRejected() : azureAnswers.unauthorized());
        }
        if (!apiVersion || !apiVersions.includes(apiVersion))
          return answer(res, azureAnswers.apiVersionNotSupported());
        if (!deployments.includes(deployment)) return answer(res, azureAnswers.deploymentNotFound());
      } else {
        if (!bearer || !apiKeys.includes(bearer))
          return answer(res, openAIAnswers.invalidApiKey(bearer ?? ''));
        if (!deployments.includes(deployment)) return answer(res, openAIAnswers.modelNotFound(deployment));
        if (options.jsonSchema === false && isRecord(body['response_format']))
          return answer(res, openAIAnswers.jsonSchemaUnsupported());
      }
      if ('max_tokens' in body) return answer(res, unsupportedParameter('max_tokens'));
      const chat = chats.at(-1)!;
      const next =
        queue.shift() ??
        options.respond?.(chat) ??
        completion(options.content ?? DEFAULT_CONTENT, { model: deployment });
      load.inFlight += 1;
      load.maxInFlight = Math.max(load.maxInFlight, load.inFlight);
      try {
        return await answer(res, next, chat);
      } finally {
        load.inFlight -= 1;
      }
    },
  };
  return { route, chats, enqueue: (...answers) => queue.push(...answers), load };
}

/** The shape completion() builds, as far as streaming reads it. */
interface CompletionBody {
  id: string;
  created: number;
  model: string;
  system_fingerprint?: string;
  prompt_filter_results?: unknown;
  choices: {
    message: { content: string | null; refusal: string | null };
    finish_reason: string;
    content_filter_results?: unknown;
  }[];
  usage: unknown;
}

/** A 200 completion as server-sent events of chunks (see the file's comment). */
async function streamCompletion(
  res: ServerResponse,
  a: FakeAnswer,
  chat: SeenChat,
  headers: Record<string, string>,
  defaultRate: number | undefined,
): Promise<void> {
  const body = a.body as CompletionBody;
  const choice = body.choices[0]!;
  const azure = chat.style === 'azure';
  const pieces = (choice.message.content ?? '').match(/[\s\S]{1,4}/g) ?? [];
  const rate = a.stream?.tokensPerSecond ?? defaultRate;
  const cutAfter = a.stream?.cutAfter;
  const base = {
    id: body.id,
    object: 'chat.completion.chunk',
    created: body.created,
    model: body.model,
    system_fingerprint: body.system_fingerprint,
  };
  const filter = azure ? { content_filter_results: {} } : {};
  const send = (data: unknown) => res.write(`data: ${JSON.stringify(data)}\n\n`);
  // What was written reaches the client, then the connection closes mid-body (no last chunk).
  const cut = (): void => void res.socket?.end();
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    ...headers,
  });
  if (azure)
    send({
      choices: [],
      created: 0,
      id: '',
      model: '',
      object: '',
      prompt_filter_results: body.prompt_filter_results,
    });
  send({
    ...base,
    choices: [
      {
        index: 0,
        delta: { role: 'assistant', content: '', refusal: null },
        finish_reason: null,
        logprobs: null,
        ...filter,
      },
    ],
    usage: null,
  });
  const start = Date.now();
  for (const [i, piece] of pieces.entries()) {
    if (cutAfter === i) return cut();
    if (rate) {
      const wait = start + (i * 1000) / rate - Date.now();
      if (wait > 4) await new Promise((r) => setTimeout(r, wait));
    }
    if (res.destroyed) return;
    send({
      ...base,
      choices: [{ index: 0, delta: { content: piece }, finish_reason: null, logprobs: null, ...filter }],
      usage: null,
    });
  }
  if (cutAfter !== undefined) return cut();
  if (choice.message.refusal)
    send({
      ...base,
      choices: [
        { index: 0, delta: { refusal: choice.message.refusal }, finish_reason: null, logprobs: null },
      ],
      usage: null,
    });
  send({
    ...base,
    choices: [
      {
        index: 0,
        delta: {},
        finish_reason: choice.finish_reason,
        logprobs: null,
        ...(azure ? { content_filter_results: choice.content_filter_results ?? {} } : {}),
      },
    ],
    usage: null,
  });
  const streamOptions = chat.body['stream_options'] as { include_usage?: boolean } | undefined;
  if (streamOptions?.include_usage) send({ ...base, choices: [], usage: body.usage });
  res.end('data: [DONE]\n\n');
}

/** A chat.completion as Azure returns it (with prompt_filter_results and choice content_filter_results). */
export function completion(
  content: string | null,
  opts: {
    model?: string;
    finishReason?: string;
    promptTokens?: number;
    completionTokens?: number;
    filter?: Record<string, unknown>;
    refusal?: string;
  } = {},
): FakeAnswer {
  const safe = {
    hate: { filtered: false, severity: 'safe' },
    self_harm: { filtered: false, severity: 'safe' },
    sexual: { filtered: false, severity: 'safe' },
    violence: { filtered: false, severity: 'safe' },
  };
  const promptTokens = opts.promptTokens ?? 321;
  const completionTokens = opts.completionTokens ?? 123;
  return {
    status: 200,
    body: {
      id: 'chatcmpl-fake123',
      object: 'chat.completion',
      created: 1_735_689_600,
      model: opts.model ?? 'gpt-4o-2024-08-06',
      system_fingerprint: 'fp_fake',
      prompt_filter_results: [
        {
          prompt_index: 0,
          content_filter_results: { ...safe, jailbreak: { filtered: false, detected: false } },
        },
      ],
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content, refusal: opts.refusal ?? null },
          finish_reason: opts.finishReason ?? 'stop',
          logprobs: null,
          content_filter_results: { ...safe, ...opts.filter },
        },
      ],
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
      },
    },
  };
}

/** Azure OpenAI's real error answers (bodies as the service sends them). */
export const azureAnswers = {
  unauthorized: (): FakeAnswer => ({
    status: 401,
    body: {
      error: {
        code: '401',
        message:
          'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
      },
    },
  }),
  tokenRejected: (): FakeAnswer => ({
    status: 401,
    body: {
      error: {
        code: 'PermissionDenied',
        message:
          'The principal `00000000-0000-0000-0000-000000000000` lacks the required data action `Microsoft.CognitiveServices/accounts/OpenAI/deployments/chat/completions/action` to perform `POST /openai/deployments/{deployment-id}/chat/completions` operation.',
      },
    },
  }),
  keyAuthDisabled: (): FakeAnswer => ({
    status: 403,
    body: {
      error: {
        code: 'AuthenticationTypeDisabled',
        message: 'Key based authentication is disabled for this resource.',
      },
    },
  }),
  firewall: (): FakeAnswer => ({
    status: 403,
    body: { error: { code: '403', message: 'Access denied due to Virtual Network/Firewall rules.' } },
  }),
  deploymentNotFound: (): FakeAnswer => ({
    status: 404,
    body: {
      error: {
        code: 'DeploymentNotFound',
        message:
          'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.',
      },
    },
  }),
  resourceNotFound: (): FakeAnswer => ({
    status: 404,
    body: { error: { code: '404', message: 'Resource not found' } },
  }),
  apiVersionNotSupported: (): FakeAnswer => ({
    status: 400,
    body: { error: { code: 'BadRequest', message: 'API version not supported' } },
  }),
  throttled: (retryAfterMs: number): FakeAnswer => ({
    status: 429,
    headers: {
      'retry-after': String(Math.ceil(retryAfterMs / 1000)),
      'retry-after-ms': String(retryAfterMs),
    },
    body: {
      error: {
        code: '429',
        message: `Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after ${Math.ceil(retryAfterMs / 1000)} seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.`,
      },
    },
  }),
  contentFilter: (result: Record<string, unknown>): FakeAnswer => ({
    status: 400,
    body: {
      error: {
        message:
          "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766",
        type: null,
        param: 'prompt',
        code: 'content_filter',
        status: 400,
        innererror: { code: 'ResponsibleAIPolicyViolation', content_filter_result: result },
      },
    },
  }),
  contextLengthExceeded: (limit: number, messages: number, completion: number): FakeAnswer => ({
    status: 400,
    body: {
      error: {
        message: `This model's maximum context length is ${limit} tokens. However, you requested ${messages + completion} tokens (${messages} in the messages, ${completion} in the completion). Please reduce the length of the messages or completion.`,
        type: 'invalid_request_error',
        param: 'messages',
        code: 'context_length_exceeded',
      },
    },
  }),
  serverError: (headers: Record<string, string> = {}): FakeAnswer => ({
    status: 500,
    headers,
    body: {
      error: {
        code: 'InternalServerError',
        message:
          'The server had an error processing your request. Sorry about that! You can retry your request, or contact us through an Azure support request at: https://go.microsoft.com/fwlink/?linkid=2213926 if you keep seeing this error.',
      },
    },
  }),
};

/** OpenAI's real error answers. invalidApiKey echoes the whole key (OpenAI masks most of it) to prove we never show it. */
export const openAIAnswers = {
  invalidApiKey: (key: string): FakeAnswer => ({
    status: 401,
    body: {
      error: {
        message: `Incorrect API key provided: ${key}. You can find your API key at https://platform.openai.com/account/api-keys.`,
        type: 'invalid_request_error',
        param: null,
        code: 'invalid_api_key',
      },
    },
  }),
  modelNotFound: (model: string): FakeAnswer => ({
    status: 404,
    body: {
      error: {
        message: `The model \`${model}\` does not exist or you do not have access to it.`,
        type: 'invalid_request_error',
        param: null,
        code: 'model_not_found',
      },
    },
  }),
  jsonSchemaUnsupported: (): FakeAnswer => ({
    status: 400,
    body: {
      error: {
        message:
          "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model.",
        type: 'invalid_request_error',
        param: 'response_format',
        code: null,
      },
    },
  }),
  insufficientQuota: (): FakeAnswer => ({
    status: 429,
    body: {
      error: {
        message: 'You exceeded your current quota, please check your plan and billing details.',
        type: 'insufficient_quota',
        param: null,
        code: 'insufficient_quota',
      },
    },
  }),
};

export function unsupportedParameter(param: string): FakeAnswer {
  return {
    status: 400,
    body: {
      error: {
        message: `Unsupported parameter: '${param}' is not supported with this model.`,
        type: 'invalid_request_error',
        param,
        code: 'unsupported_parameter',
      },
    },
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A fetch that trusts the test CA through an undici Agent (never NODE_TLS_REJECT_UNAUTHORIZED). */
export function trustingFetch(
  caPem: string | undefined,
  connect: Record<string, unknown> = {},
): (input: string | URL | Request, init?: RequestInit) => Promise<Response> {
  const dispatcher = new Agent({ connect: { ...(caPem ? { ca: caPem } : {}), ...connect } });
  return (input, init) =>
    undiciFetch(input as Parameters<typeof undiciFetch>[0], {
      ...(init as Parameters<typeof undiciFetch>[1]),
      dispatcher,
    }) as unknown as Promise<Response>;
}

/** A fetch that reaches real host names through an HTTP CONNECT proxy, trusting the test CA. */
export function proxiedFetch(
  proxyUrl: string,
  caPem: string,
): (input: string | URL | Request, init?: RequestInit) => Promise<Response> {
  const dispatcher = new ProxyAgent({ uri: proxyUrl, requestTls: { ca: caPem } });
  return (input, init) =>
    undiciFetch(input as Parameters<typeof undiciFetch>[0], {
      ...(init as Parameters<typeof undiciFetch>[1]),
      dispatcher,
    }) as unknown as Promise<Response>;
}

/** A Logger that keeps every line with its level. */
export class RecordingLogger implements Logger {
  readonly lines: { level: 'debug' | 'info' | 'warn'; untrusted: boolean; text: string }[] = [];
  debug(text: string): void {
    this.lines.push({ level: 'debug', untrusted: false, text });
  }
  info(text: string): void {
    this.lines.push({ level: 'info', untrusted: false, text });
  }
  warn(text: string): void {
    this.lines.push({ level: 'warn', untrusted: false, text });
  }
  untrusted(text: string, level: 'debug' | 'info' | 'warn' = 'info'): void {
    this.lines.push({ level, untrusted: true, text });
  }
  at(level: 'debug' | 'info' | 'warn'): string[] {
    return this.lines.filter((l) => l.level === level).map((l) => l.text);
  }
  all(): string {
    return this.lines.map((l) => l.text).join('\n');
  }
}

/** A request for files as prompt.ts builds it, with the real reply schema. */
export function chatRequest(settings: ModelSettings = {}): ModelRequest {
  return {
    messages: [
      { role: 'system', content: 'You generate services. Reply with JSON only.' },
      { role: 'user', content: 'Generate the service described here:\n\nA weather API in Python.' },
    ],
    responseSchema: {
      name: REPLY_SCHEMA.name,
      schema: REPLY_SCHEMA.schema as unknown as Record<string, unknown>,
    },
    settings,
    intent: { kind: 'text', text: 'A weather API in Python.' },
  };
}
