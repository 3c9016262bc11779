/**
 * The one place where a failed chat-completions call becomes a typed error with a message a user can act
 * on. Pure: the client classifies the SDK's error into a `Failure`, this file only reads it.
 *
 * Remote text (error messages, bodies) is untrusted: it is matched against patterns here but never copied
 * into a message. Only numbers, short codes that pass a strict pattern and our own inputs are.
 */
import { DEFAULTS, INPUTS } from '../../core/contract';
import { CancelledError, ModelError, type SynthesisError } from '../../core/errors';
import type { ProviderName } from '../../core/ports';
import { chainCode, classifyNetworkError, isRecord } from '../net/network-errors';

/** What the call was, for messages: never holds a secret. */
export interface CallContext {
  provider: Exclude<ProviderName, 'offline' | 'archive'>;
  endpointHost: string;
  deployment: string;
  apiVersion?: string;
  /** How the client authenticates: an API key (from Key Vault or the apiKey input) or an Entra ID token. */
  auth: 'apiKey' | 'entraId';
  /** Where the key came from, for the 401 hint, e.g. "the Key Vault secret 'openai-api-key' in 'kv-ci'". */
  keySource?: string;
  /** The run's whole time budget (timeoutSeconds), in ms. */
  timeoutMs: number;
  /** What was left of it when this call started; the whole budget when absent. */
  leftMs?: number;
  maxRetries: number;
}

/** A retry not made because the wait the service asked for did not fit the time left. */
export interface StoppedRetry {
  status: number;
  waitMs: number;
  leftMs: number;
}

/** A failed call, classified by the client from the SDK's error. */
export type Failure =
  | {
      kind: 'http';
      status: number;
      /** The parsed response body (e.g. `{ error: { code, message, innererror } }`), or undefined. */
      body: unknown;
      /** The raw body text when it was not JSON. */
      text?: string;
      /** Set when the retry was skipped because its wait exceeded the time budget. */
      stoppedRetry?: StoppedRetry;
      /** Requests actually sent (1 + the retries made); unknown when absent, and then not claimed. */
      attempts?: number;
      /** The service answered `x-should-retry: false`, so no further attempt was made. */
      retryRefused?: boolean;
    }
  /** A 2xx answer whose body is not JSON (a proxy's or gateway's page, a wrong URL). */
  | { kind: 'unreadable'; status: number; contentType?: string }
  | { kind: 'connection'; cause: unknown }
  /**
   * A streamed reply that stopped before it was complete (the connection closed, or the service sent an
   * error event, before any finish_reason): nothing of it is used. `received` counts its content chunks;
   * `attempts`, the requests sent when no retry is left.
   */
  | { kind: 'stream-cut'; received: number; attempts?: number; cause?: unknown }
  | { kind: 'timeout' }
  | { kind: 'cancelled' }
  /** A CredentialError or other typed error thrown by our token provider, passed through. */
  | { kind: 'typed'; error: SynthesisError }
  /** Anything else; `cause` may quote remote text, so it goes to debug output only. */
  | { kind: 'other'; cause: unknown };

/** The fields of an OpenAI/Azure error body that the mapping reads. All untrusted. */
interface ErrorFields {
  code: string;
  message: string;
  param: string;
  innerCode: string;
  /** innererror.content_filter_result (Azure), or inner_error.content_filter_results (seen in the wild). */
  filterResult: unknown;
}

/** Model parameters a deployment may refuse, and the input that sets each. */
const PARAM_INPUTS: Readonly<Record<string, string>> = {
  temperature: INPUTS.temperature,
  seed: INPUTS.seed,
  max_completion_tokens: INPUTS.maxOutputTokens,
};

/** Turn a classified failure into the error the user sees. */
export function describeFailure(failure: Failure, ctx: CallContext): SynthesisError {
  switch (failure.kind) {
    case 'typed':
      return failure.error;
    case 'cancelled':
      return new CancelledError();
    case 'timeout':
      return timeoutError(ctx);
    case 'connection':
      return connectionError(failure.cause, ctx);
    case 'stream-cut': {
      const retried = Math.max(0, (failure.attempts ?? 1) - 1);
      return new ModelError(
        `The reply from ${where(ctx)} stopped after ${failure.received} streamed chunk(s), before it was complete${retried ? ` (and again on each of ${retries(retried)})` : ''}: nothing of it was used.`,
        "Nothing was written. Run again; if it persists, look for a proxy or gateway that cuts long responses, or lower 'concurrency'.",
        undefined,
        failure.cause !== undefined ? { cause: failure.cause } : undefined,
      );
    }
    case 'other': {
      const name = failure.cause instanceof Error ? failure.cause.name : '';
      return new ModelError(
        `Could not call ${where(ctx)}: the call failed unexpectedly${/^\w{1,40}$/.test(name) ? ` (${name})` : ''}.`,
        'The details are in the debug output (run with system.debug=true).',
        undefined,
        { cause: failure.cause },
      );
    }
    case 'unreadable': {
      const type = failure.contentType && /^[\w.+-]{1,60}\/[\w.+-]{1,60}$/.test(failure.contentType);
      return new ModelError(
        `${where(ctx)} answered ${failure.status} with a body that is not JSON${type ? ` (content-type ${failure.contentType})` : ''}.`,
        `Check that '${INPUTS.endpoint}' is the service's URL and that no proxy or gateway answers in its place; the answer is in the debug output (system.debug: true).`,
        failure.status,
      );
    }
    case 'http':
      return httpError(failure, ctx);
  }
}

/**
 * True when an OpenAI-compatible endpoint refused the request because it does not support
 * `response_format` / json_schema (then the client asks once more without it).
 */
export function isResponseFormatUnsupported(failure: Failure): boolean {
  if (failure.kind !== 'http' || (failure.status !== 400 && failure.status !== 422)) return false;
  const f = fields(failure);
  if (f.param === 'response_format') return true;
  return /response_format|json_schema|structured output|guided_json/i.test(
    `${f.message} ${failure.text ?? ''}`,
  );
}

/**
 * The content-filter categories that fired, from Azure's `content_filter_result(s)` object, e.g.
 * ['violence (medium)', 'jailbreak']. Unknown shapes give []. Category names are checked before use.
 */
export function filteredCategories(result: unknown): string[] {
  if (!isRecord(result)) return [];
  const found: string[] = [];
  for (const [name, value] of Object.entries(result)) {
    if (!/^[a-z][a-z_]{0,40}$/.test(name) || !isRecord(value) || value['filtered'] !== true) continue;
    const severity =
      typeof value['severity'] === 'string' && /^[a-z_]{1,20}$/.test(value['severity'])
        ? value['severity']
        : undefined;
    found.push(severity && severity !== 'safe' ? `${name} (${severity})` : name);
  }
  return found;
}

/** The error for a reply whose finish_reason is 'content_filter', or a prompt the filter blocked. */
export function contentFilterError(
  ctx: CallContext,
  side: 'prompt' | 'reply',
  categories: readonly string[],
): ModelError {
  const which = categories.length
    ? `categories: ${categories.join(', ')}`
    : 'the service did not say which category';
  const what = side === 'prompt' ? 'the prompt' : "the model's answer";
  return new ModelError(
    `${ctx.provider === 'azureOpenAI' ? "Azure OpenAI's content filter" : 'The content filter of the endpoint'} blocked ${what} (${which}).`,
    `Nothing was written. Rephrase the intent or the instructionsFile so they do not trigger these categories, or ask the owner of the resource to review the content filter of deployment '${ctx.deployment}'.`,
    side === 'prompt' ? 400 : 200,
  );
}

function httpError(failure: Extract<Failure, { kind: 'http' }>, ctx: CallContext): ModelError {
  const { status } = failure;
  const f = fields(failure);
  const text = `${f.message} ${failure.text ?? ''}`;
  const at = where(ctx);
  const azure = ctx.provider === 'azureOpenAI';
  const code = safeCode(f.code);
  const tag = code && code !== String(status) ? `${status} ${code}` : String(status);

  if (status === 401) {
    if (ctx.auth === 'entraId') {
      return new ModelError(
        `${at} rejected the Entra ID token of the service connection (${tag}).`,
        "The service connection's identity needs the 'Cognitive Services OpenAI User' role on the Azure OpenAI resource (a new role assignment can take a few minutes to apply).",
        status,
      );
    }
    const source =
      ctx.keySource ??
      `the key in the Key Vault secret ('${INPUTS.keyVaultName}', '${INPUTS.apiKeySecretName}') or the '${INPUTS.apiKey}' input`;
    return new ModelError(
      `${at} rejected the API key (${tag}).`,
      azure
        ? `Check ${source}: it must be a current key of this resource (Azure portal > the resource > Keys and Endpoint), and '${INPUTS.endpoint}' must be that resource's endpoint.`
        : `Check ${source}: it must be a valid API key for this endpoint.`,
      status,
    );
  }

  if (status === 403) {
    if (/AuthenticationTypeDisabled/i.test(f.code) || /key based authentication is disabled/i.test(text)) {
      return new ModelError(
        `${at} has key-based authentication disabled (${tag}).`,
        `Set '${INPUTS.authMode}' to 'entraId' and give the service connection's identity the 'Cognitive Services OpenAI User' role on the resource.`,
        status,
      );
    }
    if (/firewall|virtual network|private endpoint|public access is disabled/i.test(text)) {
      return new ModelError(
        `${at} refused the connection because of its network rules (${tag}).`,
        "Allow this agent's network (the resource's Networking settings: firewall, virtual network or private endpoint), or run the pipeline on an agent inside that network.",
        status,
      );
    }
    return new ModelError(
      `${at} refused access (${tag}).`,
      ctx.auth === 'entraId'
        ? "The service connection's identity needs the 'Cognitive Services OpenAI User' role on the resource; also check the resource's network rules."
        : "Check that the key belongs to this resource and that the resource's network rules allow this agent.",
      status,
    );
  }

  if (status === 404) {
    if (/DeploymentNotFound/i.test(f.code)) {
      return new ModelError(
        `${at} has no deployment named '${ctx.deployment}' (${tag}).`,
        `Set '${INPUTS.deployment}' to the name of a deployment of this resource (Azure AI Foundry > Deployments: the deployment name, not the model name). A deployment created in the last few minutes may not be ready yet.`,
        status,
      );
    }
    if (/model_not_found/i.test(f.code) || /model .* does not exist/i.test(text)) {
      return new ModelError(
        `${at} has no model named '${ctx.deployment}' (${tag}).`,
        `Set '${INPUTS.deployment}' to a model this endpoint serves (its /models list).`,
        status,
      );
    }
    return new ModelError(
      azure
        ? `${at} answered 404 Resource not found for api-version '${ctx.apiVersion ?? ''}'.`
        : `${at} answered 404 Not found for the chat completions path.`,
      azure
        ? `Check '${INPUTS.endpoint}' (https://<resource>.openai.azure.com) and '${INPUTS.apiVersion}' (for example ${DEFAULTS.apiVersion}).`
        : `Check '${INPUTS.endpoint}': it must be the base URL of the API (usually ending in /v1), without /chat/completions.`,
      status,
    );
  }

  if (status === 400 || status === 422) {
    if (/content_filter/i.test(f.code) || /ResponsibleAIPolicyViolation/i.test(f.innerCode)) {
      return contentFilterError(ctx, 'prompt', filteredCategories(f.filterResult));
    }
    if (/context_length_exceeded/i.test(f.code) || /maximum context length|context window/i.test(text)) {
      return contextLengthError(text, ctx, status);
    }
    if (azure && /api[- ]?version/i.test(text)) {
      return new ModelError(
        `${at} does not accept api-version '${ctx.apiVersion ?? ''}' for deployment '${ctx.deployment}' (${tag}).`,
        `Set '${INPUTS.apiVersion}' to a version the service and the model support, for example ${DEFAULTS.apiVersion} (newer models may need a newer -preview version).`,
        status,
      );
    }
    const param = Object.keys(PARAM_INPUTS).find(
      (p) =>
        f.param === p ||
        new RegExp(`'${p}'|\\b${p}\\b.*not supported|unrecognized request argument supplied: ${p}`, 'i').test(
          text,
        ),
    );
    if (param) {
      return new ModelError(
        `Deployment '${ctx.deployment}' at ${ctx.endpointHost} does not accept the parameter '${param}' (${tag}).`,
        param === 'max_completion_tokens' && azure
          ? `Use '${INPUTS.apiVersion}' ${DEFAULTS.apiVersion} or later, or clear '${PARAM_INPUTS[param]}'.`
          : `Clear the '${PARAM_INPUTS[param]}' input: this model does not support it (reasoning models accept only the default).`,
        status,
      );
    }
    if (isResponseFormatUnsupported(failure)) {
      return new ModelError(
        `Deployment '${ctx.deployment}' at ${ctx.endpointHost} does not support structured outputs (response_format json_schema) (${tag}).`,
        azure
          ? `Deploy a model that supports structured outputs (for example gpt-4o 2024-08-06 or later, gpt-4.1) and use '${INPUTS.apiVersion}' ${DEFAULTS.apiVersion} or later.`
          : 'Use a model that supports response_format json_schema, or one that follows the fenced-code-block format described in the system prompt.',
        status,
      );
    }
    return new ModelError(
      `${at} rejected the request (${tag}).`,
      "The service's explanation is in the debug output (run with system.debug=true).",
      status,
    );
  }

  if (status === 429) {
    if (/insufficient_quota/i.test(f.code)) {
      return new ModelError(
        `${at} says the account's quota is used up (${tag}).`,
        'Add credit or raise the quota of the account behind the key, then run again.',
        status,
      );
    }
    return new ModelError(
      throttledMessage(failure, ctx, at, tag),
      azure
        ? `Raise the tokens-per-minute quota of deployment '${ctx.deployment}', or run again later.`
        : 'Raise the rate limit of the account, or run again later.',
      status,
    );
  }

  if (status >= 500 || status === 408 || status === 409) {
    const after = failure.stoppedRetry ? throttledWait(failure.stoppedRetry, ctx) : attemptsMade(failure);
    return new ModelError(
      `${at} failed with ${tag}${after}.`,
      azure
        ? 'This is a service-side error: run again later, and check https://azure.status.microsoft if it persists.'
        : 'This is a service-side error: run again later.',
      status,
    );
  }

  return new ModelError(
    `${at} answered ${tag}.`,
    "The service's explanation is in the debug output (run with system.debug=true).",
    status,
  );
}

function throttledMessage(
  failure: Extract<Failure, { kind: 'http' }>,
  ctx: CallContext,
  at: string,
  tag: string,
): string {
  if (failure.stoppedRetry)
    return `${at} is throttling requests (${tag})${throttledWait(failure.stoppedRetry, ctx)}.`;
  const still = (failure.attempts ?? 1) > 1 ? 'still ' : '';
  return `${at} is ${still}throttling requests (${tag})${attemptsMade(failure)}.`;
}

/**
 * " after 2 retries", "; the service said not to retry", "" ...: the retries actually made (never the
 * configured maximum), and whether the service itself stopped them.
 */
function attemptsMade(failure: Extract<Failure, { kind: 'http' }>): string {
  const retried = Math.max(0, (failure.attempts ?? 1) - 1);
  const after = retried ? ` after ${retries(retried)}` : '';
  return failure.retryRefused ? `${after}; the service ${retried ? 'then ' : ''}said not to retry` : after;
}

function throttledWait(stopped: StoppedRetry, ctx: CallContext): string {
  return `; it asked to wait ${formatWait(stopped.waitMs)}, more than the ${formatWait(stopped.leftMs)} left of '${INPUTS.timeoutSeconds}' (${Math.round(ctx.timeoutMs / 1000)} s)`;
}

function contextLengthError(text: string, ctx: CallContext, status: number): ModelError {
  const limit = /maximum context length is (\d+)/i.exec(text)?.[1];
  const asked = /(?:resulted in|requested|you have) (\d+) tokens/i.exec(text)?.[1];
  const split = /(\d+) in the messages?,? (\d+) in the completion/i.exec(text);
  const size = asked
    ? `${asked} tokens${split ? ` (${split[1]} in the prompt, ${split[2]} reserved for the answer)` : ''}`
    : 'more tokens than it allows';
  return new ModelError(
    `The request is too long for deployment '${ctx.deployment}': it needs ${size}${limit ? `, the model's limit is ${limit}` : ''}.`,
    `Shorten the intent or the instructionsFile, or lower '${INPUTS.maxOutputTokens}' (the answer's tokens count toward the limit), or use a model with a larger context window.`,
    status,
  );
}

function timeoutError(ctx: CallContext): ModelError {
  const within =
    ctx.leftMs === undefined || formatWait(ctx.leftMs) === formatWait(ctx.timeoutMs)
      ? `${formatWait(ctx.timeoutMs)} ('${INPUTS.timeoutSeconds}')`
      : `the ${formatWait(ctx.leftMs)} left of '${INPUTS.timeoutSeconds}' (${formatWait(ctx.timeoutMs)} for the whole run)`;
  return new ModelError(
    `${where(ctx)} did not answer within ${within}.`,
    `Raise '${INPUTS.timeoutSeconds}', or ask for fewer files or lower '${INPUTS.maxOutputTokens}' so the answer comes sooner.`,
  );
}

function connectionError(cause: unknown, ctx: CallContext): ModelError {
  const failure = classifyNetworkError(cause);
  const host = ctx.endpointHost;
  const options = { cause };
  switch (failure?.kind) {
    case 'tls-host':
      return new ModelError(
        `The TLS certificate presented for ${host} is for another host name (${failure.code}).`,
        `Check '${INPUTS.endpoint}'; if a proxy intercepts TLS, it must issue certificates for ${host}.`,
        undefined,
        options,
      );
    case 'tls-trust':
      return new ModelError(
        `The TLS certificate of ${host} is not trusted (${failure.code}).`,
        "If a proxy or firewall re-signs TLS with a private CA, configure the agent to trust that CA (the agent's CA setting, Agent.CAInfo, set with ./config --sslcacert); the task uses the agent's certificate settings.",
        undefined,
        options,
      );
    case 'dns':
      return new ModelError(
        `Cannot resolve the host name ${host} (${failure.code}).`,
        `Check '${INPUTS.endpoint}' for typos; a private endpoint needs DNS that the agent can use.`,
        undefined,
        options,
      );
    case 'proxy-auth':
      return new ModelError(
        `The agent's proxy refused to connect to ${host} (407 Proxy Authentication Required).`,
        "Check the proxy user name and password in the agent's proxy settings.",
        undefined,
        options,
      );
    case 'proxy-refused':
      return new ModelError(
        `The agent's proxy refused the tunnel to ${host}${failure.proxyStatus ? ` (HTTP ${failure.proxyStatus})` : ''}.`,
        `Check '${INPUTS.endpoint}'; ask the proxy's administrators to allow the host, or add it to the agent's .proxybypass list.`,
        undefined,
        options,
      );
  }
  const code = failure?.code ?? chainCode(cause);
  return new ModelError(
    `Cannot connect to ${host}${code ? ` (${code})` : ''}.`,
    `Check '${INPUTS.endpoint}', that the agent can reach that host (firewall, proxy settings) and that the service is up.`,
    undefined,
    options,
  );
}

function where(ctx: CallContext): string {
  return `${ctx.provider === 'azureOpenAI' ? 'Azure OpenAI' : 'The OpenAI-compatible endpoint'} at ${ctx.endpointHost}`;
}

function retries(n: number): string {
  return n === 1 ? '1 retry' : `${n} retries`;
}

/** "250 ms", "2 s", "1.5 s". */
export function formatWait(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const s = Math.round(ms / 100) / 10;
  return `${s} s`;
}

function fields(failure: Extract<Failure, { kind: 'http' }>): ErrorFields {
  const body = failure.body;
  const err = isRecord(body) && isRecord(body['error']) ? body['error'] : isRecord(body) ? body : {};
  const inner = isRecord(err['innererror'])
    ? err['innererror']
    : isRecord(err['inner_error'])
      ? err['inner_error']
      : {};
  const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');
  const detail = isRecord(body) ? body['detail'] : undefined;
  return {
    code: str(err['code']),
    message: str(err['message']) || str(detail) || (detail !== undefined ? JSON.stringify(detail) : ''),
    param: str(err['param']),
    innerCode: str(inner['code']),
    filterResult: inner['content_filter_result'] ?? inner['content_filter_results'],
  };
}

/** A remote code is shown only if it looks like a code, not prose. */
function safeCode(code: string): string | undefined {
  return /^[A-Za-z0-9_.-]{1,48}$/.test(code) ? code : undefined;
}
