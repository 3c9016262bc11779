/**
 * ModelClient for any OpenAI-compatible endpoint (OpenAI, vLLM, LiteLLM, Ollama, ...): the `openai`
 * package's OpenAI client against <endpoint>/chat/completions with a bearer API key. Endpoints that do
 * not support response_format json_schema are asked once more without it.
 */
import type { ModelClient, ModelInfo, ModelReply, ModelRequest, ReplyObserver } from '../../core/ports';
import {
  completeChat,
  hostOf,
  sdkClientOptions,
  type ChatClientOptions,
  type ChatSpec,
} from './chat-completions';

export interface OpenAICompatibleClientOptions extends ChatClientOptions {
  /** Sent as `Authorization: Bearer <apiKey>`. */
  apiKey: string;
}

/** Chat completions against an OpenAI-compatible base URL (e.g. https://api.example.com/v1). */
export class OpenAICompatibleClient implements ModelClient {
  readonly info: ModelInfo;
  private readonly spec: ChatSpec;

  constructor(options: OpenAICompatibleClientOptions) {
    const endpointHost = hostOf(options.endpoint);
    const baseURL = options.endpoint.replace(/\/+$/, '');
    this.info = { provider: 'openAICompatible', endpointHost, deployment: options.deployment };
    this.spec = {
      ctx: {
        provider: 'openAICompatible',
        endpointHost,
        deployment: options.deployment,
        auth: 'apiKey',
        ...(options.keySource ? { keySource: options.keySource } : {}),
        timeoutMs: options.budget.totalMs,
        maxRetries: options.maxRetries,
      },
      budget: options.budget,
      logger: options.logger,
      fetch: options.fetch ?? globalThis.fetch,
      secret: options.apiKey,
      retryWithoutSchema: true,
      createClient: (sdk, fetch, timeoutMs) =>
        new sdk.OpenAI({
          baseURL,
          apiKey: options.apiKey,
          ...sdkClientOptions(options, fetch, timeoutMs),
        }),
    };
  }

  complete(request: ModelRequest, signal: AbortSignal, observer?: ReplyObserver): Promise<ModelReply> {
    return completeChat(this.spec, request, signal, observer);
  }
}
