/**
 * The offline provider: renders a service or stack card with the built-in templates, no network. Its reply
 * has the same structured-output shape the real models return, so the rest of the flow is shared.
 */
import { createHash } from 'node:crypto';
import { CancelledError, IntentError } from '../../core/errors';
import type { ServiceCard, StackCard } from '../../core/intent';
import type { FileToWrite, ModelClient, ModelInfo, ModelReply, ModelRequest } from '../../core/ports';
import { renderService } from '../../core/templates';
import { renderStack } from '../../core/templates/stack';

const CARD_HINT = [
  'Write the intent as a YAML service card with the required fields service.name, service.language and',
  'service.framework (optional: description, endpoint or endpoints, port, dependencies, env), for example:',
  'service:',
  '  name: weather',
  '  language: python',
  '  framework: flask',
  'or a stack card (README "Stack card"), or use provider azureOpenAI or openAICompatible for free-text intents.',
].join('\n');

export class OfflineModelClient implements ModelClient {
  readonly info: ModelInfo = { provider: 'offline', deployment: 'builtin-templates' };

  async complete(request: ModelRequest, signal: AbortSignal): Promise<ModelReply> {
    if (signal.aborted) throw new CancelledError();
    const { intent } = request;
    if (intent.kind === 'text')
      throw new IntentError(
        'the offline provider needs a YAML service card or stack card, not free text.',
        CARD_HINT,
      );
    const { files, summary } =
      intent.kind === 'stack' ? renderStackReply(intent.stack) : renderCardReply(intent.card);
    return {
      id: `offline-${createHash('sha256').update(intent.text).digest('hex').slice(0, 12)}`,
      model: 'builtin-templates',
      content: JSON.stringify({ files, summary }),
      finishReason: 'stop',
      usage: { promptTokens: 0, completionTokens: 0 },
    };
  }
}

function renderCardReply(card: ServiceCard): { files: FileToWrite[]; summary: string } {
  const files = renderService(card);
  const endpoints = card.endpoints.length;
  const summary =
    `Rendered the built-in ${card.language}/${card.framework} template for service '${card.name}': ` +
    `${files.length} files, ${endpoints} endpoint${endpoints === 1 ? '' : 's'} plus GET /healthz.`;
  return { files, summary };
}

function renderStackReply(stack: StackCard): { files: FileToWrite[]; summary: string } {
  const files = renderStack(stack);
  const services = stack.services.map((s) => `${s.name} (${s.language}/${s.framework})`).join(', ');
  const summary =
    `Rendered the stack '${stack.name}' with the built-in templates: ${stack.services.length} services, ` +
    `${services}, each in its own folder, plus docker-compose.yml, kustomization.yaml and the ` +
    `Kubernetes manifests of the stack: ${files.length} files.`;
  return { files, summary };
}
