/**
 * The cost estimate: tokens times the prices the user gave (promptTokenPrice, completionTokenPrice),
 * in the currency of those prices, per million tokens.
 */
import type { TokenUsage } from './ports';

export interface TokenPrices {
  /** Price per million prompt tokens. */
  prompt: number;
  /** Price per million completion tokens. */
  completion: number;
}

/** The estimated cost of the usage, rounded to 6 decimal places. */
export function estimateCost(usage: TokenUsage, prices: TokenPrices): number {
  const cost = (usage.promptTokens * prices.prompt + usage.completionTokens * prices.completion) / 1_000_000;
  return Math.round(cost * 1e6) / 1e6;
}
