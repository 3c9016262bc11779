import assert from 'node:assert/strict';
import { eachBounded, ItemFailure, mapBounded } from '../../tasks/CodeSynthesis/src/adapters/fs/bounded';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('bounded concurrency (adapters/fs/bounded.ts)', () => {
  it('keeps at most `limit` tasks in flight, more than one, and starts them in order', async () => {
    let inFlight = 0;
    let most = 0;
    const started: number[] = [];
    await eachBounded(
      Array.from({ length: 20 }, (_, i) => i),
      4,
      async (item) => {
        started.push(item);
        most = Math.max(most, ++inFlight);
        await tick();
        inFlight--;
      },
    );
    assert.equal(most, 4);
    assert.deepEqual(
      started,
      Array.from({ length: 20 }, (_, i) => i),
    );
  });

  it('after a failure starts nothing more, settles only once every started task has, and names the first', async () => {
    const finished: number[] = [];
    let started = 0;
    const failure = await eachBounded([0, 1, 2, 3, 4, 5, 6, 7], 3, async (item) => {
      started++;
      if (item === 1) throw new Error('one failed');
      await tick();
      await tick();
      finished.push(item);
    }).then(
      () => assert.fail('expected a rejection'),
      (error: unknown) => error,
    );
    assert.ok(failure instanceof ItemFailure);
    assert.equal(failure.index, 1);
    assert.equal((failure.error as Error).message, 'one failed');
    assert.equal(started, 3, 'items 0-2 started together; none after item 1 failed');
    assert.deepEqual(finished.sort(), [0, 2], 'the tasks in flight finished before the rejection');
  });

  it('stops starting tasks once stop() says so', async () => {
    const started: number[] = [];
    let stop = false;
    await eachBounded(
      [0, 1, 2, 3, 4, 5],
      2,
      async (item) => {
        started.push(item);
        if (item === 2) stop = true;
        await tick();
      },
      () => stop,
    );
    assert.deepEqual(started, [0, 1, 2], 'none started after stop() said so');
  });

  it('mapBounded returns the results in the order of the items and rejects with the first error itself', async () => {
    const results = await mapBounded([30, 10, 20], 3, async (ms, i) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return `${i}:${ms}`;
    });
    assert.deepEqual(results, ['0:30', '1:10', '2:20']);
    const error = new Error('bad');
    await assert.rejects(
      mapBounded([1, 2], 2, async (n) => {
        if (n === 2) throw error;
        return n;
      }),
      (e: unknown) => e === error,
    );
  });

  it('an empty list settles at once', async () => {
    assert.deepEqual(await mapBounded([], 4, async () => 1), []);
  });
});
