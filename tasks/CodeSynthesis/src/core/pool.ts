/**
 * Work in parallel, at most `concurrency` items at a time, in the order given. The first failure stops
 * it: no new item starts, the items in flight are aborted (their signal), and once they have settled
 * that first failure is thrown. Pure: the parallelism is the work's own (promises), with no timers.
 */
import { CancelledError } from './errors';

export interface PoolResult<R> {
  /** Each item's result, at the item's index. */
  results: R[];
  /** The most items that were in flight at once. */
  maxInFlight: number;
}

/**
 * Run `work` over `items`, `concurrency` at a time.
 * @param signal the run's: when it aborts, the items in flight are aborted and CancelledError is thrown.
 * @throws CancelledError when `signal` aborted; otherwise the first error an item threw.
 */
export async function runPool<T, R>(
  items: readonly T[],
  concurrency: number,
  signal: AbortSignal,
  work: (item: T, index: number, signal: AbortSignal) => Promise<R>,
): Promise<PoolResult<R>> {
  const controller = new AbortController();
  const abort = () => controller.abort(signal.reason);
  signal.addEventListener('abort', abort, { once: true });
  const results: R[] = [];
  let next = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (!failure && !controller.signal.aborted && next < items.length) {
      const index = next++;
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        results[index] = await work(items[index]!, index, controller.signal);
      } catch (error) {
        if (!failure) {
          failure = { error };
          controller.abort();
        }
      } finally {
        inFlight -= 1;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  } finally {
    signal.removeEventListener('abort', abort);
  }
  if (signal.aborted) throw new CancelledError();
  if (failure) throw failure.error;
  return { results, maxInFlight };
}
