/**
 * ModelClient for Azure OpenAI: the `openai` package's AzureOpenAI client (api-key header or an Entra ID
 * bearer token) against https://<resource>.openai.azure.com/openai/deployments/<deployment>/chat/completions.
 */
import type { ModelClient, ModelInfo, ModelReply, ModelRequest, ReplyObserver } from '../../core/ports';
import {
  completeChat,
  hostOf,
  sdkClientOptions,
  type ChatClientOptions,
  type ChatSpec,
} from './chat-completions';

export interface AzureOpenAIClientOptions extends ChatClientOptions {
  /** The api-version query parameter, e.g. 2024-10-21. */
  apiVersion: string;
  /** Returns an Entra ID access token for https://cognitiveservices.azure.com; called before every attempt. */
  azureADTokenProvider?: () => Promise<string>;
}

/** Azure OpenAI chat completions with structured output. Pass exactly one of apiKey and azureADTokenProvider. */
export class AzureOpenAIClient implements ModelClient {
  readonly info: ModelInfo;
  private readonly spec: ChatSpec;

  constructor(options: AzureOpenAIClientOptions) {
    const { apiKey, azureADTokenProvider } = options;
    if (!apiKey === !azureADTokenProvider)
      throw new Error('AzureOpenAIClient needs exactly one of apiKey and azureADTokenProvider.');
    const endpointHost = hostOf(options.endpoint);
    // The SDK would append /openai to `endpoint`; we pass the base URL ourselves so an endpoint given with
    // /openai still works and OPENAI_BASE_URL in the agent's environment cannot conflict with it.
    const baseURL = `${options.endpoint.replace(/\/+$/, '').replace(/\/openai$/i, '')}/openai`;
    this.info = {
      provider: 'azureOpenAI',
      endpointHost,
      deployment: options.deployment,
      apiVersion: options.apiVersion,
    };
    this.spec = {
      ctx: {
        provider: 'azureOpenAI',
        endpointHost,
        deployment: options.deployment,
        apiVersion: options.apiVersion,
        auth: azureADTokenProvider ? 'entraId' : 'apiKey',
        ...(options.keySource ? { keySource: options.keySource } : {}),
        timeoutMs: options.budget.totalMs,
        maxRetries: options.maxRetries,
      },
      budget: options.budget,
      logger: options.logger,
      fetch: options.fetch ?? globalThis.fetch,
      ...(apiKey ? { secret: apiKey } : {}),
      retryWithoutSchema: false,
      createClient: (sdk, fetch, timeoutMs) =>
        new sdk.AzureOpenAI({
          baseURL,
          deployment: options.deployment,
          apiVersion: options.apiVersion,
          ...(azureADTokenProvider ? { azureADTokenProvider } : { apiKey }),
          ...sdkClientOptions(options, fetch, timeoutMs),
        }),
    };
  }

  complete(request: ModelRequest, signal: AbortSignal, observer?: ReplyObserver): Promise<ModelReply> {
    return completeChat(this.spec, request, signal, observer);
  }
}
