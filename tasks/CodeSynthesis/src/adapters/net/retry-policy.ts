/**
 * Our retry policy for the model calls, stated in one place. The `openai` SDK is given `maxRetries: 0`
 * and retries nothing itself; the model clients loop over this policy, within the run's time budget, and
 * cancellably.
 *
 * - What is retried: a connection error that a retry may cure (not a proxy asking for credentials, not
 *   an untrusted certificate: see network-errors.ts), and the answers 408, 409, 429 and 5xx, unless the
 *   service says `x-should-retry: false` (`x-should-retry: true` makes any answer retryable).
 * - How long to wait: what the service asks for (`retry-after-ms`, then `retry-after` in seconds or as an
 *   HTTP date), else an exponential backoff of 0.5 s, 1 s, 2 s, ... capped at 8 s, less up to 25% jitter.
 * - When to stop: after MAX_RETRIES retries, or at once when the wait would not fit in the time left.
 */

/** Retries after the first attempt. */
export const MAX_RETRIES = 6;
const BASE_MS = 500;
const CAP_MS = 8000;

/** A failed attempt, as far as the policy needs to know. */
export type AttemptFailure =
  { kind: 'http'; status: number; headers?: Headers } | { kind: 'connection'; permanent: boolean };

export type RetryDecision =
  | { retry: true; waitMs: number }
  | {
      retry: false;
      /** Why not: the failure is not retryable, the service refused, no retries are left, or the wait does not fit. */
      reason: 'not-retryable' | 'refused' | 'exhausted' | 'over-budget';
      /** With 'over-budget': the wait asked for. */
      waitMs?: number;
    };

/**
 * Decide about retry number `retry` (1 for the first retry) after `failure`.
 * @param maxRetries the retries allowed in all.
 * @param leftMs the time left in the budget.
 */
export function decideRetry(
  failure: AttemptFailure,
  retry: number,
  maxRetries: number,
  leftMs: number,
  random: () => number = Math.random,
): RetryDecision {
  if (failure.kind === 'connection') {
    if (failure.permanent) return { retry: false, reason: 'not-retryable' };
  } else {
    const said = failure.headers?.get('x-should-retry');
    if (said === 'false') return { retry: false, reason: 'refused' };
    if (said !== 'true' && !retryableStatus(failure.status)) return { retry: false, reason: 'not-retryable' };
  }
  if (retry > maxRetries) return { retry: false, reason: 'exhausted' };
  const waitMs = retryWaitMs(failure.kind === 'http' ? failure.headers : undefined, retry, random);
  if (waitMs >= leftMs) return { retry: false, reason: 'over-budget', waitMs };
  return { retry: true, waitMs };
}

/** 408, 409, 429 and 5xx. */
export function retryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** The wait before retry `retry`: the service's `retry-after-ms` or `retry-after`, else the backoff. */
export function retryWaitMs(
  headers: Headers | undefined,
  retry: number,
  random: () => number = Math.random,
): number {
  const ms = parseFloat(headers?.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0 && headers?.get('retry-after-ms')?.trim()) return ms;
  const after = headers?.get('retry-after')?.trim();
  if (after) {
    const seconds = Number(after);
    const wait = Number.isNaN(seconds) ? Date.parse(after) - Date.now() : seconds * 1000;
    if (Number.isFinite(wait)) return Math.max(0, wait);
  }
  return Math.min(BASE_MS * 2 ** (retry - 1), CAP_MS) * (1 - random() * 0.25);
}
