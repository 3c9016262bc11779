/**
 * Our retry policy around the openai SDK (which is given maxRetries 0): what is retried, how long we
 * wait, when we stop; and the run's one time budget that every call draws on.
 */
import assert from 'node:assert/strict';
import {
  decideRetry,
  retryableStatus,
  retryWaitMs,
} from '../../tasks/CodeSynthesis/src/adapters/net/retry-policy';
import { BudgetExhausted, TimeBudget } from '../../tasks/CodeSynthesis/src/adapters/net/time-budget';

const http = (status: number, headers: Record<string, string> = {}) => ({
  kind: 'http' as const,
  status,
  headers: new Headers(headers),
});
const noJitter = () => 0;

describe('retry policy', () => {
  it('retries 408, 409, 429 and 5xx, nothing else', () => {
    for (const status of [408, 409, 429, 500, 502, 503, 504]) assert.equal(retryableStatus(status), true);
    for (const status of [400, 401, 403, 404, 422]) assert.equal(retryableStatus(status), false);
    assert.deepEqual(decideRetry(http(400), 1, 6, 60_000), { retry: false, reason: 'not-retryable' });
  });

  it("follows the service's x-should-retry either way", () => {
    assert.deepEqual(decideRetry(http(500, { 'x-should-retry': 'false' }), 1, 6, 60_000), {
      retry: false,
      reason: 'refused',
    });
    assert.equal(decideRetry(http(400, { 'x-should-retry': 'true' }), 1, 6, 60_000, noJitter).retry, true);
  });

  it('waits retry-after-ms, then retry-after (seconds or a date), else backs off 0.5 s doubling to 8 s', () => {
    assert.equal(retryWaitMs(new Headers({ 'retry-after-ms': '60', 'retry-after': '1' }), 1), 60);
    assert.equal(retryWaitMs(new Headers({ 'retry-after': '2' }), 1), 2000);
    const date = new Date(Date.now() + 5000).toUTCString();
    const wait = retryWaitMs(new Headers({ 'retry-after': date }), 1);
    assert.ok(wait > 3000 && wait <= 5000, String(wait));
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((n) => retryWaitMs(undefined, n, noJitter)),
      [500, 1000, 2000, 4000, 8000, 8000],
    );
    // Jitter takes off up to 25%.
    assert.equal(
      retryWaitMs(undefined, 1, () => 1),
      375,
    );
  });

  it('stops after the retries allowed', () => {
    assert.equal(decideRetry(http(429), 2, 2, 60_000, noJitter).retry, true);
    assert.deepEqual(decideRetry(http(429), 3, 2, 60_000, noJitter), { retry: false, reason: 'exhausted' });
  });

  it('does not take a wait that does not fit in the time left, and says what it was', () => {
    assert.deepEqual(decideRetry(http(429, { 'retry-after': '20' }), 1, 6, 5000), {
      retry: false,
      reason: 'over-budget',
      waitMs: 20_000,
    });
  });

  it('retries a connection error unless retrying cannot cure it', () => {
    assert.equal(decideRetry({ kind: 'connection', permanent: false }, 1, 6, 60_000, noJitter).retry, true);
    assert.deepEqual(decideRetry({ kind: 'connection', permanent: true }, 1, 6, 60_000), {
      retry: false,
      reason: 'not-retryable',
    });
  });
});

describe('the time budget of a run', () => {
  it('is spent only while work runs on it: time between calls does not count', async () => {
    let now = 0;
    const budget = new TimeBudget(1000, () => now);
    await budget.spend(async () => {
      now += 300;
    });
    now += 5000; // a validation round, between calls
    assert.equal(budget.remainingMs(), 700);
    await budget.spend(async () => {
      now += 200;
      assert.equal(budget.remainingMs(), 500);
    });
    assert.equal(budget.remainingMs(), 500);
  });

  it('aborts the work when what is left runs out, across calls', async () => {
    const budget = new TimeBudget(400);
    await budget.spend(() => new Promise((r) => setTimeout(r, 100)));
    const started = Date.now();
    const reason = await budget.spend(
      (signal) =>
        new Promise((resolve) => {
          if (signal.aborted) resolve(signal.reason);
          signal.addEventListener('abort', () => resolve(signal.reason));
        }),
    );
    assert.ok(Date.now() - started < 390, 'the second call got only what the first left');
    assert.ok(reason instanceof BudgetExhausted);
    assert.equal(budget.remainingMs(), 0);
    // Used up: the next call's signal is aborted from the start.
    assert.equal(await budget.spend(async (signal) => signal.aborted), true);
  });

  it('shares one signal and one clock with work nested inside (a token fetched during a call)', async () => {
    let now = 0;
    const budget = new TimeBudget(1000, () => now);
    await budget.spend(async (outer) => {
      now += 100;
      await budget.spend(async (inner) => {
        assert.equal(inner, outer);
        now += 100;
      });
    });
    assert.equal(budget.remainingMs(), 800);
  });
});
