/**
 * Which generation strategy a run uses (input generationStrategy):
 *
 * - `single`: one request, one reply holding every file.
 * - `planned`: an outline of the files first (paths, purposes, dependencies; no content), then the
 *   files in parallel calls (generate-planned.ts).
 * - `auto` (the default): planned for a stack card; otherwise one reply, and planned when that reply
 *   is cut off at the output token limit (finish_reason `length`): the service did not fit in one
 *   reply, so it is generated file by file. The cut reply is recorded, and its tokens counted.
 *
 * The offline provider renders its templates at once whatever the strategy: there is nothing to plan.
 */
import type { Intent } from './intent';
import type { ProviderName } from './ports';
import type { GenerationStrategy } from './settings';

/** The strategy to start with, and whether a reply cut at the token limit switches to planned. */
export interface StrategyChoice {
  strategy: 'single' | 'planned';
  /** Switch to planned when the single reply is cut off at the token limit (auto only). */
  fallBackToPlanned: boolean;
  /** Why, when the choice is not what was asked for in so many words: a log line. */
  note?: string;
}

/**
 * True for a stack card (several services in one intent). Stack cards arrive as the Intent kind
 * 'stack' (core/intent.ts); written against the kind's name so it holds before and after that kind exists.
 */
export function isStackIntent(intent: Intent): boolean {
  return intent.kind === 'stack';
}

/** Choose the strategy for a run; see the file's comment for the rules. */
export function chooseStrategy(
  requested: GenerationStrategy,
  intent: Intent,
  provider: ProviderName,
): StrategyChoice {
  if (provider === 'offline')
    return {
      strategy: 'single',
      fallBackToPlanned: false,
      ...(requested === 'planned'
        ? {
            note: "The offline provider renders its templates at once: generationStrategy 'planned' has nothing to plan.",
          }
        : {}),
    };
  if (requested === 'single') return { strategy: 'single', fallBackToPlanned: false };
  if (requested === 'planned') return { strategy: 'planned', fallBackToPlanned: false };
  if (isStackIntent(intent))
    return {
      strategy: 'planned',
      fallBackToPlanned: false,
      note: "generationStrategy 'auto': a stack card is generated with an outline, then file by file.",
    };
  return { strategy: 'single', fallBackToPlanned: true };
}
