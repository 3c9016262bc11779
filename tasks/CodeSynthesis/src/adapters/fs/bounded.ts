/**
 * Bounded concurrency for file-system work: libuv runs file operations on a small thread pool, so a
 * thousand files written one after another wait on a thousand round trips (and fsyncs) in a row, while
 * a few in flight keep the pool busy and let the disk batch the flushes.
 */

/** How many file operations the store keeps in flight. */
export const FS_CONCURRENCY = 16;

/** A failure of one item, with its index. */
export class ItemFailure extends Error {
  constructor(
    readonly index: number,
    readonly error: unknown,
  ) {
    super(`item ${index} failed`, { cause: error });
  }
}

/**
 * Run `task` for every item, at most `limit` at a time, starting them in order. Once a task has failed,
 * or `stop()` returns true, no further task starts; the promise settles only when every task started has
 * settled, so a caller can clean up behind them.
 * @throws ItemFailure with the index and error of the first task to fail.
 */
export async function eachBounded<T>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<void>,
  stop: () => boolean = () => false,
): Promise<void> {
  let next = 0;
  let failure: ItemFailure | undefined;
  const worker = async (): Promise<void> => {
    while (!failure && next < items.length && !stop()) {
      const index = next++;
      try {
        await task(items[index]!, index);
      } catch (error) {
        failure ??= new ItemFailure(index, error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw failure;
}

/** `fn` of every item, at most `limit` at a time; the results in the items' order. Rejects with the first error. */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  try {
    await eachBounded(items, limit, async (item, index) => {
      results[index] = await fn(item, index);
    });
  } catch (failure) {
    throw failure instanceof ItemFailure ? failure.error : failure;
  }
  return results;
}
