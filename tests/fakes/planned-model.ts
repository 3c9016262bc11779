/**
 * An in-process ModelClient that knows a whole service (tests/support/planned-service.ts) and answers
 * planned and single requests, each after a short wait so that parallel calls overlap; it counts the
 * calls in flight, streams its replies to the observer, and can be scripted to misbehave per file.
 */
import { CancelledError, ModelError } from '../../tasks/CodeSynthesis/src/core/errors';
import type {
  ModelClient,
  ModelInfo,
  ModelReply,
  ModelRequest,
  ReplyObserver,
} from '../../tasks/CodeSynthesis/src/core/ports';
import { answerTo, askedIn, filesOf, type Service } from '../support/planned-service';

export class ServiceModel implements ModelClient {
  readonly requests: ModelRequest[] = [];
  inFlight = 0;
  maxInFlight = 0;
  /** Per path: how many more times its file call answers with another path instead (Infinity: always). */
  readonly wrongFor = new Map<string, number>();
  /** Per path: the error its file call throws. */
  readonly failFor = new Map<string, Error>();
  /** The one-reply request is answered cut off at the output token limit. */
  cutSingle = false;
  /** The outline's content instead of the service's. */
  outline?: string;

  constructor(
    public service: Service,
    public info: ModelInfo = {
      provider: 'azureOpenAI',
      endpointHost: 'res.openai.azure.com',
      deployment: 'gpt',
      apiVersion: '2024-10-21',
    },
    private readonly delayMs = 5,
  ) {}

  async complete(request: ModelRequest, signal: AbortSignal, observer?: ReplyObserver): Promise<ModelReply> {
    this.requests.push(request);
    const n = this.requests.length;
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await new Promise<void>((resolve, reject) => {
        const abort = () => {
          clearTimeout(timer);
          reject(new CancelledError());
        };
        const timer = setTimeout(() => {
          signal.removeEventListener('abort', abort);
          resolve();
        }, this.delayMs);
        signal.addEventListener('abort', abort, { once: true });
      });
      const asked = askedIn(request);
      let content = asked.kind === 'outline' && this.outline ? this.outline : answerTo(this.service, asked);
      let finishReason = 'stop';
      if (asked.kind === 'all' && this.cutSingle) {
        content = content.slice(0, Math.floor(content.length / 2));
        finishReason = 'length';
      }
      if (asked.kind === 'files')
        for (const path of asked.paths) {
          const error = this.failFor.get(path);
          if (error) throw error;
          const wrong = this.wrongFor.get(path) ?? 0;
          if (wrong > 0) {
            this.wrongFor.set(path, wrong - 1);
            content = filesOf({ [`${path}.other`]: 'not asked for\n' });
          }
        }
      for (const piece of content.match(/[\s\S]{1,16}/g) ?? []) observer?.received(piece);
      return {
        id: `chatcmpl-${n}`,
        model: 'gpt-4o',
        content,
        finishReason,
        usage: { promptTokens: 10, completionTokens: Math.ceil(content.length / 4) },
      };
    } finally {
      this.inFlight -= 1;
    }
  }
}

/** A ModelError as the clients throw it for a service failure. */
export function serviceError(): ModelError {
  return new ModelError(
    'Azure OpenAI at res.openai.azure.com failed with 500 InternalServerError after 6 retries.',
    'This is a service-side error: run again later.',
    500,
  );
}
