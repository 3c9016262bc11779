/**
 * The parts of a planned generation that run calls in parallel and show their progress: the pool keeps
 * to its concurrency, keeps results in order and stops at the first failure; the time budget is one
 * wall-clock budget however many calls overlap; the progress lines come on the ticker, only when
 * something changed, and count the files completed in a streamed reply (braces in contents do not
 * count).
 */
import assert from 'node:assert/strict';
import { TimeBudget } from '../../tasks/CodeSynthesis/src/adapters/net/time-budget';
import { CancelledError } from '../../tasks/CodeSynthesis/src/core/errors';
import { runPool } from '../../tasks/CodeSynthesis/src/core/pool';
import {
  CompletedFiles,
  GenerationProgress,
  PROGRESS_EVERY_MS,
} from '../../tasks/CodeSynthesis/src/core/progress';
import { FakeHost } from '../fakes/ports';

const tick = () => new Promise((r) => setTimeout(r, 2));

describe('runPool', () => {
  it('runs at most `concurrency` items at once and returns the results in the items order', async () => {
    let inFlight = 0;
    let most = 0;
    const { results, maxInFlight } = await runPool(
      [5, 1, 4, 2, 3, 1, 2],
      3,
      new AbortController().signal,
      async (ms) => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        await new Promise((r) => setTimeout(r, ms));
        inFlight -= 1;
        return ms * 10;
      },
    );
    assert.deepEqual(results, [50, 10, 40, 20, 30, 10, 20]);
    assert.equal(most, 3);
    assert.equal(maxInFlight, 3);
  });

  it('stops at the first failure: no new item starts, those in flight are aborted, and that failure is thrown', async () => {
    const started: number[] = [];
    const aborted: number[] = [];
    const boom = new Error('item 1 failed');
    await assert.rejects(
      runPool([0, 1, 2, 3, 4, 5], 2, new AbortController().signal, async (i, _index, signal) => {
        started.push(i);
        if (i === 1) throw boom;
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, 50);
          signal.addEventListener('abort', () => {
            clearTimeout(timer);
            aborted.push(i);
            reject(new CancelledError());
          });
        });
      }),
      (e) => e === boom,
    );
    assert.deepEqual(started, [0, 1]);
    assert.deepEqual(aborted, [0]);
  });

  it('a cancelled run is CancelledError, whatever the items threw', async () => {
    const run = new AbortController();
    const pending = runPool([1, 2, 3], 3, run.signal, async (_i, _index, signal) => {
      await new Promise((_resolve, reject) =>
        signal.addEventListener('abort', () => reject(new Error('aborted'))),
      );
    });
    run.abort();
    await assert.rejects(pending, CancelledError);
  });
});

describe('TimeBudget with calls in parallel', () => {
  it('spends the time calls overlap once: it is wall-clock time with work under way', async () => {
    let now = 0;
    const budget = new TimeBudget(10_000, () => now);
    const gates: (() => void)[] = [];
    const call = () => budget.spend(() => new Promise<void>((r) => gates.push(r)));
    const a = call();
    now = 100;
    const b = call();
    await tick();
    now = 400;
    gates[0]!();
    await a;
    assert.equal(budget.remainingMs(), 9_600, 'b still running: 400 ms spent so far');
    now = 700;
    gates[1]!();
    await b;
    assert.equal(budget.remainingMs(), 9_300, '700 ms of wall time, not 400 + 600');
  });

  it('aborts every call in flight when the budget runs out', async () => {
    const budget = new TimeBudget(30);
    const signals: AbortSignal[] = [];
    const call = () =>
      budget.spend(
        (signal) =>
          new Promise<void>((resolve) => {
            signals.push(signal);
            signal.addEventListener('abort', () => resolve());
          }),
      );
    await Promise.all([call(), call(), call()]);
    assert.equal(signals.length, 3);
    assert.ok(signals.every((s) => s.aborted));
    assert.equal(budget.remainingMs(), 0);
  });
});

describe('progress', () => {
  /** A ticker the test drives. */
  function manualTicker() {
    const ticker = { tick: () => {}, everyMs: 0, stopped: false };
    return {
      ticker,
      port: (everyMs: number, tick: () => void) => {
        ticker.everyMs = everyMs;
        ticker.tick = tick;
        return { stop: () => (ticker.stopped = true) };
      },
    };
  }

  it('logs tokens received and files completed on each tick, only when they changed', () => {
    const host = new FakeHost();
    const { ticker, port } = manualTicker();
    const progress = new GenerationProgress({ log: host, report: host, ticker: port });
    assert.equal(ticker.everyMs, PROGRESS_EVERY_MS);
    progress.expect(4);
    const a = progress.observe(false);
    progress.inFlightChanged(1);
    progress.inFlightChanged(1);
    ticker.tick();
    a.received('{"fi');
    a.received('les"');
    ticker.tick();
    ticker.tick();
    progress.filesDone(1);
    ticker.tick();
    progress.stop();
    assert.deepEqual(
      host.lines.map((l) => l.text),
      [
        'Generating: 0 tokens received, 0 of 4 file(s) complete, 2 calls in flight.',
        'Generating: 2 tokens received, 0 of 4 file(s) complete, 2 calls in flight.',
        'Generating: 2 tokens received, 1 of 4 file(s) complete, 2 calls in flight.',
      ],
    );
    assert.equal(ticker.stopped, true);
    assert.deepEqual(host.progressed, [
      { percent: 5, text: '0 of 4 file(s) generated' },
      { percent: 26, text: '1 of 4 file(s) generated' },
    ]);
  });

  it('in one streamed reply, counts each file as its object closes, and takes them back when the stream restarts', () => {
    const host = new FakeHost();
    const progress = new GenerationProgress({ log: host, report: host });
    const observer = progress.observe(true);
    const reply = JSON.stringify({
      files: [
        { path: 'a/{x}.py', content: 'd = {"k": [1, {"n": 2}]}\n"\\"}"' },
        { path: 'b.py', content: '}}}' },
        { path: 'c.py', content: '' },
      ],
      summary: '{}',
    });
    for (const piece of reply.slice(0, reply.indexOf('c.py')).match(/[\s\S]{1,3}/g)!)
      observer.received(piece);
    assert.deepEqual(
      host.progressed.map((p) => p.text),
      ['1 file(s) received', '2 file(s) received'],
    );
    observer.restarted();
    for (const piece of reply.match(/[\s\S]{1,5}/g)!) observer.received(piece);
    progress.finish(3);
    assert.deepEqual(
      host.progressed.map((p) => p.percent),
      [8, 16, 8, 16, 23, 90],
    );
  });

  it('CompletedFiles ignores braces inside strings and escapes', () => {
    const counter = new CompletedFiles();
    assert.equal(counter.push('```json\n{"files":[{"path":"x","content":"}\\"}{"}'), 1);
    assert.equal(counter.push(',{"path":"y","content":"]"}],"summary":"}"}\n```'), 2);
  });
});
